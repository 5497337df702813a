// The ACME side of the composition root: [certificate.acme] turned into a
// CertificateIssuer that owns what it needs (its HTTP client trusting the
// CA, the account key store in the registry's vault, the DNS-01 solver on
// the stamp's DNS zone).
#ifndef ROTOR_CLI_ACME_ISSUER_FACTORY_H_
#define ROTOR_CLI_ACME_ISSUER_FACTORY_H_

#include <memory>

#include "absl/status/statusor.h"
#include "cli/providers.h"
#include "engine/config/config.h"
#include "engine/model/certificate_issuer.h"

namespace rotor::cli {

// `providers` must outlive the issuer. Before anything is written, Issue()
// checks that the DNS zone exists: a missing zone is an error naming
// [certificate.acme] dns_zone, and nothing (not even the account key) is
// written.
absl::StatusOr<std::unique_ptr<CertificateIssuer>> MakeAcmeIssuer(const AcmeConfig& acme,
                                                                  Providers& providers,
                                                                  const ProviderOptions& options);

}  // namespace rotor::cli

#endif  // ROTOR_CLI_ACME_ISSUER_FACTORY_H_
