// libFuzzer target: what the sign-in path reads from servers
// (providers/auth): token endpoint answers, Azure Stack Hub's
// /metadata/endpoints and the WWW-Authenticate challenge of a 401.
#include <cstddef>
#include <cstdint>

#include "absl/time/time.h"
#include "providers/auth/cloud.h"
#include "providers/auth/token.h"
#include "tests/fuzz/inert.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::string_view body(reinterpret_cast<const char*>(data), size);
  using namespace rotor::auth;
  rotor::fuzz::ExpectInertError(ParseTokenResponse(body, absl::FromUnixSeconds(1700000000)));
  rotor::fuzz::ExpectInertError(ParseMetadataEndpoints(body));
  if (auto challenge = ParseBearerChallenge(body); challenge.has_value()) {
    (void)ScopeForAudience(challenge->Audience());
  }
  return 0;
}
