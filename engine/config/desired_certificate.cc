// The certificate side of the desired state: the PFX on disk, opened,
// checked and encoded as the Key Vault secret the registry template expects.
#include "absl/strings/str_cat.h"
#include "base/files.h"
#include "certs/checks.h"
#include "certs/keyvault_secret.h"
#include "certs/pfx.h"
#include "engine/config/desired.h"

namespace rotor {

absl::StatusOr<DesiredCertificate> BuildDesiredCertificate(const CertificateConfig& config,
                                                           const Environment& env, absl::Time now) {
  auto bytes =
      ReadFile(config.pfx, ReadLimit{.max_bytes = certs::kMaxPfxBytes, .what = "a PFX file"});
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
  desired.password_source = config.password.Describe();
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
    desired.checks.push_back({r.name, std::string(certs::CheckLevelName(r.level)), r.detail});
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
    return absl::Status(encoded.status().code(), absl::StrCat("[certificate] ", config.pfx, ": ",
                                                              encoded.status().message()));
  }
  desired.secret_value = *std::move(encoded);
  return desired;
}

}  // namespace rotor
