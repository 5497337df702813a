#include "absl/strings/str_cat.h"
#include "engine/render/render.h"
#include "rapidjson/document.h"
#include "rapidjson/error/en.h"
#include "rapidjson/prettywriter.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"

namespace rotor {
namespace {

template <typename Writer>
void Str(Writer& w, absl::string_view s) {
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

template <typename Writer>
void WritePlan(Writer& w, const Plan& plan) {
  w.StartObject();
  Str(w, "format_version");
  w.Int(plan.format_version);
  Str(w, "tool_version");
  Str(w, plan.tool_version);
  Str(w, "config_path");
  Str(w, plan.config_path);
  Str(w, "config_digest");
  Str(w, plan.config_digest);
  Str(w, "prior_fingerprint");
  Str(w, plan.prior_fingerprint);
  Str(w, "vault");
  Str(w, plan.vault);
  Str(w, "changes");
  w.StartArray();
  for (const auto& c : plan.changes) {
    w.StartObject();
    Str(w, "address");
    Str(w, c.address);
    Str(w, "action");
    Str(w, ActionName(c.action));
    Str(w, "cause");
    Str(w, CauseName(c.cause));
    Str(w, "attributes");
    w.StartArray();
    for (const auto& a : c.attributes) {
      w.StartObject();
      Str(w, "name");
      Str(w, a.name);
      Str(w, "before");
      Str(w, a.before);
      Str(w, "after");
      Str(w, a.after);
      w.EndObject();
    }
    w.EndArray();
    Str(w, "reasons");
    w.StartArray();
    for (const auto& r : c.reasons) Str(w, r);
    w.EndArray();
    w.EndObject();
  }
  w.EndArray();
  Str(w, "warnings");
  w.StartArray();
  for (const auto& warning : plan.warnings) {
    w.StartObject();
    Str(w, "subject");
    Str(w, warning.subject);
    Str(w, "message");
    Str(w, warning.message);
    w.EndObject();
  }
  w.EndArray();
  Str(w, "certificate_checks");
  w.StartArray();
  for (const auto& check : plan.certificate_checks) {
    w.StartObject();
    Str(w, "name");
    Str(w, check.name);
    Str(w, "level");
    Str(w, check.level);
    Str(w, "detail");
    Str(w, check.detail);
    w.EndObject();
  }
  w.EndArray();
  Plan::Summary s = plan.Summarize();
  Str(w, "summary");
  w.StartObject();
  Str(w, "add");
  w.Int(s.add);
  Str(w, "change");
  w.Int(s.change);
  Str(w, "destroy");
  w.Int(s.destroy);
  Str(w, "redeploy");
  w.Int(s.redeploy);
  w.EndObject();
  w.EndObject();
}

// Reads a string member; false when absent or not a string.
bool GetString(const rapidjson::Value& object, const char* name, std::string* out) {
  auto it = object.FindMember(name);
  if (it == object.MemberEnd() || !it->value.IsString()) return false;
  out->assign(it->value.GetString(), it->value.GetStringLength());
  return true;
}

absl::Status Malformed(absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("malformed plan file: ", what));
}

}  // namespace

std::string RenderPlanJson(const Plan& plan, bool pretty) {
  rapidjson::StringBuffer buffer;
  if (pretty) {
    rapidjson::PrettyWriter<rapidjson::StringBuffer> writer(buffer);
    writer.SetIndent(' ', 2);
    WritePlan(writer, plan);
  } else {
    rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
    WritePlan(writer, plan);
  }
  return std::string(buffer.GetString(), buffer.GetSize()) + "\n";
}

absl::StatusOr<Plan> ParsePlanJson(absl::string_view json) {
  rapidjson::Document doc;
  // Iterative: the default parser recurses once per nesting level (a
  // deeply nested plan file overflowed the stack).
  doc.Parse<rapidjson::kParseIterativeFlag>(json.data(), json.size());
  if (doc.HasParseError()) {
    return Malformed(absl::StrCat("JSON error at offset ", doc.GetErrorOffset(), ": ",
                                  rapidjson::GetParseError_En(doc.GetParseError())));
  }
  if (!doc.IsObject()) return Malformed("not a JSON object");
  Plan plan;
  auto version = doc.FindMember("format_version");
  if (version == doc.MemberEnd() || !version->value.IsInt()) return Malformed("no format_version");
  plan.format_version = version->value.GetInt();
  if (plan.format_version != kPlanFormatVersion) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the plan file has format version ", plan.format_version, "; this rotor reads version ",
        kPlanFormatVersion, ": make a new plan with this rotor"));
  }
  if (!GetString(doc, "tool_version", &plan.tool_version) ||
      !GetString(doc, "config_path", &plan.config_path) ||
      !GetString(doc, "config_digest", &plan.config_digest) ||
      !GetString(doc, "prior_fingerprint", &plan.prior_fingerprint) ||
      !GetString(doc, "vault", &plan.vault)) {
    return Malformed("a header field is missing");
  }
  auto changes = doc.FindMember("changes");
  if (changes == doc.MemberEnd() || !changes->value.IsArray()) return Malformed("no changes array");
  for (const auto& item : changes->value.GetArray()) {
    if (!item.IsObject()) return Malformed("a change is not an object");
    Change c;
    std::string action, cause;
    if (!GetString(item, "address", &c.address) || !GetString(item, "action", &action) ||
        !GetString(item, "cause", &cause) || !ParseAction(action, &c.action) ||
        !ParseCause(cause, &c.cause)) {
      return Malformed("a change lacks a valid address, action or cause");
    }
    auto attributes = item.FindMember("attributes");
    if (attributes != item.MemberEnd() && attributes->value.IsArray()) {
      for (const auto& a : attributes->value.GetArray()) {
        Attribute attr;
        if (!a.IsObject() || !GetString(a, "name", &attr.name) ||
            !GetString(a, "before", &attr.before) || !GetString(a, "after", &attr.after)) {
          return Malformed(absl::StrCat("an attribute of ", c.address, " is malformed"));
        }
        c.attributes.push_back(std::move(attr));
      }
    }
    auto reasons = item.FindMember("reasons");
    if (reasons != item.MemberEnd() && reasons->value.IsArray()) {
      for (const auto& r : reasons->value.GetArray()) {
        if (r.IsString()) c.reasons.emplace_back(r.GetString(), r.GetStringLength());
      }
    }
    plan.changes.push_back(std::move(c));
  }
  auto warnings = doc.FindMember("warnings");
  if (warnings != doc.MemberEnd() && warnings->value.IsArray()) {
    for (const auto& w : warnings->value.GetArray()) {
      Warning warning;
      if (w.IsObject() && GetString(w, "subject", &warning.subject) &&
          GetString(w, "message", &warning.message)) {
        plan.warnings.push_back(std::move(warning));
      }
    }
  }
  auto checks = doc.FindMember("certificate_checks");
  if (checks != doc.MemberEnd() && checks->value.IsArray()) {
    for (const auto& item : checks->value.GetArray()) {
      CheckLine line;
      if (item.IsObject() && GetString(item, "name", &line.name) &&
          GetString(item, "level", &line.level) && GetString(item, "detail", &line.detail)) {
        plan.certificate_checks.push_back(std::move(line));
      }
    }
  }
  return plan;
}

std::string RenderOutputsJson(const ApplyOutputs& outputs) {
  rapidjson::StringBuffer buffer;
  rapidjson::PrettyWriter<rapidjson::StringBuffer> w(buffer);
  w.SetIndent(' ', 2);
  w.StartObject();
  Str(w, "pfx_key_vault_resource_id");
  Str(w, outputs.pfx_key_vault_resource_id);
  Str(w, "pfx_key_vault_secret_url");
  Str(w, outputs.pfx_key_vault_secret_url);
  Str(w, "pfx_thumbprint");
  Str(w, outputs.pfx_thumbprint);
  Str(w, "deployment_name");
  Str(w, outputs.deployment_name);
  Str(w, "deployment_state");
  Str(w, outputs.deployment_state);
  Str(w, "written_secrets");
  w.StartArray();
  for (const auto& s : outputs.written_secrets) Str(w, s);
  w.EndArray();
  Str(w, "deleted_secrets");
  w.StartArray();
  for (const auto& s : outputs.deleted_secrets) Str(w, s);
  w.EndArray();
  w.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize()) + "\n";
}

}  // namespace rotor
