#include "tests/emulator/arm.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <functional>
#include <future>
#include <optional>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "base/digest.h"
#include "base/files.h"
#include "base/status_macros.h"
#include "providers/http/url.h"
#include "providers/local/deployments_store_codec.h"
#include "tests/emulator/json_internal.h"
#include "tests/emulator/jwt.h"
#include "tests/emulator/template.h"
#include "tests/emulator/util.h"

namespace rotor::emulator {
namespace {

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

// Writes a value as compact JSON and notes where the object at `path`
// (member names, case-insensitive) starts: the offset just after its '{',
// which is the 1-based column ARM reports for it on line 1 (ARM reads the
// request again as compact JSON).
class PositionFinder {
 public:
  explicit PositionFinder(std::vector<std::string> path) : path_(std::move(path)), w_(b_) {}
  size_t found() const { return found_; }

  bool Null() { return w_.Null(); }
  bool Bool(bool v) { return w_.Bool(v); }
  bool Int(int v) { return w_.Int(v); }
  bool Uint(unsigned v) { return w_.Uint(v); }
  bool Int64(int64_t v) { return w_.Int64(v); }
  bool Uint64(uint64_t v) { return w_.Uint64(v); }
  bool Double(double v) { return w_.Double(v); }
  bool RawNumber(const char* s, rapidjson::SizeType n, bool copy) {
    return w_.RawNumber(s, n, copy);
  }
  bool String(const char* s, rapidjson::SizeType n, bool copy) { return w_.String(s, n, copy); }
  bool StartObject() {
    const bool ok = w_.StartObject();
    if (found_ == 0 && AtPath()) found_ = b_.GetSize();
    stack_.push_back({true, ""});
    return ok;
  }
  bool Key(const char* s, rapidjson::SizeType n, bool copy) {
    stack_.back().key.assign(s, n);
    return w_.Key(s, n, copy);
  }
  bool EndObject(rapidjson::SizeType n) {
    stack_.pop_back();
    return w_.EndObject(n);
  }
  bool StartArray() {
    stack_.push_back({false, ""});
    return w_.StartArray();
  }
  bool EndArray(rapidjson::SizeType n) {
    stack_.pop_back();
    return w_.EndArray(n);
  }

