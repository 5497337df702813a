#include "cli/acme_issuer_factory.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "cli/arm_dns01_solver.h"
#include "engine/config/value_source.h"
#include "providers/acme/account_key_store.h"
#include "providers/acme/acme_issuer.h"
#include "providers/arm/dns_zone_client.h"

namespace rotor::cli {
namespace {

// The ACME client with everything it references, owned together.
class OwnedAcmeIssuer : public CertificateIssuer {
 public:
  OwnedAcmeIssuer(std::unique_ptr<http::HttpClient> http,
                  std::unique_ptr<acme::VaultAccountKeyStore> store,
                  std::unique_ptr<ArmDns01Solver> solver, acme::AcmeOptions options,
                  std::string zone_key)
      : http_(std::move(http)),
        store_(std::move(store)),
        solver_(std::move(solver)),
        issuer_(*http_, std::move(options), *store_, *solver_, RealClock::Get()),
        zone_key_(std::move(zone_key)) {}

  absl::StatusOr<std::string> Issue(const IssueRequest& request) override {
    // The zone first: the ACME client saves a new account key to the vault
    // before it talks to the CA, and a run that cannot answer the challenge
    // must write nothing.
    if (absl::Status zone = solver_->CheckZone(); !zone.ok()) {
      return absl::Status(zone.code(), absl::StrCat(zone_key_, ": ", zone.message()));
    }
    return issuer_.Issue(request);
  }

 private:
  std::unique_ptr<http::HttpClient> http_;
  std::unique_ptr<acme::VaultAccountKeyStore> store_;
  std::unique_ptr<ArmDns01Solver> solver_;
  acme::AcmeIssuer issuer_;
  std::string zone_key_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<CertificateIssuer>> MakeAcmeIssuer(const AcmeConfig& acme,
                                                                  Providers& providers,
                                                                  const ProviderOptions& options) {
  if (!providers.arm.has_value()) {
    return absl::FailedPreconditionError(
        "[certificate.acme] needs cloud.kind = \"azurestack\" or \"azure\": its DNS-01 answers "
        "are written into an Azure DNS zone through ARM");
  }
  static const ProcessEnvironment kProcessEnvironment;
  const Environment& env = options.env != nullptr ? *options.env : kProcessEnvironment;

  acme::AcmeOptions acme_options;
  acme_options.directory_url = acme.directory;
  acme_options.email = acme.email;
  if (acme.eab_hmac_key.has_value()) {
    ASSIGN_OR_RETURN(Secret hmac_key,
                     ResolveValue(*acme.eab_hmac_key, env, "certificate.acme.eab_hmac_key"));
    acme_options.eab = acme::ExternalAccountBinding{acme.eab_key_id, std::move(hmac_key)};
  }
  if (options.log_sink) {
    acme_options.log = [sink = options.log_sink](http::LogLevel level, absl::string_view message) {
      sink(level == http::LogLevel::kWarning ? "warn" : http::LogLevelName(level), message);
    };
  }

  // The CA's own client: it trusts the system store plus ca_bundle (a
  // private ACME server), not the stamp's CA bundle.
  http::HttpClientOptions http_options;
  http_options.ca_bundle_path = acme.ca_bundle;
  http_options.log = acme_options.log;
  ASSIGN_OR_RETURN(std::unique_ptr<http::HttpClient> http,
                   http::HttpClient::Create(std::move(http_options)));

  arm::DnsZoneOptions zone_options;
  zone_options.arm_endpoint = providers.arm->endpoint;
  zone_options.subscription_id = providers.arm->subscription_id;
  zone_options.resource_group = acme.dns_resource_group;
  zone_options.zone = acme.dns_zone;
  zone_options.api_version = providers.arm->dns_api_version;
  auto zone = arm::ArmDnsZoneClient::Create(providers.arm->sender, std::move(zone_options));
  if (!zone.ok()) {
    return absl::Status(zone.status().code(),
                        absl::StrCat("[certificate.acme]: ", zone.status().message()));
  }
  return std::make_unique<OwnedAcmeIssuer>(
      std::move(http),
      std::make_unique<acme::VaultAccountKeyStore>(*providers.vault, acme.directory),
      std::make_unique<ArmDns01Solver>(*std::move(zone)), std::move(acme_options),
      absl::StrCat("[certificate.acme] dns_zone = \"", acme.dns_zone, "\""));
}

}  // namespace rotor::cli
