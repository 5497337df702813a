// Counters behind GET /_emulator/stats (JSON):
//   {"requests": N, "dropped": N, "failed_injected": N,
//    "status": {"200": N, ...},
//    "tokens": {"issued": N, "refused": N},
//    "vaults": {"newregkv": {"requests": N, "throttled": N, "unauthorized": N,
//               "writes": N, "operations": {"SetSecret": N, ...},
//               "status": {"200": N, "429": N, ...}}},
//    "arm": {"requests": N, "unauthorized": N},
//    "deployments": {"started": N, "succeeded": N, "failed": N,
//                    "registry_provisioned": N, "running": N},
//    "last_provisioning": {...} | null}
#ifndef ROTOR_TESTS_EMULATOR_STATS_H_
#define ROTOR_TESTS_EMULATOR_STATS_H_

#include <cstdint>
#include <map>
#include <mutex>
#include <string>

#include "absl/strings/string_view.h"

namespace rotor::emulator {

class Stats {
 public:
  void Request(int status);
  void Dropped();
  void InjectedFailure();
  void Vault(absl::string_view vault, absl::string_view operation, int status, bool write);
  void Arm(int status);
  void DeploymentStarted();
  void DeploymentFinished(bool succeeded, bool registry);
  // JSON object text describing the last registry provisioning.
  void SetLastProvisioning(std::string json);
  void Reset();

  // `extra` is spliced into the top-level object (already JSON members,
  // without braces, may be empty).
  std::string Json(int64_t tokens_issued, int64_t tokens_refused, int running) const;

 private:
  struct VaultCounters {
    int64_t requests = 0, throttled = 0, unauthorized = 0, writes = 0;
    std::map<std::string, int64_t> operations;
    std::map<int, int64_t> status;
  };
  mutable std::mutex mu_;
  int64_t requests_ = 0, dropped_ = 0, injected_ = 0;
  std::map<int, int64_t> status_;
  std::map<std::string, VaultCounters> vaults_;
  int64_t arm_requests_ = 0, arm_unauthorized_ = 0;
  int64_t started_ = 0, succeeded_ = 0, failed_ = 0, registry_ = 0;
  std::string last_provisioning_;
};

}  // namespace rotor::emulator

#endif  // ROTOR_TESTS_EMULATOR_STATS_H_
