#include "engine/apply/issue_certificate.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/password.h"
#include "base/status_context.h"
#include "base/status_macros.h"
#include "certs/checks.h"
#include "certs/issuance.h"
#include "certs/keyvault_secret.h"
#include "certs/pfx.h"
#include "engine/model/registry_vm.h"

namespace rotor {
namespace {

// The current version's key, for reuse_key: the plan sets it only when the
// vault holds a readable certificate, so not finding one is an error, not a
// reason to make a new key silently.
absl::StatusOr<Secret> CurrentKey(const SecretWrite& write, Vault& vault) {
  const std::string what =
      absl::StrCat("reuse_key: reading the key of secret ", write.name, "'s current version");
  auto bundle = vault.GetSecret(write.name);
  if (!bundle.ok()) return WithContext(bundle.status(), what);
  auto decoded = certs::DecodeCertificateSecret(bundle->value, bundle->meta.content_type);
  if (!decoded.ok()) return WithContext(decoded.status(), what);
  auto key = certs::PrivateKeyOfPfx(decoded->pfx_der.Reveal(), decoded->password);
  if (!key.ok()) return WithContext(key.status(), what);
  return key;
}

// The checks a PFX file gets (certs/checks.h), for every name asked for;
// FailedPrecondition listing the ERRORs.
absl::Status CheckIssued(const certs::Pfx& pfx, const PlannedIssuance& issue,
                         const std::string& source, absl::Time now) {
  std::vector<std::string> errors;
  for (const std::string& name : issue.dns_names) {
    certs::CheckOptions options;
    options.min_valid_days = issue.min_valid_days;
    options.dns_name = name;
    options.ca_bundle_path = issue.ca_bundle;
    options.now = now;
    for (const certs::CheckResult& r : certs::CheckCertificate(pfx, options)) {
      if (r.level != certs::CheckLevel::kError) continue;
      std::string line = certs::FormatCheck(r);
      if (std::find(errors.begin(), errors.end(), line) == errors.end()) errors.push_back(line);
    }
  }
  if (errors.empty()) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrCat(source,
                                                    " fails its checks, so nothing was "
                                                    "written:\n  ",
                                                    absl::StrJoin(errors, "\n  ")));
}

}  // namespace

absl::StatusOr<IssuedCertificate> IssueCertificate(const SecretWrite& write,
                                                   CertificateIssuer& issuer, Vault& vault,
                                                   const Clock& clock) {
  const PlannedIssuance& issue = *write.issue;
  const std::string source =
      absl::StrCat("the certificate for secret ", write.name, " from ", issue.describe);
  Secret key;
  if (issue.reuse_key) {
    ASSIGN_OR_RETURN(key, CurrentKey(write, vault));
  } else {
    certs::KeyType type;
    if (!certs::ParseKeyType(issue.key_type, &type)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "key \"", issue.key_type, "\" is not rsa-2048, rsa-3072 or ec-p256 (", source, ")"));
    }
    ASSIGN_OR_RETURN(key, certs::GeneratePrivateKey(type));
  }
  ASSIGN_OR_RETURN(std::string csr, certs::MakeCsr(key, issue.dns_names));
  absl::StatusOr<std::string> chain_pem =
      issuer.Issue(IssueRequest{write.name, issue.dns_names, std::move(csr)});
  if (!chain_pem.ok()) {
    return WithContext(chain_pem.status(),
                       absl::StrCat("issuing ", source, "; nothing was written"));
  }
  const absl::Time now = clock.Now();
  ASSIGN_OR_RETURN(std::vector<std::string> chain, certs::ParsePemChain(*chain_pem, source));
  const Secret password = GeneratePassword(kIssuedPfxPasswordLength);
  ASSIGN_OR_RETURN(Secret pfx_der, certs::BuildPfx(key, chain, password, source));
  ASSIGN_OR_RETURN(certs::Pfx pfx, certs::Pfx::Open(pfx_der.Reveal(), password, source));
  RETURN_IF_ERROR(CheckIssued(pfx, issue, source, now));
  const certs::CertificateInfo info = pfx.Info(now);
  IssuedCertificate issued;
  ASSIGN_OR_RETURN(issued.secret_value, certs::EncodeCertificateSecret(pfx_der.Reveal(), password));
  issued.thumbprint = info.thumbprint;
  issued.dns_names = info.dns_names;
  issued.not_after = info.not_after;
  return issued;
}

}  // namespace rotor
