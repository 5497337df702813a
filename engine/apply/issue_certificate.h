// IssueCertificate: what apply does for a certificate write that carries
// an issuance (PlannedIssuance) instead of a value: the key (new, or the
// current version's with reuse_key), a CSR for it, the issuer's chain for
// that CSR, the checks a PFX gets, and the PFX in the registry template's
// envelope with a generated password. Nothing is written here; a failure
// leaves the vault as it was.
#ifndef ROTOR_ENGINE_APPLY_ISSUE_CERTIFICATE_H_
#define ROTOR_ENGINE_APPLY_ISSUE_CERTIFICATE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "base/clock.h"
#include "base/secret.h"
#include "engine/model/certificate_issuer.h"
#include "engine/model/plan.h"
#include "engine/model/vault.h"

namespace rotor {

struct IssuedCertificate {
  Secret secret_value;  // the Key Vault secret value (certs/keyvault_secret.h)
  std::string thumbprint;
  std::vector<std::string> dns_names;
  absl::Time not_after = absl::UnixEpoch();
};

// The PFX password's length: generated, never shown, kept only in the
// secret's envelope.
inline constexpr int kIssuedPfxPasswordLength = 32;

// `write.issue` must be set. `vault` is read only for reuse_key (the
// secret's latest version). The checks run at `clock`'s time once the
// issuer answered (a CA stamps notBefore with the moment it signs). Errors
// name the secret and the issuer and carry no key or password.
absl::StatusOr<IssuedCertificate> IssueCertificate(const SecretWrite& write,
                                                   CertificateIssuer& issuer, Vault& vault,
                                                   const Clock& clock);

}  // namespace rotor

#endif  // ROTOR_ENGINE_APPLY_ISSUE_CERTIFICATE_H_
