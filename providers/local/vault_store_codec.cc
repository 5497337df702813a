#include "providers/local/vault_store_codec.h"

#include <openssl/crypto.h>

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "rapidjson/document.h"
#include "rapidjson/error/en.h"
#include "rapidjson/prettywriter.h"
#include "rapidjson/stringbuffer.h"

namespace rotor::local {

Secret EncodeVaultStore(const VaultStore& store,
                        absl::FunctionRef<bool(const StoredSecret&)> skip) {
  rapidjson::StringBuffer buffer;
  {
    rapidjson::PrettyWriter<rapidjson::StringBuffer> w(buffer);
    w.SetIndent(' ', 2);
    w.StartObject();
    w.Key("format_version");
    w.Int(kVaultStoreFormatVersion);
    w.Key("kind");
    w.String(kVaultStoreKind);
    w.Key("soft_delete");
    w.Bool(store.options.soft_delete);
    w.Key("retention_days");
    w.Int(store.options.retention_days);
    w.Key("generation");
    w.Uint64(store.generation);
    w.Key("secrets");
    w.StartArray();
    for (const auto& [key, record] : store.secrets) {
      if (skip(record)) continue;
      w.StartObject();
      w.Key("name");
      w.String(record.name);
      if (record.deleted) {
        w.Key("deleted");
        w.StartObject();
        w.Key("deleted_date");
        w.Int64(absl::ToUnixSeconds(record.deleted_date));
        w.Key("scheduled_purge_date");
        w.Int64(absl::ToUnixSeconds(record.scheduled_purge_date));
        w.EndObject();
      }
      w.Key("versions");
      w.StartArray();
      for (const auto& v : record.versions) {
        w.StartObject();
        w.Key("version");
        w.String(v.version);
        w.Key("value");
        w.String(v.value.Reveal().data(), static_cast<rapidjson::SizeType>(v.value.size()));
        w.Key("content_type");
        w.String(v.content_type);
        w.Key("tags");
        w.StartObject();
        for (const auto& [tag, value] : v.tags) {
          w.Key(tag);
          w.String(value);
        }
        w.EndObject();
        w.Key("enabled");
        w.Bool(v.enabled);
        w.Key("created");
        w.Int64(absl::ToUnixSeconds(v.created));
        w.Key("updated");
        w.Int64(absl::ToUnixSeconds(v.updated));
        w.EndObject();
      }
      w.EndArray();
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
  }
  Secret out(std::string(buffer.GetString(), buffer.GetSize()));
  buffer.Push(0);  // keeps GetString() valid while we wipe the buffer
  OPENSSL_cleanse(const_cast<char*>(buffer.GetString()), buffer.GetSize());
  return out;
}

namespace {

absl::Status StoreError(absl::string_view what) {
  return absl::DataLossError(absl::StrCat("vault store: ", what));
}

bool IsVersionId(absl::string_view v) {
  if (v.size() != 32) return false;
  for (char c : v) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

absl::StatusOr<std::string> GetString(const rapidjson::Value& object, const char* field,
                                      absl::string_view where) {
  auto it = object.FindMember(field);
  if (it == object.MemberEnd() || !it->value.IsString()) {
    return StoreError(absl::StrCat(where, ": \"", field, "\" must be a string"));
  }
  return std::string(it->value.GetString(), it->value.GetStringLength());
}

absl::StatusOr<absl::Time> GetTime(const rapidjson::Value& object, const char* field,
                                   absl::string_view where) {
  auto it = object.FindMember(field);
  if (it == object.MemberEnd() || !it->value.IsNumber()) {
    return StoreError(absl::StrCat(where, ": \"", field, "\" must be a number"));
  }
  return absl::FromUnixSeconds(static_cast<int64_t>(it->value.GetDouble()));
}

// Wipes every string of a parsed store (it holds secret values).
void WipeStrings(rapidjson::Value& v) {
  if (v.IsString()) {
    OPENSSL_cleanse(const_cast<char*>(v.GetString()), v.GetStringLength());
  } else if (v.IsArray()) {
    for (auto& e : v.GetArray()) WipeStrings(e);
  } else if (v.IsObject()) {
    for (auto& m : v.GetObject()) WipeStrings(m.value);
  }
}

struct WipeOnExit {
  rapidjson::Document& doc;
  ~WipeOnExit() { WipeStrings(doc); }
};

}  // namespace

absl::StatusOr<VaultStore> DecodeVaultStore(absl::string_view json) {
  rapidjson::Document doc;
  WipeOnExit wipe{doc};
  doc.Parse(json.data(), json.size());
  if (doc.HasParseError()) {
    return StoreError(absl::StrCat("not valid JSON (",
                                   rapidjson::GetParseError_En(doc.GetParseError()), " at offset ",
                                   doc.GetErrorOffset(), ")"));
  }
  if (!doc.IsObject()) return StoreError("the top level must be an object");
  auto fv = doc.FindMember("format_version");
  if (fv == doc.MemberEnd() || !fv->value.IsInt()) {
    return StoreError("\"format_version\" is missing");
  }
  if (fv->value.GetInt() != kVaultStoreFormatVersion) {
    return absl::FailedPreconditionError(
        absl::StrCat("vault store has format_version ", fv->value.GetInt(),
                     "; this rotor reads format_version ", kVaultStoreFormatVersion));
  }
  if (auto kind = doc.FindMember("kind"); kind != doc.MemberEnd()) {
    if (!kind->value.IsString() || kind->value.GetString() != std::string(kVaultStoreKind)) {
      return StoreError(absl::StrCat("\"kind\" is not \"", kVaultStoreKind, "\""));
    }
  }
  VaultStore store;
  if (auto it = doc.FindMember("soft_delete"); it != doc.MemberEnd()) {
    if (!it->value.IsBool()) return StoreError("\"soft_delete\" must be a boolean");
    store.options.soft_delete = it->value.GetBool();
  }
  if (auto it = doc.FindMember("retention_days"); it != doc.MemberEnd()) {
    if (!it->value.IsInt() || it->value.GetInt() < 0) {
      return StoreError("\"retention_days\" must be a non-negative integer");
    }
    store.options.retention_days = it->value.GetInt();
  }
  if (auto it = doc.FindMember("generation"); it != doc.MemberEnd()) {
    if (!it->value.IsUint64()) return StoreError("\"generation\" must be an integer");
    store.generation = it->value.GetUint64();
  }
  auto secrets = doc.FindMember("secrets");
  if (secrets == doc.MemberEnd() || !secrets->value.IsArray()) {
    return StoreError("\"secrets\" must be an array");
  }
  for (const auto& s : secrets->value.GetArray()) {
    if (!s.IsObject()) return StoreError("each secret must be an object");
    ASSIGN_OR_RETURN(std::string name, GetString(s, "name", "secret"));
    if (!ValidateSecretName(name).ok()) {
      return StoreError(absl::StrCat("invalid secret name \"", ShownSecretName(name), "\""));
    }
    const std::string where = absl::StrCat("secret ", name);
    StoredSecret record;
    record.name = name;
    if (auto d = s.FindMember("deleted"); d != s.MemberEnd()) {
      if (!d->value.IsObject())
        return StoreError(absl::StrCat(where, ": \"deleted\" must be an object"));
      record.deleted = true;
      ASSIGN_OR_RETURN(record.deleted_date, GetTime(d->value, "deleted_date", where));
      ASSIGN_OR_RETURN(record.scheduled_purge_date,
                       GetTime(d->value, "scheduled_purge_date", where));
    }
    auto versions = s.FindMember("versions");
    if (versions == s.MemberEnd() || !versions->value.IsArray() || versions->value.Empty()) {
      return StoreError(absl::StrCat(where, ": \"versions\" must be a non-empty array"));
    }
    for (const auto& v : versions->value.GetArray()) {
      if (!v.IsObject()) return StoreError(absl::StrCat(where, ": each version must be an object"));
      StoredSecretVersion version;
      ASSIGN_OR_RETURN(version.version, GetString(v, "version", where));
      if (!IsVersionId(version.version)) {
        return StoreError(
            absl::StrCat(where, ": invalid version id \"", ShownSecretName(version.version), "\""));
      }
      auto value = v.FindMember("value");
      if (value == v.MemberEnd() || !value->value.IsString()) {
        return StoreError(
            absl::StrCat(where, "/", version.version, ": \"value\" must be a string"));
      }
      version.value = Secret(std::string(value->value.GetString(), value->value.GetStringLength()));
      if (v.HasMember("content_type")) {
        ASSIGN_OR_RETURN(version.content_type, GetString(v, "content_type", where));
      }
      if (auto tags = v.FindMember("tags"); tags != v.MemberEnd()) {
        if (!tags->value.IsObject())
          return StoreError(absl::StrCat(where, ": \"tags\" must be an object"));
        for (const auto& tag : tags->value.GetObject()) {
          if (!tag.value.IsString()) {
            return StoreError(absl::StrCat(where, ": tag values must be strings"));
          }
          version.tags[tag.name.GetString()] =
              std::string(tag.value.GetString(), tag.value.GetStringLength());
        }
      }
      if (auto enabled = v.FindMember("enabled"); enabled != v.MemberEnd()) {
        if (!enabled->value.IsBool())
          return StoreError(absl::StrCat(where, ": \"enabled\" must be a boolean"));
        version.enabled = enabled->value.GetBool();
      }
      ASSIGN_OR_RETURN(version.created, GetTime(v, "created", where));
      ASSIGN_OR_RETURN(version.updated, GetTime(v, "updated", where));
      record.versions.push_back(std::move(version));
    }
    if (!store.secrets.emplace(absl::AsciiStrToLower(name), std::move(record)).second) {
      return StoreError(absl::StrCat("secret ", name, " appears twice"));
    }
  }
  return store;
}

}  // namespace rotor::local
