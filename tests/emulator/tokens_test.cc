// Token endpoints (AAD v1/v2, ADFS; client secret and client assertion),
// token validation, /metadata/endpoints and openid-configuration.
#include <doctest/doctest.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "certs/testing/make_certs.h"
#include "tests/emulator/emulator_harness.h"
#include "tests/emulator/jwt.h"
#include "tests/support/testing.h"

namespace rotor::emulator::testing {
namespace {

std::string Form(const std::vector<std::pair<std::string, std::string>>& fields) {
  std::string out;
  for (const auto& [k, v] : fields) {
    if (!out.empty()) out += "&";
    out += k + "=" + v;
  }
  return out;
}

HttpResult PostForm(const Emulator& emu, const std::string& path, const std::string& form) {
  return emu.Request("POST", emu.Url("login.localhost", path), form,
                     {"Content-Type: application/x-www-form-urlencoded"});
}

// A client assertion signed with `key_pem_path`'s key, naming `x5t`.
std::string Assertion(const std::string& key_pem_path, const std::string& x5t,
                      const std::string& client, const std::string& aud, int64_t exp_offset,
                      const std::string& alg = "RS256") {
  auto signer = JwtSigner::FromPemFile(key_pem_path);
  REQUIRE(signer.ok());
  const int64_t now = absl::ToUnixSeconds(absl::Now());
  std::string header = absl::StrCat(R"({"alg":")", alg, R"(","typ":"JWT","x5t":")", x5t, R"("})");
  std::string payload =
      absl::StrCat(R"({"aud":")", aud, R"(","iss":")", client, R"(","sub":")", client,
                   R"(","jti":"1","nbf":)", now, R"(,"exp":)", now + exp_offset, "}");
  auto jwt = (*signer)->Sign(header, payload);
  REQUIRE(jwt.ok());
  return *jwt;
}

