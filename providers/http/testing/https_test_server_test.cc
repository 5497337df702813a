#include "providers/http/testing/https_test_server.h"

#include <doctest/doctest.h>

#include "providers/http/http_client.h"

namespace rotor::http::testing {
namespace {

TEST_CASE("TestCa issues certificates") {
  auto ca = TestCa::Create();
  REQUIRE(ca.ok());
  CHECK(ca->cert_pem().find("BEGIN CERTIFICATE") != std::string::npos);
  absl::Time now = absl::Now();
  auto cert = ca->Issue({"localhost", "127.0.0.1", "*.vault.localhost"}, now, now + absl::Hours(1));
  REQUIRE(cert.ok());
  CHECK(cert->cert_pem.find("BEGIN CERTIFICATE") != std::string::npos);
  CHECK(cert->key_pem.find("PRIVATE KEY") != std::string::npos);
}

TEST_CASE("HttpsTestServer: handlers, scripts, records") {
  // One CA for two servers, and a wildcard name as the emulator uses.
  auto ca = TestCa::Create();
  REQUIRE(ca.ok());
  HttpsTestServer::Options options;
  options.ca = &*ca;
  options.names = {"localhost", "*.vault.localhost"};
  auto server = HttpsTestServer::Start(options);
  REQUIRE(server.ok());
  HttpsTestServer& s = **server;
  CHECK(s.ca_pem() == ca->cert_pem());
  CHECK(s.base_url() == absl::StrCat("https://localhost:", s.port()));

  s.Handle("*", "/any", [](const HttpsTestServer::Request& r) {
    return Json(200,
                absl::StrCat(r.method, " ", r.Param("a"), " ", r.body, " ", r.Header("X-Test")));
  });
  s.Script("GET", "/script", {Status(201), Status(202)}, Status(204));

  HttpClientOptions client_options;
  client_options.ca_bundle_pem = s.ca_pem();
  auto client = HttpClient::Create(client_options);
  REQUIRE(client.ok());
  HttpRequest put = Put(s.Url("/any?a=1&b=2", "kv.vault.localhost"), Secret("payload"));
  put.headers.push_back({"X-Test", "yes"});
  auto r = (*client)->Send(std::move(put));
  REQUIRE_MESSAGE(r.ok(), r.status().ToString());
  CHECK(r->body == "PUT 1 payload yes");

  for (int expected : {201, 202, 204, 204}) {
    r = (*client)->Send(Get(s.Url("/script")));
    REQUIRE(r.ok());
    CHECK(r->status == expected);
  }
  r = (*client)->Send(Get(s.Url("/nothing")));
  REQUIRE(r.ok());
  CHECK(r->status == 404);
  CHECK(ParseServiceError(r->body).code == "NotFound");

  CHECK(s.RequestCount() == 6);
  CHECK(s.RequestCount("GET", "/script") == 4);
  CHECK(s.RequestCount("*", "/any") == 1);
  auto requests = s.requests();
  REQUIRE(requests.size() == 6);
  CHECK(requests[0].method == "PUT");
  CHECK(requests[0].path == "/any");
  CHECK(requests[0].target == "/any?a=1&b=2");
  CHECK(requests[0].body == "payload");
  CHECK(requests[0].Header("host") == absl::StrCat("kv.vault.localhost:", s.port()));
  // One connection per host name: kv.vault.localhost, then localhost.
  CHECK(s.ConnectionCount() == 2);
}

}  // namespace
}  // namespace rotor::http::testing
