// Token requests on the wire (a loopback HTTPS server stands in for AAD, AD
// FS and IMDS) and the per-audience token cache.
#include "providers/auth/credentials.h"

#include <doctest/doctest.h>

#include <atomic>
#include <thread>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "certs/testing/make_certs.h"
#include "providers/http/testing/https_test_server.h"
#include "providers/http/url.h"
#include "tests/support/testing.h"

namespace rotor::auth {
namespace {

using http::testing::HttpsTestServer;
using http::testing::Json;

std::map<std::string, std::string> Form(const std::string& body) {
  std::map<std::string, std::string> out;
  for (absl::string_view pair : absl::StrSplit(body, '&')) {
    size_t eq = pair.find('=');
    out[http::UrlDecode(pair.substr(0, eq))] =
        eq == absl::string_view::npos ? "" : http::UrlDecode(pair.substr(eq + 1));
  }
  return out;
}

struct Fixture {
  Fixture() {
    HttpsTestServer::Options options;
    options.names = {"localhost", "login.localhost"};
    server = *HttpsTestServer::Start(options);
    http::HttpClientOptions client_options;
    client_options.ca_bundle_pem = server->ca_pem();
    client_options.time_scale = 0.001;
    client = std::shared_ptr<http::HttpClient>(*http::HttpClient::Create(client_options));
  }
  std::string Url(const std::string& path) const { return server->Url(path, "login.localhost"); }
  std::unique_ptr<HttpsTestServer> server;
  std::shared_ptr<http::HttpClient> client;
};

TEST_CASE("AAD v1 with a client secret: resource=, numbers as strings") {
  Fixture f;
  std::atomic<int> calls{0};
  f.server->Handle("POST", "/tenant1/oauth2/token", [&](const HttpsTestServer::Request& r) {
    ++calls;
    auto form = Form(r.body);
    CHECK(r.Header("Content-Type") == "application/x-www-form-urlencoded");
    CHECK(form["grant_type"] == "client_credentials");
    CHECK(form["client_id"] == "app-1");
    CHECK(form["client_secret"] == "s3cr&t=value");
    CHECK(form["resource"] == "https://vault.localhost");
    CHECK(form.count("scope") == 0);
    return Json(
        200,
        R"({"access_token":"tok-v1","token_type":"Bearer","expires_in":"3599","expires_on":"1"})");
  });
  ServicePrincipalCredential::Options o;
  o.token_endpoint = f.Url("/tenant1/oauth2/token");
  o.protocol = TokenProtocol::kAadV1;
  o.client_id = "app-1";
  o.client_secret = Secret("s3cr&t=value");
  ServicePrincipalCredential credential(f.client, std::move(o));
  auto token = credential.FetchToken("https://vault.localhost");
  REQUIRE_MESSAGE(token.ok(), token.status().ToString());
  CHECK(token->token.Reveal() == "tok-v1");
  CHECK(token->expires_on > absl::Now() + absl::Minutes(59));
  CHECK(calls == 1);
  CHECK_FALSE(absl::StrContains(credential.Describe(), "s3cr"));
}

TEST_CASE("AAD v2: scope=AUDIENCE/.default - errors carry AAD's code, never the secret") {
  Fixture f;
  f.server->Handle("POST", "/t/oauth2/v2.0/token", [&](const HttpsTestServer::Request& r) {
    auto form = Form(r.body);
    CHECK(form["scope"] == "https://management.azure.com/.default");
    CHECK(form.count("resource") == 0);
    if (form["client_secret"] != "good") {
      return Json(
          401,
          R"({"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided.","error_codes":[7000215]})");
    }
    return Json(200, R"({"token_type":"Bearer","expires_in":3599,"access_token":"tok-v2"})");
  });
  ServicePrincipalCredential::Options o;
  o.token_endpoint = f.Url("/t/oauth2/v2.0/token");
  o.protocol = TokenProtocol::kAadV2;
  o.client_id = "app";
  o.client_secret = Secret("good");
  ServicePrincipalCredential good(f.client, std::move(o));
  auto token = good.FetchToken("https://management.azure.com/");
  REQUIRE(token.ok());
  CHECK(token->token.Reveal() == "tok-v2");

  ServicePrincipalCredential::Options b;
  b.token_endpoint = f.Url("/t/oauth2/v2.0/token");
  b.protocol = TokenProtocol::kAadV2;
  b.client_id = "app";
  b.client_secret = Secret("Bad-Secret-Value");
  ServicePrincipalCredential bad(f.client, std::move(b));
  auto refused = bad.FetchToken("https://management.azure.com/");
  CHECK(refused.status().code() == absl::StatusCode::kUnauthenticated);
  CHECK(absl::StrContains(refused.status().message(), "AADSTS7000215"));
  CHECK(absl::StrContains(refused.status().message(), "invalid_client"));
  CHECK_FALSE(absl::StrContains(refused.status().message(), "Bad-Secret-Value"));
}

TEST_CASE("certificate credential posts a JWT assertion whose aud is the endpoint") {
  Fixture f;
  certs::testing::TestPki pki(absl::Now());
  auto leaf = pki.IssueLeaf({.common_name = "sp"});
  auto cert =
      ClientCertificate::FromBytes(leaf.CertificatePem() + leaf.KeyPem(), Secret(), "sp.pem");
  REQUIRE(cert.ok());
  const std::string endpoint = f.Url("/adfs/oauth2/token");
  f.server->Handle("POST", "/adfs/oauth2/token", [&](const HttpsTestServer::Request& r) {
    auto form = Form(r.body);
    CHECK(form["client_assertion_type"] ==
          "urn:ietf:params:oauth:client-assertion-type:jwt-bearer");
    CHECK(form.count("client_secret") == 0);
    CHECK(form["resource"] == "https://management.adfs.local/app");
    std::vector<std::string> parts = absl::StrSplit(form["client_assertion"], '.');
    REQUIRE(parts.size() == 3);
    std::string claims;
    REQUIRE(absl::WebSafeBase64Unescape(parts[1], &claims));
    CHECK(absl::StrContains(claims, absl::StrCat("\"aud\":\"", endpoint, "\"")));
    return Json(200, R"({"access_token":"adfs-token","token_type":"bearer","expires_in":3600})");
  });
  ServicePrincipalCredential::Options o;
  o.token_endpoint = endpoint;
  o.protocol = TokenProtocol::kAdfs;
  o.client_id = "sp";
  o.certificate = std::make_shared<const ClientCertificate>(*std::move(cert));
  ServicePrincipalCredential credential(f.client, std::move(o));
  auto token = credential.FetchToken("https://management.adfs.local/app");
  REQUIRE_MESSAGE(token.ok(), token.status().ToString());
  CHECK(token->token.Reveal() == "adfs-token");
  CHECK(absl::StrContains(credential.Describe(), "certificate"));
}

TEST_CASE("managed identity: GET with Metadata: true, api-version and resource") {
  HttpsTestServer::Options options;
  options.plain_http = true;
  auto server = *HttpsTestServer::Start(options);
  server->Handle("GET", "/metadata/identity/oauth2/token", [](const HttpsTestServer::Request& r) {
    CHECK(r.Header("Metadata") == "true");
    CHECK(r.Param("api-version") == "2018-02-01");
    CHECK(http::UrlDecode(r.Param("resource")) == "https://vault.azure.net");
    CHECK(r.Param("client_id") == "uai");
    return Json(
        200,
        R"({"access_token":"mi","refresh_token":"","expires_in":"3599","expires_on":"1506484173","not_before":"1506480273","resource":"https://vault.azure.net","token_type":"Bearer"})");
  });
  http::HttpClientOptions client_options;
  client_options.allow_insecure_loopback = true;
  std::shared_ptr<http::HttpClient> client(*http::HttpClient::Create(client_options));
  ManagedIdentityCredential::Options o;
  o.endpoint = server->Url("/metadata/identity/oauth2/token");
  o.client_id = "uai";
  ManagedIdentityCredential credential(client, o);
  auto token = credential.FetchToken("https://vault.azure.net");
  REQUIRE_MESSAGE(token.ok(), token.status().ToString());
  CHECK(token->token.Reveal() == "mi");
}

class CountingCredential : public TokenCredential {
 public:
  explicit CountingCredential(const Clock& clock, absl::Duration lifetime)
      : clock_(clock), lifetime_(lifetime) {}
  absl::StatusOr<AccessToken> FetchToken(absl::string_view audience) override {
    int n = ++fetches;
    absl::SleepFor(absl::Milliseconds(20));  // concurrent callers pile up
    return AccessToken{Secret(absl::StrCat(audience, "#", n)), clock_.Now() + lifetime_};
  }
  std::string Describe() const override { return "counting"; }
  std::atomic<int> fetches{0};

 private:
  const Clock& clock_;
  absl::Duration lifetime_;
};

TEST_CASE("token cache: per audience, refreshed before expiry, one fetch at a time") {
  FakeClock clock(absl::FromUnixSeconds(1000000));
  auto credential = std::make_shared<CountingCredential>(clock, absl::Hours(1));
  TokenCache cache(credential, &clock);
  CHECK(cache.Token("https://vault.x")->Reveal() == "https://vault.x#1");
  CHECK(cache.Token("https://VAULT.x/")->Reveal() == "https://vault.x#1");  // same resource
  CHECK(cache.Token("https://mgmt")->Reveal() == "https://mgmt#2");
  CHECK(credential->fetches == 2);

  clock.Advance(absl::Minutes(54));  // 6 minutes left: still used
  CHECK(cache.Token("https://vault.x")->Reveal() == "https://vault.x#1");
  clock.Advance(absl::Minutes(2));  // 4 minutes left: refreshed
  CHECK(cache.Token("https://vault.x")->Reveal() == "https://vault.x#3");

  // Invalidate drops only the token that was refused.
  cache.Invalidate("https://vault.x", Secret("https://vault.x#1"));
  CHECK(cache.Token("https://vault.x")->Reveal() == "https://vault.x#3");
  cache.Invalidate("https://vault.x", Secret("https://vault.x#3"));
  CHECK(cache.Token("https://vault.x")->Reveal() == "https://vault.x#4");

  // Concurrent callers share one fetch.
  const int before = credential->fetches;
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      CHECK(cache.Token("https://new")->Reveal() == absl::StrCat("https://new#", before + 1));
    });
  }
  for (auto& t : threads) t.join();
  CHECK(credential->fetches == before + 1);
  CHECK(cache.fetches() == before + 1);
}

