#include "tests/emulator/arm.h"

#include <algorithm>
#include <cstdio>
#include <functional>
#include <future>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "base/files.h"
#include "base/status_macros.h"
#include "providers/http/url.h"
#include "tests/emulator/json_internal.h"
#include "tests/emulator/util.h"

namespace rotor::emulator {
namespace {

std::string Lower(absl::string_view s) { return absl::AsciiStrToLower(s); }
std::string Key(absl::string_view rg, absl::string_view name) {
  return absl::StrCat(Lower(rg), "/", Lower(name));
}

constexpr char kDeploymentFailedMessage[] =
    "At least one resource deployment operation failed. Please list deployment operations for "
    "details. Please see https://aka.ms/arm-debug for usage details.";

// "Code: message" -> {code, message}; a message without a code gets
// `fallback`.
std::pair<std::string, std::string> SplitCode(absl::string_view text, absl::string_view fallback) {
  size_t colon = text.find(": ");
  if (colon != absl::string_view::npos && colon > 0 &&
      text.substr(0, colon).find_first_of(" \n") == absl::string_view::npos) {
    return {std::string(text.substr(0, colon)), std::string(text.substr(colon + 2))};
  }
  return {std::string(fallback), std::string(text)};
}

HttpResponse StatusToArm(const absl::Status& status) {
  auto [code, message] = SplitCode(status.message(), "");
  switch (status.code()) {
    case absl::StatusCode::kNotFound:
      return ArmError(404, code.empty() ? "NotFound" : code, message);
    case absl::StatusCode::kInvalidArgument:
      return ArmError(400, code.empty() ? "InvalidRequestContent" : code, message);
    case absl::StatusCode::kFailedPrecondition:
      return ArmError(409, "DeploymentActive", message);
    default:
      return ArmError(500, code.empty() ? "InternalServerError" : code, message);
  }
}

bool ValidApiVersion(absl::string_view v) {
  int y = 0, m = 0, d = 0;
  return v.size() >= 10 && v[4] == '-' && v[7] == '-' && absl::SimpleAtoi(v.substr(0, 4), &y) &&
         absl::SimpleAtoi(v.substr(5, 2), &m) && absl::SimpleAtoi(v.substr(8, 2), &d) &&
         y >= 2014 && m >= 1 && m <= 12 && d >= 1 && d <= 31 &&
         (v.size() == 10 || absl::StartsWith(v.substr(10), "-preview") ||
          absl::StartsWith(v.substr(10), "-beta"));
}

bool IsExpression(const rapidjson::Value& v) {
  if (!v.IsString()) return false;
  absl::string_view s(v.GetString(), v.GetStringLength());
  return absl::StartsWith(s, "[") && !absl::StartsWith(s, "[[") && absl::EndsWith(s, "]");
}

std::string ArmType(absl::string_view declared) {
  static const std::map<std::string, std::string> kTypes = {
      {"string", "String"}, {"securestring", "SecureString"}, {"int", "Int"},    {"bool", "Bool"},
      {"object", "Object"}, {"secureobject", "SecureObject"}, {"array", "Array"}};
  auto it = kTypes.find(Lower(declared));
  return it == kTypes.end() ? std::string(declared) : it->second;
}

// The argument of a one-call expression "[fn('arg')]", or nullopt.
std::optional<std::string> SingleCallArgument(absl::string_view expr, absl::string_view fn) {
  absl::string_view s = absl::StripAsciiWhitespace(expr);
  if (!absl::ConsumePrefix(&s, "[") || !absl::ConsumeSuffix(&s, "]")) return std::nullopt;
  s = absl::StripAsciiWhitespace(s);
  if (s.size() <= fn.size() || !absl::StartsWithIgnoreCase(s, fn)) return std::nullopt;
  s.remove_prefix(fn.size());
  s = absl::StripAsciiWhitespace(s);
  if (!absl::ConsumePrefix(&s, "(") || !absl::ConsumeSuffix(&s, ")")) return std::nullopt;
  s = absl::StripAsciiWhitespace(s);
  if (!absl::ConsumePrefix(&s, "'") || !absl::ConsumeSuffix(&s, "'")) return std::nullopt;
  if (s.find('\'') != absl::string_view::npos) return std::nullopt;
  return std::string(s);
}

std::string StableHash(absl::string_view text) {
  uint64_t h = 1469598103934665603ULL;  // FNV-1a
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return absl::StrCat(h);
}

HttpResponse Ok(int status, std::string body) {
  HttpResponse r;
  r.Json(status, std::move(body));
  return r;
}

}  // namespace

HttpResponse ArmError(int status, absl::string_view code, absl::string_view message) {
  rapidjson::StringBuffer b;
  json::Writer w(b);
  w.StartObject();
  json::Key(w, "error");
  w.StartObject();
  json::KeyStr(w, "code", code);
  json::KeyStr(w, "message", message);
  w.EndObject();
  w.EndObject();
  HttpResponse r;
  r.Json(status, json::Text(b));
  return r;
}

struct ArmService::Meta {
  std::string correlation_id;
  std::string operation_id;
  absl::Time start = absl::UnixEpoch();
  absl::Time end = absl::InfinitePast();
  std::string error_code, error_message;
  std::string provisioning;  // report JSON of a registry deployment
  bool registry = false;
  bool canceled = false;
};

struct ArmService::Run {
  std::promise<absl::Status> accepted;
  bool signalled = false;  // guarded by ArmService::mu_
  std::atomic<bool> cancel{false};
  std::map<std::string, Secret> effective;  // lower-cased name -> JSON text
  bool registry = false;
  std::string correlation_id, operation_id;
};

ArmService::ArmService(ArmOptions options, const Endpoints& endpoints, KeyVaultService& vaults,
                       RegistryProvisioner& registry, Stats& stats)
    : options_(std::move(options)),
      endpoints_(endpoints),
      vaults_(vaults),
      registry_(registry),
      stats_(stats) {}

ArmService::~ArmService() { Shutdown(); }

absl::StatusOr<std::unique_ptr<ArmService>> ArmService::Open(ArmOptions options,
                                                             const Endpoints& endpoints,
                                                             KeyVaultService& vaults,
                                                             RegistryProvisioner& registry,
                                                             Stats& stats) {
  std::unique_ptr<ArmService> service(
      new ArmService(std::move(options), endpoints, vaults, registry, stats));
  ArmService* self = service.get();
  local::LocalDeploymentsOptions dopts;
  dopts.state_dir = service->options_.state_dir;
  dopts.provisioning_hook = [self](const DeploymentRequest& request,
                                   const std::string& group) -> absl::Status {
    return self->Provision(request, group);
  };
  ASSIGN_OR_RETURN(service->deployments_, local::LocalDeployments::Open(std::move(dopts)));
  for (const auto& rg : service->options_.resource_groups) {
    RETURN_IF_ERROR(service->deployments_->CreateResourceGroup(rg));
  }
  for (const auto& rg : service->options_.deploy_fail) service->ArmFailure(rg);

  // Meta of earlier runs.
  const std::string path = absl::StrCat(service->options_.state_dir, "/emulator/arm.json");
  if (PathExists(path)) {
    ASSIGN_OR_RETURN(std::string text, ReadFile(path));
    rapidjson::Document doc;
    doc.Parse(text.data(), text.size());
    if (!doc.HasParseError() && doc.IsObject()) {
      service->last_thumbprint_ = json::StrMember(doc, "last_registry_thumbprint").value_or("");
      if (const auto* sc = json::Member(doc, "script_configurations");
          sc != nullptr && sc->IsObject()) {
        for (const auto& m : sc->GetObject()) {
          if (m.value.IsString()) {
            service->script_configurations_[m.name.GetString()] = m.value.GetString();
          }
        }
      }
      if (const auto* ds = json::Member(doc, "deployments"); ds != nullptr && ds->IsObject()) {
        for (const auto& m : ds->GetObject()) {
          auto meta = std::make_unique<Meta>();
          const rapidjson::Value& v = m.value;
          meta->correlation_id = json::StrMember(v, "correlation_id").value_or("");
          meta->operation_id = json::StrMember(v, "operation_id").value_or("");
          meta->error_code = json::StrMember(v, "error_code").value_or("");
          meta->error_message = json::StrMember(v, "error_message").value_or("");
          if (const auto* p = json::Member(v, "provisioning"); p != nullptr && p->IsObject()) {
            meta->provisioning = json::ToText(*p);
          }
          if (const auto* r = json::Member(v, "registry"); r != nullptr && r->IsBool()) {
            meta->registry = r->GetBool();
          }
          if (const auto* c = json::Member(v, "canceled"); c != nullptr && c->IsBool()) {
            meta->canceled = c->GetBool();
          }
          if (const auto* s = json::Member(v, "start_ms"); s != nullptr && s->IsInt64()) {
            meta->start = absl::FromUnixMillis(s->GetInt64());
          }
          if (const auto* e = json::Member(v, "end_ms"); e != nullptr && e->IsInt64()) {
            meta->end = absl::FromUnixMillis(e->GetInt64());
          }
          service->meta_[m.name.GetString()] = std::move(meta);
        }
      }
    }
  }
  return service;
}

absl::Status ArmService::SaveMeta() const {
  rapidjson::StringBuffer b;
  json::Writer w(b);
  w.StartObject();
  json::KeyStr(w, "last_registry_thumbprint", last_thumbprint_);
  json::Key(w, "script_configurations");
  w.StartObject();
  for (const auto& [group, fingerprint] : script_configurations_)
    json::KeyStr(w, group, fingerprint);
  w.EndObject();
  json::Key(w, "deployments");
  w.StartObject();
  for (const auto& [key, m] : meta_) {
    json::Key(w, key);
    w.StartObject();
    json::KeyStr(w, "correlation_id", m->correlation_id);
    json::KeyStr(w, "operation_id", m->operation_id);
    json::Key(w, "start_ms");
    w.Int64(absl::ToUnixMillis(m->start));
    if (m->end != absl::InfinitePast()) {
      json::Key(w, "end_ms");
      w.Int64(absl::ToUnixMillis(m->end));
    }
    json::KeyStr(w, "error_code", m->error_code);
    json::KeyStr(w, "error_message", m->error_message);
    json::Key(w, "registry");
    w.Bool(m->registry);
    json::Key(w, "canceled");
    w.Bool(m->canceled);
    if (!m->provisioning.empty()) {
      json::Key(w, "provisioning");
      json::Raw(w, m->provisioning);
    }
    w.EndObject();
  }
  w.EndObject();
  w.EndObject();
  const std::string dir = absl::StrCat(options_.state_dir, "/emulator");
  RETURN_IF_ERROR(MakeDirs(dir));
  return WriteFileAtomic(absl::StrCat(dir, "/arm.json"), json::Text(b), 0600);
}

void ArmService::ArmFailure(absl::string_view resource_group) {
  std::lock_guard<std::mutex> lock(mu_);
  ++fail_next_[Lower(resource_group)];
}

int ArmService::Running() const {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<int>(runs_.size());
}

std::vector<std::string> ArmService::RunningIn(const std::string& resource_group) const {
  std::vector<std::string> out;
  auto all = deployments_->ListDeployments(resource_group);
  if (!all.ok()) return out;
  for (const auto& d : *all) {
    if (d.provisioning_state == "Running") out.push_back(d.name);
  }
  return out;
}

std::string ArmService::LastRegistryThumbprint() const {
  std::lock_guard<std::mutex> lock(mu_);
  return last_thumbprint_;
}

void ArmService::ReapThreads() {
  for (auto it = threads_.begin(); it != threads_.end();) {
    if (it->second->load()) {
      it->first.join();
      it = threads_.erase(it);
    } else {
      ++it;
    }
  }
}

void ArmService::Shutdown() {
  {
    std::lock_guard<std::mutex> lock(stop_mu_);
    stopping_ = true;
  }
  stop_cv_.notify_all();
  std::lock_guard<std::mutex> lock(threads_mu_);
  for (auto& [t, done] : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
}

// The provisioning hook: runs inside LocalDeployments::StartDeployment while
// the deployment is recorded as Running.
absl::Status ArmService::Provision(const DeploymentRequest& request, const std::string& group) {
  const std::string key = Key(group, request.name);
  std::shared_ptr<Run> run;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = runs_.find(key);
    if (it != runs_.end()) run = it->second;
    auto meta = std::make_unique<Meta>();
    meta->start = absl::Now();
    if (run) {
      meta->correlation_id = run->correlation_id;
      meta->operation_id = run->operation_id;
      meta->registry = run->registry;
    } else {
      meta->correlation_id = NewUuid();
      meta->operation_id = RandomHex(8);
    }
    meta_[key] = std::move(meta);
    (void)SaveMeta();
    if (run && !run->signalled) {
      run->signalled = true;
      run->accepted.set_value(absl::OkStatus());
    }
  }
  stats_.DeploymentStarted();

  auto record = [&](const absl::Status& status) {
    std::lock_guard<std::mutex> lock(mu_);
    auto [code, message] = SplitCode(status.message(), "DeploymentFailed");
    Meta& m = *meta_[key];
    m.error_code = code;
    m.error_message = message;
    if (run && run->cancel.load()) m.canceled = true;
    (void)SaveMeta();
    return status;
  };

  {
    std::unique_lock<std::mutex> lock(stop_mu_);
    stop_cv_.wait_for(lock, absl::ToChronoMilliseconds(options_.deploy_duration),
                      [&] { return stopping_ || (run && run->cancel.load()); });
    if (run && run->cancel.load()) {
      return record(absl::CancelledError(
          "DeploymentCanceled: The deployment was canceled by a cancel request."));
    }
    if (stopping_) {
      return record(absl::AbortedError(
          "DeploymentInterrupted: The emulator stopped while the deployment was running."));
    }
  }
  bool inject = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = fail_next_.find(Lower(group));
    if (it != fail_next_.end() && it->second > 0) {
      inject = true;
      if (--it->second == 0) fail_next_.erase(it);
    }
  }
  if (inject) {
    return record(absl::InternalError(
        "ResourceDeploymentFailure: Injected failure (--deploy-fail): the resource provider "
        "answered 500 Internal Server Error."));
  }
  if (run && run->registry) {
    RegistryDeployment deployment;
    deployment.parameters = &run->effective;
    deployment.template_json = request.template_json;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = script_configurations_.find(Lower(group));
      if (it != script_configurations_.end()) deployment.previous_script_configuration = it->second;
    }
    absl::StatusOr<ProvisionResult> provisioned = registry_.Provision(deployment);
    if (!provisioned.ok()) return record(provisioned.status());
    const std::string& report = provisioned->report_json;
    rapidjson::Document doc;
    doc.Parse(report.data(), report.size());
    std::lock_guard<std::mutex> lock(mu_);
    meta_[key]->provisioning = report;
    script_configurations_[Lower(group)] = provisioned->script_configuration;
    last_thumbprint_ = json::StrMember(doc, "thumbprint").value_or(last_thumbprint_);
    (void)SaveMeta();
    stats_.SetLastProvisioning(absl::StrCat("{\"resource_group\":", json::Quote(group),
                                            ",\"deployment\":", json::Quote(request.name),
                                            ",\"result\":", report, "}"));
  }
  return absl::OkStatus();
}

