#include "base/secret.h"

#include <openssl/crypto.h>

#include <algorithm>

namespace rotor {

bool Secret::Equals(absl::string_view other) const {
  if (other.size() != value_.size()) return false;
  if (value_.empty()) return true;
  return CRYPTO_memcmp(value_.data(), other.data(), value_.size()) == 0;
}

bool Secret::Equals(const Secret& other) const { return Equals(absl::string_view(other.value_)); }

void WipeString(std::string& s) {
  if (s.capacity() > 0) {
    s.resize(s.capacity());
    OPENSSL_cleanse(s.data(), s.size());
  }
  s.clear();
}

void AppendWiped(std::string& s, absl::string_view more) {
  if (s.size() + more.size() > s.capacity()) {
    std::string larger;
    larger.reserve(std::max(s.size() + more.size(), 2 * s.capacity()));
    larger.append(s);
    WipeString(s);
    s.swap(larger);
  }
  s.append(more.data(), more.size());
}

void Secret::Wipe() { WipeString(value_); }

}  // namespace rotor
