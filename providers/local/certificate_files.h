// The registry VM's certificate files: what the VM agent writes to
// /var/lib/waagent/<THUMBPRINT>.crt and .prv from the versioned secret URL
// passed as pfxKeyVaultSecretUrl. A thumbprint that does not match the PFX
// at that URL fails, as it fails the real VM's provisioning (its files are
// then missing).
#ifndef ROTOR_PROVIDERS_LOCAL_CERTIFICATE_FILES_H_
#define ROTOR_PROVIDERS_LOCAL_CERTIFICATE_FILES_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "engine/model/vault.h"
#include "providers/local/provisioning.h"

namespace rotor::local {

// Reads the secret at `secret_url` (which must be a versioned URL of
// `vault`), decodes and opens its PFX, checks its thumbprint against
// `thumbprint` (case-insensitively), and writes `{out_dir}/<THUMBPRINT>.crt`
// (leaf then chain, PEM) and `.prv` (PKCS#8 PEM, mode 0600). Returns the
// thumbprint. Errors never contain the secret.
absl::StatusOr<std::string> WriteCertificateFiles(Vault& vault, absl::string_view secret_url,
                                                  absl::string_view thumbprint,
                                                  const std::string& out_dir);

// WriteCertificateFiles as a provisioning step named "certificate", fed by
// the pfxKeyVaultSecretUrl and pfxThumbprint parameters (`url_parameter`,
// `thumbprint_parameter`); a deployment without them is not the registry
// template and the step does nothing.
ProvisioningStep MakeCertificateStep(Vault& vault, std::string out_dir,
                                     std::string url_parameter = "pfxKeyVaultSecretUrl",
                                     std::string thumbprint_parameter = "pfxThumbprint");

}  // namespace rotor::local

#endif  // ROTOR_PROVIDERS_LOCAL_CERTIFICATE_FILES_H_
