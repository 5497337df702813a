#include "providers/http/trust_store.h"

#include <doctest/doctest.h>

#include "absl/strings/match.h"
#include "providers/http/testing/https_test_server.h"
#include "tests/support/testing.h"

namespace rotor::http {
namespace {

// Whether a server is then trusted is tested through HttpClient
// (http_client_test.cc); these are the store's own rules.

TEST_CASE("TrustStore: configured CAs join the system store, or replace it") {
  auto ca = testing::TestCa::Create();
  REQUIRE(ca.ok());
  rotor::testing::TempDir dir;
  std::string path = dir.Write("ca.pem", ca->cert_pem());

  auto joined = TrustStore::Load(path, "", true);
  REQUIRE_MESSAGE(joined.ok(), joined.status().ToString());
  CHECK(joined->has_extra_anchors());
  CHECK(joined->exclusive_pem().empty());

  auto alone = TrustStore::Load(path, ca->cert_pem(), false);
  REQUIRE_MESSAGE(alone.ok(), alone.status().ToString());
  CHECK(absl::StrContains(alone->exclusive_pem(), ca->cert_pem()));

  auto system = TrustStore::Load("", "", true);
  REQUIRE(system.ok());
  CHECK_FALSE(system->has_extra_anchors());
}

TEST_CASE("TrustStore: unreadable, empty or missing bundles are refused") {
  rotor::testing::TempDir dir;
  auto missing = TrustStore::Load(dir.Path("nope.pem"), "", true);
  REQUIRE_FALSE(missing.ok());
  CHECK(absl::StartsWith(missing.status().message(), "CA bundle: "));
  CHECK(absl::StrContains(missing.status().message(), "nope.pem"));

  auto garbage = TrustStore::Load("", "not a certificate", true);
  CHECK(garbage.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(garbage.status().message() == "ca_bundle_pem: no PEM certificate found");

  CHECK(TrustStore::Load("", "", false).status().code() == absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace rotor::http
