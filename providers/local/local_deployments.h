// LocalDeployments: the embedded provider's ARM resource-group deployments,
// kept in {state_dir}/deployments/{resource_group}.json (lower-cased name,
// mode 0600, folder 0700, written atomically).
//
// Behaviour (as ARM, see docs/azure-contracts.md §4):
//  - A resource group exists once CreateResourceGroup made it, or when it is
//    listed in LocalDeploymentsOptions::resource_groups (the local config
//    names its resource group; such a group exists implicitly and its file
//    is created on first deployment). Others give NotFound
//    ("ResourceGroupNotFound"). Names are case-insensitive.
//  - StartDeployment validates the request against the template's
//    `parameters` section: every parameter without defaultValue must be
//    given, no unknown parameter may be given, values must match the
//    declared type and allowedValues. Failures are InvalidArgument with
//    ARM's code first ("InvalidTemplate: Deployment template validation
//    failed: ..."), and nothing is recorded (ARM answers 400). Only inline
//    templates (template_json) and file:// template links are deployable.
//  - A valid request is recorded as Running (timestamp = clock), then the
//    provisioning hook runs synchronously; the deployment ends Succeeded or
//    Failed (error = "DeploymentFailed: ..." plus the hook's message), with
//    the timestamp of its end. StartDeployment returns that final state.
//    Deploying under an existing name replaces it and makes it the most
//    recent.
//  - While a deployment of the group is Running, another StartDeployment is
//    FailedPrecondition ("deployment X is still running"). A Running record
//    left by a process that died is read as Failed ("interrupted").
//  - Stored per deployment: name, id, timestamp, provisioningState, mode,
//    parameters (type + JSON value; SecureString/SecureObject values are NOT
//    stored, only their type, exactly as ARM never returns them; template
//    defaults that are literals are recorded like ARM shows them), the
//    template (for ExportTemplate), template link, tags, error text.
//  - WaitForDeployment returns the stored deployment once terminal (polling
//    the file while another process runs it).
//
// The file format is in deployments_store_codec.h.
#ifndef ROTOR_PROVIDERS_LOCAL_LOCAL_DEPLOYMENTS_H_
#define ROTOR_PROVIDERS_LOCAL_LOCAL_DEPLOYMENTS_H_

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "base/clock.h"
#include "engine/model/deployments.h"
#include "providers/local/provisioning.h"

namespace rotor::local {

struct LocalDeploymentsOptions {
  std::string state_dir;  // absolute; created (0700) when missing
  std::string subscription_id = "00000000-0000-0000-0000-000000000000";
  const Clock* clock = nullptr;  // nullptr: RealClock; must outlive the service
  // Resource groups that exist without CreateResourceGroup.
  std::vector<std::string> resource_groups;
  // Runs inside StartDeployment; empty: provisioning always succeeds.
  ProvisioningHook provisioning_hook;
  // How often WaitForDeployment re-reads a deployment another process runs.
  absl::Duration poll_interval = absl::Milliseconds(100);
};

class LocalDeployments : public DeploymentService {
 public:
  static absl::StatusOr<std::unique_ptr<LocalDeployments>> Open(LocalDeploymentsOptions options);

  static std::string StorePath(absl::string_view state_dir, absl::string_view resource_group);
  static std::string DeploymentId(absl::string_view subscription_id,
                                  absl::string_view resource_group, absl::string_view name);

  // Creates the group's (empty) store; a no-op when it exists.
  absl::Status CreateResourceGroup(absl::string_view resource_group);
  bool ResourceGroupExists(absl::string_view resource_group);
  void set_provisioning_hook(ProvisioningHook hook);

  absl::StatusOr<std::vector<Deployment>> ListDeployments(
      absl::string_view resource_group) override;
  absl::StatusOr<Deployment> GetDeployment(absl::string_view resource_group,
                                           absl::string_view name) override;
  absl::StatusOr<std::string> ExportTemplate(absl::string_view resource_group,
                                             absl::string_view name) override;
  absl::StatusOr<Deployment> StartDeployment(absl::string_view resource_group,
                                             const DeploymentRequest& request) override;
  absl::Status ValidateDeployment(absl::string_view resource_group,
                                  const DeploymentRequest& request) override;
  absl::StatusOr<Deployment> WaitForDeployment(absl::string_view resource_group,
                                               absl::string_view name,
                                               const DeploymentProgress& progress,
                                               absl::Duration timeout) override;

 private:
  explicit LocalDeployments(LocalDeploymentsOptions options, const Clock& clock);

  LocalDeploymentsOptions options_;
  const Clock& clock_;
  std::mutex mu_;  // serialises file read-modify-write within this process
};

}  // namespace rotor::local

#endif  // ROTOR_PROVIDERS_LOCAL_LOCAL_DEPLOYMENTS_H_
