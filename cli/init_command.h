// `rotor init`: adopt a live registry, like `terraform import` without a
// state file. Reads the vault's user secrets (content type "user
// credentials", or tagged rotor-role = user), the certificate secret (the
// one the deployment's pfxKeyVaultSecretUrl names) and the deployment
// (--deployment, default the latest), and writes a configuration that
// reproduces them:
//   - every secret as an { env = ... } reference: REGISTRY_USER_<NAME>_
//     PASSWORD for each user (upper case, '-' -> '_'), REGISTRY_PFX_PASSWORD
//     for the PFX, REGISTRY_SPN_CLIENT_SECRET for the deployment's
//     servicePrincipalClientSecret; the names are listed in comments at the
//     top of the file and printed;
//   - the PFX the vault holds (the PKCS#12 bytes inside the secret, still
//     encrypted with its own password) written to SECRET_NAME.pfx beside the
//     configuration, mode 0600, so the thumbprints match;
//   - [cloud] and [auth] from the flags (named like their keys; the client
//     secret from AZURE_CLIENT_SECRET) or from an existing configuration.
// Neither file is overwritten, and no secret value is printed or written
// into the configuration: once the variables hold the current values,
// `rotor plan` right after says "No changes.".
#ifndef ROTOR_CLI_INIT_COMMAND_H_
#define ROTOR_CLI_INIT_COMMAND_H_

#include <string>

#include "cli/cli.h"
#include "cli/commands.h"

namespace rotor::cli {

struct InitOptions {
  CommonOptions common;  // output and log settings
  std::string existing;  // -c: take [cloud] and [auth] from this config
  std::string vault;
  std::string resource_group;
  std::string deployment = "latest";
  std::string out;  // -o
  // [cloud] / [auth] flags.
  std::string kind;  // azurestack (default), azure, local
  std::string arm_endpoint;
  std::string tenant_id;
  std::string subscription_id;
  std::string ca_bundle;
  std::string profile;
  std::string client_id;
  // [registry] (over -c's).
  std::string registry_url;
  std::string registry_ca_bundle;
};

int InitCommand(const InitOptions& options, Io& io);

// The variable init names for a user's password: "admin" ->
// REGISTRY_USER_ADMIN_PASSWORD, "ci-bot" -> REGISTRY_USER_CI_BOT_PASSWORD.
std::string UserPasswordVariable(absl::string_view user);

}  // namespace rotor::cli

#endif  // ROTOR_CLI_INIT_COMMAND_H_