std::string ArmService::EffectiveState(const Deployment& d) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = meta_.find(Key(d.resource_group, d.name));
  if (it == meta_.end()) return d.provisioning_state;
  const Meta& m = *it->second;
  if (d.provisioning_state == "Running") {
    const absl::Duration accepted = std::min(options_.deploy_duration / 4, absl::Seconds(1));
    if (absl::Now() < m.start + accepted) return "Accepted";
  }
  if (d.provisioning_state == kStateFailed && m.canceled) return kStateCanceled;
  return d.provisioning_state;
}

std::string ArmService::ErrorJson(const Deployment& d) const {
  std::string code, message;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = meta_.find(Key(d.resource_group, d.name));
    if (it != meta_.end()) {
      code = it->second->error_code;
      message = it->second->error_message;
    }
  }
  if (code.empty()) {
    auto split = SplitCode(d.error, "DeploymentFailed");
    code = split.first;
    message = split.second;
  }
  rapidjson::StringBuffer b;
  json::Writer w(b);
  w.StartObject();
  json::KeyStr(w, "code", "DeploymentFailed");
  json::KeyStr(w, "message", kDeploymentFailedMessage);
  json::Key(w, "details");
  w.StartArray();
  w.StartObject();
  json::KeyStr(w, "code", code);
  json::KeyStr(w, "message", message);
  w.EndObject();
  w.EndArray();
  w.EndObject();
  return json::Text(b);
}

