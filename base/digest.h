// Digests rotor records (a config file's, a state fingerprint's).
#ifndef ROTOR_BASE_DIGEST_H_
#define ROTOR_BASE_DIGEST_H_

#include <string>

#include "absl/strings/string_view.h"

namespace rotor {

// SHA-256 of `bytes` as 64 lower-case hex characters (OpenSSL).
std::string Sha256Hex(absl::string_view bytes);

}  // namespace rotor

#endif  // ROTOR_BASE_DIGEST_H_
