// RegistrySignIn: signing in as the registry VM does, to prove before the
// first write that a redeploy's service principal works: client
// credentials at the stamp's login endpoint for the Key Vault resource the
// VM derives (VmKeyVaultResource). providers/auth implements it.
#ifndef ROTOR_ENGINE_MODEL_REGISTRY_SIGN_IN_H_
#define ROTOR_ENGINE_MODEL_REGISTRY_SIGN_IN_H_

#include "absl/status/status.h"
#include "base/secret.h"

namespace rotor {

class RegistrySignIn {
 public:
  virtual ~RegistrySignIn() = default;
  // OK when the login endpoint issues the token; otherwise its error
  // (Unauthenticated for refused credentials, with the endpoint's code, such
  // as AADSTS7000215), never quoting the secret.
  virtual absl::Status SignIn(const Secret& client_id, const Secret& client_secret) = 0;
};

}  // namespace rotor

#endif  // ROTOR_ENGINE_MODEL_REGISTRY_SIGN_IN_H_