std::string ArmService::DeploymentJson(const std::string& sub, const Deployment& d,
                                       bool for_put) const {
  Meta meta;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = meta_.find(Key(d.resource_group, d.name));
    if (it != meta_.end()) meta = *it->second;
  }
  const std::string state = for_put ? "Accepted" : EffectiveState(d);
  std::string template_text;
  if (auto t = deployments_->ExportTemplate(d.resource_group, d.name); t.ok()) template_text = *t;
  rapidjson::Document tpl;
  tpl.Parse(template_text.data(), template_text.size());
  if (tpl.HasParseError()) tpl.SetObject();

  rapidjson::StringBuffer b;
  json::Writer w(b);
  w.StartObject();
  json::KeyStr(w, "id",
               absl::StrCat("/subscriptions/", sub, "/resourceGroups/", d.resource_group,
                            "/providers/Microsoft.Resources/deployments/", d.name));
  json::KeyStr(w, "name", d.name);
  json::KeyStr(w, "type", "Microsoft.Resources/deployments");
  if (!d.tags.empty()) {
    json::Key(w, "tags");
    w.StartObject();
    for (const auto& [k, v] : d.tags) json::KeyStr(w, k, v);
    w.EndObject();
  }
  json::Key(w, "properties");
  w.StartObject();
  json::KeyStr(w, "templateHash", StableHash(template_text));
  if (!d.template_link_uri.empty()) {
    json::Key(w, "templateLink");
    w.StartObject();
    json::KeyStr(w, "uri", d.template_link_uri);
    w.EndObject();
  }
  json::Key(w, "parameters");
  w.StartObject();
  for (const auto& [name, p] : d.parameters) {
    json::Key(w, name);
    w.StartObject();
    json::KeyStr(w, "type", p.type);
    if (!p.value_json.empty()) {
      json::Key(w, "value");
      json::Raw(w, p.value_json);
    }
    w.EndObject();
  }
  w.EndObject();
  json::KeyStr(w, "mode", d.mode.empty() ? "Incremental" : d.mode);
  json::KeyStr(w, "provisioningState", state);
  json::KeyStr(w, "timestamp", ArmTimestamp(d.timestamp));
  const absl::Time end = meta.end != absl::InfinitePast() ? meta.end : absl::Now();
  json::KeyStr(
      w, "duration",
      ArmDuration(meta.start == absl::UnixEpoch() ? absl::ZeroDuration() : end - meta.start));
  json::KeyStr(w, "correlationId", meta.correlation_id.empty() ? NewUuid() : meta.correlation_id);
  json::Key(w, "providers");
  w.StartArray();
  w.EndArray();
  json::Key(w, "dependencies");
  w.StartArray();
  w.EndArray();
  if (state == kStateSucceeded) {
    json::Key(w, "outputs");
    w.StartObject();
    const rapidjson::Value* outputs = json::MemberCi(tpl, "outputs");
    const rapidjson::Value* variables = json::MemberCi(tpl, "variables");
    if (outputs != nullptr && outputs->IsObject()) {
      for (const auto& o : outputs->GetObject()) {
        const rapidjson::Value* type = json::MemberCi(o.value, "type");
        const rapidjson::Value* value = json::MemberCi(o.value, "value");
        if (type == nullptr || !type->IsString() || value == nullptr) continue;
        const std::string arm_type = ArmType(type->GetString());
        if (arm_type == "SecureString" || arm_type == "SecureObject") continue;
        std::string value_json;
        if (!value->IsString()) {
          value_json = json::ToText(*value);
        } else if (!IsExpression(*value)) {
          absl::string_view s(value->GetString(), value->GetStringLength());
          if (absl::StartsWith(s, "[[")) s.remove_prefix(1);
          value_json = json::Quote(s);
        } else if (auto p = SingleCallArgument(value->GetString(), "parameters")) {
          for (const auto& [name, param] : d.parameters) {
            if (absl::EqualsIgnoreCase(name, *p)) value_json = param.value_json;
          }
        } else if (auto v = SingleCallArgument(value->GetString(), "variables")) {
          const rapidjson::Value* var =
              variables != nullptr ? json::MemberCi(*variables, *v) : nullptr;
          if (var != nullptr && !IsExpression(*var)) {
            value_json = json::ToText(*var);
          }
        }
        if (value_json.empty()) continue;  // not evaluable here
        json::Key(w, o.name.GetString());
        w.StartObject();
        json::KeyStr(w, "type", arm_type);
        json::Key(w, "value");
        json::Raw(w, value_json);
        w.EndObject();
      }
    }
    w.EndObject();
    json::Key(w, "outputResources");
    w.StartArray();
    w.EndArray();
  }
  if (state == kStateFailed || state == kStateCanceled) {
    json::Key(w, "error");
    json::Raw(w, ErrorJson(d));
  }
  w.EndObject();
  w.EndObject();
  return json::Text(b);
}

