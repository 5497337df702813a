// Provisioning: what "deploying the registry template" does in the local
// provider. ARM would create a VM whose start-up script reads Key Vault; the
// local provider runs the same steps synchronously inside StartDeployment
// through a ProvisioningHook.
//
// A hook is composed of named steps (htpasswd from the vault, later the TLS
// certificate files named after pfxThumbprint, ...); each step is a separate
// function so new steps live in their own files:
//
//   ProvisioningHook hook = ComposeProvisioningSteps({
//       MakeHtpasswdStep(vault, registry_dir),
//       MakeCertificateStep(vault, registry_dir),   // added later
//   });
#ifndef ROTOR_PROVIDERS_LOCAL_PROVISIONING_H_
#define ROTOR_PROVIDERS_LOCAL_PROVISIONING_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "engine/model/deployments.h"
#include "engine/model/vault.h"

namespace rotor::local {

// Runs while a deployment is Running. `request` carries every parameter
// value, securestrings included (they are never stored). A failure makes
// the deployment Failed with the status message as its error; the message
// must not contain secret values.
using ProvisioningHook = std::function<absl::Status(const DeploymentRequest& request,
                                                    const std::string& resource_group)>;

struct ProvisioningStep {
  std::string name;  // "htpasswd", "certificate": prefixes failures
  ProvisioningHook run;
};

// Runs the steps in order; stops at the first failure, whose message becomes
// "<step name>: <message>" (same status code).
ProvisioningHook ComposeProvisioningSteps(std::vector<ProvisioningStep> steps);

// The local registry "VM": what deploying the registry template provisions,
// as files under `registry_dir` (suggested: {state_dir}/registry):
//   {registry_dir}/htpasswd   logins from the vault (htpasswd.h)
// The TLS files ({THUMBPRINT}.crt/.prv from pfxKeyVaultSecretUrl and
// pfxThumbprint) are the next step to add here.
struct LocalRegistryOptions {
  std::string registry_dir;
  int bcrypt_cost = 10;  // kDefaultBcryptCost
};
// `vault` must outlive the hook.
ProvisioningHook MakeLocalRegistryHook(Vault& vault, LocalRegistryOptions options);

// The string value of a deployment parameter (the JSON text is decoded:
// "\"abc\"" -> "abc"). NotFound when absent, InvalidArgument when it is not
// a JSON string. The value may be a securestring: handle it as a secret.
absl::StatusOr<std::string> StringParameter(const DeploymentRequest& request,
                                            absl::string_view name);

}  // namespace rotor::local

#endif  // ROTOR_PROVIDERS_LOCAL_PROVISIONING_H_
