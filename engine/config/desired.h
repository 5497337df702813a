// BuildDesired: Config -> DesiredState, resolving every value source
// (environment, files, commands) and reading the PFX and template files.
// All problems are reported together; nothing is written anywhere.
#ifndef ROTOR_ENGINE_CONFIG_DESIRED_H_
#define ROTOR_ENGINE_CONFIG_DESIRED_H_

#include <optional>
#include <string>
#include <vector>

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

// What `rotor validate` checks, offline and without any secret value: the
// files BuildDesired reads that hold none (the PFX, the template), the
// template, the pairs of keys that go together, and the certificate checks
// when the PFX password's source gives a value. No other value source is
// resolved. Problems are InvalidArgument, every one at once, as
// BuildDesired's.
struct OfflineCertificate {
  std::string pfx_path;
  std::vector<CheckLine> checks;  // empty when skipped
  bool has_errors = false;        // a check is ERROR
  // When the password could not be read: the checks not run (each opens
  // the PFX with its password), and why (the password source's error).
  std::vector<std::string> skipped;
  std::string skipped_reason;
};
struct OfflineValidation {
  std::optional<OfflineCertificate> certificate;
};
absl::StatusOr<OfflineValidation> ValidateOffline(const Config& config, const Environment& env,
                                                  absl::Time now);

// The certificate part of ValidateOffline (desired_certificate.cc): reads
// the PFX; opens and checks it when the password can be read.
absl::StatusOr<OfflineCertificate> ValidateCertificateOffline(const CertificateConfig& config,
                                                              const Environment& env,
                                                              absl::Time now);

// The certificate checks that open the PFX, in order (certs/checks.h), for
// `config` ("CA Trust" only with a ca_bundle).
std::vector<std::string> CertificateCheckNames(const CertificateConfig& config);

}  // namespace rotor

#endif  // ROTOR_ENGINE_CONFIG_DESIRED_H_
