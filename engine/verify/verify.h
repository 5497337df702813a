// Verify: does the live registry do what the configuration declares? It
// serves the declared certificate, every declared user logs in, and every
// user that should be gone is refused.
//
// The checks run against a RegistryProbe (providers/registry implements it
// over HTTPS); RunVerify itself is pure bookkeeping, so its cases are unit
// tests.
#ifndef ROTOR_ENGINE_VERIFY_VERIFY_H_
#define ROTOR_ENGINE_VERIFY_VERIFY_H_

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "base/secret.h"
#include "engine/model/deployments.h"
#include "engine/model/registry_probe.h"
#include "engine/model/registry_vm.h"

namespace rotor {

struct ExpectedCertificate {
  std::string thumbprint;
  absl::Time not_after = absl::UnixEpoch();
};

struct VerifyInput {
  std::optional<ExpectedCertificate> certificate;
  // Users that must log in, with their passwords.
  std::vector<std::pair<std::string, Secret>> accepted;
  // Users that must be refused (401), with the password they had.
  std::vector<std::pair<std::string, Secret>> rejected;
};

struct VerifyCheck {
  std::string name;  // "certificate", "user admin", "rejected old"
  bool ok = false;
  std::string detail;
  // The certificate check: what the registry serves (empty when it could
  // not be read) and what the configuration declares.
  // (Every field has an initializer, so {name, ok, detail} leaves the rest
  // without -Wmissing-field-initializers.)
  std::string served_thumbprint{};
  std::optional<absl::Time> served_not_after{};
  std::string declared_thumbprint{};
  std::optional<absl::Time> declared_not_after{};
  // Login checks: the user, the status wanted (200 or 401) and the one
  // answered (0 when no answer came).
  std::string user{};
  int expected_status = 0;
  int status = 0;
};

struct VerifyReport {
  std::string registry_url;
  std::vector<VerifyCheck> checks;
  bool ok() const;
};

VerifyReport RunVerify(const VerifyInput& input, RegistryProbe& probe, absl::Time now);

std::string RenderVerifyText(const VerifyReport& report);
std::string RenderVerifyJson(const VerifyReport& report);

}  // namespace rotor

#endif  // ROTOR_ENGINE_VERIFY_VERIFY_H_
