// Internal to engine/diff: the hand-offs a plan makes after its apply
// (Plan::publishes): each user the plan writes or recovers that has
// [[user]] publish sinks, for the registry's host[:port] ([registry] url's,
// else the name the deployment's pipDomainNameLabel gives).
#ifndef ROTOR_ENGINE_DIFF_PUBLISHES_H_
#define ROTOR_ENGINE_DIFF_PUBLISHES_H_

#include "absl/status/status.h"
#include "engine/model/plan.h"
#include "engine/model/state.h"

namespace rotor::diff_internal {

// FailedPrecondition when a user is to be published and the registry's
// host is unknown.
absl::Status PlanPublishes(const DesiredState& desired, const ActualState& actual, Plan& plan);

}  // namespace rotor::diff_internal

#endif  // ROTOR_ENGINE_DIFF_PUBLISHES_H_
