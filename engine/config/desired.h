// BuildDesired: Config -> DesiredState, resolving every value source
// (environment, files, commands) and reading the PFX and template files.
// All problems are reported together; nothing is written anywhere.
#ifndef ROTOR_ENGINE_CONFIG_DESIRED_H_
#define ROTOR_ENGINE_CONFIG_DESIRED_H_

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "engine/config/config.h"
#include "engine/config/value_source.h"
#include "engine/model/state.h"

namespace rotor {

// The most deployment.template may hold: ARM refuses a template over 4 MB.
inline constexpr size_t kMaxTemplateBytes = 4 << 20;

absl::StatusOr<DesiredState> BuildDesired(const Config& config, const Environment& env,
                                          absl::Time now);

// The certificate part (certificate.cc): opens the PFX with its password,
// runs the checks, and encodes the Key Vault secret value.
absl::StatusOr<DesiredCertificate> BuildDesiredCertificate(const CertificateConfig& config,
                                                           const Environment& env, absl::Time now);

}  // namespace rotor

#endif  // ROTOR_ENGINE_CONFIG_DESIRED_H_
