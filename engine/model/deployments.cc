#include "engine/model/deployments.h"

namespace rotor {

bool IsTerminalProvisioningState(absl::string_view state) {
  return state == kStateSucceeded || state == kStateFailed || state == kStateCanceled;
}

namespace {
constexpr char kDeploymentErrorCodePayload[] = "rotor/deployment-error-code";
}  // namespace

absl::Status WithDeploymentErrorCode(absl::Status status, absl::string_view code) {
  status.SetPayload(kDeploymentErrorCodePayload, absl::Cord(code));
  return status;
}

std::string DeploymentErrorCode(const absl::Status& status) {
  auto payload = status.GetPayload(kDeploymentErrorCodePayload);
  return payload.has_value() ? std::string(*payload) : std::string();
}

}  // namespace rotor
