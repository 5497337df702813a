#include "engine/base/secret.h"

#include <openssl/crypto.h>

namespace rotor {

bool Secret::Equals(absl::string_view other) const {
  if (other.size() != value_.size()) return false;
  if (value_.empty()) return true;
  return CRYPTO_memcmp(value_.data(), other.data(), value_.size()) == 0;
}

bool Secret::Equals(const Secret& other) const {
  return Equals(absl::string_view(other.value_));
}

void Secret::Wipe() {
  // Wipe the whole capacity: a shorter value may have overwritten a longer
  // one in the same buffer.
  if (value_.capacity() > 0) {
    value_.resize(value_.capacity());
    OPENSSL_cleanse(value_.data(), value_.size());
  }
  value_.clear();
}

}  // namespace rotor
