#include "cli/certificate_issuer.h"

#include "cli/acme_issuer_factory.h"
#include "providers/issuer_command/command_issuer.h"

namespace rotor::cli {

absl::StatusOr<std::unique_ptr<CertificateIssuer>> MakeCertificateIssuer(
    const Config& config, Providers& providers, const ProviderOptions& options) {
  if (!config.certificate.has_value()) return nullptr;
  const CertificateConfig& cert = *config.certificate;
  if (cert.issuer.has_value()) {
    issuer_command::CommandIssuerOptions command;
    command.command = cert.issuer->command;
    command.timeout = cert.issuer->timeout;
    command.describe = "[certificate.issuer] command";
    return std::make_unique<issuer_command::CommandIssuer>(std::move(command));
  }
  if (cert.acme.has_value()) {
    return MakeAcmeIssuer(*cert.acme, providers, options);
  }
  return nullptr;
}

bool PlanIssuesCertificate(const Plan& plan) {
  for (const Change& c : plan.changes) {
    if (c.write.has_value() && c.write->issue.has_value()) return true;
  }
  return false;
}

}  // namespace rotor::cli
