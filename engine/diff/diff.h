// ComputePlan: desired vs actual -> Plan. A pure function: no I/O, no clock
// (now is a parameter), so every case is a unit test.
//
// Rules (docs/DESIGN.md, "Drift and redeploy"):
//  - A declared user absent from the vault is created, or recovered when its
//    name is soft-deleted; a present one is updated when its value differs
//    (compared in constant time), its latest version is disabled, or, for a
//    generated password, rotate_after has elapsed since its last update.
//  - Undeclared secrets that are registry users (tagged rotor-role = user,
//    or content type "user credentials") are deleted when
//    policy.delete_stale_users; other short secrets only warn. With
//    policy.retire_after, one the config used to declare (cause config)
//    retires first: its value is written again tagged with a deadline
//    (kRetireAtTag), and the first plan after the deadline deletes it.
//  - A user the plan writes that has [[user]] publish sinks is handed to
//    them after the apply (Plan::publishes).
//  - The certificate is compared by thumbprint, never by bytes.
//  - The deployment is redeployed when, and only when, the plan changes a
//    secret, the deployment's certificate parameters are stale, a user
//    secret changed after the last successful deployment, or the latest
//    deployment did not succeed.
#ifndef ROTOR_ENGINE_DIFF_DIFF_H_
#define ROTOR_ENGINE_DIFF_DIFF_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "engine/model/plan.h"
#include "engine/model/state.h"

namespace rotor {

struct PlanOptions {
  // Appended to the name of the deployment a plan makes, so that two plans
  // made in the same second never name the same deployment (the CLI passes
  // a few random characters; tests leave it empty).
  std::string deployment_suffix;
  // --replace: resources to write anew although they match: "user.NAME" of
  // a { generate = N } user (a new random password), "certificate.NAME"
  // (the same PFX uploaded as a new version). InvalidArgument for another
  // address, naming the ones that can be replaced.
  std::vector<std::string> replace;
  // Whether a planned deployment must be able to go out (its parameters,
  // what the registry VM would break on): true for plan and apply; rotor
  // drift, which only reports, sets false.
  bool require_deployable = true;
  // The id every version the plan writes, and its deployment, carry as
  // kApplyIdTag (engine/model/apply_history.h); empty: none (tests).
  std::string apply_id;
};

// Fails (FailedPrecondition) when no plan can be made: the resource group
// has no deployment and no template was given, or the deployment the plan
// needs cannot go out (a parameter without a value, a securestring without
// a source, a parameter rotor sets that the template does not declare; the
// message lists each).
absl::StatusOr<Plan> ComputePlan(const DesiredState& desired, const ActualState& actual,
                                 absl::Time now, const PlanOptions& options = {});

// A new deployment name from the one being redeployed: its base (without a
// previous rotor suffix) plus "-", a UTC timestamp and `suffix` (when not
// empty, after another "-"), within ARM's 64 characters:
// "registry" -> "registry-20261125T193500Z-k3f9".
std::string DeriveDeploymentName(absl::string_view previous, absl::Time now,
                                 absl::string_view suffix = "");

// Puts a plan's changes in the order they run: recover, create and update,
// delete, then the deployment (stable within each).
void SortForExecution(std::vector<Change>& changes);

}  // namespace rotor

#endif  // ROTOR_ENGINE_DIFF_DIFF_H_
