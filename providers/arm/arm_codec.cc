#include "providers/arm/arm_codec.h"

#include <openssl/crypto.h>

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "base/status_macros.h"
#include "rapidjson/document.h"
#include "rapidjson/reader.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"

namespace rotor::arm {
namespace {

constexpr int kMaxErrorDepth = 8;
// Deeper JSON is refused: ToText (RapidJSON's Accept) and the engine's
// JsonCanonical recurse once per level. ARM's own documents stay far below.
constexpr int kMaxJsonDepth = 128;

// The nesting depth of `root` (1 for a scalar), counted without recursion.
int Depth(const rapidjson::Value& root) {
  int deepest = 0;
  std::vector<std::pair<const rapidjson::Value*, int>> pending = {{&root, 1}};
  while (!pending.empty()) {
    auto [v, depth] = pending.back();
    pending.pop_back();
    deepest = std::max(deepest, depth);
    if (depth > kMaxJsonDepth) break;
    if (v->IsArray()) {
      for (const auto& item : v->GetArray()) pending.emplace_back(&item, depth + 1);
    } else if (v->IsObject()) {
      for (const auto& m : v->GetObject()) pending.emplace_back(&m.value, depth + 1);
    }
  }
  return deepest;
}

// Parses an answer without recursion (RapidJSON's default parser recurses
// once per nesting level: a body of 200,000 '[' overflowed the stack) and
// refuses one nested deeper than kMaxJsonDepth; false for both.
bool ParseJson(rapidjson::Document& doc, absl::string_view text) {
  doc.Parse<rapidjson::kParseIterativeFlag>(text.data(), text.size());
  return !doc.HasParseError() && Depth(doc) <= kMaxJsonDepth;
}

std::string Str(const rapidjson::Value& o, const char* name) {
  if (!o.IsObject()) return "";
  auto it = o.FindMember(name);
  if (it == o.MemberEnd() || !it->value.IsString()) return "";
  return std::string(it->value.GetString(), it->value.GetStringLength());
}

const rapidjson::Value* Member(const rapidjson::Value& o, const char* name) {
  if (!o.IsObject()) return nullptr;
  auto it = o.FindMember(name);
  return it == o.MemberEnd() ? nullptr : &it->value;
}

std::string ToText(const rapidjson::Value& v) {
  rapidjson::StringBuffer b;
  rapidjson::Writer<rapidjson::StringBuffer> w(b);
  v.Accept(w);
  return std::string(b.GetString(), b.GetSize());
}

void FormatError(const rapidjson::Value& e, int depth, std::vector<std::string>* lines);

// A message that is itself a JSON error document is shown as that error.
bool FormatJsonMessage(const std::string& message, int depth, std::vector<std::string>* lines) {
  absl::string_view trimmed = absl::StripAsciiWhitespace(message);
  if (!absl::StartsWith(trimmed, "{") || depth > kMaxErrorDepth) return false;
  rapidjson::Document inner;
  if (!ParseJson(inner, trimmed) || !inner.IsObject()) return false;
  size_t before = lines->size();
  FormatError(inner, depth, lines);
  return lines->size() > before;
}

void FormatError(const rapidjson::Value& e, int depth, std::vector<std::string>* lines) {
  if (!e.IsObject() || depth > kMaxErrorDepth) return;
  if (const rapidjson::Value* wrapped = Member(e, "error"); wrapped != nullptr) {
    if (wrapped->IsObject()) {
      FormatError(*wrapped, depth, lines);
      return;
    }
  }
  std::string code = Str(e, "code");
  std::string message = Str(e, "message");
  std::string target = Str(e, "target");
  const std::string indent(static_cast<size_t>(depth) * 2, ' ');
  if (!code.empty() || !message.empty()) {
    std::vector<std::string> nested;
    if (FormatJsonMessage(message, depth, &nested)) {
      if (!code.empty() && !absl::StartsWith(absl::StripAsciiWhitespace(nested[0]), code + ":")) {
        lines->push_back(
            absl::StrCat(indent, code, target.empty() ? "" : absl::StrCat(" (", target, ")"), ":"));
        for (auto& n : nested) lines->push_back(absl::StrCat("  ", n));
      } else {
        for (auto& n : nested) lines->push_back(std::move(n));
      }
    } else {
      std::string flat =
          absl::StrJoin(absl::StrSplit(message, absl::ByAnyChar("\r\n"), absl::SkipEmpty()), " ");
      lines->push_back(absl::StrCat(indent, code.empty() ? "Error" : code,
                                    target.empty() ? "" : absl::StrCat(" (", target, ")"), ": ",
                                    flat));
    }
  }
  if (const rapidjson::Value* details = Member(e, "details");
      details != nullptr && details->IsArray()) {
    for (const auto& d : details->GetArray()) FormatError(d, depth + 1, lines);
  }
}

std::string FormatErrorValue(const rapidjson::Value& e) {
  std::vector<std::string> lines;
  FormatError(e, 0, &lines);
  return absl::StrJoin(lines, "\n");
}

bool IsSecureType(absl::string_view type) {
  return absl::EqualsIgnoreCase(type, "SecureString") ||
         absl::EqualsIgnoreCase(type, "SecureObject");
}

std::string ResourceGroupOf(absl::string_view id) {
  std::vector<absl::string_view> parts = absl::StrSplit(id, '/');
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    if (absl::EqualsIgnoreCase(parts[i], "resourceGroups")) return std::string(parts[i + 1]);
  }
  return "";
}

absl::StatusOr<Deployment> FromValue(const rapidjson::Value& v, absl::string_view resource_group) {
  if (!v.IsObject()) return absl::InvalidArgumentError("the deployment is not a JSON object");
  Deployment d;
  d.id = Str(v, "id");
  d.name = Str(v, "name");
  if (d.name.empty()) return absl::InvalidArgumentError("the deployment has no \"name\"");
  d.resource_group = ResourceGroupOf(d.id);
  if (d.resource_group.empty()) d.resource_group = std::string(resource_group);
  if (const rapidjson::Value* tags = Member(v, "tags"); tags != nullptr && tags->IsObject()) {
    for (const auto& t : tags->GetObject()) {
      if (t.value.IsString()) d.tags[t.name.GetString()] = t.value.GetString();
    }
  }
  const rapidjson::Value* props = Member(v, "properties");
  if (props == nullptr || !props->IsObject()) return d;
  d.provisioning_state = Str(*props, "provisioningState");
  d.mode = Str(*props, "mode");
  if (std::string ts = Str(*props, "timestamp"); !ts.empty()) {
    auto t = ParseArmTime(ts);
    if (t.ok()) d.timestamp = *t;
  }
  if (const rapidjson::Value* link = Member(*props, "templateLink"); link != nullptr) {
    // The 2019-10-01 what-if example has a bare string here.
    d.template_link_uri = link->IsString() ? link->GetString() : Str(*link, "uri");
  }
  if (const rapidjson::Value* params = Member(*props, "parameters");
      params != nullptr && params->IsObject()) {
    for (const auto& p : params->GetObject()) {
      DeploymentParameter parameter;
      parameter.type = Str(p.value, "type");
      const rapidjson::Value* value = Member(p.value, "value");
      if (value != nullptr && !IsSecureType(parameter.type)) parameter.value_json = ToText(*value);
      d.parameters[p.name.GetString()] = std::move(parameter);
    }
  }
  if (const rapidjson::Value* error = Member(*props, "error"); error != nullptr) {
    d.error = FormatErrorValue(*error);
  }
  return d;
}

// RapidJSON output into a string reserved up front (see keyvault_codec.cc).
struct ReservedOutput {
  typedef char Ch;
  std::string* out;
  void Put(char c) { out->push_back(c); }
  void Flush() {}
};

// Whether `text` is exactly one JSON value; parsed in place in a copy that
// is wiped afterwards (values may be secrets).
bool IsJsonValue(absl::string_view text) {
  std::string buffer(text);
  rapidjson::InsituStringStream stream(buffer.data());
  rapidjson::BaseReaderHandler<> handler;
  rapidjson::Reader reader;
  const bool ok =
      !reader.Parse<rapidjson::kParseInsituFlag | rapidjson::kParseIterativeFlag>(stream, handler)
           .IsError();
  OPENSSL_cleanse(buffer.data(), buffer.size());
  return ok && !text.empty();
}

}  // namespace

