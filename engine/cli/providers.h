// Opens the providers a config names: the embedded local vault and
// deployments for cloud.kind = "local", the Azure HTTP providers otherwise.
#ifndef ROTOR_ENGINE_CLI_PROVIDERS_H_
#define ROTOR_ENGINE_CLI_PROVIDERS_H_

#include <memory>
#include <optional>

#include "absl/status/statusor.h"
#include "engine/base/clock.h"
#include "engine/base/files.h"
#include "engine/config.h"
#include "engine/deployments.h"
#include "engine/vault.h"

namespace rotor::cli {

struct Providers {
  std::unique_ptr<Vault> vault;
  std::unique_ptr<DeploymentService> deployments;  // null without [deployment]
  // Held for the whole command when it may write: a second rotor on the
  // same state refuses instead of interleaving.
  std::optional<FileLock> lock;
};

struct ProviderOptions {
  bool for_writing = false;  // take the lock
  const Clock* clock = &RealClock::Get();
};

absl::StatusOr<Providers> OpenProviders(const Config& config, const ProviderOptions& options);

}  // namespace rotor::cli

#endif  // ROTOR_ENGINE_CLI_PROVIDERS_H_
