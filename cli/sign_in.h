// From the config to the auth provider's plain options: [cloud] as
// auth::CloudOptions, and [auth] with its value sources resolved (and, for
// method = "environment", the AZURE_CLIENT_* variables read) as
// auth::SignInOptions. The auth provider never sees the config.
#ifndef ROTOR_CLI_SIGN_IN_H_
#define ROTOR_CLI_SIGN_IN_H_

#include "absl/status/statusor.h"
#include "engine/config/config.h"
#include "engine/config/value_source.h"
#include "providers/auth/cloud.h"
#include "providers/auth/credentials.h"

namespace rotor::cli {

auth::CloudOptions CloudOptionsFrom(const CloudConfig& cloud);

// Errors name the key or the variable, never a value:
//  - client_secret: auth.client_secret is required, and resolved;
//  - client_certificate: the password source, when given, is resolved;
//  - environment: AZURE_CLIENT_ID, then AZURE_CLIENT_SECRET or
//    AZURE_CLIENT_CERTIFICATE_PATH (with AZURE_CLIENT_CERTIFICATE_PASSWORD).
absl::StatusOr<auth::SignInOptions> ResolveSignIn(const AuthConfig& auth, const Environment& env);

}  // namespace rotor::cli

#endif  // ROTOR_CLI_SIGN_IN_H_
