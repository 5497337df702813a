#include "base/value_binding.h"

#include "absl/strings/str_cat.h"
#include "base/bcrypt.h"
#include "base/digest.h"

namespace rotor {
namespace {

// What bcrypt hashes: 64 hex characters, under its 72-byte limit.
std::string Prehash(absl::string_view key, const Secret& value) {
  std::string input = absl::StrCat("rotor plan binding\n", key, "\n", value.Reveal());
  std::string digest = Sha256Hex(input);
  WipeString(input);
  return digest;
}

}  // namespace

absl::StatusOr<std::string> BindValue(absl::string_view key, const Secret& value) {
  std::string prehash = Prehash(key, value);
  absl::StatusOr<std::string> hash = BcryptHash(prehash, kDefaultBcryptCost);
  WipeString(prehash);
  return hash;
}

bool MatchesBinding(absl::string_view key, const Secret& value, absl::string_view binding) {
  std::string prehash = Prehash(key, value);
  const bool match = BcryptMatches(binding, prehash);
  WipeString(prehash);
  return match;
}

}  // namespace rotor
