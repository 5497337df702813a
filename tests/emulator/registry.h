// What deploying the registry template does on the registry VM, replayed by
// the emulator when a deployment's parameters include
// pfxKeyVaultResourceId, pfxKeyVaultSecretUrl and pfxThumbprint:
//
//  1. the VM model takes the certificate from pfxKeyVaultSecretUrl: the
//     vault named by pfxKeyVaultResourceId must exist, and the URL must be a
//     readable, versioned secret URL of that vault (every deployment);
//  2. the CustomScript extension runs the registry script only when its
//     configuration changed since the last successful registry deployment
//     of the resource group (vm_script.h; a template without such an
//     extension, or --always-rerun, runs it every time). When it does not
//     run, the deployment succeeds and the VM keeps its htpasswd, its
//     certificate files and its running registry. When it runs:
//  3. the service principal in servicePrincipalClientId /
//     servicePrincipalClientSecret signs in for the Key Vault resource the
//     VM derives (a wrong secret fails the deployment, AADSTS7000215);
//  4. the PFX at the URL is decoded and opened; waagent names its files
//     after its thumbprint, so a pfxThumbprint that differs fails the
//     script (exit code 10);
//  5. the vault's first page becomes htpasswd logins as the script does it,
//     unquoted values included, and the first secret listed must log in
//     (vm_script.h: exit code 12 without logins, 50 when the check fails);
//  6. with --registry-dir, htpasswd, <THUMBPRINT>.crt and <THUMBPRINT>.prv
//     are written there; with --registry-cmd the command is (re)started (no
//     shell) with REGISTRY_DIR, REGISTRY_THUMBPRINT, REGISTRY_CERT,
//     REGISTRY_KEY and REGISTRY_HTPASSWD in its environment.
//
// Failures carry an ARM error code first: "Code: message"; the script's are
// VMExtensionProvisioningError with its exit code.
#ifndef ROTOR_TESTS_EMULATOR_REGISTRY_H_
#define ROTOR_TESTS_EMULATOR_REGISTRY_H_

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "base/process.h"
#include "base/secret.h"
#include "tests/emulator/keyvault.h"
#include "tests/emulator/tokens.h"

namespace rotor::emulator {

struct RegistryOptions {
  std::string registry_dir;
  std::vector<std::string> registry_cmd;
  int bcrypt_cost = 10;
  std::string log_path;  // the command's stdout and stderr
  // Run the script on every deployment, whatever its configuration
  // (--always-rerun).
  bool always_rerun = false;
};

// One registry deployment as the provisioner sees it.
struct RegistryDeployment {
  // Every parameter value (JSON text) by lower-cased name, template
  // defaults included.
  const std::map<std::string, Secret>* parameters = nullptr;
  std::string template_json;
  // The script configuration of the resource group's last successful
  // registry deployment ("" when none).
  std::string previous_script_configuration;
};

struct ProvisionResult {
  bool script_ran = false;
  std::string script_configuration;  // of this deployment
  std::string report_json;           // what was done; no secret values
};

class RegistryProvisioner {
 public:
  RegistryProvisioner(RegistryOptions options, KeyVaultService& vaults, const TokenService& tokens);
  ~RegistryProvisioner();

  // `parameters`: every parameter value (JSON text) by lower-cased name,
  // template defaults included.
  static bool IsRegistryDeployment(const std::map<std::string, Secret>& parameters);

  // Runs the provisioning; the result's report is a JSON object (vault,
  // secret URL, thumbprint, whether the script ran, logins, the first
  // secret listed).
  absl::StatusOr<ProvisionResult> Provision(const RegistryDeployment& deployment);

  // (Re)starts --registry-cmd for the certificate `thumbprint` already in
  // the registry folder (at start-up, after a restart of the emulator).
  absl::Status StartRegistry(const std::string& thumbprint);
  void StopRegistry();

 private:
  RegistryOptions options_;
  KeyVaultService& vaults_;
  const TokenService& tokens_;
  std::mutex mu_;  // one provisioning at a time
  std::optional<BackgroundProcess> registry_;
};

}  // namespace rotor::emulator

#endif  // ROTOR_TESTS_EMULATOR_REGISTRY_H_