absl::StatusOr<absl::Time> ParseArmTime(absl::string_view text) {
  std::string t(absl::StripAsciiWhitespace(text));
  // A zone is required by RFC 3339; ARM sometimes omits it (UTC).
  const bool has_zone = absl::EndsWith(t, "Z") || absl::EndsWith(t, "z") ||
                        (t.size() > 6 && (t[t.size() - 6] == '+' || t[t.size() - 6] == '-') &&
                         t[t.size() - 3] == ':');
  if (!has_zone) t += "Z";
  absl::Time out;
  std::string err;
  if (!absl::ParseTime(absl::RFC3339_full, t, &out, &err)) {
    return absl::InvalidArgumentError(absl::StrCat("\"", text, "\" is not an ARM date-time"));
  }
  return out;
}

absl::StatusOr<Deployment> ParseDeployment(absl::string_view body,
                                           absl::string_view resource_group) {
  rapidjson::Document doc;
  if (!ParseJson(doc, body)) return absl::InvalidArgumentError("the deployment answer is not JSON");
  return FromValue(doc, resource_group);
}

absl::StatusOr<DeploymentListPage> ParseDeploymentList(absl::string_view body,
                                                       absl::string_view resource_group) {
  rapidjson::Document doc;
  if (!ParseJson(doc, body) || !doc.IsObject()) {
    return absl::InvalidArgumentError("the deployment list is not a JSON object");
  }
  const rapidjson::Value* value = Member(doc, "value");
  if (value == nullptr || !value->IsArray()) {
    return absl::InvalidArgumentError("the deployment list has no \"value\" array");
  }
  DeploymentListPage page;
  for (const auto& item : value->GetArray()) {
    ASSIGN_OR_RETURN(Deployment d, FromValue(item, resource_group));
    page.items.push_back(std::move(d));
  }
  page.next_link = Str(doc, "nextLink");
  return page;
}