TEST_CASE("client-secret and client-assertion grants on AAD v1, v2 and ADFS") {
  rotor::testing::TempDir dir;
  certs::testing::TestPki pki(absl::Now());
  auto cert = pki.IssueLeaf({.common_name = "cert-client"});
  auto other = pki.IssueLeaf({.common_name = "intruder"});
  const std::string cert_path = dir.Write("client.pem", cert.CertificatePem());
  const std::string key_path = dir.Write("client.key", cert.KeyPem());
  const std::string other_key_path = dir.Write("other.key", other.KeyPem());
  auto registered = ClientCertificate::FromPem(cert.CertificatePem(), "client.pem");
  REQUIRE(registered.ok());
  const std::string x5t = (*registered)->x5t();

  Emulator emu({"--vault", "newregkv", "--client", absl::StrCat(kClientId, ":", kClientSecret),
                "--client-cert", absl::StrCat("cert-app:", cert_path)});
  const std::string v1 = absl::StrCat("/", kTenant, "/oauth2/token");
  const std::string v2 = absl::StrCat("/", kTenant, "/oauth2/v2.0/token");

  // v1: numbers as strings, resource echoed.
  HttpResult r = PostForm(emu, v1,
                          Form({{"grant_type", "client_credentials"},
                                {"client_id", kClientId},
                                {"client_secret", kClientSecret},
                                {"resource", emu.VaultResource()}}));
  REQUIRE_MESSAGE(r.status == 200, r.body);
  auto token = r.Json();
  CHECK(JsonString(token, "token_type") == "Bearer");
  CHECK(token["expires_in"].IsString());
  CHECK(token["expires_on"].IsString());
  CHECK(JsonString(token, "resource") == emu.VaultResource());
  const std::string vault_token = JsonString(token, "access_token");
  CHECK(emu.Get(emu.VaultUrl("newregkv", "/secrets?api-version=7.4"), vault_token).status == 200);

  // A wrong secret and an unknown client.
  r = PostForm(emu, v1,
               Form({{"grant_type", "client_credentials"},
                     {"client_id", kClientId},
                     {"client_secret", "wrong"},
                     {"resource", emu.VaultResource()}}));
  CHECK(r.status == 401);
  CHECK(JsonString(r.Json(), "error") == "invalid_client");
  CHECK(JsonString(r.Json(), "error_codes/0") == "7000215");
  CHECK(absl::StartsWith(JsonString(r.Json(), "error_description"), "AADSTS7000215:"));
  r = PostForm(emu, v1,
               Form({{"grant_type", "client_credentials"},
                     {"client_id", "stranger"},
                     {"client_secret", "x"},
                     {"resource", emu.VaultResource()}}));
  CHECK(r.status == 400);
  CHECK(JsonString(r.Json(), "error") == "unauthorized_client");
  // A resource the emulator does not serve.
  r = PostForm(emu, v1,
               Form({{"grant_type", "client_credentials"},
                     {"client_id", kClientId},
                     {"client_secret", kClientSecret},
                     {"resource", "https://graph.windows.net/"}}));
  CHECK(r.status == 400);
  CHECK(JsonString(r.Json(), "error") == "invalid_resource");

  // v2: scope=.../.default, numbers as numbers; HTTP Basic client auth.
  const std::string arm_scope = emu.ArmAudience() + "/.default";
  r = PostForm(emu, v2,
               Form({{"grant_type", "client_credentials"},
                     {"client_id", kClientId},
                     {"client_secret", kClientSecret},
                     {"scope", arm_scope}}));
  REQUIRE_MESSAGE(r.status == 200, r.body);
  CHECK(r.Json()["expires_in"].IsInt());
  const std::string arm_token = JsonString(r.Json(), "access_token");
  CHECK(
      emu.Get(emu.ArmUrl("/subscriptions/s/resourcegroups/none?api-version=2019-10-01"), arm_token)
          .status == 404);
  r = emu.Request("POST", emu.Url("login.localhost", v2),
                  Form({{"grant_type", "client_credentials"}, {"scope", arm_scope}}),
                  {"Content-Type: application/x-www-form-urlencoded",
                   "Authorization: Basic cm90b3ItY2k6Y2ktY2xpZW50LXNlY3JldC12YWx1ZQ=="});
  CHECK_MESSAGE(r.status == 200, r.body);
  r = PostForm(emu, v2,
               Form({{"grant_type", "client_credentials"},
                     {"client_id", kClientId},
                     {"client_secret", kClientSecret},
                     {"scope", emu.ArmAudience()}}));
  CHECK(r.status == 400);
  CHECK(JsonString(r.Json(), "error") == "invalid_scope");
  r = PostForm(emu, v2, Form({{"grant_type", "password"}}));
  CHECK(r.status == 400);
  CHECK(JsonString(r.Json(), "error") == "unsupported_grant_type");

  // ADFS.
  r = PostForm(emu, "/adfs/oauth2/token",
               Form({{"grant_type", "client_credentials"},
                     {"client_id", kClientId},
                     {"client_secret", kClientSecret},
                     {"resource", emu.ArmAudience()}}));
  REQUIRE_MESSAGE(r.status == 200, r.body);
  CHECK(JsonString(r.Json(), "token_type") == "bearer");
  CHECK(r.Json()["expires_in"].IsInt());

  // Client assertions: aud is the token endpoint, x5t names the certificate.
  const std::string assertion_type = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
  auto assert_grant = [&](const std::string& path, const std::string& jwt) {
    return PostForm(emu, path,
                    Form({{"grant_type", "client_credentials"},
                          {"client_id", "cert-app"},
                          {"client_assertion_type", assertion_type},
                          {"client_assertion", jwt},
                          {"scope", emu.VaultResource() + "/.default"}}));
  };
  const std::string aud_v2 = emu.Url("login.localhost", v2);
  r = assert_grant(v2, Assertion(key_path, x5t, "cert-app", aud_v2, 600));
  REQUIRE_MESSAGE(r.status == 200, r.body);
  CHECK(emu.Get(emu.VaultUrl("newregkv", "/secrets?api-version=7.4"),
                JsonString(r.Json(), "access_token"))
            .status == 200);
  // The same with aud on 127.0.0.1 (a client that cannot resolve login.localhost).
  r = PostForm(emu, v2,
               Form({{"grant_type", "client_credentials"},
                     {"client_id", "cert-app"},
                     {"client_assertion_type", assertion_type},
                     {"client_assertion",
                      Assertion(key_path, x5t, "cert-app", emu.Url("127.0.0.1", v2), 600)},
                     {"scope", emu.VaultResource() + "/.default"}}));
  CHECK_MESSAGE(r.status == 200, r.body);
  // Signed by another key.
  r = assert_grant(v2, Assertion(other_key_path, x5t, "cert-app", aud_v2, 600));
  CHECK(r.status == 401);
  CHECK(JsonString(r.Json(), "error") == "invalid_client");
  CHECK(JsonString(r.Json(), "error_codes/0") == "700027");
  // Expired.
  r = assert_grant(v2, Assertion(key_path, x5t, "cert-app", aud_v2, -10));
  CHECK(r.status == 401);
  CHECK(JsonString(r.Json(), "error_codes/0") == "700024");
  // Wrong audience (the v1 endpoint's URL posted to v2).
  r = assert_grant(v2, Assertion(key_path, x5t, "cert-app", emu.Url("login.localhost", v1), 600));
  CHECK(r.status == 401);
  // An unregistered certificate.
  auto other_cert = ClientCertificate::FromPem(other.CertificatePem(), "other");
  REQUIRE(other_cert.ok());
  r = assert_grant(v2, Assertion(other_key_path, (*other_cert)->x5t(), "cert-app", aud_v2, 600));
  CHECK(r.status == 401);
  // v1 with an assertion.
  r = PostForm(emu, v1,
               Form({{"grant_type", "client_credentials"},
                     {"client_assertion_type", assertion_type},
                     {"client_assertion",
                      Assertion(key_path, x5t, "cert-app", emu.Url("login.localhost", v1), 600)},
                     {"resource", emu.ArmAudience()}}));
  CHECK_MESSAGE(r.status == 200, r.body);

  // ARM rejects a Key Vault token and a missing one.
  r = emu.Get(emu.ArmUrl("/subscriptions/s/resourcegroups/x?api-version=2019-10-01"), vault_token);
  CHECK(r.status == 401);
  CHECK(JsonString(r.Json(), "error/code") == "InvalidAuthenticationTokenAudience");
  r = emu.Get(emu.ArmUrl("/subscriptions/s/resourcegroups/x?api-version=2019-10-01"));
  CHECK(r.status == 401);
  CHECK(JsonString(r.Json(), "error/code") == "AuthenticationFailed");
  CHECK(absl::StartsWith(r.Header("WWW-Authenticate"), "Bearer authorization_uri=\""));

  auto stats = emu.Stats();
  CHECK(JsonString(stats, "tokens/issued") != "0");
  CHECK(JsonString(stats, "tokens/refused") != "0");
}

