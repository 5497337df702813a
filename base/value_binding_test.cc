#include "base/value_binding.h"

#include <doctest/doctest.h>

#include "absl/strings/match.h"

namespace rotor {
namespace {

TEST_CASE("a binding matches its value and key only, and holds neither") {
  auto binding = BindValue("user.admin", Secret("Admin-Pw-1"));
  REQUIRE(binding.ok());
  CHECK(absl::StartsWith(*binding, "$2b$10$"));
  CHECK_FALSE(absl::StrContains(*binding, "Admin-Pw-1"));
  CHECK(MatchesBinding("user.admin", Secret("Admin-Pw-1"), *binding));
  CHECK_FALSE(MatchesBinding("user.admin", Secret("Admin-Pw-2"), *binding));
  CHECK_FALSE(MatchesBinding("user.ci", Secret("Admin-Pw-1"), *binding));
  CHECK_FALSE(MatchesBinding("user.admin", Secret("Admin-Pw-1"), "not a hash"));
  // Fresh salt: the same value binds differently each time.
  CHECK(*BindValue("user.admin", Secret("Admin-Pw-1")) != *binding);
  // Past bcrypt's 72 bytes, a difference still counts.
  const std::string long_value(200, 'x');
  auto long_binding = BindValue("certificate.c", Secret(long_value));
  REQUIRE(long_binding.ok());
  CHECK_FALSE(MatchesBinding("certificate.c", Secret(long_value + "y"), *long_binding));
}

}  // namespace
}  // namespace rotor
