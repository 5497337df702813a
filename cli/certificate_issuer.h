// The composition root's one place that turns [certificate.acme] or
// [certificate.issuer] into the CertificateIssuer apply gets its
// certificate from. Only apply asks (and only when its plan issues one):
// a plan never requests anything.
#ifndef ROTOR_CLI_CERTIFICATE_ISSUER_H_
#define ROTOR_CLI_CERTIFICATE_ISSUER_H_

#include <memory>

#include "absl/status/statusor.h"
#include "cli/providers.h"
#include "engine/config/config.h"
#include "engine/model/certificate_issuer.h"
#include "engine/model/plan.h"

namespace rotor::cli {

// The issuer `config`'s [certificate] names; null when it names none (a
// PFX file). `providers` are the command's own (the ACME client keeps its
// account key in their vault).
absl::StatusOr<std::unique_ptr<CertificateIssuer>> MakeCertificateIssuer(
    const Config& config, Providers& providers, const ProviderOptions& options);

// Whether `plan` issues a certificate (a write with PlannedIssuance).
bool PlanIssuesCertificate(const Plan& plan);

}  // namespace rotor::cli

#endif  // ROTOR_CLI_CERTIFICATE_ISSUER_H_