TEST_CASE("tokens expire") {
  Emulator emu({"--vault", "v1", "--client", absl::StrCat(kClientId, ":", kClientSecret),
                "--token-lifetime", "1s"});
  const std::string vault_token = emu.VaultToken();
  const std::string arm_token = emu.ArmToken();
  absl::SleepFor(absl::Milliseconds(2100));
  HttpResult r = emu.Get(emu.VaultUrl("v1", "/secrets?api-version=7.4"), vault_token);
  CHECK(r.status == 401);
  CHECK(JsonString(r.Json(), "error/code") == "Unauthorized");
  CHECK_FALSE(r.Header("WWW-Authenticate").empty());
  r = emu.Get(emu.ArmUrl("/subscriptions/s/resourcegroups/x?api-version=2019-10-01"), arm_token);
  CHECK(r.status == 401);
  CHECK(JsonString(r.Json(), "error/code") == "ExpiredAuthenticationToken");
}

TEST_CASE("metadata and openid-configuration point at the emulator (AAD)") {
  Emulator emu({"--vault", "v1"});
  HttpResult r = emu.Get(emu.ArmUrl("/metadata/endpoints?api-version=2015-01-01"));
  REQUIRE(r.status == 200);
  auto md = r.Json();
  CHECK(JsonString(md, "authentication/loginEndpoint") ==
        absl::StrCat("https://login.localhost:", emu.port(), "/"));
  CHECK(JsonString(md, "authentication/audiences/0") == emu.ArmAudience());
  // A client on the bare address gets a login endpoint it can resolve.
  r = emu.Get(emu.Url("127.0.0.1", "/metadata/endpoints?api-version=2015-01-01"));
  CHECK(JsonString(r.Json(), "authentication/loginEndpoint") ==
        absl::StrCat("https://127.0.0.1:", emu.port(), "/"));
  r = emu.Get(emu.Url("login.localhost",
                      absl::StrCat("/", kTenant, "/v2.0/.well-known/openid-configuration")));
  REQUIRE(r.status == 200);
  CHECK(JsonString(r.Json(), "token_endpoint") ==
        emu.Url("login.localhost", absl::StrCat("/", kTenant, "/oauth2/v2.0/token")));
  r = emu.Get(emu.Url("login.localhost", absl::StrCat("/", kTenant, "/discovery/v2.0/keys")));
  CHECK(r.status == 200);
  CHECK(JsonString(r.Json(), "keys/0/kty") == "RSA");
  // No --client: any client may sign in (a rehearsal convenience).
  CHECK_FALSE(emu.Token(emu.VaultResource(), "anyone", "anything").empty());
}

TEST_CASE("ADFS flavour: metadata login endpoint and the challenge authority end in /adfs") {
  Emulator emu({"--vault", "v1", "--identity", "adfs"});
  HttpResult r = emu.Get(emu.ArmUrl("/metadata/endpoints?api-version=2015-01-01"));
  REQUIRE(r.status == 200);
  CHECK(JsonString(r.Json(), "authentication/loginEndpoint") ==
        absl::StrCat("https://login.localhost:", emu.port(), "/adfs"));
  r = emu.Get(emu.VaultUrl("v1", "/secrets?api-version=2016-10-01"));
  CHECK(r.status == 401);
  CHECK(absl::StrContains(
      r.Header("WWW-Authenticate"),
      absl::StrCat("authorization=\"https://login.localhost:", emu.port(), "/adfs\"")));
  r = emu.Get(emu.Url("login.localhost", "/adfs/.well-known/openid-configuration"));
  CHECK(r.status == 200);
  CHECK(JsonString(r.Json(), "token_endpoint") == emu.Url("login.localhost", "/adfs/oauth2/token"));
}

}  // namespace
}  // namespace rotor::emulator::testing
