// The certificate side of desired and actual state: the PFX on disk (opened,
// checked and encoded) and the PFX held in the vault (decoded to its
// thumbprint, so drift is decided by thumbprint, never by bytes).
#include "absl/strings/str_cat.h"
#include "certs/checks.h"
#include "certs/keyvault_secret.h"
#include "certs/pfx.h"
#include "engine/base/files.h"
#include "engine/desired.h"
#include "engine/refresh.h"

namespace rotor {

absl::StatusOr<DesiredCertificate> BuildDesiredCertificate(const CertificateConfig& config,
                                                           const Environment& env,
                                                           absl::Time now) {
  auto bytes = ReadFile(config.pfx);
  if (!bytes.ok()) {
    return absl::Status(bytes.status().code(),
                        absl::StrCat("[certificate] pfx: ", bytes.status().message()));
  }
  Secret pfx_der(*std::move(bytes));
  auto password = ResolveValue(config.password, env, "[certificate]");
  if (!password.ok()) return password.status();

  DesiredCertificate desired;
  desired.secret_name = config.secret_name;
  desired.pfx_path = config.pfx;
  desired.warn_days = config.warn_days;
  desired.content_type = certs::kCertificateContentType;

  certs::CheckOptions options;
  options.min_valid_days = config.min_valid_days;
  options.dns_name = config.dns_name;
  options.ca_bundle_path = config.ca_bundle;
  options.now = now;
  auto pfx = certs::Pfx::Open(pfx_der.Reveal(), *password, config.pfx);
  std::vector<certs::CheckResult> results =
      pfx.ok() ? certs::CheckCertificate(*pfx, options) : certs::CheckOpenFailure(pfx.status());
  for (const auto& r : results) {
    desired.checks.push_back(
        {r.name, std::string(certs::CheckLevelName(r.level)), r.detail});
  }
  desired.has_errors = certs::WorstLevel(results) == certs::CheckLevel::kError;
  if (!pfx.ok()) {
    // Nothing more can be known; the checks say why.
    return desired;
  }
  certs::CertificateInfo info = pfx->Info(now);
  desired.thumbprint = info.thumbprint;
  desired.subject = info.subject;
  desired.issuer = info.issuer;
  desired.dns_names = info.dns_names;
  desired.not_before = info.not_before;
  desired.not_after = info.not_after;
  auto encoded = certs::EncodeCertificateSecret(pfx_der.Reveal(), *password);
  if (!encoded.ok()) {
    return absl::Status(encoded.status().code(),
                        absl::StrCat("[certificate] ", config.pfx, ": ", encoded.status().message()));
  }
  desired.secret_value = *std::move(encoded);
  return desired;
}

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
