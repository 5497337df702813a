// `rotor verify`: logs in to the live registry (engine/verify.h) with every
// declared user, checks the certificate it serves, and checks that users
// that must be gone are refused.
#ifndef ROTOR_ENGINE_CLI_VERIFY_COMMAND_H_
#define ROTOR_ENGINE_CLI_VERIFY_COMMAND_H_

#include <string>
#include <utility>
#include <vector>

#include "engine/base/secret.h"
#include "engine/cli/commands.h"
#include "engine/config.h"
#include "engine/state.h"
#include "engine/vault.h"

namespace rotor::cli {

struct VerifyOptions {
  CommonOptions common;
  // "NAME=ENV_VAR": NAME must be refused with the password ENV_VAR holds.
  std::vector<std::string> expect_rejected;
};

int VerifyCommand(const VerifyOptions& options, Io& io);

// The verification itself, shared with `rotor apply --verify`: `rejected`
// are users that must now be refused, with the password they had. Prints
// the report (text, or JSON with `json`); returns the exit code.
int VerifyRegistry(const Config& config, const DesiredState& desired, Vault& vault,
                   std::vector<std::pair<std::string, Secret>> rejected, bool json,
                   std::ostream& out, Io& io);

}  // namespace rotor::cli

#endif  // ROTOR_ENGINE_CLI_VERIFY_COMMAND_H_
