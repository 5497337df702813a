// bcrypt ($2b$, libxcrypt), as htpasswd -B and docker-registry use it: for
// the registry's htpasswd lines and for the bindings of a saved plan.
// bcrypt reads at most 72 bytes of a password.
#ifndef ROTOR_BASE_BCRYPT_H_
#define ROTOR_BASE_BCRYPT_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace rotor {

inline constexpr int kDefaultBcryptCost = 10;
inline constexpr int kMinBcryptCost = 4;
inline constexpr int kMaxBcryptCost = 31;

// "$2b$<cost>$<salt+hash>" for `password` with a fresh random salt;
// InvalidArgument for a cost outside 4..31 or a password with a NUL byte.
absl::StatusOr<std::string> BcryptHash(absl::string_view password, int cost);

// Whether `hash` (a "$2b$..." string) is `password`'s; false on malformed
// hashes. Constant-time comparison.
bool BcryptMatches(absl::string_view hash, absl::string_view password);

}  // namespace rotor

#endif  // ROTOR_BASE_BCRYPT_H_
