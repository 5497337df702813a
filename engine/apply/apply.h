// ApplyPlan: executes a Plan, a loop over its changes in the order that
// keeps the registry usable at every moment:
//   1. recover soft-deleted names, 2. write new secret versions (users, then
//   the certificate), 3. delete stale secrets, 4. (re)deploy and wait.
// Nothing is deleted before every write succeeded, and the first failure
// stops the run (the next plan picks up from the live state).
//
// The executor acts on the Plan alone: each change's `write` and
// `deployment` say what to do; the values they name come from a ValueSet
// (the configuration's sources, resolved again for this run). It reads the
// world only to check what it is about to send: the PFX at the certificate
// URL must have the planned thumbprint, and a deployment still running in
// the resource group is waited for. It never prints: it reports to an
// ApplyObserver.
#ifndef ROTOR_ENGINE_APPLY_APPLY_H_
#define ROTOR_ENGINE_APPLY_APPLY_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "base/clock.h"
#include "engine/model/apply_outputs.h"
#include "engine/model/certificate_issuer.h"
#include "engine/model/deployments.h"
#include "engine/model/plan.h"
#include "engine/model/state.h"
#include "engine/model/value_set.h"
#include "engine/model/vault.h"
#include "engine/refresh/refresh.h"

namespace rotor {

class ApplyObserver {
 public:
  virtual ~ApplyObserver() = default;
  virtual void OnChangeStarted(const Change& change) {}
  virtual void OnChangeFinished(const Change& change, const absl::Status& status) {}
  virtual void OnDeploymentProgress(const Deployment& current, absl::Duration elapsed) {}
  virtual void OnMessage(absl::string_view message) {}
};

struct ApplyOptions {
  const Clock* clock = &RealClock::Get();
  absl::Duration deployment_timeout = absl::Minutes(90);
  // How long to wait for ObjectIsBeingRecovered to clear after a recover.
  absl::Duration recover_timeout = absl::Seconds(60);
  // Read each stale user's password just before deleting it, so a verify
  // right after the apply can check that it is refused (ApplyOutputs::
  // deleted_credentials; kept in memory only).
  bool capture_deleted_credentials = false;
  // Where a certificate write that carries an issuance (PlannedIssuance)
  // gets its certificate; null when the plan issues none (one that does is
  // refused without it).
  CertificateIssuer* issuer = nullptr;
};

absl::StatusOr<ApplyOutputs> ApplyPlan(const Plan& plan, const ValueSet& values, Vault& vault,
                                       DeploymentService* deployments, const ApplyOptions& options,
                                       ApplyObserver& observer);

// What the refresh that checks convergence right after an apply may take as
// known instead of reading it again (see RefreshHint): the versions the
// apply wrote, with the declared values it wrote there (user passwords, the
// certificate), and the secrets `actual` (the refresh the plan came from)
// read that the apply did not write. Generated passwords are never read, so
// they need no entry; nor is an issued certificate (the refresh reads the
// version the apply wrote). `actual` is left as it was.
RefreshHint HintAfterApply(const DesiredState& desired, const ActualState& actual,
                           const ApplyOutputs& outputs);

}  // namespace rotor

#endif  // ROTOR_ENGINE_APPLY_APPLY_H_
