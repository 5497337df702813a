#include "providers/auth/registry_sign_in.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "base/status_context.h"
#include "engine/model/registry_vm.h"
#include "providers/auth/credentials.h"

namespace rotor::auth {

VmRegistrySignIn::VmRegistrySignIn(std::shared_ptr<http::HttpSender> http, CloudEndpoints endpoints,
                                   std::string tenant, const Clock* clock)
    : http_(std::move(http)),
      endpoints_(std::move(endpoints)),
      tenant_(std::move(tenant)),
      clock_(clock) {}

std::string VmRegistrySignIn::TokenEndpoint() const {
  return endpoints_.adfs ? absl::StrCat(endpoints_.login_endpoint, "/oauth2/token")
                         : absl::StrCat(endpoints_.login_endpoint, "/", tenant_, "/oauth2/token");
}

std::string VmRegistrySignIn::Resource() const {
  return VmKeyVaultResource(endpoints_.management_audience);
}

absl::Status VmRegistrySignIn::SignIn(const Secret& client_id, const Secret& client_secret) {
  ServicePrincipalCredential::Options options;
  options.token_endpoint = TokenEndpoint();
  options.protocol = endpoints_.adfs ? TokenProtocol::kAdfs : TokenProtocol::kAadV1;
  options.client_id = std::string(client_id.Reveal());
  options.client_secret = client_secret.Clone();
  options.clock = clock_;
  ServicePrincipalCredential credential(http_, std::move(options));
  absl::StatusOr<AccessToken> token = credential.FetchToken(Resource());
  if (token.ok()) return absl::OkStatus();
  // The id is a securestring of the template: keep it out of messages.
  std::string message(token.status().message());
  if (!client_id.empty()) {
    message = absl::StrReplaceAll(message, {{client_id.Reveal(), "(the client id)"}});
  }
  return WithMessage(token.status(), absl::StrCat("token for ", Resource(), " at ", TokenEndpoint(),
                                                  ": ", message));
}

}  // namespace rotor::auth
