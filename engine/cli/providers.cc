#include "engine/cli/providers.h"

#include "absl/strings/str_cat.h"
#include "engine/base/status_macros.h"
#include "providers/local/local_deployments.h"
#include "providers/local/local_vault.h"
#include "providers/local/provisioning.h"

namespace rotor::cli {
namespace {

absl::StatusOr<Providers> OpenLocal(const Config& config, const ProviderOptions& options) {
  Providers providers;
  const std::string& state_dir = config.cloud.state_dir;
  RETURN_IF_ERROR(MakeDirs(state_dir));
  if (options.for_writing) {
    ASSIGN_OR_RETURN(FileLock lock, FileLock::Acquire(absl::StrCat(state_dir, "/lock")));
    providers.lock = std::move(lock);
  }
  local::LocalVaultOptions vault_options;
  vault_options.state_dir = state_dir;
  vault_options.name = config.vault.name;
  vault_options.resource_group = config.vault.resource_group;
  vault_options.clock = options.clock;
  ASSIGN_OR_RETURN(std::unique_ptr<local::LocalVault> vault,
                   local::LocalVault::Open(vault_options));
  if (config.deployment.has_value()) {
    local::LocalDeploymentsOptions deployment_options;
    deployment_options.state_dir = state_dir;
    deployment_options.clock = options.clock;
    deployment_options.resource_groups = {config.deployment->resource_group};
    // What the registry VM would build, rendered into the state folder so a
    // user sees the effect of each apply.
    local::LocalRegistryOptions registry;
    registry.registry_dir = absl::StrCat(state_dir, "/registry");
    deployment_options.provisioning_hook = local::MakeLocalRegistryHook(*vault, registry);
    ASSIGN_OR_RETURN(providers.deployments, local::LocalDeployments::Open(deployment_options));
  }
  providers.vault = std::move(vault);
  return providers;
}

}  // namespace

absl::StatusOr<Providers> OpenProviders(const Config& config, const ProviderOptions& options) {
  switch (config.cloud.kind) {
    case CloudKind::kLocal:
      return OpenLocal(config, options);
    case CloudKind::kAzureStack:
    case CloudKind::kAzure:
      break;
  }
  return absl::UnimplementedError(
      "this build of rotor has no Azure HTTP providers yet: only cloud.kind = \"local\" works");
}

}  // namespace rotor::cli