 private:
  struct Frame {
    bool object;
    std::string key;
  };
  bool AtPath() const {
    if (stack_.size() != path_.size()) return false;
    for (size_t i = 0; i < path_.size(); ++i) {
      if (!stack_[i].object || !absl::EqualsIgnoreCase(stack_[i].key, path_[i])) return false;
    }
    return true;
  }
  std::vector<std::string> path_;
  std::vector<Frame> stack_;
  rapidjson::StringBuffer b_;
  json::Writer w_;
  size_t found_ = 0;
};

// ARM's error object ({"code", "message"[, "additionalInfo"]}) for a
// deployment request refused with `code` and `message`. A template
// parameter that is not provided is located in the request as ARM does it:
// "... parameter 'X' at line '1' and column 'N' is not provided ..." and a
// TemplateViolation with the same position and the parameter's path.
std::string ErrorObjectJson(absl::string_view code, absl::string_view message,
                            absl::string_view request_body) {
  std::string text(message);
  std::optional<std::pair<size_t, std::string>> violation;
  const std::string kMissing = "The value for the template parameter '";
  if (size_t at = text.find(kMissing); at != std::string::npos && !request_body.empty()) {
    const size_t start = at + kMissing.size();
    const size_t end = text.find("' is not provided", start);
    rapidjson::Document doc;
    doc.Parse(request_body.data(), request_body.size());
    if (end != std::string::npos && !doc.HasParseError()) {
      const std::string parameter = text.substr(start, end - start);
      PositionFinder finder({"properties", "template", "parameters", parameter});
      doc.Accept(finder);
      if (finder.found() > 0) {
        violation = {finder.found(), absl::StrCat("properties.template.parameters.", parameter)};
        text.insert(end + 1, absl::StrCat(" at line '1' and column '", finder.found(), "'"));
      }
    }
  }
  rapidjson::StringBuffer b;
  json::Writer w(b);
  w.StartObject();
  json::KeyStr(w, "code", code);
  json::KeyStr(w, "message", text);
  if (violation.has_value()) {
    json::Key(w, "additionalInfo");
    w.StartArray();
    w.StartObject();
    json::KeyStr(w, "type", "TemplateViolation");
    json::Key(w, "info");
    w.StartObject();
    json::Key(w, "lineNumber");
    w.Int(1);
    json::Key(w, "linePosition");
    w.Uint64(violation->first);
    json::KeyStr(w, "path", violation->second);
    w.EndObject();
    w.EndObject();
    w.EndArray();
  }
  w.EndObject();
  return json::Text(b);
}

// `request_body`: the deployment request a validation error is about.
HttpResponse StatusToArm(const absl::Status& status, absl::string_view request_body = "") {
  auto [code, message] = SplitCode(status.message(), "");
  switch (status.code()) {
    case absl::StatusCode::kNotFound:
      return ArmError(404, code.empty() ? "NotFound" : code, message);
    case absl::StatusCode::kInvalidArgument: {
      HttpResponse r;
      r.Json(400, absl::StrCat("{\"error\":",
                               ErrorObjectJson(code.empty() ? "InvalidRequestContent" : code,
                                               message, request_body),
                               "}"));
      return r;
    }
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

std::string StableHash(absl::string_view text) {
  uint64_t h = 1469598103934665603ULL;  // FNV-1a
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return absl::StrCat(h);
}

HttpResponse ResourceGroupNotFound(absl::string_view rg) {
  return ArmError(404, "ResourceGroupNotFound",
                  absl::StrCat("Resource group '", rg, "' could not be found."));
}

HttpResponse Ok(int status, std::string body) {
  HttpResponse r;
  r.Json(status, std::move(body));
  return r;
}

// HEAD: 204 when the resource exists, else 404 with ARM's JSON content
// type and no body.
HttpResponse HeadAnswer(bool exists) {
  HttpResponse r;
  r.status = exists ? 204 : 404;
  if (!exists) r.content_type = "application/json; charset=utf-8";
  return r;
}

// A location as ARM's providers list writes it ("West US" -> "westus").
std::string NormalizedLocation(absl::string_view location) {
  return absl::AsciiStrToLower(absl::StrReplaceAll(location, {{" ", ""}}));
}

// The template of a deployment evaluated with what ARM keeps of it: the
// stored parameters (securestrings have no value).
std::unique_ptr<Template> DeployedTemplate(const std::string& sub, const Deployment& d,
                                           const std::string& template_text,
                                           const std::string& tenant) {
  TemplateScope scope;
  scope.subscription = sub;
  scope.resource_group = d.resource_group;
  scope.tenant = tenant;
  scope.deployment = d.name;
  for (const auto& [name, p] : d.parameters) {
    if (!p.value_json.empty()) scope.parameters[absl::AsciiStrToLower(name)] = p.value_json;
  }
  return Template::Parse(template_text, std::move(scope));
}

// ARM's reference to a resource: "id", "resourceType", "resourceName" (as
// members of an object already started).
void WriteResourceRefMembers(json::Writer& w, const std::string& id, const std::string& type,
                             const std::string& name) {
  json::KeyStr(w, "id", id);
  json::KeyStr(w, "resourceType", type);
  json::KeyStr(w, "resourceName", name);
}

void WriteResourceRef(json::Writer& w, const TemplateResource& r) {
  w.StartObject();
  WriteResourceRefMembers(w, r.id, r.type, r.name);
  w.EndObject();
}

// "providers" and "dependencies" of a deployment, from its template.
void WriteProvidersAndDependencies(json::Writer& w, const Template* tpl) {
  // namespace -> resource type -> locations, in template order.
  std::vector<std::pair<std::string, std::vector<std::pair<std::string, std::vector<std::string>>>>>
      providers;
  if (tpl != nullptr) {
    for (const TemplateResource& r : tpl->Resources()) {
      const size_t slash = r.type.find('/');
      if (slash == std::string::npos) continue;
      const std::string ns = r.type.substr(0, slash), type = r.type.substr(slash + 1);
      auto p = std::find_if(providers.begin(), providers.end(),
                            [&](const auto& e) { return absl::EqualsIgnoreCase(e.first, ns); });
      if (p == providers.end()) {
        providers.push_back({ns, {}});
        p = providers.end() - 1;
      }
      auto t = std::find_if(p->second.begin(), p->second.end(),
                            [&](const auto& e) { return absl::EqualsIgnoreCase(e.first, type); });
      if (t == p->second.end()) {
        p->second.push_back({type, {}});
        t = p->second.end() - 1;
      }
      const std::string location =
          NormalizedLocation(r.location.empty() ? kEmulatorLocation : r.location);
      if (std::find(t->second.begin(), t->second.end(), location) == t->second.end()) {
        t->second.push_back(location);
      }
    }
  }
  json::Key(w, "providers");
  w.StartArray();
  for (const auto& [ns, types] : providers) {
    w.StartObject();
    json::KeyStr(w, "namespace", ns);
    json::Key(w, "resourceTypes");
    w.StartArray();
    for (const auto& [type, locations] : types) {
      w.StartObject();
      json::KeyStr(w, "resourceType", type);
      json::Key(w, "locations");
      w.StartArray();
      for (const auto& l : locations) json::Str(w, l);
      w.EndArray();
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
  }
  w.EndArray();
  json::Key(w, "dependencies");
  w.StartArray();
  if (tpl != nullptr) {
    const auto& resources = tpl->Resources();
    for (const TemplateResource& r : resources) {
      if (r.id.empty() || r.depends_on.empty()) continue;
      w.StartObject();
      json::Key(w, "dependsOn");
      w.StartArray();
      for (const std::string& id : r.depends_on) {
        for (const TemplateResource& target : resources) {
          if (target.id == id) WriteResourceRef(w, target);
        }
      }
      w.EndArray();
      WriteResourceRefMembers(w, r.id, r.type, r.name);
      w.EndObject();
    }
  }
  w.EndArray();
}

// [{"id": ...}] of the template's resources (outputResources,
// validatedResources).
void WriteResourceIds(json::Writer& w, absl::string_view key, const Template* tpl) {
  json::Key(w, key);
  w.StartArray();
  if (tpl != nullptr) {
    for (const TemplateResource& r : tpl->Resources()) {
      if (r.id.empty()) continue;
      w.StartObject();
      json::KeyStr(w, "id", r.id);
      w.EndObject();
    }
  }
  w.EndArray();
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

// A whatIf's result, answered from its Location once `done_at` passed.
struct ArmService::Job {
  absl::Time done_at;
  std::string result_json;
};

namespace {

// How long DELETE and whatIf run before their Location answers the result:
// as long as a deployment reads Accepted.
absl::Duration LroDelay(absl::Duration deploy_duration) {
  return std::min(deploy_duration / 4, absl::Seconds(1));
}

// An operationresults token: base64url JSON as ARM's ({"jobId",
// "jobLocation"}), plus when a deletion completes (deletions need no state).
std::string JobToken(absl::string_view kind, absl::string_view rg, absl::string_view name,
                     absl::Time done_at) {
  rapidjson::StringBuffer b;
  json::Writer w(b);
  w.StartObject();
  json::KeyStr(w, "jobId",
               absl::StrCat(kind, "-", absl::AsciiStrToUpper(rg), "-", absl::AsciiStrToUpper(name),
                            "-", absl::AsciiStrToUpper(RandomHex(6))));
  json::KeyStr(w, "jobLocation", kEmulatorLocation);
  json::Key(w, "doneAt");
  w.Int64(absl::ToUnixMillis(done_at));
  w.EndObject();
  return Base64UrlEncode(json::Text(b));
}

}  // namespace

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
  DnsOptions dns;
  dns.state_dir = service->options_.state_dir;
  dns.challtestsrv = service->options_.challtestsrv;
  ASSIGN_OR_RETURN(service->dns_, DnsZones::Open(std::move(dns)));
  if (!service->options_.dns_zones.empty() && service->options_.resource_groups.empty()) {
    return absl::InvalidArgumentError("--dns-zone needs a --resource-group to create it in");
  }
  for (const auto& zone : service->options_.dns_zones) {
    RETURN_IF_ERROR(service->dns_->EnsureZone(service->options_.resource_groups[0], zone));
  }

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
      if (const auto* del = json::Member(doc, "deleted"); del != nullptr && del->IsObject()) {
        for (const auto& m : del->GetObject()) {
          if (m.value.IsInt64()) service->deleted_[m.name.GetString()] = m.value.GetInt64();
        }
      }
    }
  }
  {
    // Deletions a stop interrupted: nothing runs yet.
    std::lock_guard<std::mutex> lock(service->mu_);
    std::set<std::string> groups;
    for (const auto& [key, when] : service->deleted_) groups.insert(key.substr(0, key.find('/')));
    for (const auto& g : groups) service->ApplyDeletions(g);
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
  json::Key(w, "deleted");
  w.StartObject();
  for (const auto& [key, when] : deleted_) {
    json::Key(w, key);
    w.Int64(when);
  }
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
  ++fail_next_[absl::AsciiStrToLower(resource_group)];
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
  const std::string key = ArmResourceKey(group, request.name);
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
    auto it = fail_next_.find(absl::AsciiStrToLower(group));
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
      auto it = script_configurations_.find(absl::AsciiStrToLower(group));
      if (it != script_configurations_.end()) deployment.previous_script_configuration = it->second;
    }
    absl::StatusOr<ProvisionResult> provisioned = registry_.Provision(deployment);
    if (!provisioned.ok()) return record(provisioned.status());
    const std::string& report = provisioned->report_json;
    rapidjson::Document doc;
    doc.Parse(report.data(), report.size());
    std::lock_guard<std::mutex> lock(mu_);
    meta_[key]->provisioning = report;
    script_configurations_[absl::AsciiStrToLower(group)] = provisioned->script_configuration;
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
  auto it = meta_.find(ArmResourceKey(d.resource_group, d.name));
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
    auto it = meta_.find(ArmResourceKey(d.resource_group, d.name));
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
                                       const std::string& template_text, View view) const {
  Meta meta;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = meta_.find(ArmResourceKey(d.resource_group, d.name));
    if (it != meta_.end()) meta = *it->second;
  }
  const std::string state = view == View::kPut        ? "Accepted"
                            : view == View::kValidate ? kStateSucceeded
                                                      : EffectiveState(d);
  std::unique_ptr<Template> tpl = DeployedTemplate(sub, d, template_text, endpoints_.tenant);

  rapidjson::StringBuffer b;
  json::Writer w(b);
  w.StartObject();
  json::KeyStr(w, "id",
               absl::StrCat("/subscriptions/", sub, "/resourceGroups/", d.resource_group,
                            "/providers/Microsoft.Resources/deployments/", d.name));
  json::KeyStr(w, "name", d.name);
  json::KeyStr(w, "type", "Microsoft.Resources/deployments");
  if (!d.tags.empty()) json::KeyStrMap(w, "tags", d.tags);
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
  json::KeyStr(w, "timestamp", ArmTimestamp(view == View::kValidate ? absl::Now() : d.timestamp));
  const absl::Time end = meta.end != absl::InfinitePast() ? meta.end : absl::Now();
  json::KeyStr(
      w, "duration",
      ArmDuration(view == View::kValidate || meta.start == absl::UnixEpoch() ? absl::ZeroDuration()
                                                                             : end - meta.start));
  json::KeyStr(
      w, "correlationId",
      meta.correlation_id.empty() || view == View::kValidate ? NewUuid() : meta.correlation_id);
  WriteProvidersAndDependencies(w, tpl.get());
  if (view == View::kValidate) {
    WriteResourceIds(w, "validatedResources", tpl.get());
  } else if (state == kStateSucceeded) {
    json::Key(w, "outputs");
    w.StartObject();
    if (tpl != nullptr) {
      for (const TemplateOutput& o : tpl->Outputs()) {
        json::Key(w, o.name);
        w.StartObject();
        json::KeyStr(w, "type", o.type);
        json::Key(w, "value");
        json::Raw(w, o.value_json);
        w.EndObject();
      }
    }
    w.EndObject();
    WriteResourceIds(w, "outputResources", tpl.get());
  }
  if (view == View::kGet && (state == kStateFailed || state == kStateCanceled)) {
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
    auto it = meta_.find(ArmResourceKey(d.resource_group, d.name));
    if (it != meta_.end()) meta = *it->second;
  }
  const std::string state = EffectiveState(d);
  std::string template_text;
  if (auto t = deployments_->ExportTemplate(d.resource_group, d.name); t.ok()) template_text = *t;
  std::unique_ptr<Template> tpl = DeployedTemplate(sub, d, template_text, endpoints_.tenant);
  struct Op {
    std::string id, type, name, target, state, code;
    bool failed = false;
    bool evaluate = false;
  };
  std::vector<Op> ops;
  if (tpl != nullptr) {
    size_t i = 0;
    for (const TemplateResource& r : tpl->Resources()) {
      Op op;
      op.type = r.type;
      op.name = r.name.empty() ? absl::StrCat("resource", i) : r.name;
      op.target = !r.id.empty()
                      ? r.id
                      : absl::StrCat("/subscriptions/", sub, "/resourceGroups/", d.resource_group,
                                     "/providers/", op.type, "/", op.name);
      ops.push_back(op);
      ++i;
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
    // ARM names the output evaluation after the deployment's operation.
    op.id = op.evaluate && !meta.operation_id.empty()
                ? meta.operation_id
                : absl::AsciiStrToUpper(Sha256Hex(absl::StrCat(meta.operation_id, "/", i)))
                      .substr(0, 16);
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
    json::KeyStr(w, "trackingId", StableUuid(absl::StrCat(meta.correlation_id, "/", op.id)));
    // The resource provider's request id (none for the output evaluation,
    // which ARM does itself).
    if (!op.evaluate) {
      json::KeyStr(w, "serviceRequestId",
                   StableUuid(absl::StrCat(meta.operation_id, "/service/", op.id)));
    }
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
      WriteResourceRefMembers(w, op.target, op.type, op.name);
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

absl::StatusOr<DeploymentRequest> ArmService::ParseRequest(const std::string& name,
                                                           const HttpRequest& request,
                                                           HttpResponse* refused) const {
  auto refuse = [&](absl::string_view code, absl::string_view message) {
    *refused = ArmError(400, code, message);
    return absl::InvalidArgumentError(message);
  };
  rapidjson::Document doc;
  doc.Parse(request.body.data(), request.body.size());
  if (doc.HasParseError() || !doc.IsObject()) {
    return refuse("InvalidRequestContent",
                  "The request content was invalid and could not be deserialized.");
  }
  const rapidjson::Value* props = json::MemberCi(doc, "properties");
  if (props == nullptr || !props->IsObject()) {
    return refuse("InvalidRequestContent",
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
    return refuse("InvalidRequestContent",
                  "The emulator does not download parametersLink; pass parameters inline.");
  }
  if (const auto* params = json::MemberCi(*props, "parameters");
      params != nullptr && !params->IsNull()) {
    if (!params->IsObject()) {
      return refuse("InvalidRequestContent", "'properties.parameters' must be an object.");
    }
    for (const auto& m : params->GetObject()) {
      const rapidjson::Value* value = json::MemberCi(m.value, "value");
      if (value == nullptr) {
        if (json::MemberCi(m.value, "reference") != nullptr) {
          return refuse("InvalidRequestContent",
                        absl::StrCat("The parameter '", m.name.GetString(),
                                     "' is a Key Vault reference; the emulator takes "
                                     "parameter values only."));
        }
        return refuse("InvalidRequestContent",
                      absl::StrCat("The parameter '", m.name.GetString(), "' has no 'value'."));
      }
      req.parameters[m.name.GetString()] = Secret(json::ToText(*value));
    }
  }
  if (const auto* tags = json::MemberCi(doc, "tags"); tags != nullptr && tags->IsObject()) {
    for (const auto& m : tags->GetObject()) {
      if (m.value.IsString()) req.tags[m.name.GetString()] = m.value.GetString();
    }
  }
  return req;
}

HttpResponse ArmService::Put(const std::string& sub, const std::string& rg, const std::string& name,
                             const HttpRequest& request, const std::string& base_url) {
  HttpResponse refused;
  absl::StatusOr<DeploymentRequest> parsed = ParseRequest(name, request, &refused);
  if (!parsed.ok()) return refused;
  DeploymentRequest req = *std::move(parsed);
  std::map<std::string, Secret> given;
  for (const auto& [n, v] : req.parameters)
    given[absl::AsciiStrToLower(n)] = Secret(std::string(v.Reveal()));

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
          run->effective[absl::AsciiStrToLower(m.name.GetString())] = Secret(json::ToText(*def));
        }
      }
    }
  }
  for (auto& [k, v] : given) run->effective[k] = std::move(v);
  run->registry = RegistryProvisioner::IsRegistryDeployment(run->effective);

  const std::string key = ArmResourceKey(rg, name);
  const bool existed = Find(rg, name).ok();
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
        // Deletions that waited for the group's store to be quiet.
        ApplyDeletions(rg);
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
  if (!started.ok()) return StatusToArm(started, request.body);
  auto d = deployments_->GetDeployment(rg, name);
  if (!d.ok()) return StatusToArm(d.status());
  std::string template_text;
  if (auto t = deployments_->ExportTemplate(rg, name); t.ok()) template_text = *t;
  HttpResponse r = Ok(existed ? 200 : 201, DeploymentJson(sub, *d, template_text, View::kPut));
  r.SetHeader("Azure-AsyncOperation",
              absl::StrCat(base_url, "/subscriptions/", sub, "/resourcegroups/", d->resource_group,
                           "/providers/Microsoft.Resources/deployments/", d->name,
                           "/operationStatuses/", run->operation_id,
                           "?api-version=", http::UrlEncode(request.Query("api-version"))));
  return r;
}

bool ArmService::Deleted(const Deployment& d) const {
  auto it = deleted_.find(ArmResourceKey(d.resource_group, d.name));
  return it != deleted_.end() && it->second == absl::ToUnixMicros(d.timestamp);
}

absl::StatusOr<Deployment> ArmService::Find(const std::string& rg, const std::string& name) const {
  ASSIGN_OR_RETURN(Deployment d, deployments_->GetDeployment(rg, name));
  std::lock_guard<std::mutex> lock(mu_);
  if (Deleted(d)) {
    return absl::NotFoundError(absl::StrCat("DeploymentNotFound: Deployment '", name,
                                            "' could not be found in resource group '",
                                            d.resource_group, "'."));
  }
  return d;
}

absl::StatusOr<std::vector<Deployment>> ArmService::List(const std::string& rg) const {
  ASSIGN_OR_RETURN(std::vector<Deployment> all, deployments_->ListDeployments(rg));
  std::lock_guard<std::mutex> lock(mu_);
  std::erase_if(all, [&](const Deployment& d) { return Deleted(d); });
  return all;
}

void ArmService::ApplyDeletions(const std::string& rg) {
  const std::string group = absl::AsciiStrToLower(rg);
  const std::string prefix = absl::StrCat(group, "/");
  bool any = false;
  for (const auto& [key, when] : deleted_) any = any || absl::StartsWith(key, prefix);
  if (!any) return;
  // The store is rewritten only while no deployment of the group runs (a
  // run's LocalDeployments::StartDeployment writes it at its end).
  for (const auto& [key, run] : runs_) {
    if (absl::StartsWith(key, prefix)) return;
  }
  const std::string path = local::LocalDeployments::StorePath(options_.state_dir, rg);
  if (PathExists(path)) {
    auto text = ReadFile(path);
    if (!text.ok()) return;
    auto store = local::DecodeDeploymentsStore(*text, path);
    if (!store.ok()) return;
    std::erase_if(store->deployments, [&](const local::StoredDeployment& sd) {
      auto it = deleted_.find(ArmResourceKey(rg, sd.deployment.name));
      return it != deleted_.end() && it->second == absl::ToUnixMicros(sd.deployment.timestamp);
    });
    if (absl::Status s = WriteFileAtomic(path, local::EncodeDeploymentsStore(*store), 0600);
        !s.ok()) {
      std::fprintf(stderr, "rotor-emulator: deleting deployments of %s failed: %s\n", rg.c_str(),
                   std::string(s.message()).c_str());
      return;
    }
  }
  std::erase_if(deleted_, [&](const auto& kv) { return absl::StartsWith(kv.first, prefix); });
  (void)SaveMeta();
}

HttpResponse ArmService::Delete(const std::string& sub, const std::string& rg,
                                const std::string& name, const HttpRequest& request,
                                const std::string& base_url) {
  auto d = Find(rg, name);
  if (!d.ok()) return StatusToArm(d.status());
  const absl::Time done_at = absl::Now() + LroDelay(options_.deploy_duration);
  {
    std::lock_guard<std::mutex> lock(mu_);
    const std::string key = ArmResourceKey(rg, name);
    if (runs_.count(key) > 0 || d->provisioning_state == local::kStateRunning) {
      return ArmError(409, "DeploymentActive",
                      absl::StrCat("Unable to delete deployment '", name,
                                   "': the deployment is still active; a running deployment "
                                   "cannot be deleted. Cancel it or wait for it to finish. "
                                   "Please see https://aka.ms/arm-deploy for usage details."));
    }
    deleted_[key] = absl::ToUnixMicros(d->timestamp);
    meta_.erase(key);
    (void)SaveMeta();
    ApplyDeletions(rg);
  }
  HttpResponse r;
  r.status = 202;
  r.SetHeader("Location",
              absl::StrCat(base_url, "/subscriptions/", sub, "/operationresults/",
                           JobToken("DeploymentDeletionJob", rg, name, done_at),
                           "?api-version=", http::UrlEncode(request.Query("api-version"))));
  return r;
}

absl::StatusOr<std::pair<Deployment, std::string>> ArmService::CheckRequest(
    const DeploymentRequest& request) {
  std::lock_guard<std::mutex> lock(check_mu_);
  constexpr char kGroup[] = "validation";
  const std::string dir = absl::StrCat(options_.state_dir, "/emulator/validation");
  if (!scratch_) {
    local::LocalDeploymentsOptions o;
    o.state_dir = dir;
    o.resource_groups = {kGroup};
    ASSIGN_OR_RETURN(scratch_, local::LocalDeployments::Open(std::move(o)));
  }
  // No provisioning hook: the scratch deployment succeeds at once; only its
  // validation matters, and the record is dropped.
  auto d = scratch_->StartDeployment(kGroup, request);
  std::string template_text;
  if (d.ok()) {
    if (auto t = scratch_->ExportTemplate(kGroup, request.name); t.ok()) template_text = *t;
  }
  ::unlink(local::LocalDeployments::StorePath(dir, kGroup).c_str());
  if (!d.ok()) return d.status();
  return std::make_pair(*std::move(d), std::move(template_text));
}

HttpResponse ArmService::Validate(const std::string& sub, const std::string& rg,
                                  const std::string& name, const HttpRequest& request) {
  HttpResponse refused;
  auto req = ParseRequest(name, request, &refused);
  if (!req.ok()) return refused;
  if (!deployments_->ResourceGroupExists(rg)) return ResourceGroupNotFound(rg);
  auto checked = CheckRequest(*req);
  if (!checked.ok()) return StatusToArm(checked.status(), request.body);
  Deployment d = std::move(checked->first);
  d.resource_group = rg;
  d.name = name;
  return Ok(200, DeploymentJson(sub, d, checked->second, View::kValidate));
}

HttpResponse ArmService::WhatIf(const std::string& sub, const std::string& rg,
                                const std::string& name, const HttpRequest& request,
                                const std::string& base_url) {
  HttpResponse refused;
  auto req = ParseRequest(name, request, &refused);
  if (!req.ok()) return refused;
  if (!deployments_->ResourceGroupExists(rg)) return ResourceGroupNotFound(rg);
  bool ids_only = false;
  {
    rapidjson::Document doc;
    doc.Parse(request.body.data(), request.body.size());
    const rapidjson::Value* props = json::MemberCi(doc, "properties");
    const rapidjson::Value* settings =
        props != nullptr ? json::MemberCi(*props, "whatIfSettings") : nullptr;
    const rapidjson::Value* format =
        settings != nullptr ? json::MemberCi(*settings, "resultFormat") : nullptr;
    ids_only = format != nullptr && format->IsString() &&
               absl::EqualsIgnoreCase(format->GetString(), "ResourceIdOnly");
  }
  auto job = std::make_shared<Job>();
  job->done_at = absl::Now() + LroDelay(options_.deploy_duration);
  rapidjson::StringBuffer b;
  json::Writer w(b);
  w.StartObject();
  auto checked = CheckRequest(*req);
  if (!checked.ok()) {
    auto [code, message] = SplitCode(checked.status().message(), "InvalidTemplate");
    json::KeyStr(w, "status", "Failed");
    json::Key(w, "error");
    json::Raw(w, ErrorObjectJson(code, message, request.body));
  } else {
    // What the group holds: the resources of its successful deployments,
    // the latest declaration of each.
    struct Existing {
      std::string id, json;
    };
    std::vector<std::string> order;
    std::map<std::string, Existing> existing;  // lower-cased id
    if (auto list = List(rg); list.ok()) {
      for (const Deployment& d : *list) {
        if (d.provisioning_state != kStateSucceeded) continue;
        auto text = deployments_->ExportTemplate(rg, d.name);
        if (!text.ok()) continue;
        std::unique_ptr<Template> tpl = DeployedTemplate(sub, d, *text, endpoints_.tenant);
        if (tpl == nullptr) continue;
        for (size_t i = 0; i < tpl->Resources().size(); ++i) {
          const std::string& id = tpl->Resources()[i].id;
          if (id.empty()) continue;
          if (existing.count(absl::AsciiStrToLower(id)) == 0)
            order.push_back(absl::AsciiStrToLower(id));
          existing[absl::AsciiStrToLower(id)] =
              Existing{id, tpl->EvaluatedResource(i).value_or("")};
        }
      }
    }
    Deployment next = std::move(checked->first);
    next.resource_group = rg;
    next.name = name;
    std::unique_ptr<Template> tpl = DeployedTemplate(sub, next, checked->second, endpoints_.tenant);
    json::KeyStr(w, "status", "Succeeded");
    json::Key(w, "properties");
    w.StartObject();
    json::KeyStr(w, "correlationId", NewUuid());
    json::Key(w, "changes");
    w.StartArray();
    auto change = [&](const std::string& id, const char* type, const std::string& before,
                      const std::string& after) {
      w.StartObject();
      json::KeyStr(w, "resourceId", id);
      json::KeyStr(w, "changeType", type);
      if (!ids_only && !before.empty()) {
        json::Key(w, "before");
        json::Raw(w, before);
      }
      if (!ids_only && !after.empty()) {
        json::Key(w, "after");
        json::Raw(w, after);
      }
      w.EndObject();
    };
    if (tpl != nullptr) {
      for (size_t i = 0; i < tpl->Resources().size(); ++i) {
        const std::string& id = tpl->Resources()[i].id;
        if (id.empty()) continue;
        const std::string after = tpl->EvaluatedResource(i).value_or("");
        auto it = existing.find(absl::AsciiStrToLower(id));
        if (it == existing.end()) {
          change(id, "Create", "", after);
          continue;
        }
        // The emulator compares the declarations it can evaluate; when they
        // differ it cannot tell what the resource provider will change.
        change(id, it->second.json == after ? "NoChange" : "Deploy", it->second.json, after);
        existing.erase(it);
      }
    }
    const bool complete = absl::EqualsIgnoreCase(next.mode, "Complete");
    for (const std::string& key : order) {
      auto it = existing.find(key);
      if (it == existing.end()) continue;
      change(it->second.id, complete ? "Delete" : "Ignore", it->second.json, "");
    }
    w.EndArray();
    w.EndObject();
  }
  w.EndObject();
  job->result_json = json::Text(b);
  const std::string token = JobToken("DeploymentWhatIfJob", rg, name, job->done_at);
  {
    std::lock_guard<std::mutex> lock(mu_);
    // Results are kept for an hour after they are ready (ARM keeps them a
    // while too), and at most a few hundred.
    const absl::Time now = absl::Now();
    std::erase_if(jobs_, [&](const auto& kv) { return kv.second->done_at + absl::Hours(1) < now; });
    if (jobs_.size() >= 256) jobs_.erase(jobs_.begin());
    jobs_[token] = job;
  }
  HttpResponse r;
  r.status = 202;
  r.SetHeader("Location",
              absl::StrCat(base_url, "/subscriptions/", sub, "/operationresults/", token,
                           "?api-version=", http::UrlEncode(request.Query("api-version"))));
  return r;
}

HttpResponse ArmService::OperationResult(const std::string& sub, const std::string& token,
                                         const HttpRequest& request, const std::string& base_url) {
  auto not_found = [&]() {
    return ArmError(
        404, "NotFound",
        absl::StrCat("The operation result '", token.substr(0, 64), "' could not be found."));
  };
  auto text = Base64UrlDecode(token);
  if (!text.ok()) return not_found();
  rapidjson::Document doc;
  doc.Parse(text->data(), text->size());
  const std::string job_id = doc.HasParseError() ? "" : json::StrMember(doc, "jobId").value_or("");
  const rapidjson::Value* done_ms = doc.HasParseError() ? nullptr : json::Member(doc, "doneAt");
  if (job_id.empty() || done_ms == nullptr || !done_ms->IsInt64()) return not_found();
  std::shared_ptr<Job> job;
  if (!absl::StartsWith(job_id, "DeploymentDeletionJob")) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = jobs_.find(token);
    if (it == jobs_.end()) return not_found();
    job = it->second;
  }
  if (absl::Now() < absl::FromUnixMillis(done_ms->GetInt64())) {
    HttpResponse r;
    r.status = 202;
    r.SetHeader("Location", absl::StrCat(base_url, request.target));
    r.SetHeader("Retry-After", "1");
    return r;
  }
  (void)sub;
  if (!job) {
    HttpResponse r;
    r.status = 204;
    return r;
  }
  return Ok(200, job->result_json);
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
  if (seg.size() == 4 && is(2, "operationresults") && m == "GET") {
    return OperationResult(sub, seg[3], request, base_url);
  }
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
    if (m == "HEAD") return HeadAnswer(exists);
    if (m == "GET") {
      if (!exists) {
        return ResourceGroupNotFound(rg);
      }
      return group_json(200);
    }
    return ArmError(405, "MethodNotAllowed", "The emulator does not delete resource groups.");
  }

