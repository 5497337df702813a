#include "base/loopback.h"

#include <doctest/doctest.h>

namespace rotor {
namespace {

TEST_CASE("IsLoopbackHost: names and addresses of this machine only") {
  for (const char* host : {"localhost", "LOCALHOST", "management.localhost", "kv.vault.localhost",
                           "127.0.0.1", "127.1.2.3", "[::1]", "::1"}) {
    CAPTURE(host);
    CHECK(IsLoopbackHost(host));
  }
  for (const char* host : {"127.0.0.1.nip.io", "localhost.example", "128.0.0.1", "10.0.0.1",
                           "example.com", "", "127", "[::2]", "localhostx"}) {
    CAPTURE(host);
    CHECK_FALSE(IsLoopbackHost(host));
  }
}

}  // namespace
}  // namespace rotor
