// Generated passwords: what `{ generate = N }` sources and the ACME/PFX
// passwords rotor makes itself are drawn from.
#ifndef ROTOR_BASE_PASSWORD_H_
#define ROTOR_BASE_PASSWORD_H_

#include "base/secret.h"

namespace rotor {

// Characters of generated passwords: letters, digits and "-._", which need
// no quoting in htpasswd (no ':'), POSIX shells, JSON or URLs.
inline constexpr char kPasswordAlphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._";

// A random password of `length` characters from kPasswordAlphabet (OpenSSL
// RAND_bytes, rejection sampling so every character is equally likely),
// with at least one upper-case letter, lower-case letter, digit and symbol
// when length >= 4. `length` below 1 is treated as 1. Aborts if the
// OpenSSL generator fails (nothing sensible can continue without it).
Secret GeneratePassword(int length);

}  // namespace rotor

#endif  // ROTOR_BASE_PASSWORD_H_
