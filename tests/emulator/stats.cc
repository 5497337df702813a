#include "tests/emulator/stats.h"

#include "absl/strings/str_cat.h"
#include "tests/emulator/json_internal.h"

namespace rotor::emulator {

void Stats::Request(int status) {
  std::lock_guard<std::mutex> lock(mu_);
  ++requests_;
  ++status_[status];
}

void Stats::Dropped() {
  std::lock_guard<std::mutex> lock(mu_);
  ++requests_;
  ++dropped_;
}

void Stats::InjectedFailure() {
  std::lock_guard<std::mutex> lock(mu_);
  ++injected_;
}

void Stats::Vault(absl::string_view vault, absl::string_view operation, int status, bool write) {
  std::lock_guard<std::mutex> lock(mu_);
  VaultCounters& v = vaults_[std::string(vault)];
  ++v.requests;
  ++v.operations[std::string(operation)];
  ++v.status[status];
  if (status == 429) ++v.throttled;
  if (status == 401) ++v.unauthorized;
  if (write && status == 200) ++v.writes;
}

void Stats::Arm(int status) {
  std::lock_guard<std::mutex> lock(mu_);
  ++arm_requests_;
  if (status == 401) ++arm_unauthorized_;
}

void Stats::DeploymentStarted() {
  std::lock_guard<std::mutex> lock(mu_);
  ++started_;
}

void Stats::DeploymentFinished(bool succeeded, bool registry) {
  std::lock_guard<std::mutex> lock(mu_);
  ++(succeeded ? succeeded_ : failed_);
  if (succeeded && registry) ++registry_;
}

void Stats::SetLastProvisioning(std::string json) {
  std::lock_guard<std::mutex> lock(mu_);
  last_provisioning_ = std::move(json);
}

void Stats::Reset() {
  std::lock_guard<std::mutex> lock(mu_);
  requests_ = dropped_ = injected_ = 0;
  status_.clear();
  vaults_.clear();
  arm_requests_ = arm_unauthorized_ = 0;
  started_ = succeeded_ = failed_ = registry_ = 0;
}

std::string Stats::Json(int64_t tokens_issued, int64_t tokens_refused, int running) const {
  std::lock_guard<std::mutex> lock(mu_);
  rapidjson::StringBuffer b;
  json::Writer w(b);
  auto status_map = [&](const std::map<int, int64_t>& m) {
    w.StartObject();
    for (const auto& [code, n] : m) {
      json::Key(w, absl::StrCat(code));
      w.Int64(n);
    }
    w.EndObject();
  };
  w.StartObject();
  json::Key(w, "requests");
  w.Int64(requests_);
  json::Key(w, "dropped");
  w.Int64(dropped_);
  json::Key(w, "failed_injected");
  w.Int64(injected_);
  json::Key(w, "status");
  status_map(status_);
  json::Key(w, "tokens");
  w.StartObject();
  json::Key(w, "issued");
  w.Int64(tokens_issued);
  json::Key(w, "refused");
  w.Int64(tokens_refused);
  w.EndObject();
  json::Key(w, "vaults");
  w.StartObject();
  for (const auto& [name, v] : vaults_) {
    json::Key(w, name);
    w.StartObject();
    json::Key(w, "requests");
    w.Int64(v.requests);
    json::Key(w, "throttled");
    w.Int64(v.throttled);
    json::Key(w, "unauthorized");
    w.Int64(v.unauthorized);
    json::Key(w, "writes");
    w.Int64(v.writes);
    json::Key(w, "operations");
    w.StartObject();
    for (const auto& [op, n] : v.operations) {
      json::Key(w, op);
      w.Int64(n);
    }
    w.EndObject();
    json::Key(w, "status");
    status_map(v.status);
    w.EndObject();
  }
  w.EndObject();
  json::Key(w, "arm");
  w.StartObject();
  json::Key(w, "requests");
  w.Int64(arm_requests_);
  json::Key(w, "unauthorized");
  w.Int64(arm_unauthorized_);
  w.EndObject();
  json::Key(w, "deployments");
  w.StartObject();
  json::Key(w, "started");
  w.Int64(started_);
  json::Key(w, "succeeded");
  w.Int64(succeeded_);
  json::Key(w, "failed");
  w.Int64(failed_);
  json::Key(w, "registry_provisioned");
  w.Int64(registry_);
  json::Key(w, "running");
  w.Int(running);
  w.EndObject();
  json::Key(w, "last_provisioning");
  if (last_provisioning_.empty()) {
    w.Null();
  } else {
    json::Raw(w, last_provisioning_);
  }
  w.EndObject();
  return json::Text(b);
}

}  // namespace rotor::emulator
