#include "engine/model/deployments.h"

#include "base/json_text.h"

namespace rotor {

std::string Deployment::StringParameter(const std::string& name) const {
  auto it = parameters.find(name);
  if (it == parameters.end()) return "";
  return JsonStringValue(it->second.value_json).value_or("");
}

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