std::string ArmService::OperationsJson(const std::string& sub, const Deployment& d,
                                       const std::string& only_id) const {
  Meta meta;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = meta_.find(Key(d.resource_group, d.name));
    if (it != meta_.end()) meta = *it->second;
  }
  const std::string state = EffectiveState(d);
  std::string template_text;
  if (auto t = deployments_->ExportTemplate(d.resource_group, d.name); t.ok()) template_text = *t;
  rapidjson::Document tpl;
  tpl.Parse(template_text.data(), template_text.size());
  struct Op {
    std::string id, type, name, state, code;
    bool failed = false;
    bool evaluate = false;
  };
  std::vector<Op> ops;
  if (!tpl.HasParseError()) {
    if (const auto* res = json::MemberCi(tpl, "resources"); res != nullptr && res->IsArray()) {
      size_t i = 0;
      for (const auto& r : res->GetArray()) {
        Op op;
        op.type = json::StrMember(r, "type").value_or("");
        op.name = json::StrMember(r, "name").value_or("");
        if (op.name.empty() || absl::StartsWith(op.name, "["))
          op.name = absl::StrCat("resource", i);
        ops.push_back(op);
        ++i;
      }
    }
  }
  const bool terminal = IsTerminalProvisioningState(state);
  if (state == kStateSucceeded) {
    Op eval;
    eval.evaluate = true;
    ops.push_back(eval);
  } else if ((state == kStateFailed || state == kStateCanceled) && ops.empty()) {
    ops.push_back(Op{});
  }
  for (size_t i = 0; i < ops.size(); ++i) {
    Op& op = ops[i];
    op.id = absl::AsciiStrToUpper(
        absl::StrFormat("%016x", std::hash<std::string>{}(absl::StrCat(meta.operation_id, i))));
    if (!terminal) {
      op.state = "Running";
      op.code = "";
    } else if (state == kStateSucceeded) {
      op.state = kStateSucceeded;
      op.code = "OK";
    } else if (i + 1 == ops.size()) {
      op.state = state;
      op.code = "Conflict";
      op.failed = true;
    } else {
      op.state = kStateSucceeded;
      op.code = "OK";
    }
  }
  const std::string base =
      absl::StrCat("/subscriptions/", sub, "/resourceGroups/", d.resource_group,
                   "/providers/Microsoft.Resources/deployments/", d.name, "/operations/");
  auto write_op = [&](json::Writer& w, const Op& op) {
    w.StartObject();
    json::KeyStr(w, "id", absl::StrCat(base, op.id));
    json::KeyStr(w, "operationId", op.id);
    json::Key(w, "properties");
    w.StartObject();
    json::KeyStr(w, "provisioningOperation", op.evaluate ? "EvaluateDeploymentOutput" : "Create");
    json::KeyStr(w, "provisioningState", op.state);
    json::KeyStr(w, "timestamp", ArmTimestamp(d.timestamp));
    json::KeyStr(
        w, "duration",
        ArmDuration((meta.end != absl::InfinitePast() ? meta.end : absl::Now()) - meta.start));
    json::KeyStr(w, "trackingId", meta.correlation_id);
    if (!op.code.empty()) json::KeyStr(w, "statusCode", op.code);
    if (op.failed) {
      json::Key(w, "statusMessage");
      w.StartObject();
      json::KeyStr(w, "status", "Failed");
      json::Key(w, "error");
      w.StartObject();
      std::string code = meta.error_code.empty() ? "DeploymentFailed" : meta.error_code;
      json::KeyStr(w, "code", code);
      json::KeyStr(w, "message", meta.error_message.empty() ? d.error : meta.error_message);
      w.EndObject();
      w.EndObject();
    }
    if (!op.evaluate && !op.type.empty()) {
      json::Key(w, "targetResource");
      w.StartObject();
      json::KeyStr(w, "id",
                   absl::StrCat("/subscriptions/", sub, "/resourceGroups/", d.resource_group,
                                "/providers/", op.type, "/", op.name));
      json::KeyStr(w, "resourceType", op.type);
      json::KeyStr(w, "resourceName", op.name);
      w.EndObject();
    }
    w.EndObject();
    w.EndObject();
  };
  rapidjson::StringBuffer b;
  json::Writer w(b);
  if (!only_id.empty()) {
    for (const auto& op : ops) {
      if (absl::EqualsIgnoreCase(op.id, only_id)) {
        write_op(w, op);
        return json::Text(b);
      }
    }
    return "";
  }
  w.StartObject();
  json::Key(w, "value");
  w.StartArray();
  for (const auto& op : ops) write_op(w, op);
  w.EndArray();
  w.EndObject();
  return json::Text(b);
}

