// Access tokens: the token endpoint's answer, the credential interface that
// fetches them, and the Bearer challenge a 401 carries.
#ifndef ROTOR_PROVIDERS_AUTH_TOKEN_H_
#define ROTOR_PROVIDERS_AUTH_TOKEN_H_

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "base/secret.h"

namespace rotor::auth {

struct AccessToken {
  Secret token;
  absl::Time expires_on = absl::InfinitePast();
};

// When a token response carries neither expires_in nor expires_on.
inline constexpr absl::Duration kDefaultTokenLifetime = absl::Minutes(5);
// The longest a token is trusted, whatever its response says (AAD and AD FS
// tokens live an hour or so; a larger figure is garbage, and an absurd one
// must not overflow the time arithmetic).
inline constexpr absl::Duration kMaxTokenLifetime = absl::Hours(24);

// The most a token endpoint's answer may hold: a token is a JWT of a few
// KiB (AAD caps group claims so that it fits an HTTP header).
inline constexpr size_t kMaxTokenAnswerBytes = 1 << 20;

// Parses a token endpoint's 200 body (AAD v1/v2, AD FS, IMDS):
// access_token (required), token_type (Bearer when present), expires_in and
// expires_on as JSON numbers or strings. expires_in (relative, so immune to
// clock skew between us and the server) wins over expires_on (absolute Unix
// seconds); with neither the token is treated as valid for
// kDefaultTokenLifetime; never for more than kMaxTokenLifetime. `now` is the time the request was
// sent. A known field of another type (expires_in as an object, or a
// string that is not a number) is InvalidArgument naming the field.
absl::StatusOr<AccessToken> ParseTokenResponse(absl::string_view body, absl::Time now);

// Fetches tokens for an audience (a resource / App ID URI such as
// "https://vault.azure.net"). Implementations are thread-safe.
class TokenCredential {
 public:
  virtual ~TokenCredential() = default;
  virtual absl::StatusOr<AccessToken> FetchToken(absl::string_view audience) = 0;
  // "client secret of app 1111... at https://login.../oauth2/token" (no secret).
  virtual std::string Describe() const = 0;
};

// A `WWW-Authenticate: Bearer ...` challenge (Key Vault's 401). Accepts the
// variants seen in the wild: parameters separated by commas or spaces,
// quoted or bare values, any order, extra parameters.
struct BearerChallenge {
  std::string authorization;  // authorization= or authorization_uri=
  std::string resource;
  std::string scope;
  std::string tenant;  // first path segment of `authorization`, if any

  // The audience to ask a token for: `scope` without its "/.default" when
  // present, else `resource`; "" when neither.
  std::string Audience() const;
};
// nullopt when the header is not a Bearer challenge.
std::optional<BearerChallenge> ParseBearerChallenge(absl::string_view www_authenticate);

// The v2 scope for an audience: "{audience without trailing '/'}/.default".
std::string ScopeForAudience(absl::string_view audience);

}  // namespace rotor::auth

#endif  // ROTOR_PROVIDERS_AUTH_TOKEN_H_
