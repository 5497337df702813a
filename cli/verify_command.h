// `rotor verify`: logs in to the live registry (engine/verify/verify.h) with every
// declared user, checks the certificate it serves, and checks that users
// that must be gone are refused.
#ifndef ROTOR_CLI_VERIFY_COMMAND_H_
#define ROTOR_CLI_VERIFY_COMMAND_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "base/secret.h"
#include "cli/commands.h"
#include "engine/config/config.h"
#include "engine/model/deployments.h"
#include "engine/model/state.h"
#include "engine/model/vault.h"
#include "engine/verify/verify.h"

namespace rotor::cli {

struct VerifyOptions {
  CommonOptions common;
  // "NAME=ENV_VAR": NAME must be refused with the password ENV_VAR holds.
  std::vector<std::string> expect_rejected;
};

int VerifyCommand(const VerifyOptions& options, Io& io);

struct VerifyRun {
  // Users that must now be refused, with the password they had.
  std::vector<std::pair<std::string, Secret>> rejected;
  bool json = false;
  // Right after a redeploy the registry restarts: wait up to this long for
  // it to answer at all before checking (zero: check at once).
  absl::Duration wait_for_registry = absl::ZeroDuration();
  // When set, receives the report (for --metrics-file).
  VerifyReport* report = nullptr;
};

// How long `rotor apply --verify` waits for a redeployed registry.
inline constexpr absl::Duration kRegistryRestartWait = absl::Seconds(120);

// The registry's base URL: `[registry] url`, else derived from the
// deployment the registry runs (RegistryUrlFromDeployment, engine/verify/verify.h):
// the configured [deployment] name, or the most recent successful one.
absl::StatusOr<std::string> ResolveRegistryUrl(const Config& config,
                                               DeploymentService* deployments);

// The verification itself, shared with `rotor apply --verify`. Prints the
// report (text, or JSON with `run.json`); returns the exit code.
int VerifyRegistry(const Config& config, const DesiredState& desired, Vault& vault,
                   DeploymentService* deployments, VerifyRun run, std::ostream& out, Io& io);

}  // namespace rotor::cli

#endif  // ROTOR_CLI_VERIFY_COMMAND_H_
