// The emulator's token service: AAD v1 (/{tenant}/oauth2/token, resource=),
// AAD v2 (/{tenant}/oauth2/v2.0/token, scope=) and ADFS
// (/adfs/oauth2/token, resource=) client-credentials grants, with a client
// secret (form field or HTTP Basic) or a client assertion (a JWT signed with
// the key of a certificate registered with --client-cert: RS256 with x5t, or
// PS256 with x5t#S256; aud must be the token endpoint's URL, iss and sub the
// client id, exp in the future).
//
// Access tokens are RS256 JWTs signed with the emulator's token key (so they
// stay valid across restarts): aud = the requested resource, exp = now +
// --token-lifetime, appid = the client id, tid = the tenant of the path.
// Only the emulator's Key Vault and ARM audiences can be requested (others
// get AAD's invalid_resource), and Validate() accepts only tokens this key
// signed, unexpired, for the right audience.
//
// Registered clients: with no --client and no --client-cert at all, every
// client id and secret is accepted (a rehearsal convenience); otherwise
// unknown clients get AADSTS700016 and wrong secrets AADSTS7000215.
#ifndef ROTOR_TESTS_EMULATOR_TOKENS_H_
#define ROTOR_TESTS_EMULATOR_TOKENS_H_

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "base/clock.h"
#include "base/secret.h"
#include "tests/emulator/endpoints.h"
#include "tests/emulator/http_types.h"
#include "tests/emulator/jwt.h"
#include "tests/emulator/options.h"

namespace rotor::emulator {

enum class TokenFlavor { kAadV1, kAadV2, kAdfs };

struct TokenCheck {
  enum Outcome { kOk, kMissing, kMalformed, kBadSignature, kExpired, kWrongAudience };
  Outcome outcome = kMissing;
  std::string audience;
  std::string client_id;
  absl::Time expires = absl::InfinitePast();
  bool ok() const { return outcome == kOk; }
};

class TokenService {
 public:
  static absl::StatusOr<std::unique_ptr<TokenService>> Create(
      const Endpoints& endpoints, const std::string& signing_key_path,
      std::vector<ClientSecretOption> clients, const std::vector<ClientCertOption>& certs,
      absl::Duration lifetime, const Clock& clock = RealClock::Get());

  // POST {token endpoint}. `tenant` is the path's tenant ("adfs" for ADFS).
  HttpResponse IssueToken(const HttpRequest& request, TokenFlavor flavor, absl::string_view tenant);

  // Checks an "Authorization: Bearer ..." header against `audiences`
  // (normalised as Endpoints::NormalizeAudience does).
  TokenCheck Validate(absl::string_view authorization,
                      const std::vector<std::string>& audiences) const;

  // Whether `client_id` may sign in with `secret` (what the registry VM's
  // token request does); Unauthenticated with AAD's message otherwise.
  absl::Status CheckClientSecret(absl::string_view client_id, const Secret& secret) const;
  // The registry VM's sign-in: `client_id` with `secret`, for the Key Vault
  // resource the VM derives (Endpoints::VmVaultResource).
  absl::Status CheckVmSignIn(absl::string_view client_id, const Secret& secret) const;

  bool open_registration() const { return secrets_.empty() && certs_.empty(); }
  // /{tenant}/discovery/v2.0/keys
  std::string JwksJson() const;

  int64_t issued() const { return issued_.load(); }
  int64_t refused() const { return refused_.load(); }

 private:
  TokenService(const Endpoints& endpoints, const Clock& clock);

  absl::Status CheckAssertion(const HttpRequest& request, const std::string& client_id,
                              const std::string& assertion, std::string* client_out) const;

  Endpoints endpoints_;
  const Clock& clock_;
  absl::Duration lifetime_;
  std::unique_ptr<JwtSigner> signer_;
  std::map<std::string, Secret> secrets_;  // lower-cased client id
  std::map<std::string, std::vector<std::unique_ptr<ClientCertificate>>> certs_;
  std::atomic<int64_t> issued_{0};
  std::atomic<int64_t> refused_{0};
  // Tokens whose signature was verified already: a client sends the same
  // token on every request, and an RSA verification per request would make
  // the emulator, not the client, the bottleneck of a benchmark. Bounded
  // (cleared when full); expiry and audience are still checked each time.
  mutable std::mutex verified_mu_;
  mutable std::set<std::string> verified_;
};

}  // namespace rotor::emulator

#endif  // ROTOR_TESTS_EMULATOR_TOKENS_H_
