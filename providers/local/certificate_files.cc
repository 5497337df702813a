#include "providers/local/certificate_files.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/files.h"
#include "base/status_macros.h"
#include "certs/keyvault_secret.h"
#include "certs/pfx.h"
#include "providers/local/local_files.h"

namespace rotor::local {

absl::StatusOr<std::string> WriteCertificateFiles(Vault& vault, absl::string_view secret_url,
                                                  absl::string_view thumbprint,
                                                  const std::string& out_dir) {
  std::string prefix = absl::StrCat(vault.info().base_url, "/secrets/");
  if (!absl::StartsWithIgnoreCase(secret_url, prefix)) {
    return absl::InvalidArgumentError(absl::StrCat("KeyVaultSecretUrlInvalid: ", secret_url,
                                                   " is not a secret URL of vault ",
                                                   vault.info().base_url));
  }
  absl::string_view rest = secret_url.substr(prefix.size());
  size_t slash = rest.find('/');
  if (slash == absl::string_view::npos || slash + 1 == rest.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("KeyVaultSecretUrlInvalid: ", secret_url,
                     " has no version; the VM needs a versioned secret URL"));
  }
  absl::string_view name = rest.substr(0, slash);
  absl::string_view version = rest.substr(slash + 1);
  auto bundle = vault.GetSecret(name, version);
  if (!bundle.ok()) {
    return absl::Status(bundle.status().code(),
                        absl::StrCat("read ", secret_url, ": ", bundle.status().message()));
  }
  ASSIGN_OR_RETURN(certs::DecodedCertificate decoded,
                   certs::DecodeCertificateSecret(bundle->value, bundle->meta.content_type));
  ASSIGN_OR_RETURN(certs::Pfx pfx, certs::Pfx::Open(decoded.pfx_der.Reveal(), decoded.password,
                                                    absl::StrCat("the secret at ", secret_url)));
  std::string actual = pfx.Thumbprint();
  if (absl::AsciiStrToUpper(thumbprint) != actual) {
    return absl::FailedPreconditionError(
        absl::StrCat("CertificateThumbprintMismatch: pfxThumbprint is ", thumbprint,
                     " but the PFX at ", secret_url, " has thumbprint ", actual,
                     "; the VM would find no ", thumbprint, ".crt/.prv"));
  }
  RETURN_IF_ERROR(EnsurePrivateDir(out_dir));
  std::string certificate = pfx.LeafCertificatePem();
  for (const auto& pem : pfx.ChainPem()) absl::StrAppend(&certificate, pem);
  RETURN_IF_ERROR(WriteFileAtomic(absl::StrCat(out_dir, "/", actual, ".crt"), certificate, 0644));
  Secret key = pfx.PrivateKeyPem();
  RETURN_IF_ERROR(WriteFileAtomic(absl::StrCat(out_dir, "/", actual, ".prv"), key.Reveal(), 0600));
  return actual;
}

ProvisioningStep MakeCertificateStep(Vault& vault, std::string out_dir, std::string url_parameter,
                                     std::string thumbprint_parameter) {
  return ProvisioningStep{
      "certificate",
      [&vault, out_dir = std::move(out_dir), url_parameter = std::move(url_parameter),
       thumbprint_parameter = std::move(thumbprint_parameter)](
          const DeploymentRequest& request, const std::string& resource_group) -> absl::Status {
        auto url = StringParameter(request, url_parameter);
        auto thumbprint = StringParameter(request, thumbprint_parameter);
        if (absl::IsNotFound(url.status()) && absl::IsNotFound(thumbprint.status())) {
          return absl::OkStatus();
        }
        RETURN_IF_ERROR(url.status());
        RETURN_IF_ERROR(thumbprint.status());
        return WriteCertificateFiles(vault, *url, *thumbprint, out_dir).status();
      }};
}

}  // namespace rotor::local
