#include "providers/keyvault/keyvault_codec.h"

#include <openssl/crypto.h>

#include <cmath>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/inert_text.h"
#include "base/json_fields.h"
#include "base/status_macros.h"
#include "rapidjson/document.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"

namespace rotor::keyvault {
namespace {

// A parsed document over a private copy of the body, wiped on destruction.
class WipedDocument {
 public:
  explicit WipedDocument(absl::string_view body) : buffer_(body) {
    // Iterative: the default parser recurses once per nesting level, and a
    // body of 200,000 '[' overflowed the stack.
    doc_.ParseInsitu<rapidjson::kParseIterativeFlag>(buffer_.data());
  }
  ~WipedDocument() { OPENSSL_cleanse(buffer_.data(), buffer_.size()); }
  WipedDocument(const WipedDocument&) = delete;
  WipedDocument& operator=(const WipedDocument&) = delete;
  const rapidjson::Document& doc() const { return doc_; }
  bool ok() const { return !doc_.HasParseError() && doc_.IsObject(); }

 private:
  std::string buffer_;
  rapidjson::Document doc_;
};

using Object = JsonObject<rapidjson::Value>;

// IntDate: Unix seconds, integer or (as one official example has) float.
absl::Time Date(const Object& o, const char* name) {
  std::optional<double> seconds = o.Number(name);
  if (!seconds.has_value()) return absl::UnixEpoch();
  return absl::UnixEpoch() + absl::Seconds(*seconds);
}

// Fills the metadata shared by bundles and items.
absl::Status FillMeta(const Object& o, SecretVersion* meta) {
  meta->id = o.String("id");
  if (meta->id.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(o.path().empty() ? "the secret" : o.path(), " has no \"id\""));
  }
  ASSIGN_OR_RETURN(SecretId id, ParseSecretId(meta->id));
  meta->name = id.name;
  meta->version = id.version;
  meta->content_type = o.String("contentType");
  o.Object("tags").ForEachString([&](absl::string_view name, absl::string_view value) {
    meta->tags[std::string(name)] = std::string(value);
  });
  const Object attributes = o.Object("attributes");
  if (std::optional<bool> enabled = attributes.Bool("enabled")) meta->enabled = *enabled;
  meta->created = Date(attributes, "created");
  meta->updated = Date(attributes, "updated");
  meta->recovery_level = attributes.String("recoveryLevel");
  return absl::OkStatus();
}

absl::Status FillDeleted(const Object& o, DeletedSecret* d) {
  RETURN_IF_ERROR(FillMeta(o, &d->latest));
  d->deleted_date = Date(o, "deletedDate");
  d->scheduled_purge_date = Date(o, "scheduledPurgeDate");
  const std::string recovery_id = o.String("recoveryId");
  if (d->latest.name.empty()) {
    // Some answers only name the secret in recoveryId.
    auto id = ParseSecretId(recovery_id);
    if (id.ok()) d->latest.name = id->name;
  }
  return absl::OkStatus();
}

// The first wrong-typed field, else `status`.
absl::Status Checked(const JsonFieldErrors& errors, absl::Status status) {
  if (!errors.ok()) return errors.status();
  return status;
}

// Each item of the answer's "value" array, which must be there.
template <typename Fill>
absl::Status ForEachItem(const Object& doc, absl::string_view what, Fill fill,
                         JsonFieldErrors* errors) {
  const rapidjson::Value* value = doc.Array("value");
  if (!errors->ok()) return errors->status();
  if (value == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("the ", what, " answer has no \"value\" array"));
  }
  size_t index = 0;
  for (const auto& item : value->GetArray()) {
    const std::string path = JsonItemPath("value", index++);
    if (!item.IsObject()) {
      errors->Wrong(path, JsonTypeName(item), "an object");
      return errors->status();
    }
    absl::Status filled = fill(Object(&item, path, errors));
    if (!errors->ok()) return errors->status();
    RETURN_IF_ERROR(filled);
  }
  return absl::OkStatus();
}

// A RapidJSON output stream into a string whose capacity is reserved up
// front (so it never reallocates and leaves copies behind).
struct ReservedOutput {
  typedef char Ch;
  std::string* out;
  void Put(char c) { out->push_back(c); }
  void Flush() {}
};

}  // namespace

