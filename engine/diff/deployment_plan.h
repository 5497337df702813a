// Internal to engine/diff: what a redeploy (or the first deployment) will
// send, worked out at plan time so that the plan shows it and apply does
// exactly that, and the checks that it can go out: every parameter the
// template requires has a value, every securestring a source, every
// parameter rotor sets exists under its name.
#ifndef ROTOR_ENGINE_DIFF_DEPLOYMENT_PLAN_H_
#define ROTOR_ENGINE_DIFF_DEPLOYMENT_PLAN_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "engine/model/plan.h"
#include "engine/model/state.h"

namespace rotor::diff_internal {

struct DeploymentPlanInput {
  const DesiredState* desired = nullptr;
  const ActualState* actual = nullptr;
  // The plan's secret changes so far (writes, deletes).
  const std::vector<Change>* secret_changes = nullptr;
  absl::Time now;
  std::string name_suffix;  // PlanOptions::deployment_suffix
  // Whether this redeploy changes the registry VM's logins (a user secret
  // written, deleted or recovered, by this plan or since the last
  // successful deployment, or the last one failed).
  bool logins_change = false;
  // Tags of the deployment (engine/model/apply_history.h): the apply's id,
  // and for a rollback the apply it undoes.
  std::string apply_id;
  std::string rollback_of;
  // The certificate to pass instead of the declared one (a rollback passes
  // an earlier version): its secret, versioned URL and thumbprint.
  struct CertificatePin {
    std::string secret_name;
    std::string url;
    std::string thumbprint;
  };
  std::optional<CertificatePin> certificate;
};

struct DeploymentPlanOutput {
  PlannedDeployment deployment;
  std::vector<PlannedValue> values;
  std::vector<std::string> reasons;  // for the plan: the forceUpdateTag, ...
  std::vector<Warning> warnings;
};

// The thumbprint a deployment passes for the declared certificate: "(known
// after apply)" when `changes` issue it, the vault's current one when an
// issuer makes it, else the PFX's.
std::string PlannedCertificateThumbprint(const DesiredState& desired, const ActualState& actual,
                                         const std::vector<Change>& changes);

// FailedPrecondition listing every problem, each naming the parameter and
// what to set, when the deployment cannot go out.
absl::StatusOr<DeploymentPlanOutput> PlanDeployment(const DeploymentPlanInput& input);

}  // namespace rotor::diff_internal

#endif  // ROTOR_ENGINE_DIFF_DEPLOYMENT_PLAN_H_