HttpResponse ArmService::Put(const std::string& sub, const std::string& rg, const std::string& name,
                             const HttpRequest& request, const std::string& base_url) {
  rapidjson::Document doc;
  doc.Parse(request.body.data(), request.body.size());
  if (doc.HasParseError() || !doc.IsObject()) {
    return ArmError(400, "InvalidRequestContent",
                    "The request content was invalid and could not be deserialized.");
  }
  const rapidjson::Value* props = json::MemberCi(doc, "properties");
  if (props == nullptr || !props->IsObject()) {
    return ArmError(400, "InvalidRequestContent",
                    "The request content was invalid and could not be deserialized: 'Required "
                    "property 'properties' not found in JSON.'.");
  }
  DeploymentRequest req;
  req.name = name;
  if (const auto* mode = json::MemberCi(*props, "mode"); mode != nullptr && mode->IsString()) {
    req.mode = mode->GetString();
  }
  if (const auto* t = json::MemberCi(*props, "template"); t != nullptr && !t->IsNull()) {
    req.template_json = json::ToText(*t);
  }
  if (const auto* link = json::MemberCi(*props, "templateLink"); link != nullptr) {
    if (const auto* uri = json::MemberCi(*link, "uri"); uri != nullptr && uri->IsString()) {
      req.template_link_uri = uri->GetString();
    }
  }
  if (json::MemberCi(*props, "parametersLink") != nullptr) {
    return ArmError(400, "InvalidRequestContent",
                    "The emulator does not download parametersLink; pass parameters inline.");
  }
  std::map<std::string, Secret> given;
  if (const auto* params = json::MemberCi(*props, "parameters");
      params != nullptr && !params->IsNull()) {
    if (!params->IsObject()) {
      return ArmError(400, "InvalidRequestContent", "'properties.parameters' must be an object.");
    }
    for (const auto& m : params->GetObject()) {
      const rapidjson::Value* value = json::MemberCi(m.value, "value");
      if (value == nullptr) {
        if (json::MemberCi(m.value, "reference") != nullptr) {
          return ArmError(400, "InvalidRequestContent",
                          absl::StrCat("The parameter '", m.name.GetString(),
                                       "' is a Key Vault reference; the emulator takes "
                                       "parameter values only."));
        }
        return ArmError(400, "InvalidRequestContent",
                        absl::StrCat("The parameter '", m.name.GetString(), "' has no 'value'."));
      }
      std::string text = json::ToText(*value);
      req.parameters[m.name.GetString()] = Secret(text);
      given[Lower(m.name.GetString())] = Secret(std::move(text));
    }
  }
  if (const auto* tags = json::MemberCi(doc, "tags"); tags != nullptr && tags->IsObject()) {
    for (const auto& m : tags->GetObject()) {
      if (m.value.IsString()) req.tags[m.name.GetString()] = m.value.GetString();
    }
  }

  auto run = std::make_shared<Run>();
  run->correlation_id = NewUuid();
  run->operation_id = absl::StrCat(
      "0858", absl::StrFormat("%016d", absl::ToUnixMicros(absl::Now()) % 10000000000000000LL));
  // Effective parameters: template literal defaults overlaid by the given ones.
  if (!req.template_json.empty()) {
    rapidjson::Document tpl;
    tpl.Parse(req.template_json.data(), req.template_json.size());
    if (const auto* ps = json::MemberCi(tpl, "parameters"); ps != nullptr && ps->IsObject()) {
      for (const auto& m : ps->GetObject()) {
        const auto* def = json::MemberCi(m.value, "defaultValue");
        if (def != nullptr && !IsExpression(*def)) {
          run->effective[Lower(m.name.GetString())] = Secret(json::ToText(*def));
        }
      }
    }
  }
  for (auto& [k, v] : given) run->effective[k] = std::move(v);
  run->registry = RegistryProvisioner::IsRegistryDeployment(run->effective);

  const std::string key = Key(rg, name);
  const bool existed = deployments_->GetDeployment(rg, name).ok();
  std::future<absl::Status> accepted = run->accepted.get_future();
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (runs_.count(key) > 0) {
      return ArmError(409, "DeploymentActive",
                      absl::StrCat("Unable to edit or replace deployment '", name,
                                   "': previous deployment is still active. Please see "
                                   "https://aka.ms/arm-deploy for usage details."));
    }
    runs_[key] = run;
  }
  {
    std::lock_guard<std::mutex> lock(threads_mu_);
    ReapThreads();
    auto done = std::make_shared<std::atomic<bool>>(false);
    std::thread worker([this, rg, key, run, done, req = std::move(req)]() {
      auto result = deployments_->StartDeployment(rg, req);
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (!run->signalled) {
          run->signalled = true;
          run->accepted.set_value(result.ok() ? absl::InternalError("the deployment did not run")
                                              : result.status());
        }
        auto it = runs_.find(key);
        if (it != runs_.end() && it->second == run) runs_.erase(it);
        if (result.ok()) {
          if (auto m = meta_.find(key); m != meta_.end()) m->second->end = absl::Now();
          (void)SaveMeta();
        }
      }
      if (result.ok()) stats_.DeploymentFinished(result->Succeeded(), run->registry);
      done->store(true);
    });
    threads_.emplace_back(std::move(worker), done);
  }
  if (accepted.wait_for(std::chrono::seconds(60)) != std::future_status::ready) {
    return ArmError(500, "InternalServerError", "the deployment did not start in time");
  }
  absl::Status started = accepted.get();
  if (!started.ok()) return StatusToArm(started);
  auto d = deployments_->GetDeployment(rg, name);
  if (!d.ok()) return StatusToArm(d.status());
  HttpResponse r = Ok(existed ? 200 : 201, DeploymentJson(sub, *d, true));
  r.SetHeader("Azure-AsyncOperation",
              absl::StrCat(base_url, "/subscriptions/", sub, "/resourcegroups/", d->resource_group,
                           "/providers/Microsoft.Resources/deployments/", d->name,
                           "/operationStatuses/", run->operation_id,
                           "?api-version=", http::UrlEncode(request.Query("api-version"))));
  return r;
}