absl::StatusOr<OperationStatus> ParseOperationStatus(absl::string_view body) {
  rapidjson::Document doc;
  if (!ParseJson(doc, body) || !doc.IsObject()) {
    return absl::InvalidArgumentError("the operation status is not a JSON object");
  }
  OperationStatus s;
  s.status = Str(doc, "status");
  if (s.status.empty()) return absl::InvalidArgumentError("the operation status has no \"status\"");
  if (const rapidjson::Value* error = Member(doc, "error"); error != nullptr) {
    s.error = FormatErrorValue(*error);
  }
  return s;
}

absl::StatusOr<OperationsPage> ParseDeploymentOperations(absl::string_view body) {
  rapidjson::Document doc;
  if (!ParseJson(doc, body) || !doc.IsObject()) {
    return absl::InvalidArgumentError("the deployment operations answer is not a JSON object");
  }
  const rapidjson::Value* value = Member(doc, "value");
  if (value == nullptr || !value->IsArray()) {
    return absl::InvalidArgumentError("the deployment operations answer has no \"value\" array");
  }
  OperationsPage page;
  for (const auto& op : value->GetArray()) {
    const rapidjson::Value* props = Member(op, "properties");
    if (props == nullptr ||
        !absl::EqualsIgnoreCase(Str(*props, "provisioningState"), kStateFailed)) {
      continue;
    }
    std::string resource;
    if (const rapidjson::Value* target = Member(*props, "targetResource"); target != nullptr) {
      std::string type = Str(*target, "resourceType");
      std::string name = Str(*target, "resourceName");
      if (!type.empty() || !name.empty()) resource = absl::StrCat(type, "/", name);
    }
    if (resource.empty()) resource = absl::StrCat("operation ", Str(op, "operationId"));
    std::string detail;
    const rapidjson::Value* message = Member(*props, "statusMessage");
    if (message != nullptr) {
      if (message->IsString()) {
        std::vector<std::string> lines;
        if (FormatJsonMessage(message->GetString(), 0, &lines)) {
          detail = absl::StrJoin(lines, "\n");
        } else {
          detail = message->GetString();
        }
      } else if (message->IsObject()) {
        detail = FormatErrorValue(*message);
        if (detail.empty()) detail = ToText(*message);
      } else {
        detail = ToText(*message);
      }
    }
    if (detail.empty()) detail = absl::StrCat("failed (", Str(*props, "statusCode"), ")");
    page.failures.push_back(
        absl::StrCat(resource, ": ", absl::StripLeadingAsciiWhitespace(detail)));
  }
  page.next_link = Str(doc, "nextLink");
  return page;
}

