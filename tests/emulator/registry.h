// What deploying the registry template does on the registry VM, replayed by
// the emulator when a deployment's parameters include
// pfxKeyVaultResourceId, pfxKeyVaultSecretUrl and pfxThumbprint:
//
//  1. the service principal in servicePrincipalClientId /
//     servicePrincipalClientSecret signs in (a wrong secret fails the
//     deployment, as the VM's token request would);
//  2. the vault named by pfxKeyVaultResourceId must exist, and
//     pfxKeyVaultSecretUrl must be a versioned secret URL of that vault; the
//     PFX secret there is decoded (certs/keyvault_secret.h) and opened
//     (certs/pfx.h); a thumbprint other than pfxThumbprint fails the
//     deployment;
//  3. the vault's first page of secrets becomes htpasswd logins
//     (providers/local/htpasswd.h: values of at most 255 characters, bcrypt);
//  4. with --registry-dir, htpasswd, <THUMBPRINT>.crt and <THUMBPRINT>.prv
//     are written there; with --registry-cmd the command is (re)started (no
//     shell) with REGISTRY_DIR, REGISTRY_THUMBPRINT, REGISTRY_CERT,
//     REGISTRY_KEY and REGISTRY_HTPASSWD in its environment.
//
// Failures carry an ARM error code first: "Code: message".
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
};

class RegistryProvisioner {
 public:
  RegistryProvisioner(RegistryOptions options, KeyVaultService& vaults, const TokenService& tokens);
  ~RegistryProvisioner();

  // `parameters`: every parameter value (JSON text) by lower-cased name,
  // template defaults included.
  static bool IsRegistryDeployment(const std::map<std::string, Secret>& parameters);

  // Runs the provisioning. `report_json` receives a JSON object describing
  // what was done (vault, secret URL, thumbprint, logins; no secret values).
  absl::Status Provision(const std::map<std::string, Secret>& parameters, std::string* report_json);

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
