// The certificate side of the actual state: the PFX held in the vault,
// decoded to its thumbprint, so drift is decided by thumbprint, never by
// bytes.
#include "absl/strings/str_cat.h"
#include "certs/keyvault_secret.h"
#include "certs/pfx.h"
#include "engine/refresh/refresh.h"

namespace rotor {

ActualCertificate DecodeActualCertificate(const SecretBundle& bundle) {
  ActualCertificate actual;
  std::string source = absl::StrCat("Key Vault secret ", bundle.meta.name);
  auto decoded = certs::DecodeCertificateSecret(bundle.value, bundle.meta.content_type);
  if (!decoded.ok()) {
    actual.decode_error = std::string(decoded.status().message());
    return actual;
  }
  auto pfx = certs::Pfx::Open(decoded->pfx_der.Reveal(), decoded->password, source);
  if (!pfx.ok()) {
    actual.decode_error = std::string(pfx.status().message());
    return actual;
  }
  certs::CertificateInfo info = pfx->Info(absl::UnixEpoch());
  actual.thumbprint = info.thumbprint;
  actual.subject = info.subject;
  actual.issuer = info.issuer;
  actual.dns_names = info.dns_names;
  actual.not_before = info.not_before;
  actual.not_after = info.not_after;
  return actual;
}

}  // namespace rotor