absl::StatusOr<std::string> ParseExportedTemplate(absl::string_view body) {
  rapidjson::Document doc;
  if (!ParseJson(doc, body) || !doc.IsObject()) {
    return absl::InvalidArgumentError("the exported template is not a JSON object");
  }
  const rapidjson::Value* t = Member(doc, "template");
  if (t == nullptr || !t->IsObject()) {
    return absl::InvalidArgumentError("the exportTemplate answer has no \"template\" object");
  }
  return ToText(*t);
}

std::string FormatArmError(absl::string_view json) {
  rapidjson::Document doc;
  if (!ParseJson(doc, json)) return "";
  return FormatErrorValue(doc);
}

absl::StatusOr<std::string> ParseValidateResult(absl::string_view body) {
  if (absl::StripAsciiWhitespace(body).empty()) return std::string();
  rapidjson::Document doc;
  if (!ParseJson(doc, body) || !doc.IsObject()) {
    return absl::InvalidArgumentError("the validate answer is not a JSON object");
  }
  const rapidjson::Value* error = Member(doc, "error");
  if (error == nullptr || error->IsNull()) return std::string();
  return FormatErrorValue(*error);
}

absl::StatusOr<Secret> DeploymentBody(const DeploymentRequest& request) {
  const bool has_template = !request.template_json.empty();
  const bool has_link = !request.template_link_uri.empty();
  if (has_template == has_link) {
    return absl::InvalidArgumentError(
        "a deployment needs exactly one of a template and a template link");
  }
  if (has_template && !IsJsonValue(request.template_json)) {
    return absl::InvalidArgumentError("the deployment template is not valid JSON");
  }
  size_t capacity = 256 + request.template_json.size() + request.template_link_uri.size() * 6 +
                    request.mode.size() * 6;
  for (const auto& [name, value] : request.parameters) {
    if (!IsJsonValue(value.Reveal())) {
      return absl::InvalidArgumentError(
          absl::StrCat("deployment parameter ", name, " is not a JSON value"));
    }
    capacity += 32 + name.size() * 6 + value.size();
  }
  for (const auto& [k, v] : request.tags) capacity += 8 + (k.size() + v.size()) * 6;
  std::string text;
  text.reserve(capacity);
  ReservedOutput out{&text};
  rapidjson::Writer<ReservedOutput> w(out);
  auto str = [&](absl::string_view s) {
    w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
  };
  w.StartObject();
  w.Key("properties");
  w.StartObject();
  w.Key("mode");
  str(request.mode.empty() ? "Incremental" : request.mode);
  if (has_template) {
    w.Key("template");
    w.RawValue(request.template_json.data(), request.template_json.size(), rapidjson::kObjectType);
  } else {
    w.Key("templateLink");
    w.StartObject();
    w.Key("uri");
    str(request.template_link_uri);
    w.EndObject();
  }
  w.Key("parameters");
  w.StartObject();
  for (const auto& [name, value] : request.parameters) {
    w.Key(name.data(), static_cast<rapidjson::SizeType>(name.size()));
    w.StartObject();
    w.Key("value");
    w.RawValue(value.Reveal().data(), value.Reveal().size(), rapidjson::kStringType);
    w.EndObject();
  }
  w.EndObject();
  w.EndObject();
  if (!request.tags.empty()) {
    w.Key("tags");
    w.StartObject();
    for (const auto& [k, v] : request.tags) {
      w.Key(k.data(), static_cast<rapidjson::SizeType>(k.size()));
      str(v);
    }
    w.EndObject();
  }
  w.EndObject();
  return Secret(std::move(text));
}

}  // namespace rotor::arm
