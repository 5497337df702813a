#include "base/bcrypt.h"

#include <crypt.h>
#include <openssl/crypto.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "absl/strings/str_cat.h"
#include "base/files.h"

namespace rotor {
namespace {

// crypt_data holds derived material: wipe it when done.
struct CryptScratch {
  CryptScratch() : data(std::make_unique<crypt_data>()) {
    std::memset(data.get(), 0, sizeof(crypt_data));
  }
  ~CryptScratch() { OPENSSL_cleanse(data.get(), sizeof(crypt_data)); }
  std::unique_ptr<crypt_data> data;
};

}  // namespace

absl::StatusOr<std::string> BcryptHash(absl::string_view password, int cost) {
  if (cost < kMinBcryptCost || cost > kMaxBcryptCost) {
    return absl::InvalidArgumentError(
        absl::StrCat("bcrypt cost ", cost, " is outside ", kMinBcryptCost, "..", kMaxBcryptCost));
  }
  if (password.find('\0') != absl::string_view::npos) {
    return absl::InvalidArgumentError("a bcrypt password cannot contain a NUL byte");
  }
  char salt[CRYPT_GENSALT_OUTPUT_SIZE];
  if (crypt_gensalt_rn("$2b$", static_cast<unsigned long>(cost), nullptr, 0, salt, sizeof salt) ==
      nullptr) {
    return ErrnoToStatus(errno, "crypt_gensalt_rn($2b$)");
  }
  std::string pw(password);
  CryptScratch scratch;
  errno = 0;
  const char* hash = crypt_r(pw.c_str(), salt, scratch.data.get());
  int saved = errno;
  OPENSSL_cleanse(pw.data(), pw.size());
  if (hash == nullptr || hash[0] == '*') {
    return ErrnoToStatus(saved != 0 ? saved : EINVAL, "crypt_r(bcrypt)");
  }
  return std::string(hash);
}

bool BcryptMatches(absl::string_view hash_text, absl::string_view password) {
  std::string hash(hash_text);
  if (hash.empty() || hash[0] != '$' || password.find('\0') != absl::string_view::npos) {
    return false;
  }
  std::string pw(password);
  CryptScratch scratch;
  const char* out = crypt_r(pw.c_str(), hash.c_str(), scratch.data.get());
  OPENSSL_cleanse(pw.data(), pw.size());
  if (out == nullptr || out[0] == '*') return false;
  size_t n = std::strlen(out);
  return n == hash.size() && CRYPTO_memcmp(out, hash.data(), n) == 0;
}

}  // namespace rotor
