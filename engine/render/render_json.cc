#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "base/status_macros.h"
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
void WriteStringMap(Writer& w, const std::map<std::string, std::string>& m) {
  w.StartObject();
  for (const auto& [k, v] : m) {
    Str(w, k);
    Str(w, v);
  }
  w.EndObject();
}

template <typename Writer>
void WriteStrings(Writer& w, const std::vector<std::string>& strings) {
  w.StartArray();
  for (const auto& s : strings) Str(w, s);
  w.EndArray();
}

template <typename Writer>
void WriteSecretWrite(Writer& w, const SecretWrite& write) {
  w.StartObject();
  Str(w, "name");
  Str(w, write.name);
  Str(w, "content_type");
  Str(w, write.content_type);
  Str(w, "tags");
  WriteStringMap(w, write.tags);
  if (write.issue.has_value()) {
    const PlannedIssuance& issue = *write.issue;
    Str(w, "issue");
    w.StartObject();
    Str(w, "issuer");
    Str(w, issue.issuer);
    Str(w, "describe");
    Str(w, issue.describe);
    Str(w, "dns_names");
    WriteStrings(w, issue.dns_names);
    Str(w, "key_type");
    Str(w, issue.key_type);
    Str(w, "reuse_key");
    w.Bool(issue.reuse_key);
    Str(w, "min_valid_days");
    w.Int(issue.min_valid_days);
    Str(w, "ca_bundle");
    Str(w, issue.ca_bundle);
    w.EndObject();
  } else if (write.generate_length > 0) {
    Str(w, "generate_length");
    w.Int(write.generate_length);
  } else {
    Str(w, "value_key");
    Str(w, write.value_key);
  }
  w.EndObject();
}

absl::string_view SourceName(PlannedParameter::Source source) {
  switch (source) {
    case PlannedParameter::Source::kCarried:
      return "carried";
    case PlannedParameter::Source::kLiteral:
      return "literal";
    case PlannedParameter::Source::kValue:
      return "value";
    case PlannedParameter::Source::kCertificateUrl:
      return "certificate_url";
    case PlannedParameter::Source::kCertificateThumbprint:
      return "certificate_thumbprint";
  }
  return "literal";
}

bool ParseSourceName(absl::string_view name, PlannedParameter::Source* source) {
  for (auto s : {PlannedParameter::Source::kCarried, PlannedParameter::Source::kLiteral,
                 PlannedParameter::Source::kValue, PlannedParameter::Source::kCertificateUrl,
                 PlannedParameter::Source::kCertificateThumbprint}) {
    if (SourceName(s) == name) {
      *source = s;
      return true;
    }
  }
  return false;
}

template <typename Writer>
void WriteDeployment(Writer& w, const PlannedDeployment& d) {
  w.StartObject();
  Str(w, "resource_group");
  Str(w, d.resource_group);
  Str(w, "name");
  Str(w, d.name);
  Str(w, "base");
  Str(w, d.base);
  Str(w, "mode");
  Str(w, d.mode);
  Str(w, "template_link_uri");
  Str(w, d.template_link_uri);
  Str(w, "template_json");
  Str(w, d.template_json);
  Str(w, "parameters");
  w.StartArray();
  for (const auto& p : d.parameters) {
    w.StartObject();
    Str(w, "name");
    Str(w, p.name);
    Str(w, "source");
    Str(w, SourceName(p.source));
    if (!p.value_json.empty()) {
      Str(w, "value_json");
      Str(w, p.value_json);
    }
    if (!p.value_key.empty()) {
      Str(w, "value_key");
      Str(w, p.value_key);
    }
    w.EndObject();
  }
  w.EndArray();
  Str(w, "tags");
  WriteStringMap(w, d.tags);
  Str(w, "certificate_secret");
  Str(w, d.certificate_secret);
  Str(w, "certificate_url");
  Str(w, d.certificate_url);
  Str(w, "certificate_thumbprint");
  Str(w, d.certificate_thumbprint);
  Str(w, "set_force_update_tag");
  w.Bool(d.set_force_update_tag);
  Str(w, "login_stamps");
  WriteStringMap(w, d.login_stamps);
  w.EndObject();
}

