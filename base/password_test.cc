#include "base/password.h"

#include <doctest/doctest.h>

#include <map>
#include <set>
#include <string>

namespace rotor {
namespace {

TEST_CASE("GeneratePassword: length, alphabet, every class, fresh each time") {
  const std::string alphabet = kPasswordAlphabet;
  std::set<std::string> seen;
  for (int length : {16, 17, 32, 64, 255}) {
    for (int round = 0; round < 20; ++round) {
      Secret password = GeneratePassword(length);
      const std::string value(password.Reveal());
      REQUIRE(value.size() == static_cast<size_t>(length));
      bool upper = false, lower = false, digit = false, symbol = false;
      for (char c : value) {
        CHECK(alphabet.find(c) != std::string::npos);
        upper |= c >= 'A' && c <= 'Z';
        lower |= c >= 'a' && c <= 'z';
        digit |= c >= '0' && c <= '9';
        symbol |= c == '-' || c == '.' || c == '_';
      }
      CHECK(upper);
      CHECK(lower);
      CHECK(digit);
      CHECK(symbol);
      CHECK(seen.insert(value).second);
    }
  }
  CHECK(alphabet.find(':') == std::string::npos);
  CHECK(alphabet.size() == 65);
  CHECK(GeneratePassword(0).size() == 1);
}

TEST_CASE("GeneratePassword: characters are roughly uniform") {
  // 65 symbols, 65,000 draws: each expected 1000 times; a modulo bias
  // (256 % 65 = 61 favoured symbols) would push those to about 1270.
  std::map<char, int> counts;
  for (int i = 0; i < 260; ++i) {
    Secret password = GeneratePassword(250);
    for (char c : password.Reveal()) ++counts[c];
  }
  CHECK(counts.size() == 65);
  for (const auto& [symbol, n] : counts) {
    // A copy: clang 14 cannot capture a structured binding (CAPTURE does).
    const char c = symbol;
    CAPTURE(c);
    CHECK(n > 800);
    CHECK(n < 1200);
  }
}

}  // namespace
}  // namespace rotor
