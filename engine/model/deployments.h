// DeploymentService: the engine's view of ARM resource-group deployments.
//
// Implemented by the local provider (providers/local), the ARM HTTP client
// (providers/arm) and test fakes. Contract, as ARM behaves:
//  - A deployment is identified by resource group + name; deploying under an
//    existing name replaces it (and makes it the most recent).
//  - Parameters of type SecureString are never returned: their
//    `value_json` is empty on reads.
//  - StartDeployment returns once the deployment is accepted (state
//    Accepted or Running); WaitForDeployment polls to a terminal state
//    (Succeeded, Failed, Canceled) and returns the final deployment, whose
//    `error` explains a failure. Waiting is not an error when the deployment
//    fails: the caller inspects provisioning_state.
//  - An unknown resource group gives NotFound.
#ifndef ROTOR_ENGINE_MODEL_DEPLOYMENTS_H_
#define ROTOR_ENGINE_MODEL_DEPLOYMENTS_H_

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "base/secret.h"

namespace rotor {

inline constexpr char kStateSucceeded[] = "Succeeded";
inline constexpr char kStateFailed[] = "Failed";
inline constexpr char kStateCanceled[] = "Canceled";

bool IsTerminalProvisioningState(absl::string_view state);

// ARM's code for a deployment refused because another one is running in its
// resource group (409). StartDeployment's FailedPrecondition carries it:
// DeploymentErrorCode(status) == kDeploymentActive.
inline constexpr char kDeploymentActive[] = "DeploymentActive";
absl::Status WithDeploymentErrorCode(absl::Status status, absl::string_view code);
std::string DeploymentErrorCode(const absl::Status& status);

struct DeploymentParameter {
  std::string type;        // "String", "SecureString", "Int", ... (may be empty)
  std::string value_json;  // the JSON value; empty when not returned
};

struct Deployment {
  std::string resource_group;
  std::string name;
  std::string id;
  absl::Time timestamp = absl::UnixEpoch();
  std::string provisioning_state;
  std::string mode;  // "Incremental" / "Complete"
  std::map<std::string, DeploymentParameter> parameters;
  std::map<std::string, std::string> tags;
  std::string template_link_uri;  // when deployed from a link
  // Human-readable failure: code, message and the failed operations'
  // messages, one per line; empty unless provisioning_state is Failed.
  std::string error;

  bool Succeeded() const { return provisioning_state == kStateSucceeded; }
};

struct DeploymentRequest {
  std::string name;
  std::string mode = "Incremental";
  // Exactly one of template_json / template_link_uri.
  std::string template_json;
  std::string template_link_uri;
  // Parameter name -> JSON value. Held as Secret: securestring values (the
  // service principal's secret) travel here.
  std::map<std::string, Secret> parameters;
  std::map<std::string, std::string> tags;
};

// Called while a deployment runs (each poll), for progress lines.
using DeploymentProgress = std::function<void(const Deployment& current, absl::Duration elapsed)>;

class DeploymentService {
 public:
  virtual ~DeploymentService() = default;

  // Every deployment of the resource group, any order.
  virtual absl::StatusOr<std::vector<Deployment>> ListDeployments(
      absl::string_view resource_group) = 0;
  virtual absl::StatusOr<Deployment> GetDeployment(absl::string_view resource_group,
                                                   absl::string_view name) = 0;
  // The template the deployment used (JSON text).
  virtual absl::StatusOr<std::string> ExportTemplate(absl::string_view resource_group,
                                                     absl::string_view name) = 0;
  virtual absl::StatusOr<Deployment> StartDeployment(absl::string_view resource_group,
                                                     const DeploymentRequest& request) = 0;
  // ARM's validate: whether StartDeployment would accept `request` (the
  // template and its parameters), without deploying or recording anything.
  // InvalidArgument with ARM's message when it would not.
  virtual absl::Status ValidateDeployment(absl::string_view resource_group,
                                          const DeploymentRequest& request) = 0;
  // Polls until a terminal state or `timeout`; DeadlineExceeded on timeout.
  virtual absl::StatusOr<Deployment> WaitForDeployment(absl::string_view resource_group,
                                                       absl::string_view name,
                                                       const DeploymentProgress& progress,
                                                       absl::Duration timeout) = 0;
};

}  // namespace rotor

#endif  // ROTOR_ENGINE_MODEL_DEPLOYMENTS_H_
