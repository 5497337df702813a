#include "base/secret.h"

#include <doctest/doctest.h>

namespace rotor {
namespace {

TEST_CASE("Secret compares by value and moves out its buffer") {
  Secret a("hunter2");
  CHECK(a.Equals(Secret("hunter2")));
  CHECK_FALSE(a.Equals(Secret("hunter3")));
  CHECK_FALSE(a.Equals(absl::string_view("hunter")));
  CHECK(Secret().Equals(absl::string_view("")));

  Secret b = std::move(a);
  CHECK(b.Reveal() == "hunter2");
  CHECK(a.empty());  // NOLINT(bugprone-use-after-move): moved-from is wiped
  Secret c = b.Clone();
  CHECK(c.Reveal() == b.Reveal());
}

}  // namespace
}  // namespace rotor
