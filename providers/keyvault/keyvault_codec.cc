#include "providers/keyvault/keyvault_codec.h"

#include <openssl/crypto.h>

#include <cmath>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
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

std::string Str(const rapidjson::Value& o, const char* name) {
  if (!o.IsObject()) return "";
  auto it = o.FindMember(name);
  if (it == o.MemberEnd() || !it->value.IsString()) return "";
  return std::string(it->value.GetString(), it->value.GetStringLength());
}

// IntDate: Unix seconds, integer or (as one official example has) float.
absl::Time Date(const rapidjson::Value& o, const char* name) {
  if (!o.IsObject()) return absl::UnixEpoch();
  auto it = o.FindMember(name);
  if (it == o.MemberEnd() || !it->value.IsNumber()) return absl::UnixEpoch();
  double seconds = it->value.GetDouble();
  if (!std::isfinite(seconds)) return absl::UnixEpoch();
  return absl::UnixEpoch() + absl::Seconds(seconds);
}

// Fills the metadata shared by bundles and items.
absl::Status FillMeta(const rapidjson::Value& o, SecretVersion* meta) {
  meta->id = Str(o, "id");
  if (meta->id.empty()) return absl::InvalidArgumentError("the secret has no \"id\"");
  ASSIGN_OR_RETURN(SecretId id, ParseSecretId(meta->id));
  meta->name = id.name;
  meta->version = id.version;
  meta->content_type = Str(o, "contentType");
  auto tags = o.FindMember("tags");
  if (tags != o.MemberEnd() && tags->value.IsObject()) {
    for (const auto& t : tags->value.GetObject()) {
      if (t.value.IsString()) meta->tags[t.name.GetString()] = t.value.GetString();
    }
  }
  auto attributes = o.FindMember("attributes");
  if (attributes != o.MemberEnd() && attributes->value.IsObject()) {
    const auto& a = attributes->value;
    auto enabled = a.FindMember("enabled");
    if (enabled != a.MemberEnd() && enabled->value.IsBool()) {
      meta->enabled = enabled->value.GetBool();
    }
    meta->created = Date(a, "created");
    meta->updated = Date(a, "updated");
    meta->recovery_level = Str(a, "recoveryLevel");
  }
  return absl::OkStatus();
}

absl::Status FillDeleted(const rapidjson::Value& o, DeletedSecret* d) {
  RETURN_IF_ERROR(FillMeta(o, &d->latest));
  d->deleted_date = Date(o, "deletedDate");
  d->scheduled_purge_date = Date(o, "scheduledPurgeDate");
  if (d->latest.name.empty()) {
    // Some answers only name the secret in recoveryId.
    auto id = ParseSecretId(Str(o, "recoveryId"));
    if (id.ok()) d->latest.name = id->name;
  }
  return absl::OkStatus();
}

std::string NextLink(const rapidjson::Value& o) { return Str(o, "nextLink"); }

absl::Status NotAList(absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("the ", what, " answer has no \"value\" array"));
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
    return absl::InvalidArgumentError(absl::StrCat("\"", id, "\" is not a Key Vault secret id"));
  }
  size_t path_start = id.find('/', scheme + 3);
  if (path_start == absl::string_view::npos) {
    return absl::InvalidArgumentError(absl::StrCat("\"", id, "\" is not a Key Vault secret id"));
  }
  SecretId out;
  out.origin = std::string(id.substr(0, path_start));
  absl::string_view path = id.substr(path_start + 1);
  path = path.substr(0, path.find_first_of("?#"));
  std::vector<absl::string_view> parts = absl::StrSplit(path, '/');
  while (!parts.empty() && parts.back().empty()) parts.pop_back();
  if (parts.size() < 2 || parts.size() > 3 ||
      (parts[0] != "secrets" && parts[0] != "deletedsecrets") || parts[1].empty()) {
    return absl::InvalidArgumentError(absl::StrCat("\"", id, "\" is not a Key Vault secret id"));
  }
  out.collection = std::string(parts[0]);
  out.name = std::string(parts[1]);
  if (parts.size() == 3) out.version = std::string(parts[2]);
  return out;
}

absl::StatusOr<ParsedBundle> ParseSecretBundle(absl::string_view body) {
  WipedDocument parsed(body);
  if (!parsed.ok()) return absl::InvalidArgumentError("the secret answer is not a JSON object");
  ParsedBundle out;
  RETURN_IF_ERROR(FillMeta(parsed.doc(), &out.meta));
  auto value = parsed.doc().FindMember("value");
  if (value != parsed.doc().MemberEnd() && value->value.IsString()) {
    out.value = Secret(std::string(value->value.GetString(), value->value.GetStringLength()));
    out.has_value = true;
  }
  return out;
}

absl::StatusOr<DeletedSecret> ParseDeletedSecret(absl::string_view body) {
  WipedDocument parsed(body);
  if (!parsed.ok()) {
    return absl::InvalidArgumentError("the deleted secret answer is not a JSON object");
  }
  DeletedSecret d;
  RETURN_IF_ERROR(FillDeleted(parsed.doc(), &d));
  return d;
}

absl::StatusOr<SecretListPage> ParseSecretList(absl::string_view body) {
  WipedDocument parsed(body);
  if (!parsed.ok()) return absl::InvalidArgumentError("the secret list is not a JSON object");
  const auto& doc = parsed.doc();
  auto value = doc.FindMember("value");
  if (value == doc.MemberEnd() || !value->value.IsArray()) return NotAList("secret list");
  SecretListPage page;
  for (const auto& item : value->value.GetArray()) {
    SecretVersion meta;
    RETURN_IF_ERROR(FillMeta(item, &meta));
    page.items.push_back(std::move(meta));
  }
  page.next_link = NextLink(doc);
  return page;
}

absl::StatusOr<DeletedSecretListPage> ParseDeletedSecretList(absl::string_view body) {
  WipedDocument parsed(body);
  if (!parsed.ok()) {
    return absl::InvalidArgumentError("the deleted secret list is not a JSON object");
  }
  const auto& doc = parsed.doc();
  auto value = doc.FindMember("value");
  if (value == doc.MemberEnd() || !value->value.IsArray()) return NotAList("deleted secret list");
  DeletedSecretListPage page;
  for (const auto& item : value->value.GetArray()) {
    DeletedSecret d;
    RETURN_IF_ERROR(FillDeleted(item, &d));
    page.items.push_back(std::move(d));
  }
  page.next_link = NextLink(doc);
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
