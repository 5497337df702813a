// The certificate side of the desired state: the PFX on disk, opened,
// checked and encoded as the Key Vault secret the registry template expects.
#include "absl/strings/str_cat.h"
#include "base/files.h"
#include "base/status_macros.h"
#include "certs/checks.h"
#include "certs/keyvault_secret.h"
#include "certs/pfx.h"
#include "engine/config/desired.h"

namespace rotor {
namespace {

certs::CheckOptions CheckOptionsFor(const CertificateConfig& config, absl::Time now) {
  certs::CheckOptions options;
  options.min_valid_days = config.min_valid_days;
  options.dns_name = config.dns_name;
  options.ca_bundle_path = config.ca_bundle;
  options.now = now;
  return options;
}

absl::StatusOr<Secret> ReadPfx(const CertificateConfig& config) {
  auto bytes =
      ReadFile(config.pfx, ReadLimit{.max_bytes = certs::kMaxPfxBytes, .what = "a PFX file"});
  if (!bytes.ok()) {
    return absl::Status(bytes.status().code(),
                        absl::StrCat("[certificate] pfx: cannot read file ", config.pfx, ": ",
                                     FileErrorReason(bytes.status())));
  }
  return Secret(*std::move(bytes));
}

std::vector<CheckLine> ToLines(const std::vector<certs::CheckResult>& results) {
  std::vector<CheckLine> lines;
  for (const auto& r : results) {
    lines.push_back({r.name, std::string(certs::CheckLevelName(r.level)), r.detail});
  }
  return lines;
}

// With an issuer no PFX is read: the plan decides when to issue, apply
// issues.
DesiredIssuance IssuanceFor(const CertificateConfig& config) {
  DesiredIssuance issuance;
  if (config.acme.has_value()) {
    issuance.kind = "acme";
    issuance.describe = absl::StrCat("ACME ", config.acme->directory);
  } else {
    issuance.kind = "command";
    issuance.describe = DescribeCommand(config.issuer->command);
  }
  issuance.dns_names = config.dns_names;
  issuance.key_type = config.key;
  issuance.renew_before = config.renew_before.before;
  issuance.renew_before_percent = config.renew_before.percent;
  issuance.renew_before_text = config.renew_before.text;
  issuance.reuse_key = config.reuse_key;
  issuance.min_valid_days = config.min_valid_days;
  issuance.ca_bundle = config.ca_bundle;
  return issuance;
}

}  // namespace

std::vector<std::string> CertificateCheckNames(const CertificateConfig& config) {
  std::vector<std::string> names = {
      "Parse PFX", "Private Key", "Expiry Date", "Signature Algorithm", "Key Size",
      "Key Usage", "Cert Chain",  "Chain Order", "Other Certificates",  "DNS Names"};
  if (!config.ca_bundle.empty()) names.push_back("CA Trust");
  names.push_back("Issuer");
  return names;
}

absl::StatusOr<OfflineCertificate> ValidateCertificateOffline(const CertificateConfig& config,
                                                              const Environment& env,
                                                              absl::Time now) {
  ASSIGN_OR_RETURN(Secret pfx_der, ReadPfx(config));
  OfflineCertificate out;
  out.pfx_path = config.pfx;
  auto password = ResolveValue(config.password, env, "certificate.password");
  if (!password.ok()) {
    out.skipped = CertificateCheckNames(config);
    out.skipped_reason = std::string(password.status().message());
    return out;
  }
  std::vector<certs::CheckResult> results =
      certs::CheckPfx(pfx_der.Reveal(), *password, config.pfx, CheckOptionsFor(config, now));
  out.checks = ToLines(results);
  out.has_errors = certs::WorstLevel(results) == certs::CheckLevel::kError;
  return out;
}

absl::StatusOr<DesiredCertificate> BuildDesiredCertificate(const CertificateConfig& config,
                                                           const Environment& env, absl::Time now) {
  if (config.HasIssuer()) {
    DesiredCertificate desired;
    desired.secret_name = config.secret_name;
    desired.warn_days = config.warn_days;
    desired.content_type = certs::kCertificateContentType;
    desired.issuance = IssuanceFor(config);
    return desired;
  }
  ASSIGN_OR_RETURN(Secret pfx_der, ReadPfx(config));
  auto password = ResolveValue(config.password, env, "certificate.password");
  if (!password.ok()) return password.status();

  DesiredCertificate desired;
  desired.secret_name = config.secret_name;
  desired.pfx_path = config.pfx;
  desired.password_source = config.password.Describe();
  desired.warn_days = config.warn_days;
  desired.content_type = certs::kCertificateContentType;

  auto pfx = certs::Pfx::Open(pfx_der.Reveal(), *password, config.pfx);
  std::vector<certs::CheckResult> results =
      pfx.ok() ? certs::CheckCertificate(*pfx, CheckOptionsFor(config, now))
               : certs::CheckOpenFailure(pfx.status());
  desired.checks = ToLines(results);
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
    return absl::Status(
        encoded.status().code(),
        absl::StrCat("[certificate] pfx: file ", config.pfx, ": ", encoded.status().message()));
  }
  desired.secret_value = *std::move(encoded);
  return desired;
}

}  // namespace rotor
