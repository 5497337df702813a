// The registry VM's htpasswd step, as its deployment-time script does it:
// list the vault's secrets (first page only: Key Vault's default page of 25,
// in the order Key Vault lists them, i.e. by name), and turn every secret
// whose latest version is enabled and whose value is at most 255 bytes
// (kMaxLoginSecretLength) into a login "name:bcrypt(value)". Longer secrets
// (the PFX) are skipped, and so is a disabled latest version (its GET is
// refused). A value with a NUL byte is skipped too (bcrypt would cut it).
//
// bcrypt comes from libxcrypt ($2b$, cost 10 by default); docker-registry
// accepts these lines. Note that bcrypt only uses the first 72 bytes of a
// password.
#ifndef ROTOR_PROVIDERS_LOCAL_HTPASSWD_H_
#define ROTOR_PROVIDERS_LOCAL_HTPASSWD_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "base/bcrypt.h"
#include "engine/model/vault.h"
#include "providers/local/provisioning.h"

namespace rotor::local {

inline constexpr char kHtpasswdFileName[] = "htpasswd";

// Whether the htpasswd `line` ("user:hash", trailing newline allowed)
// accepts `password`. False on malformed lines.
bool VerifyHtpasswd(absl::string_view line, absl::string_view password);

// The names of the secrets that become registry logins, in file order.
absl::StatusOr<std::vector<std::string>> RegistryLoginNames(Vault& vault);

// Writes {out_dir}/htpasswd (mode 0600, atomically; out_dir created 0700
// when missing) with one "name:hash" line per login.
absl::Status RenderHtpasswd(Vault& vault, const std::string& out_dir,
                            int bcrypt_cost = kDefaultBcryptCost);

// RenderHtpasswd as a provisioning step named "htpasswd". `vault` must
// outlive the hook.
ProvisioningStep MakeHtpasswdStep(Vault& vault, std::string out_dir,
                                  int bcrypt_cost = kDefaultBcryptCost);

}  // namespace rotor::local

#endif  // ROTOR_PROVIDERS_LOCAL_HTPASSWD_H_