absl::StatusOr<SecretId> ParseSecretId(absl::string_view id) {
  size_t scheme = id.find("://");
  if (scheme == absl::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", ShowInert(id, 300), "\" is not a Key Vault secret id"));
  }
  size_t path_start = id.find('/', scheme + 3);
  if (path_start == absl::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", ShowInert(id, 300), "\" is not a Key Vault secret id"));
  }
  SecretId out;
  out.origin = std::string(id.substr(0, path_start));
  absl::string_view path = id.substr(path_start + 1);
  path = path.substr(0, path.find_first_of("?#"));
  std::vector<absl::string_view> parts = absl::StrSplit(path, '/');
  while (!parts.empty() && parts.back().empty()) parts.pop_back();
  if (parts.size() < 2 || parts.size() > 3 ||
      (parts[0] != "secrets" && parts[0] != "deletedsecrets") || parts[1].empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", ShowInert(id, 300), "\" is not a Key Vault secret id"));
  }
  out.collection = std::string(parts[0]);
  out.name = std::string(parts[1]);
  if (parts.size() == 3) out.version = std::string(parts[2]);
  return out;
}

absl::StatusOr<ParsedBundle> ParseSecretBundle(absl::string_view body) {
  WipedDocument parsed(body);
  if (!parsed.ok()) return absl::InvalidArgumentError("the secret answer is not a JSON object");
  JsonFieldErrors errors;
  const Object doc(&parsed.doc(), "", &errors);
  ParsedBundle out;
  absl::Status filled = FillMeta(doc, &out.meta);
  if (const rapidjson::Value* value = doc.Typed("value", &rapidjson::Value::IsString, "a string")) {
    out.value = Secret(std::string(value->GetString(), value->GetStringLength()));
    out.has_value = true;
  }
  RETURN_IF_ERROR(Checked(errors, filled));
  return out;
}

absl::StatusOr<DeletedSecret> ParseDeletedSecret(absl::string_view body) {
  WipedDocument parsed(body);
  if (!parsed.ok()) {
    return absl::InvalidArgumentError("the deleted secret answer is not a JSON object");
  }
  JsonFieldErrors errors;
  DeletedSecret d;
  absl::Status filled = FillDeleted(Object(&parsed.doc(), "", &errors), &d);
  RETURN_IF_ERROR(Checked(errors, filled));
  return d;
}

absl::StatusOr<SecretListPage> ParseSecretList(absl::string_view body) {
  WipedDocument parsed(body);
  if (!parsed.ok()) return absl::InvalidArgumentError("the secret list is not a JSON object");
  JsonFieldErrors errors;
  const Object doc(&parsed.doc(), "", &errors);
  SecretListPage page;
  RETURN_IF_ERROR(ForEachItem(
      doc, "secret list",
      [&](const Object& item) {
        SecretVersion meta;
        RETURN_IF_ERROR(FillMeta(item, &meta));
        page.items.push_back(std::move(meta));
        return absl::OkStatus();
      },
      &errors));
  page.next_link = doc.String("nextLink");
  RETURN_IF_ERROR(errors.status());
  return page;
}

absl::StatusOr<DeletedSecretListPage> ParseDeletedSecretList(absl::string_view body) {
  WipedDocument parsed(body);
  if (!parsed.ok()) {
    return absl::InvalidArgumentError("the deleted secret list is not a JSON object");
  }
  JsonFieldErrors errors;
  const Object doc(&parsed.doc(), "", &errors);
  DeletedSecretListPage page;
  RETURN_IF_ERROR(ForEachItem(
      doc, "deleted secret list",
      [&](const Object& item) {
        DeletedSecret d;
        RETURN_IF_ERROR(FillDeleted(item, &d));
        page.items.push_back(std::move(d));
        return absl::OkStatus();
      },
      &errors));
  page.next_link = doc.String("nextLink");
  RETURN_IF_ERROR(errors.status());
  return page;
}

Secret SetSecretBody(const SetSecretRequest& request) {
  size_t capacity = 64 + request.value.size() * 6 + request.content_type.size() * 6;
  for (const auto& [k, v] : request.tags) capacity += 8 + (k.size() + v.size()) * 6;
  std::string text;
  text.reserve(capacity);
  ReservedOutput out{&text};
  rapidjson::Writer<ReservedOutput> w(out);
  w.StartObject();
  w.Key("value");
  w.String(request.value.Reveal().data(),
           static_cast<rapidjson::SizeType>(request.value.Reveal().size()));
  if (!request.content_type.empty()) {
    w.Key("contentType");
    w.String(request.content_type.data(),
             static_cast<rapidjson::SizeType>(request.content_type.size()));
  }
  if (!request.tags.empty()) {
    w.Key("tags");
    w.StartObject();
    for (const auto& [k, v] : request.tags) {
      w.Key(k.data(), static_cast<rapidjson::SizeType>(k.size()));
      w.String(v.data(), static_cast<rapidjson::SizeType>(v.size()));
    }
    w.EndObject();
  }
  w.EndObject();
  return Secret(std::move(text));
}

std::string UpdateEnabledBody(bool enabled) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  w.StartObject();
  w.Key("attributes");
  w.StartObject();
  w.Key("enabled");
  w.Bool(enabled);
  w.EndObject();
  w.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

}  // namespace rotor::keyvault
