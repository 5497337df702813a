#include "base/password.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/string_view.h"

namespace rotor {

Secret GeneratePassword(int length) {
  constexpr absl::string_view kAlphabet(kPasswordAlphabet, sizeof(kPasswordAlphabet) - 1);
  constexpr unsigned kLimit = 256 - 256 % kAlphabet.size();  // rejection bound
  if (length < 1) length = 1;
  std::string password(static_cast<size_t>(length), '\0');
  unsigned char random[64];
  for (;;) {
    size_t filled = 0;
    while (filled < password.size()) {
      if (RAND_bytes(random, sizeof random) != 1) {
        std::fputs("rotor: OpenSSL RAND_bytes failed; cannot generate a password\n", stderr);
        std::abort();
      }
      for (unsigned char byte : random) {
        if (byte >= kLimit) continue;
        password[filled++] = kAlphabet[byte % kAlphabet.size()];
        if (filled == password.size()) break;
      }
    }
    OPENSSL_cleanse(random, sizeof random);
    if (length < 4) break;
    bool upper = false, lower = false, digit = false, symbol = false;
    for (char c : password) {
      upper |= absl::ascii_isupper(static_cast<unsigned char>(c));
      lower |= absl::ascii_islower(static_cast<unsigned char>(c));
      digit |= absl::ascii_isdigit(static_cast<unsigned char>(c));
      symbol |= !absl::ascii_isalnum(static_cast<unsigned char>(c));
    }
    // Redrawing the whole password (rather than patching one character)
    // keeps every acceptable password equally likely.
    if (upper && lower && digit && symbol) break;
  }
  Secret secret{std::string(password.data(), password.size())};
  WipeString(password);
  return secret;
}

}  // namespace rotor
