// The bearer layer against a loopback HTTPS server playing Key Vault / ARM
// and the token endpoint: challenge discovery, refresh once on 401.
#include "providers/auth/bearer_sender.h"

#include <doctest/doctest.h>

#include <atomic>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "providers/http/testing/https_test_server.h"

namespace rotor::auth {
namespace {

using http::testing::HttpsTestServer;
using http::testing::Json;
using Answer = HttpsTestServer::Response;

// Issues "tok-N" tokens for whatever audience is asked.
class ServerCredential : public TokenCredential {
 public:
  absl::StatusOr<AccessToken> FetchToken(absl::string_view audience) override {
    std::lock_guard<std::mutex> lock(mu);
    audiences.push_back(std::string(audience));
    return AccessToken{Secret(absl::StrCat("tok-", audiences.size())),
                       absl::Now() + absl::Hours(1)};
  }
  std::string Describe() const override { return "test"; }
  std::mutex mu;
  std::vector<std::string> audiences;
};

struct Fixture {
  Fixture() {
    HttpsTestServer::Options options;
    options.names = {"localhost", "*.vault.localhost", "management.localhost"};
    server = *HttpsTestServer::Start(options);
    http::HttpClientOptions client_options;
    client_options.ca_bundle_pem = server->ca_pem();
    client_options.time_scale = 0.001;
    client = std::shared_ptr<http::HttpClient>(*http::HttpClient::Create(client_options));
    credential = std::make_shared<ServerCredential>();
    tokens = std::make_shared<TokenCache>(credential);
  }
  std::string VaultResource() const {
    return absl::StrCat("https://vault.localhost:", server->port());
  }
  std::unique_ptr<HttpsTestServer> server;
  std::shared_ptr<http::HttpClient> client;
  std::shared_ptr<ServerCredential> credential;
  std::shared_ptr<TokenCache> tokens;
};

// A Key Vault that wants a token for `resource` and accepts `valid` tokens.
HttpsTestServer::Handler VaultHandler(const std::string& resource,
                                      std::function<bool(const std::string&)> valid,
                                      std::atomic<int>* unauthorized) {
  return [=](const HttpsTestServer::Request& r) {
    std::string auth = r.Header("Authorization");
    if (!absl::StartsWith(auth, "Bearer ") || !valid(auth.substr(7))) {
      ++*unauthorized;
      Answer a = Json(
          401,
          R"({"error":{"code":"Unauthorized","message":"AKV10000: Request is missing a Bearer or PoP token."}})");
      a.headers.push_back(
          {"WWW-Authenticate",
           absl::StrCat("Bearer authorization=\"https://login.localhost/t\", resource=\"", resource,
                        "\"")});
      return a;
    }
    return Json(200, absl::StrCat(R"({"value":[],"auth":")", auth.substr(7), R"("})"));
  };
}

TEST_CASE("challenge mode: the first request learns the audience, then carries a token") {
  Fixture f;
  std::atomic<int> unauthorized{0};
  f.server->Handle("*", "/secrets",
                   VaultHandler(
                       f.VaultResource(), [](const std::string&) { return true; }, &unauthorized));
  BearerSender::Options o;
  o.fallback_audience = "https://fallback.invalid";
  o.service = "Key Vault kv";
  BearerSender sender(f.client, f.tokens, o);
  auto r = sender.Send(
      http::Get(f.server->Url("/secrets?api-version=2016-10-01", "kv.vault.localhost")));
  REQUIRE_MESSAGE(r.ok(), r.status().ToString());
  CHECK(r->status == 200);
  CHECK(unauthorized == 1);
  CHECK(sender.audience() == f.VaultResource());
  REQUIRE(f.credential->audiences.size() == 1);
  CHECK(f.credential->audiences[0] == f.VaultResource());

  // The probe went without a token and without a body.
  auto reqs = f.server->requests();
  CHECK(reqs[0].Header("Authorization").empty());

  // Later requests, concurrent ones included, reuse audience and token.
  std::vector<http::HttpRequest> batch;
  for (int i = 0; i < 10; ++i) {
    batch.push_back(
        http::Get(f.server->Url("/secrets?api-version=2016-10-01", "kv.vault.localhost")));
  }
  auto results = sender.SendAll(std::move(batch));
  for (auto& x : results) {
    REQUIRE(x.ok());
    CHECK(x->status == 200);
  }
  CHECK(unauthorized == 1);
  CHECK(f.credential->audiences.size() == 1);
  CHECK(f.tokens->fetches() == 1);
}

TEST_CASE("a PUT's probe carries no body, the real PUT does") {
  Fixture f;
  std::atomic<int> unauthorized{0};
  std::vector<std::string> bodies;
  std::mutex mu;
  auto vault = VaultHandler(
      f.VaultResource(), [](const std::string&) { return true; }, &unauthorized);
  f.server->Handle("PUT", "/secrets/admin", [&](const HttpsTestServer::Request& r) {
    {
      std::lock_guard<std::mutex> lock(mu);
      bodies.push_back(r.body);
    }
    return vault(r);
  });
  BearerSender sender(f.client, f.tokens, {});
  auto r =
      sender.Send(http::Put(f.server->Url("/secrets/admin?api-version=7.4", "kv.vault.localhost"),
                            Secret(R"({"value":"pw"})")));
  REQUIRE(r.ok());
  CHECK(r->status == 200);
  REQUIRE(bodies.size() == 2);
  CHECK(bodies[0].empty());
  CHECK(bodies[1] == R"({"value":"pw"})");
}

TEST_CASE("a 401 to a token refreshes it once and retries, a second 401 is returned") {
  Fixture f;
  std::atomic<int> unauthorized{0};
  // Accepts tokens from the third on: tok-1 (after the probe) is refused,
  // tok-2 is refused too, so the retry sees a 401 again.
  f.server->Handle(
      "*", "/x",
      VaultHandler(
          f.VaultResource(), [](const std::string& t) { return t != "tok-1" && t != "tok-2"; },
          &unauthorized));
  BearerSender sender(f.client, f.tokens, {});
  auto r = sender.Send(http::Get(f.server->Url("/x", "kv.vault.localhost")));
  REQUIRE(r.ok());
  CHECK(r->status == 401);
  CHECK(unauthorized == 3);  // probe, tok-1, tok-2
  CHECK(sender.refreshed_after_401() == 1);
  auto again = sender.Send(http::Get(f.server->Url("/x", "kv.vault.localhost")));
  REQUIRE(again.ok());
  CHECK(again->status == 200);  // tok-2 was dropped; tok-3 works
  CHECK(absl::StrContains(again->body, "tok-3"));
}

TEST_CASE("fixed audience (ARM): no probe, an expired token is replaced on 401") {
  Fixture f;
  std::atomic<int> calls{0};
  f.server->Handle("GET", "/subscriptions/s", [&](const HttpsTestServer::Request& r) {
    ++calls;
    if (r.Header("Authorization") == "Bearer tok-1") {
      Answer a = http::testing::ErrorJson(401, "ExpiredAuthenticationToken",
                                          "The access token has expired.");
      a.headers.push_back(
          {"WWW-Authenticate",
           "Bearer authorization_uri=\"https://login/t\", error=\"invalid_token\""});
      return a;
    }
    return Json(200, "{}");
  });
  BearerSender::Options o;
  o.audience = "https://management.localhost/app";
  BearerSender sender(f.client, f.tokens, o);
  std::vector<http::HttpRequest> batch;
  for (int i = 0; i < 4; ++i)
    batch.push_back(http::Get(f.server->Url("/subscriptions/s", "management.localhost")));
  auto results = sender.SendAll(std::move(batch));
  for (auto& x : results) {
    REQUIRE(x.ok());
    CHECK(x->status == 200);
  }
  CHECK(calls == 8);
  CHECK(f.credential->audiences == std::vector<std::string>{"https://management.localhost/app",
                                                            "https://management.localhost/app"});
}

TEST_CASE("a challenge for a foreign resource gets no token") {
  Fixture f;
  std::atomic<int> unauthorized{0};
  f.server->Handle("*", "/secrets",
                   VaultHandler(
                       "https://management.evil.example", [](const std::string&) { return true; },
                       &unauthorized));
  BearerSender sender(f.client, f.tokens, {});
  auto r = sender.Send(http::Get(f.server->Url("/secrets", "kv.vault.localhost")));
  CHECK(r.status().code() == absl::StatusCode::kPermissionDenied);
  CHECK(absl::StrContains(r.status().message(), "cloud.keyvault_audience"));
  CHECK(f.credential->audiences.empty());
}

TEST_CASE("no challenge: the fallback audience") {
  Fixture f;
  f.server->Handle("GET", "/secrets", [](const HttpsTestServer::Request& r) {
    if (r.Header("Authorization").empty()) return http::testing::Status(401);
    return Json(200, "{}");
  });
  BearerSender::Options o;
  o.fallback_audience = "https://vault.localhost";
  BearerSender sender(f.client, f.tokens, o);
  auto r = sender.Send(http::Get(f.server->Url("/secrets", "kv.vault.localhost")));
  REQUIRE(r.ok());
  CHECK(r->status == 200);
  CHECK(sender.audience() == "https://vault.localhost");
}

}  // namespace
}  // namespace rotor::auth