HttpResponse ArmService::Handle(const HttpRequest& request, const std::string& base_url) {
  if (!request.HasQuery("api-version")) {
    return ArmError(400, "MissingApiVersionParameter",
                    "The api-version query parameter (?api-version=) is required for all "
                    "requests.");
  }
  const std::string api_version = request.Query("api-version");
  if (!ValidApiVersion(api_version)) {
    return ArmError(400, "InvalidApiVersionParameter",
                    absl::StrCat("The api-version '", api_version,
                                 "' is invalid. The supported versions are dates such as "
                                 "'2019-10-01', '2020-10-01' and '2025-04-01'."));
  }
  std::vector<std::string> seg = PathSegments(request.path);
  if (!seg.empty() && seg.back().empty()) seg.pop_back();  // trailing slash
  auto is = [&](size_t i, absl::string_view word) {
    return i < seg.size() && absl::EqualsIgnoreCase(seg[i], word);
  };
  const std::string& m = request.method;
  if (!is(0, "subscriptions") || seg.size() < 2) {
    return ArmError(404, "NotFound", absl::StrCat("No route for ", request.path));
  }
  const std::string sub = seg[1];
  if (seg.size() == 2 && m == "GET") {
    rapidjson::StringBuffer b;
    json::Writer w(b);
    w.StartObject();
    json::KeyStr(w, "id", absl::StrCat("/subscriptions/", sub));
    json::KeyStr(w, "subscriptionId", sub);
    json::KeyStr(w, "tenantId", endpoints_.tenant);
    json::KeyStr(w, "displayName", "rotor-emulator");
    json::KeyStr(w, "state", "Enabled");
    w.EndObject();
    return Ok(200, json::Text(b));
  }
  if (!is(2, "resourcegroups") || seg.size() < 4) {
    return ArmError(404, "NotFound", absl::StrCat("No route for ", request.path));
  }
  const std::string rg = seg[3];

  // Resource groups.
  if (seg.size() == 4) {
    auto group_json = [&](int status) {
      rapidjson::StringBuffer b;
      json::Writer w(b);
      w.StartObject();
      json::KeyStr(w, "id", absl::StrCat("/subscriptions/", sub, "/resourceGroups/", rg));
      json::KeyStr(w, "name", rg);
      json::KeyStr(w, "type", "Microsoft.Resources/resourceGroups");
      json::KeyStr(w, "location", "local");
      json::Key(w, "properties");
      w.StartObject();
      json::KeyStr(w, "provisioningState", "Succeeded");
      w.EndObject();
      w.EndObject();
      return Ok(status, json::Text(b));
    };
    const bool exists = deployments_->ResourceGroupExists(rg);
    if (m == "PUT") {
      if (auto s = deployments_->CreateResourceGroup(rg); !s.ok()) return StatusToArm(s);
      return group_json(exists ? 200 : 201);
    }
    if (m == "GET" || m == "HEAD") {
      if (!exists) {
        return ArmError(404, "ResourceGroupNotFound",
                        absl::StrCat("Resource group '", rg, "' could not be found."));
      }
      if (m == "HEAD") {
        HttpResponse r;
        r.status = 204;
        return r;
      }
      return group_json(200);
    }
    return ArmError(405, "MethodNotAllowed", "The emulator does not delete resource groups.");
  }

  // Key Vault resources.
  if (is(4, "providers") && is(5, "microsoft.keyvault") && is(6, "vaults") && seg.size() == 8) {
    const std::string vault = vaults_.Find(seg[7]);
    if (!deployments_->ResourceGroupExists(rg)) {
      return ArmError(404, "ResourceGroupNotFound",
                      absl::StrCat("Resource group '", rg, "' could not be found."));
    }
    if (vault.empty() || m != "GET") {
      return ArmError(404, "ResourceNotFound",
                      absl::StrCat("The Resource 'Microsoft.KeyVault/vaults/", seg[7],
                                   "' under resource group '", rg, "' was not found."));
    }
    rapidjson::StringBuffer b;
    json::Writer w(b);
    w.StartObject();
    json::KeyStr(w, "id",
                 absl::StrCat("/subscriptions/", sub, "/resourceGroups/", rg,
                              "/providers/Microsoft.KeyVault/vaults/", vault));
    json::KeyStr(w, "name", vault);
    json::KeyStr(w, "type", "Microsoft.KeyVault/vaults");
    json::KeyStr(w, "location", "local");
    json::Key(w, "properties");
    w.StartObject();
    json::KeyStr(w, "vaultUri", absl::StrCat(endpoints_.Vault(vault), "/"));
    json::KeyStr(w, "tenantId", endpoints_.tenant);
    json::Key(w, "sku");
    w.StartObject();
    json::KeyStr(w, "family", "A");
    json::KeyStr(w, "name", "standard");
    w.EndObject();
    json::Key(w, "accessPolicies");
    w.StartArray();
    w.EndArray();
    json::Key(w, "enabledForDeployment");
    w.Bool(true);
    json::Key(w, "enabledForTemplateDeployment");
    w.Bool(true);
    json::KeyStr(w, "provisioningState", "Succeeded");
    w.EndObject();
    w.EndObject();
    return Ok(200, json::Text(b));
  }

  // Deployments: .../providers/Microsoft.Resources/deployments[/...] or
  // .../deployments/{name}/operations[/{id}] (no providers segment).
  size_t at = 0;
  if (is(4, "providers") && is(5, "microsoft.resources") && is(6, "deployments")) {
    at = 7;
  } else if (is(4, "deployments")) {
    at = 5;
  } else {
    return ArmError(404, "NotFound", absl::StrCat("No route for ", request.path));
  }

  if (seg.size() == at) {  // list
    if (m != "GET") return ArmError(405, "MethodNotAllowed", "Use GET to list deployments.");
    auto list = deployments_->ListDeployments(rg);
    if (!list.ok()) return StatusToArm(list.status());
    std::string state_filter;
    const std::string filter = request.Query("$filter");
    if (!filter.empty()) {
      // provisioningState eq 'X'
      size_t q1 = filter.find('\''), q2 = filter.rfind('\'');
      if (absl::StrContains(Lower(filter), "provisioningstate") && q1 != std::string::npos &&
          q2 > q1) {
        state_filter = filter.substr(q1 + 1, q2 - q1 - 1);
      } else {
        return ArmError(400, "InvalidFilter",
                        "Only $filter=provisioningState eq '{state}' is supported.");
      }
    }
    std::vector<const Deployment*> selected;
    for (const auto& d : *list) {
      if (state_filter.empty() || absl::EqualsIgnoreCase(EffectiveState(d), state_filter)) {
        selected.push_back(&d);
      }
    }
    size_t limit = selected.size();
    if (request.HasQuery("$top")) {
      int top = 0;
      if (!absl::SimpleAtoi(request.Query("$top"), &top) || top < 0) {
        return ArmError(400, "InvalidQueryParameterValue", "$top must be a non-negative integer.");
      }
      limit = std::min(limit, static_cast<size_t>(top));
    }
    size_t start = 0;
    if (request.HasQuery("$skiptoken")) {
      auto token = Base64UrlDecode(request.Query("$skiptoken"));
      if (!token.ok() || !absl::SimpleAtoi(*token, &start)) {
        return ArmError(400, "InvalidSkipToken", "The $skiptoken is not valid.");
      }
    }
    start = std::min(start, limit);
    const size_t end = std::min(limit, start + static_cast<size_t>(options_.page_size));
    rapidjson::StringBuffer b;
    json::Writer w(b);
    w.StartObject();
    json::Key(w, "value");
    w.StartArray();
    for (size_t i = start; i < end; ++i) json::Raw(w, DeploymentJson(sub, *selected[i], false));
    w.EndArray();
    if (end < limit) {
      std::string link = absl::StrCat(
          base_url, "/subscriptions/", sub, "/resourcegroups/", rg,
          "/providers/Microsoft.Resources/deployments/?api-version=", http::UrlEncode(api_version));
      if (!filter.empty()) absl::StrAppend(&link, "&$filter=", http::UrlEncode(filter));
      if (request.HasQuery("$top")) absl::StrAppend(&link, "&$top=", request.Query("$top"));
      absl::StrAppend(&link, "&$skiptoken=", Base64UrlEncode(absl::StrCat(end)));
      json::KeyStr(w, "nextLink", link);
    }
    w.EndObject();
    return Ok(200, json::Text(b));
  }

  const std::string name = seg[at];
  const size_t rest = seg.size() - at - 1;
  if (rest == 0) {
    if (m == "PUT") return Put(sub, rg, name, request, base_url);
    auto d = deployments_->GetDeployment(rg, name);
    if (m == "HEAD") {
      HttpResponse r;
      r.status = d.ok() ? 204 : 404;
      return r;
    }
    if (!d.ok()) return StatusToArm(d.status());
    if (m == "GET") return Ok(200, DeploymentJson(sub, *d, false));
    return ArmError(405, "MethodNotAllowed",
                    absl::StrCat("The emulator does not support ", m, " on deployments."));
  }
  auto d = deployments_->GetDeployment(rg, name);
  if (!d.ok()) return StatusToArm(d.status());
  const std::string action = Lower(seg[at + 1]);
  if (action == "exporttemplate" && rest == 1 && m == "POST") {
    auto t = deployments_->ExportTemplate(rg, name);
    if (!t.ok()) return StatusToArm(t.status());
    return Ok(200, absl::StrCat("{\"template\":", *t, "}"));
  }
  if (action == "operationstatuses" && rest == 2 && m == "GET") {
    const std::string state = EffectiveState(*d);
    std::string body = absl::StrCat("{\"status\":", json::Quote(state));
    if (state == kStateFailed || state == kStateCanceled) {
      absl::StrAppend(&body, ",\"error\":", ErrorJson(*d));
    }
    absl::StrAppend(&body, "}");
    return Ok(200, body);
  }
  if (action == "operations" && (rest == 1 || rest == 2) && m == "GET") {
    std::string body = OperationsJson(sub, *d, rest == 2 ? seg[at + 2] : "");
    if (body.empty()) {
      return ArmError(404, "DeploymentOperationNotFound",
                      absl::StrCat("Deployment operation '", seg[at + 2], "' could not be found."));
    }
    return Ok(200, body);
  }
  if (action == "cancel" && rest == 1 && m == "POST") {
    const std::string state = EffectiveState(*d);
    std::shared_ptr<Run> run;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = runs_.find(Key(rg, name));
      if (it != runs_.end()) run = it->second;
    }
    if (IsTerminalProvisioningState(state) || !run) {
      return ArmError(
          409, "DeploymentCannotBeCancelled",
          absl::StrCat("The deployment '", name,
                       "' cannot be cancelled because it has provisioning state '", state, "'."));
    }
    run->cancel.store(true);
    stop_cv_.notify_all();
    HttpResponse r;
    r.status = 204;
    return r;
  }
  return ArmError(404, "NotFound", absl::StrCat("No route for ", m, " ", request.path));
}

}  // namespace rotor::emulator
