// The Key Vault secret that carries the registry's PFX, in the form the
// Azure Stack Hub registry template (osProfile.secrets[].vaultCertificates[])
// expects: the secret value is
//
//   base64( UTF-8 JSON {"data": "<base64 PFX>", "dataType": "pfx",
//                       "password": "<PFX password>"} )
//
// with content type "pfx". Decoding also accepts the form Key Vault's own
// certificate objects produce (value = base64 PFX, content type
// application/x-pkcs12, no password). Values and passwords stay in Secrets;
// errors describe what is wrong without quoting any of the value.
#ifndef ROTOR_CERTS_KEYVAULT_SECRET_H_
#define ROTOR_CERTS_KEYVAULT_SECRET_H_

#include <cstddef>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "base/secret.h"

namespace rotor::certs {

// The content type rotor sets on the certificate secret.
inline constexpr char kCertificateContentType[] = "pfx";
// The content type of a raw base64 PKCS#12 secret (Key Vault certificates).
inline constexpr char kPkcs12ContentType[] = "application/x-pkcs12";
// Key Vault refuses secret values above 25 KB.
inline constexpr size_t kMaxSecretValueBytes = 25600;

// The JSON-wrapped secret value for `pfx_der` and its password. Fails with
// InvalidArgument when the password is not valid UTF-8 (JSON cannot carry
// it) or when the value would exceed kMaxSecretValueBytes (the message gives
// both sizes).
absl::StatusOr<Secret> EncodeCertificateSecret(absl::string_view pfx_der, const Secret& password);

struct DecodedCertificate {
  Secret pfx_der;   // the PKCS#12 bytes
  Secret password;  // empty for the application/x-pkcs12 form
};

// Reads a certificate secret value. `content_type`:
//   "pfx", "" (unset, as the documented Azure Stack Hub procedure leaves
//   it) -> the JSON-wrapped form ("dataType" must be "pfx"; a missing or
//   null "password" means an empty one);
//   "application/x-pkcs12" -> raw base64 PKCS#12, empty password.
// Any other content type is InvalidArgument naming it. Whitespace and line
// breaks inside base64 are allowed.
absl::StatusOr<DecodedCertificate> DecodeCertificateSecret(const Secret& value,
                                                           absl::string_view content_type);

}  // namespace rotor::certs

#endif  // ROTOR_CERTS_KEYVAULT_SECRET_H_
