// The registry VM's sign-in, for the preflight of a redeploy
// (engine/model/registry_sign_in.h): the client-credentials grant at the
// stamp's token endpoint as the VM's script builds it ({login}/oauth2/token
// on AD FS, {login}/{tenant}/oauth2/token otherwise; resource=, as AAD v1
// does) for the Key Vault resource the VM derives from the ARM audience.
#ifndef ROTOR_PROVIDERS_AUTH_REGISTRY_SIGN_IN_H_
#define ROTOR_PROVIDERS_AUTH_REGISTRY_SIGN_IN_H_

#include <memory>
#include <string>

#include "base/clock.h"
#include "engine/model/registry_sign_in.h"
#include "providers/auth/cloud.h"
#include "providers/http/http_client.h"

namespace rotor::auth {

class VmRegistrySignIn : public RegistrySignIn {
 public:
  VmRegistrySignIn(std::shared_ptr<http::HttpSender> http, CloudEndpoints endpoints,
                   std::string tenant, const Clock* clock = nullptr);

  // The token endpoint and resource the VM uses.
  std::string TokenEndpoint() const;
  std::string Resource() const;

  // Errors never quote the client id or the secret.
  absl::Status SignIn(const Secret& client_id, const Secret& client_secret) override;

 private:
  std::shared_ptr<http::HttpSender> http_;
  CloudEndpoints endpoints_;
  std::string tenant_;
  const Clock* clock_;
};

}  // namespace rotor::auth

#endif  // ROTOR_PROVIDERS_AUTH_REGISTRY_SIGN_IN_H_
