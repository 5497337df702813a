// ComputeRollbackPlan: the plan that puts the registry back as it was
// before one apply (the last one, or `to`), found from what the applies
// left (engine/model/apply_history.h): a pure function like ComputePlan, and
// its plan is applied by the same executor.
//
// With T the apply's time and "after" meaning written by it or a later
// apply (rotor-apply-id), or by someone else after T:
//  - a user secret whose latest version is after T gets the value of its
//    latest version before T written again as a new version (Key Vault
//    keeps old versions; the plan names the version, never the value);
//  - one with no version before T did not exist: it is deleted;
//  - a user or certificate secret deleted since T is recovered from soft
//    delete;
//  - when the deployment the registry ran at T passed another certificate
//    (pfxKeyVaultSecretUrl, pfxThumbprint) than the latest one, or any
//    secret changes, the registry is redeployed with that versioned URL and
//    thumbprint (tagged rotor-rollback-of).
// Every change has cause config. The configuration still asks for what the
// apply did: the next plan shows that (cause config) until it is reverted.
#ifndef ROTOR_ENGINE_DIFF_ROLLBACK_H_
#define ROTOR_ENGINE_DIFF_ROLLBACK_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "engine/model/apply_history.h"
#include "engine/model/plan.h"
#include "engine/model/state.h"

namespace rotor {

struct RollbackOptions {
  std::string to;        // the apply to undo; empty: the latest
  std::string apply_id;  // the id the rollback's own writes carry
  std::string deployment_suffix;
  bool require_deployable = true;
};

// NotFound when no apply is found (or not `to`, naming the ones found);
// FailedPrecondition when the registry before it cannot be reached (no
// successful deployment before it).
absl::StatusOr<Plan> ComputeRollbackPlan(const DesiredState& desired, const ActualState& actual,
                                         const History& history, absl::Time now,
                                         const RollbackOptions& options);

}  // namespace rotor

#endif  // ROTOR_ENGINE_DIFF_ROLLBACK_H_