template <typename Writer>
void WriteObserved(Writer& w, const Observed& o) {
  Str(w, "observed");
  w.StartObject();
  Str(w, "at");
  Str(w, FormatPlanTime(o.at));
  if (o.certificate.has_value()) {
    Str(w, "certificate");
    w.StartObject();
    Str(w, "secret");
    Str(w, o.certificate->secret);
    Str(w, "thumbprint");
    Str(w, o.certificate->thumbprint);
    Str(w, "not_after");
    Str(w, FormatPlanTime(o.certificate->not_after));
    w.EndObject();
  }
  Str(w, "logins");
  w.StartArray();
  for (const auto& login : o.logins) {
    w.StartObject();
    Str(w, "name");
    Str(w, login.name);
    Str(w, "updated");
    Str(w, FormatPlanTime(login.updated));
    Str(w, "enabled");
    w.Bool(login.enabled);
    w.EndObject();
  }
  w.EndArray();
  Str(w, "vault_secrets");
  w.Int(o.vault_secrets);
  Str(w, "vm_first_page_logins");
  w.Int(o.vm_first_page_logins);
  Str(w, "vm_logins_beyond_first_page");
  w.Int(o.vm_logins_beyond_first_page);
  if (o.last_successful_deployment.has_value()) {
    Str(w, "last_successful_deployment");
    Str(w, FormatPlanTime(*o.last_successful_deployment));
  }
  w.EndObject();
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
  Str(w, "apply_id");
  Str(w, plan.apply_id);
  if (!plan.rollback_of.empty()) {
    Str(w, "rollback_of");
    Str(w, plan.rollback_of);
  }
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
    WriteStrings(w, c.reasons);
    if (c.write.has_value()) {
      Str(w, "write");
      WriteSecretWrite(w, *c.write);
    }
    if (c.deployment.has_value()) {
      Str(w, "deployment");
      WriteDeployment(w, *c.deployment);
    }
    w.EndObject();
  }
  w.EndArray();
  Str(w, "values");
  w.StartArray();
  for (const auto& v : plan.values) {
    w.StartObject();
    Str(w, "key");
    Str(w, v.key);
    Str(w, "source");
    Str(w, v.source);
    if (!v.binding.empty()) {
      Str(w, "binding");
      Str(w, v.binding);
    }
    w.EndObject();
  }
  w.EndArray();
  Str(w, "publishes");
  w.StartArray();
  for (const auto& p : plan.publishes) {
    w.StartObject();
    Str(w, "user");
    Str(w, p.user);
    Str(w, "registry");
    Str(w, p.registry);
    if (!p.docker_config.empty()) {
      Str(w, "docker_config");
      Str(w, p.docker_config);
    } else {
      Str(w, "command");
      WriteStrings(w, p.command);
    }
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
  WriteObserved(w, plan.observed);
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

// A string-to-string object member; false when present but of another shape.
bool GetStringMap(const rapidjson::Value& object, const char* name,
                  std::map<std::string, std::string>* out) {
  auto it = object.FindMember(name);
  if (it == object.MemberEnd()) return true;
  if (!it->value.IsObject()) return false;
  for (auto m = it->value.MemberBegin(); m != it->value.MemberEnd(); ++m) {
    if (!m->value.IsString()) return false;
    (*out)[std::string(m->name.GetString(), m->name.GetStringLength())] =
        std::string(m->value.GetString(), m->value.GetStringLength());
  }
  return true;
}

absl::StatusOr<PlannedIssuance> ParseIssuance(const rapidjson::Value& v, const std::string& at) {
  PlannedIssuance issue;
  const std::string what = absl::StrCat(at, ".write.issue is malformed");
  if (!v.IsObject() || !GetString(v, "issuer", &issue.issuer) ||
      !GetString(v, "describe", &issue.describe) || !GetString(v, "key_type", &issue.key_type) ||
      !GetString(v, "ca_bundle", &issue.ca_bundle)) {
    return Malformed(what);
  }
  auto names = v.FindMember("dns_names");
  if (names == v.MemberEnd() || !names->value.IsArray() || names->value.Empty()) {
    return Malformed(what);
  }
  for (const auto& name : names->value.GetArray()) {
    if (!name.IsString()) return Malformed(what);
    issue.dns_names.emplace_back(name.GetString(), name.GetStringLength());
  }
  auto reuse = v.FindMember("reuse_key");
  auto days = v.FindMember("min_valid_days");
  if (reuse == v.MemberEnd() || !reuse->value.IsBool() || days == v.MemberEnd() ||
      !days->value.IsInt()) {
    return Malformed(what);
  }
  issue.reuse_key = reuse->value.GetBool();
  issue.min_valid_days = days->value.GetInt();
  return issue;
}

absl::StatusOr<SecretWrite> ParseSecretWrite(const rapidjson::Value& v, const std::string& at) {
  SecretWrite w;
  if (!v.IsObject() || !GetString(v, "name", &w.name) ||
      !GetString(v, "content_type", &w.content_type) || !GetStringMap(v, "tags", &w.tags)) {
    return Malformed(absl::StrCat(at, ".write is malformed"));
  }
  auto issue = v.FindMember("issue");
  auto length = v.FindMember("generate_length");
  if (issue != v.MemberEnd()) {
    ASSIGN_OR_RETURN(w.issue, ParseIssuance(issue->value, at));
  } else if (length != v.MemberEnd()) {
    if (!length->value.IsInt() || length->value.GetInt() < 1) {
      return Malformed(absl::StrCat(at, ".write.generate_length is not a positive integer"));
    }
    w.generate_length = length->value.GetInt();
  } else if (!GetString(v, "value_key", &w.value_key) || w.value_key.empty()) {
    return Malformed(absl::StrCat(at, ".write has neither value_key nor generate_length"));
  }
  return w;
}

absl::StatusOr<PlannedDeployment> ParseDeployment(const rapidjson::Value& v,
                                                  const std::string& at) {
  PlannedDeployment d;
  if (!v.IsObject() || !GetString(v, "resource_group", &d.resource_group) ||
      !GetString(v, "name", &d.name) || !GetString(v, "base", &d.base) ||
      !GetString(v, "mode", &d.mode) || !GetString(v, "template_link_uri", &d.template_link_uri) ||
      !GetString(v, "template_json", &d.template_json) ||
      !GetString(v, "certificate_secret", &d.certificate_secret) ||
      !GetString(v, "certificate_url", &d.certificate_url) ||
      !GetString(v, "certificate_thumbprint", &d.certificate_thumbprint) ||
      !GetStringMap(v, "tags", &d.tags) || !GetStringMap(v, "login_stamps", &d.login_stamps)) {
    return Malformed(absl::StrCat(at, ".deployment is malformed"));
  }
  auto tag = v.FindMember("set_force_update_tag");
  if (tag == v.MemberEnd() || !tag->value.IsBool()) {
    return Malformed(absl::StrCat(at, ".deployment.set_force_update_tag is not a boolean"));
  }
  d.set_force_update_tag = tag->value.GetBool();
  auto params = v.FindMember("parameters");
  if (params == v.MemberEnd() || !params->value.IsArray()) {
    return Malformed(absl::StrCat(at, ".deployment.parameters is not an array"));
  }
  for (const auto& p : params->value.GetArray()) {
    PlannedParameter parameter;
    std::string source;
    if (!p.IsObject() || !GetString(p, "name", &parameter.name) ||
        !GetString(p, "source", &source) || !ParseSourceName(source, &parameter.source)) {
      return Malformed(absl::StrCat(at, ".deployment has a malformed parameter"));
    }
    GetString(p, "value_json", &parameter.value_json);
    GetString(p, "value_key", &parameter.value_key);
    d.parameters.push_back(std::move(parameter));
  }
  return d;
}

bool GetTime(const rapidjson::Value& object, const char* name, absl::Time* out) {
  std::string text, error;
  return GetString(object, name, &text) &&
         absl::ParseTime("%Y-%m-%dT%H:%M:%SZ", text, absl::UTCTimeZone(), out, &error);
}

bool GetInt(const rapidjson::Value& object, const char* name, int* out) {
  auto it = object.FindMember(name);
  if (it == object.MemberEnd() || !it->value.IsInt()) return false;
  *out = it->value.GetInt();
  return true;
}

absl::StatusOr<Observed> ParseObserved(const rapidjson::Value& v) {
  Observed o;
  if (!v.IsObject() || !GetTime(v, "at", &o.at) || !GetInt(v, "vault_secrets", &o.vault_secrets) ||
      !GetInt(v, "vm_first_page_logins", &o.vm_first_page_logins) ||
      !GetInt(v, "vm_logins_beyond_first_page", &o.vm_logins_beyond_first_page)) {
    return Malformed("observed is malformed");
  }
  if (auto cert = v.FindMember("certificate"); cert != v.MemberEnd()) {
    ObservedCertificate c;
    if (!cert->value.IsObject() || !GetString(cert->value, "secret", &c.secret) ||
        !GetString(cert->value, "thumbprint", &c.thumbprint) ||
        !GetTime(cert->value, "not_after", &c.not_after)) {
      return Malformed("observed.certificate is malformed");
    }
    o.certificate = std::move(c);
  }
  auto logins = v.FindMember("logins");
  if (logins == v.MemberEnd() || !logins->value.IsArray()) {
    return Malformed("observed.logins is not an array");
  }
  for (const auto& item : logins->value.GetArray()) {
    ObservedLogin login;
    auto enabled = item.IsObject() ? item.FindMember("enabled") : item.MemberEnd();
    if (!item.IsObject() || !GetString(item, "name", &login.name) ||
        !GetTime(item, "updated", &login.updated) || enabled == item.MemberEnd() ||
        !enabled->value.IsBool()) {
      return Malformed("observed.logins has a malformed login");
    }
    login.enabled = enabled->value.GetBool();
    o.logins.push_back(std::move(login));
  }
  if (v.HasMember("last_successful_deployment")) {
    absl::Time t;
    if (!GetTime(v, "last_successful_deployment", &t)) {
      return Malformed("observed.last_successful_deployment is not a time");
    }
    o.last_successful_deployment = t;
  }
  return o;
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
  GetString(doc, "apply_id", &plan.apply_id);
  GetString(doc, "rollback_of", &plan.rollback_of);
  if (auto publishes = doc.FindMember("publishes"); publishes != doc.MemberEnd()) {
    if (!publishes->value.IsArray()) return Malformed("publishes is not an array");
    for (const auto& item : publishes->value.GetArray()) {
      PlannedPublish p;
      if (!item.IsObject() || !GetString(item, "user", &p.user) ||
          !GetString(item, "registry", &p.registry)) {
        return Malformed("a publish lacks its user or registry");
      }
      GetString(item, "docker_config", &p.docker_config);
      if (auto command = item.FindMember("command"); command != item.MemberEnd()) {
        if (!command->value.IsArray()) return Malformed("a publish command is not an array");
        for (const auto& arg : command->value.GetArray()) {
          if (!arg.IsString()) return Malformed("a publish command has a non-string argument");
          p.command.emplace_back(arg.GetString(), arg.GetStringLength());
        }
      }
      if (p.docker_config.empty() == p.command.empty()) {
        return Malformed("a publish needs exactly one of docker_config and command");
      }
      plan.publishes.push_back(std::move(p));
    }
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
    if (auto write = item.FindMember("write"); write != item.MemberEnd()) {
      ASSIGN_OR_RETURN(c.write, ParseSecretWrite(write->value, c.address));
    }
    if (auto deployment = item.FindMember("deployment"); deployment != item.MemberEnd()) {
      ASSIGN_OR_RETURN(c.deployment, ParseDeployment(deployment->value, c.address));
    }
    plan.changes.push_back(std::move(c));
  }
  auto values = doc.FindMember("values");
  if (values == doc.MemberEnd() || !values->value.IsArray()) return Malformed("no values array");
  for (const auto& v : values->value.GetArray()) {
    PlannedValue value;
    if (!v.IsObject() || !GetString(v, "key", &value.key) ||
        !GetString(v, "source", &value.source)) {
      return Malformed("a value lacks its key or source");
    }
    GetString(v, "binding", &value.binding);
    plan.values.push_back(std::move(value));
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
  if (auto observed = doc.FindMember("observed"); observed != doc.MemberEnd()) {
    ASSIGN_OR_RETURN(plan.observed, ParseObserved(observed->value));
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
  WriteStrings(w, outputs.written_secrets);
  Str(w, "deleted_secrets");
  WriteStrings(w, outputs.deleted_secrets);
  w.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize()) + "\n";
}

}  // namespace rotor