  // Key Vault resources.
  if (is(4, "providers") && is(5, "microsoft.keyvault") && is(6, "vaults") && seg.size() == 8) {
    const std::string vault = vaults_.Find(seg[7]);
    if (!deployments_->ResourceGroupExists(rg)) {
      return ResourceGroupNotFound(rg);
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

  // Azure DNS zones and their TXT record sets.
  if (is(4, "providers") && is(5, "microsoft.network") && is(6, "dnszones") && seg.size() >= 8) {
    if (!deployments_->ResourceGroupExists(rg)) return ResourceGroupNotFound(rg);
    return dns_->Handle(request, sub, rg, absl::MakeConstSpan(seg).subspan(7));
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
    auto list = List(rg);
    if (!list.ok()) return StatusToArm(list.status());
    std::string state_filter;
    const std::string filter = request.Query("$filter");
    if (!filter.empty()) {
      // provisioningState eq 'X'
      size_t q1 = filter.find('\''), q2 = filter.rfind('\'');
      if (absl::StrContains(absl::AsciiStrToLower(filter), "provisioningstate") &&
          q1 != std::string::npos && q2 > q1) {
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
    for (size_t i = start; i < end; ++i) {
      std::string template_text;
      if (auto t = deployments_->ExportTemplate(rg, selected[i]->name); t.ok()) {
        template_text = *t;
      }
      json::Raw(w, DeploymentJson(sub, *selected[i], template_text, View::kGet));
    }
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
    if (m == "DELETE") return Delete(sub, rg, name, request, base_url);
    auto d = Find(rg, name);
    if (m == "HEAD") return HeadAnswer(d.ok());
    if (!d.ok()) return StatusToArm(d.status());
    if (m == "GET") {
      std::string template_text;
      if (auto t = deployments_->ExportTemplate(rg, name); t.ok()) template_text = *t;
      return Ok(200, DeploymentJson(sub, *d, template_text, View::kGet));
    }
    return ArmError(405, "MethodNotAllowed",
                    absl::StrCat("The emulator does not support ", m, " on deployments."));
  }
  const std::string action = absl::AsciiStrToLower(seg[at + 1]);
  if (action == "validate" && rest == 1 && m == "POST") return Validate(sub, rg, name, request);
  if (action == "whatif" && rest == 1 && m == "POST") {
    return WhatIf(sub, rg, name, request, base_url);
  }
  auto d = Find(rg, name);
  if (!d.ok()) return StatusToArm(d.status());
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
      auto it = runs_.find(ArmResourceKey(rg, name));
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
