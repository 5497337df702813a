#include "providers/registry/registry_client.h"

#include <doctest/doctest.h>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "certs/pfx.h"
#include "engine/model/plan.h"
#include "engine/verify/verify.h"
#include "providers/http/testing/https_test_server.h"
#include "tests/support/testing.h"

namespace rotor::registry {
namespace {

using http::testing::HttpsTestServer;

// A registry's /v2/ with one htpasswd user, as docker-registry answers it.
std::unique_ptr<HttpsTestServer> FakeRegistry() {
  auto server = HttpsTestServer::Start({});
  REQUIRE(server.ok());
  (*server)->Handle("GET", "/v2/", [](const HttpsTestServer::Request& r) {
    HttpsTestServer::Response answer;
    if (r.Header("Authorization") == "Basic " + absl::Base64Escape("admin:right-password")) {
      answer.status = 200;
      answer.body = "{}";
    } else {
      answer.status = 401;
      answer.headers = {{"WWW-Authenticate", "Basic realm=\"Registry Realm\""}};
    }
    return answer;
  });
  return *std::move(server);
}

TEST_CASE("verify against a registry: certificate, accepted and refused logins") {
  auto server = FakeRegistry();
  testing::TempDir dir;
  RegistryClientOptions options;
  options.url = server->Url("/");
  options.ca_bundle_path = dir.Write("ca.pem", server->ca_pem());
  auto probe = MakeRegistryClient(options);
  REQUIRE(probe.ok());

  std::string served = *certs::ThumbprintOfPem(server->cert_pem(), "server");
  VerifyInput input;
  input.certificate = ExpectedCertificate{served, absl::FromUnixSeconds(1900000000)};
  input.accepted.emplace_back("admin", Secret("right-password"));
  input.rejected.emplace_back("old", Secret("old-password"));
  VerifyReport report = RunVerify(input, **probe, absl::Now());
  CHECK(report.ok());
  REQUIRE(report.checks.size() == 3);
  // The served certificate's own expiry (the declared one differs here).
  absl::Time served_until = *certs::NotAfterOfPem(server->cert_pem(), "server");
  CHECK(report.checks[0].detail ==
        absl::StrCat("serves ", served, ", valid until ", FormatPlanTime(served_until)));
  CHECK(report.checks[0].served_thumbprint == served);
  CHECK(report.checks[0].served_not_after == served_until);
  CHECK(report.checks[0].declared_not_after == absl::FromUnixSeconds(1900000000));
  CHECK(report.checks[1].user == "admin");
  CHECK(report.checks[1].expected_status == 200);
  CHECK(report.checks[1].status == 200);
  CHECK(report.checks[2].expected_status == 401);
  std::string json = RenderVerifyJson(report);
  CHECK(absl::StrContains(json, absl::StrCat("\"served\": {\n        \"thumbprint\": \"", served)));
  CHECK(absl::StrContains(json, "\"not_after\": \"2030-03-17T17:46:40Z\""));
  CHECK(absl::StrContains(json, "\"expected_status\": 401"));
  CHECK(report.checks[1].detail == "GET /v2/ -> 200");
  CHECK(report.checks[2].detail == "GET /v2/ -> 401");

  VerifyInput wrong;
  wrong.certificate = ExpectedCertificate{std::string(40, 'A'), absl::UnixEpoch()};
  wrong.accepted.emplace_back("admin", Secret("wrong-password"));
  wrong.rejected.emplace_back("admin", Secret("right-password"));
  VerifyReport bad = RunVerify(wrong, **probe, absl::Now());
  CHECK_FALSE(bad.ok());
  for (const auto& c : bad.checks) CHECK_FALSE(c.ok);
  CHECK(bad.checks[2].detail ==
        "GET /v2/ -> 200 (expected 401): the deleted user can still log in; redeploy the registry");
  CHECK(
      absl::StartsWith(bad.checks[0].detail,
                       absl::StrCat("serves ", served, ", but the declared certificate is ",
                                    std::string(40, 'A'), " (a redeploy has not happened yet?)")));
  std::string text = RenderVerifyText(bad);
  CHECK(absl::StrContains(text, "3 of 3 checks failed."));
  CHECK_FALSE(absl::StrContains(text, "right-password"));
  CHECK(absl::StrContains(RenderVerifyJson(bad), "\"ok\": false"));
}

TEST_CASE("an untrusted registry certificate is a failed certificate check") {
  auto server = FakeRegistry();
  RegistryClientOptions options;
  options.url = server->Url("/");
  auto probe = MakeRegistryClient(options);
  REQUIRE(probe.ok());
  VerifyInput input;
  input.certificate = ExpectedCertificate{"AA", absl::UnixEpoch()};
  VerifyReport report = RunVerify(input, **probe, absl::Now());
  REQUIRE(report.checks.size() == 1);
  CHECK_FALSE(report.checks[0].ok);
  CHECK(absl::StrContains(report.checks[0].detail, "the server certificate is not trusted"));
}

}  // namespace
}  // namespace rotor::registry