TEST_CASE("token cache: short-lived tokens refresh at half their lifetime") {
  FakeClock clock(absl::FromUnixSeconds(1000000));
  auto credential = std::make_shared<CountingCredential>(clock, absl::Seconds(4));
  TokenCache cache(credential, &clock);
  CHECK(cache.Token("a")->Reveal() == "a#1");
  clock.Advance(absl::Seconds(1));
  CHECK(cache.Token("a")->Reveal() == "a#1");
  clock.Advance(absl::Seconds(1));
  CHECK(cache.Token("a")->Reveal() == "a#2");
}

TEST_CASE("MakeCredential: methods and errors without values") {
  CloudEndpoints e;
  e.login_endpoint = "https://login.localhost:1";
  e.protocol = TokenProtocol::kAadV1;
  std::shared_ptr<http::HttpSender> none;

  SignInOptions secret;
  secret.method = SignInOptions::Method::kClientSecret;
  secret.client_id = "app";
  auto no_secret = MakeCredential(secret, e, "tenant", none);
  CHECK(absl::StrContains(no_secret.status().message(), "auth.client_secret"));
  secret.client_secret = Secret("sp-secret-value");
  auto c = MakeCredential(secret, e, "tenant", none);
  REQUIRE_MESSAGE(c.ok(), c.status().ToString());
  CHECK(absl::StrContains((*c)->Describe(), "https://login.localhost:1/tenant/oauth2/token"));
  CHECK_FALSE(absl::StrContains((*c)->Describe(), "sp-secret-value"));
  secret.client_id.clear();
  CHECK(absl::StrContains(MakeCredential(secret, e, "t", none).status().message(),
                          "auth.client_id is empty"));

  certs::testing::TestPki pki(absl::Now());
  auto leaf = pki.IssueLeaf({});
  testing::TempDir dir;
  SignInOptions by_cert;
  by_cert.method = SignInOptions::Method::kClientCertificate;
  by_cert.client_id = "app";
  by_cert.client_certificate = dir.Write("sp.pfx", leaf.ToPfx("pw"));
  by_cert.client_certificate_password = Secret("pw");
  auto cert = MakeCredential(by_cert, e, "t", none);
  REQUIRE_MESSAGE(cert.ok(), cert.status().ToString());
  CHECK(absl::StrContains((*cert)->Describe(), "certificate"));

  SignInOptions mi;
  mi.method = SignInOptions::Method::kManagedIdentity;
  CHECK(MakeCredential(mi, e, "t", none).ok());
  e.adfs = true;
  CHECK(MakeCredential(mi, e, "t", none).status().code() == absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace rotor::auth

namespace rotor::auth {
namespace {

TEST_CASE("managed identity reaches IMDS over http only when the client allows it") {
  ManagedIdentityCredential::Options o;  // the real IMDS address
  http::HttpClientOptions refusing;
  std::shared_ptr<http::HttpClient> plain(*http::HttpClient::Create(refusing));
  auto refused = ManagedIdentityCredential(plain, o).FetchToken("https://vault.azure.net");
  CHECK(refused.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(absl::StrContains(refused.status().message(), "plain http:// is refused"));

  http::HttpClientOptions allowing;
  allowing.allow_instance_metadata = true;
  allowing.connect_timeout = absl::Milliseconds(200);
  allowing.request_timeout = absl::Milliseconds(400);
  allowing.retry.max_attempts = 1;
  std::shared_ptr<http::HttpClient> imds(*http::HttpClient::Create(allowing));
  auto attempted = ManagedIdentityCredential(imds, o).FetchToken("https://vault.azure.net");
  // Not refused up front: it went to the network (no IMDS here, so it fails
  // there, or answers if this runs on an Azure VM).
  INFO(attempted.status().ToString());
  CHECK(attempted.status().code() != absl::StatusCode::kInvalidArgument);
  // Other plain-http hosts stay refused with that option.
  ManagedIdentityCredential::Options other;
  other.endpoint = "http://169.254.169.253/metadata/identity/oauth2/token";
  CHECK(ManagedIdentityCredential(imds, other).FetchToken("x").status().code() ==
        absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace rotor::auth
