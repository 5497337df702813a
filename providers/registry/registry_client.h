// RegistryClient: the engine's RegistryProbe (engine/verify/verify.h) over HTTPS,
// speaking the Docker registry HTTP API v2's one endpoint that needs no
// repository: `GET /v2/` with Basic credentials.
#ifndef ROTOR_PROVIDERS_REGISTRY_REGISTRY_CLIENT_H_
#define ROTOR_PROVIDERS_REGISTRY_REGISTRY_CLIENT_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "engine/model/registry_probe.h"

namespace rotor::registry {

struct RegistryClientOptions {
  std::string url;             // "https://myreg.example:443"; a path is ignored
  std::string ca_bundle_path;  // trusted in addition to the system store
  absl::Duration timeout = absl::Seconds(30);
  bool allow_insecure_loopback = false;
};

absl::StatusOr<std::unique_ptr<RegistryProbe>> MakeRegistryClient(
    const RegistryClientOptions& options);

}  // namespace rotor::registry

#endif  // ROTOR_PROVIDERS_REGISTRY_REGISTRY_CLIENT_H_
