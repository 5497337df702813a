// RegistryProbe: the engine's view of the live registry, for verify
// (providers/registry implements it over HTTPS; tests use fakes).
#ifndef ROTOR_ENGINE_MODEL_REGISTRY_PROBE_H_
#define ROTOR_ENGINE_MODEL_REGISTRY_PROBE_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "base/secret.h"

namespace rotor {

class RegistryProbe {
 public:
  virtual ~RegistryProbe() = default;
  virtual const std::string& url() const = 0;
  // The leaf certificate the registry serves, as PEM.
  virtual absl::StatusOr<std::string> ServedCertificatePem() = 0;
  // The HTTP status of `GET /v2/` with Basic credentials (200 accepted,
  // 401 refused).
  virtual absl::StatusOr<int> Login(absl::string_view user, const Secret& password) = 0;
};

}  // namespace rotor

#endif  // ROTOR_ENGINE_MODEL_REGISTRY_PROBE_H_
