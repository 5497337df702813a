#include "providers/local/deployments_store_codec.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "base/status_macros.h"
#include "providers/local/json_internal.h"
#include "rapidjson/document.h"
#include "rapidjson/error/en.h"
#include "rapidjson/prettywriter.h"
#include "rapidjson/stringbuffer.h"

namespace rotor::local {
namespace {

constexpr char kTimeFormat[] = "%Y-%m-%d%ET%H:%M:%E*SZ";

std::string FormatTimestamp(absl::Time t) {
  return absl::FormatTime(kTimeFormat, t, absl::UTCTimeZone());
}

absl::StatusOr<absl::Time> ParseTimestamp(const std::string& text) {
  absl::Time t;
  std::string error;
  if (!absl::ParseTime(absl::RFC3339_full, text, &t, &error)) {
    return absl::DataLossError(absl::StrCat("bad timestamp \"", text, "\": ", error));
  }
  return t;
}

using internal::ToJsonText;

absl::Status StoreError(absl::string_view path, absl::string_view what) {
  return absl::DataLossError(absl::StrCat("deployment store ", path, ": ", what));
}

absl::StatusOr<std::string> Str(const rapidjson::Value& object, const char* field,
                                absl::string_view path, bool required = true) {
  auto it = object.FindMember(field);
  if (it == object.MemberEnd()) {
    if (!required) return std::string();
    return StoreError(path, absl::StrCat("\"", field, "\" is missing"));
  }
  if (!it->value.IsString()) {
    return StoreError(path, absl::StrCat("\"", field, "\" must be a string"));
  }
  return std::string(it->value.GetString(), it->value.GetStringLength());
}

}  // namespace

std::string EncodeDeploymentsStore(const DeploymentsStore& store) {
  rapidjson::StringBuffer buffer;
  rapidjson::PrettyWriter<rapidjson::StringBuffer> w(buffer);
  w.SetIndent(' ', 2);
  w.StartObject();
  w.Key("format_version");
  w.Int(kDeploymentsStoreFormatVersion);
  w.Key("kind");
  w.String(kDeploymentsStoreKind);
  w.Key("resource_group");
  w.String(store.resource_group);
  w.Key("deployments");
  w.StartArray();
  for (const auto& sd : store.deployments) {
    const Deployment& d = sd.deployment;
    w.StartObject();
    w.Key("name");
    w.String(d.name);
    w.Key("id");
    w.String(d.id);
    w.Key("timestamp");
    w.String(FormatTimestamp(d.timestamp));
    w.Key("provisioning_state");
    w.String(d.provisioning_state);
    w.Key("mode");
    w.String(d.mode);
    w.Key("parameters");
    w.StartObject();
    for (const auto& [name, param] : d.parameters) {
      w.Key(name);
      w.StartObject();
      w.Key("type");
      w.String(param.type);
      if (!param.value_json.empty()) {
        w.Key("value");
        w.RawValue(param.value_json.data(), param.value_json.size(), rapidjson::kObjectType);
      }
      w.EndObject();
    }
    w.EndObject();
    if (!sd.template_json.empty()) {
      rapidjson::Document tpl;
      tpl.Parse(sd.template_json.data(), sd.template_json.size());
      if (!tpl.HasParseError()) {
        w.Key("template");
        tpl.Accept(w);
      }
    }
    w.Key("template_link_uri");
    w.String(d.template_link_uri);
    w.Key("tags");
    w.StartObject();
    for (const auto& [name, value] : d.tags) {
      w.Key(name);
      w.String(value);
    }
    w.EndObject();
    w.Key("error");
    w.String(d.error);
    if (d.provisioning_state == kStateRunning) {
      w.Key("pid");
      w.Int64(sd.pid);
    }
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

absl::StatusOr<DeploymentsStore> DecodeDeploymentsStore(absl::string_view text,
                                                        absl::string_view path) {
  rapidjson::Document doc;
  doc.Parse(text.data(), text.size());
  if (doc.HasParseError()) {
    return StoreError(
        path, absl::StrCat("not valid JSON (", rapidjson::GetParseError_En(doc.GetParseError()),
                           " at offset ", doc.GetErrorOffset(), ")"));
  }
  if (!doc.IsObject()) return StoreError(path, "the top level must be an object");
  auto fv = doc.FindMember("format_version");
  if (fv == doc.MemberEnd() || !fv->value.IsInt()) {
    return StoreError(path, "\"format_version\" is missing");
  }
  if (fv->value.GetInt() != kDeploymentsStoreFormatVersion) {
    return absl::FailedPreconditionError(
        absl::StrCat("deployment store ", path, " has format_version ", fv->value.GetInt(),
                     "; this rotor reads format_version ", kDeploymentsStoreFormatVersion));
  }
  DeploymentsStore store;
  ASSIGN_OR_RETURN(store.resource_group, Str(doc, "resource_group", path));
  auto list = doc.FindMember("deployments");
  if (list == doc.MemberEnd() || !list->value.IsArray()) {
    return StoreError(path, "\"deployments\" must be an array");
  }
  for (const auto& item : list->value.GetArray()) {
    if (!item.IsObject()) return StoreError(path, "each deployment must be an object");
    StoredDeployment sd;
    Deployment& d = sd.deployment;
    d.resource_group = store.resource_group;
    ASSIGN_OR_RETURN(d.name, Str(item, "name", path));
    ASSIGN_OR_RETURN(d.id, Str(item, "id", path));
    ASSIGN_OR_RETURN(std::string timestamp, Str(item, "timestamp", path));
    auto t = ParseTimestamp(timestamp);
    if (!t.ok()) return StoreError(path, t.status().message());
    d.timestamp = *t;
    ASSIGN_OR_RETURN(d.provisioning_state, Str(item, "provisioning_state", path));
    ASSIGN_OR_RETURN(d.mode, Str(item, "mode", path, false));
    ASSIGN_OR_RETURN(d.template_link_uri, Str(item, "template_link_uri", path, false));
    ASSIGN_OR_RETURN(d.error, Str(item, "error", path, false));
    if (auto p = item.FindMember("parameters"); p != item.MemberEnd()) {
      if (!p->value.IsObject()) return StoreError(path, "\"parameters\" must be an object");
      for (const auto& m : p->value.GetObject()) {
        if (!m.value.IsObject()) return StoreError(path, "each parameter must be an object");
        DeploymentParameter param;
        ASSIGN_OR_RETURN(param.type, Str(m.value, "type", path, false));
        if (auto v = m.value.FindMember("value"); v != m.value.MemberEnd()) {
          param.value_json = ToJsonText(v->value);
        }
        d.parameters[m.name.GetString()] = std::move(param);
      }
    }
    if (auto tags = item.FindMember("tags"); tags != item.MemberEnd()) {
      if (!tags->value.IsObject()) return StoreError(path, "\"tags\" must be an object");
      for (const auto& m : tags->value.GetObject()) {
        if (!m.value.IsString()) return StoreError(path, "tag values must be strings");
        d.tags[m.name.GetString()] = m.value.GetString();
      }
    }
    if (auto tpl = item.FindMember("template"); tpl != item.MemberEnd()) {
      sd.template_json = ToJsonText(tpl->value);
    }
    if (auto pid = item.FindMember("pid"); pid != item.MemberEnd() && pid->value.IsInt64()) {
      sd.pid = pid->value.GetInt64();
    }
    store.deployments.push_back(std::move(sd));
  }
  return store;
}

}  // namespace rotor::local
