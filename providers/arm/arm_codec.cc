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
#include "base/inert_text.h"
#include "base/json_fields.h"
#include "base/status_macros.h"
#include "providers/arm/arm_json_internal.h"
#include "rapidjson/document.h"
#include "rapidjson/reader.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"

namespace rotor::arm {
namespace {

constexpr int kMaxErrorDepth = 8;
// A formatted error keeps at most this many lines, each cut to
// kMaxErrorText, with control characters escaped: the server's text
// reaches the user's terminal.
constexpr size_t kMaxErrorLines = 50;
constexpr size_t kMaxErrorText = 2000;
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

using internal::Member;

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
  if (!e.IsObject() || depth > kMaxErrorDepth || lines->size() >= kMaxErrorLines) return;
  if (const rapidjson::Value* wrapped = Member(e, "error"); wrapped != nullptr) {
    if (wrapped->IsObject()) {
      FormatError(*wrapped, depth, lines);
      return;
    }
  }
  std::string code = ShowInert(Str(e, "code"), 200);
  std::string message = Str(e, "message");
  std::string target = ShowInert(Str(e, "target"), 300);
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
      std::string flat = ShowInert(
          absl::StrJoin(absl::StrSplit(message, absl::ByAnyChar("\r\n"), absl::SkipEmpty()), " "),
          kMaxErrorText);
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

using Object = JsonObject<rapidjson::Value>;

// The first wrong-typed field, else `status`.
absl::Status Checked(const JsonFieldErrors& errors, absl::Status status) {
  if (!errors.ok()) return errors.status();
  return status;
}

absl::StatusOr<Deployment> FromObject(const Object& v, absl::string_view resource_group) {
  Deployment d;
  d.id = v.String("id");
  d.name = v.String("name");
  if (d.name.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(v.path().empty() ? "the deployment" : v.path(), " has no \"name\""));
  }
  d.resource_group = ResourceGroupOf(d.id);
  if (d.resource_group.empty()) d.resource_group = std::string(resource_group);
  v.Object("tags").ForEachString([&](absl::string_view name, absl::string_view value) {
    d.tags[std::string(name)] = std::string(value);
  });
  const Object props = v.Object("properties");
  if (!props.present()) return d;
  d.provisioning_state = ShowInert(props.String("provisioningState"), 100);
  d.mode = props.String("mode");
  if (std::string ts = props.String("timestamp"); !ts.empty()) {
    auto t = ParseArmTime(ts);
    if (t.ok()) d.timestamp = *t;
  }
  if (const rapidjson::Value* link = props.Get("templateLink"); link != nullptr) {
    // The 2019-10-01 what-if example has a bare string here.
    d.template_link_uri =
        link->IsString() ? link->GetString() : props.Object("templateLink").String("uri");
  }
  const Object params = props.Object("parameters");
  if (params.present()) {
    for (const auto& p : params.value()->GetObject()) {
      const std::string name(p.name.GetString(), p.name.GetStringLength());
      // Each parameter is {"type": ..., "value": ...}.
      const Object entry(&p.value, params.PathOf(name), params.errors());
      if (!entry.present()) {
        params.errors()->Wrong(entry.path(), JsonTypeName(p.value), "an object");
        continue;
      }
      DeploymentParameter parameter;
      parameter.type = entry.String("type");
      const rapidjson::Value* value = Member(p.value, "value");
      if (value != nullptr && !IsSecureType(parameter.type)) parameter.value_json = ToText(*value);
      d.parameters[name] = std::move(parameter);
    }
  }
  if (const rapidjson::Value* error =
          props.Typed("error", &rapidjson::Value::IsObject, "an object")) {
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
    return absl::InvalidArgumentError(
        absl::StrCat("\"", ShowInert(text, 100), "\" is not an ARM date-time"));
  }
  return out;
}

absl::StatusOr<Deployment> ParseDeployment(absl::string_view body,
                                           absl::string_view resource_group) {
  rapidjson::Document doc;
  if (!ParseJson(doc, body) || !doc.IsObject()) {
    return absl::InvalidArgumentError("the deployment answer is not a JSON object");
  }
  JsonFieldErrors errors;
  absl::StatusOr<Deployment> d = FromObject(Object(&doc, "", &errors), resource_group);
  RETURN_IF_ERROR(Checked(errors, d.status()));
  return d;
}

absl::StatusOr<DeploymentListPage> ParseDeploymentList(absl::string_view body,
                                                       absl::string_view resource_group) {
  rapidjson::Document doc;
  if (!ParseJson(doc, body) || !doc.IsObject()) {
    return absl::InvalidArgumentError("the deployment list is not a JSON object");
  }
  JsonFieldErrors errors;
  const Object list(&doc, "", &errors);
  const rapidjson::Value* value = list.Array("value");
  RETURN_IF_ERROR(errors.status());
  if (value == nullptr) {
    return absl::InvalidArgumentError("the deployment list has no \"value\" array");
  }
  DeploymentListPage page;
  size_t index = 0;
  for (const auto& item : value->GetArray()) {
    const std::string path = JsonItemPath("value", index++);
    if (!item.IsObject()) {
      errors.Wrong(path, JsonTypeName(item), "an object");
      return errors.status();
    }
    absl::StatusOr<Deployment> d = FromObject(Object(&item, path, &errors), resource_group);
    RETURN_IF_ERROR(Checked(errors, d.status()));
    page.items.push_back(*std::move(d));
  }
  page.next_link = list.String("nextLink");
  RETURN_IF_ERROR(errors.status());
  return page;
}

absl::StatusOr<OperationStatus> ParseOperationStatus(absl::string_view body) {
  rapidjson::Document doc;
  if (!ParseJson(doc, body) || !doc.IsObject()) {
    return absl::InvalidArgumentError("the operation status is not a JSON object");
  }
  JsonFieldErrors errors;
  const Object o(&doc, "", &errors);
  OperationStatus s;
  s.status = ShowInert(o.String("status"), 100);
  const rapidjson::Value* error = o.Typed("error", &rapidjson::Value::IsObject, "an object");
  RETURN_IF_ERROR(errors.status());
  if (s.status.empty()) return absl::InvalidArgumentError("the operation status has no \"status\"");
  if (error != nullptr) s.error = FormatErrorValue(*error);
  return s;
}

absl::StatusOr<OperationsPage> ParseDeploymentOperations(absl::string_view body) {
  rapidjson::Document doc;
  if (!ParseJson(doc, body) || !doc.IsObject()) {
    return absl::InvalidArgumentError("the deployment operations answer is not a JSON object");
  }
  JsonFieldErrors errors;
  const Object list(&doc, "", &errors);
  const rapidjson::Value* value = list.Array("value");
  RETURN_IF_ERROR(errors.status());
  if (value == nullptr) {
    return absl::InvalidArgumentError("the deployment operations answer has no \"value\" array");
  }
  OperationsPage page;
  size_t index = 0;
  for (const auto& item : value->GetArray()) {
    const std::string path = JsonItemPath("value", index++);
    if (!item.IsObject()) {
      errors.Wrong(path, JsonTypeName(item), "an object");
      return errors.status();
    }
    const Object op(&item, path, &errors);
    const Object props = op.Object("properties");
    const std::string state = props.String("provisioningState");
    const Object target = props.Object("targetResource");
    const std::string type = target.String("resourceType");
    const std::string name = target.String("resourceName");
    const std::string operation_id = op.String("operationId");
    const std::string status_code = props.String("statusCode");
    RETURN_IF_ERROR(errors.status());
    if (!props.present() || !absl::EqualsIgnoreCase(state, kStateFailed)) continue;
    std::string resource;
    if (!type.empty() || !name.empty()) resource = ShowInert(absl::StrCat(type, "/", name), 300);
    if (resource.empty()) resource = absl::StrCat("operation ", ShowInert(operation_id, 100));
    std::string detail;
    const rapidjson::Value* message = props.Get("statusMessage");
    if (message != nullptr) {
      if (message->IsString()) {
        std::vector<std::string> lines;
        if (FormatJsonMessage(message->GetString(), 0, &lines)) {
          detail = absl::StrJoin(lines, "\n");
        } else {
          detail = ShowInert(message->GetString(), kMaxErrorText);
        }
      } else if (message->IsObject()) {
        detail = FormatErrorValue(*message);
        if (detail.empty()) detail = ShowInert(ToText(*message), kMaxErrorText);
      } else {
        detail = ShowInert(ToText(*message), kMaxErrorText);
      }
    }
    if (detail.empty()) detail = absl::StrCat("failed (", ShowInert(status_code, 100), ")");
    page.failures.push_back(
        absl::StrCat(resource, ": ", absl::StripLeadingAsciiWhitespace(detail)));
  }
  page.next_link = list.String("nextLink");
  RETURN_IF_ERROR(errors.status());
  return page;
}

absl::StatusOr<std::string> ParseExportedTemplate(absl::string_view body) {
  rapidjson::Document doc;
  if (!ParseJson(doc, body) || !doc.IsObject()) {
    return absl::InvalidArgumentError("the exported template is not a JSON object");
  }
  JsonFieldErrors errors;
  const rapidjson::Value* t =
      Object(&doc, "", &errors).Typed("template", &rapidjson::Value::IsObject, "an object");
  RETURN_IF_ERROR(errors.status());
  if (t == nullptr) {
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
  JsonFieldErrors errors;
  const rapidjson::Value* error =
      Object(&doc, "", &errors).Typed("error", &rapidjson::Value::IsObject, "an object");
  RETURN_IF_ERROR(errors.status());
  if (error == nullptr) return std::string();
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

absl::Status ArmHttpError(absl::string_view method, absl::string_view url,
                          const http::HttpResponse& response) {
  absl::Status status = http::HttpErrorToStatus(method, url, response);
  std::string lines = FormatArmError(response.body);
  if (!absl::StrContains(lines, "\n")) return status;
  absl::Status detailed(status.code(), absl::StrCat(status.message(), "\n", lines));
  status.ForEachPayload([&](absl::string_view type, const absl::Cord& payload) {
    detailed.SetPayload(type, payload);
  });
  return detailed;
}

}  // namespace rotor::arm
