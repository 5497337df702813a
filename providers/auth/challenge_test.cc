// Bearer challenges and token responses in every shape seen (contracts §1.5,
// §2), including each 401 of the recorded Key Vault traffic.
#include <doctest/doctest.h>

#include <filesystem>

#include "absl/strings/match.h"
#include "providers/auth/cloud.h"
#include "providers/auth/token.h"
#include "rapidjson/document.h"
#include "tests/support/testing.h"

namespace rotor::auth {
namespace {

TEST_CASE("challenge: Key Vault's documented form") {
  auto c = ParseBearerChallenge(
      R"(Bearer authorization="https://login.windows.net/72f988bf-86f1-41af-91ab-2d7cd011db47", resource="https://vault.azure.net")");
  REQUIRE(c.has_value());
  CHECK(c->authorization == "https://login.windows.net/72f988bf-86f1-41af-91ab-2d7cd011db47");
  CHECK(c->tenant == "72f988bf-86f1-41af-91ab-2d7cd011db47");
  CHECK(c->resource == "https://vault.azure.net");
  CHECK(c->Audience() == "https://vault.azure.net");
}

TEST_CASE("challenge: scope, spaces instead of commas, reordering, extras, bare values") {
  auto scope = ParseBearerChallenge(
      R"(Bearer authorization="https://login.microsoftonline.com/tid", scope="https://vault.azure.net/.default")");
  REQUIRE(scope.has_value());
  CHECK(scope->Audience() == "https://vault.azure.net");

  auto spaces = ParseBearerChallenge(
      R"(Bearer authorization="https://login/t" resource="https://r" scope="https://s/.default")");
  REQUIRE(spaces.has_value());
  CHECK(spaces->resource == "https://r");
  CHECK(spaces->Audience() == "https://s");  // scope wins

  auto reordered = ParseBearerChallenge(
      R"(bearer resource="https://vault.localhost:8443",error="invalid_token",  authorization="https://login.localhost:8443/adfs")");
  REQUIRE(reordered.has_value());
  CHECK(reordered->Audience() == "https://vault.localhost:8443");
  CHECK(reordered->tenant == "adfs");

  auto bare =
      ParseBearerChallenge("Bearer authorization=https://login/t, resource=https://vault.x");
  REQUIRE(bare.has_value());
  CHECK(bare->resource == "https://vault.x");

  auto arm = ParseBearerChallenge(
      R"(Bearer authorization_uri="https://login.localhost:1/t", error="invalid_token", error_description="The access token has expired.")");
  REQUIRE(arm.has_value());
  CHECK(arm->authorization == "https://login.localhost:1/t");
  CHECK(arm->Audience().empty());

  CHECK_FALSE(ParseBearerChallenge("Basic realm=\"x\"").has_value());
  CHECK_FALSE(ParseBearerChallenge("Bearerx a=b").has_value());
  CHECK(ParseBearerChallenge("Bearer").has_value());
  CHECK(ScopeForAudience("https://management.azure.com/") ==
        "https://management.azure.com/.default");
  CHECK(ScopeForAudience("https://vault.azure.net") == "https://vault.azure.net/.default");
}

TEST_CASE("challenge: every 401 in the recorded Key Vault traffic parses") {
  const std::string dir =
      testing::SourceDir() + "/tests/data/azure-reference/recorded-traffic/keyvault-secrets";
  REQUIRE(std::filesystem::exists(dir));
  int seen = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    rapidjson::Document doc;
    std::string text = testing::ReadFileOrDie(entry.path().string());
    doc.Parse(text.data(), text.size());
    REQUIRE_FALSE(doc.HasParseError());
    for (const auto& e : doc["exchanges"].GetArray()) {
      const auto& response = e["response"];
      if (response["status"].GetInt() != 401) continue;
      const auto& headers = response["headers"];
      auto it = headers.FindMember("www-authenticate");
      REQUIRE(it != headers.MemberEnd());
      INFO(entry.path().string(), ": ", it->value.GetString());
      auto c = ParseBearerChallenge(it->value.GetString());
      REQUIRE(c.has_value());
      CHECK(absl::StartsWith(c->authorization, "https://login."));
      CHECK_FALSE(c->tenant.empty());
      CHECK(absl::StartsWith(c->Audience(), "https://"));
      ++seen;
    }
  }
  CHECK(seen >= 9);
}

TEST_CASE("token responses: v1 strings, v2 numbers, IMDS, expires_on only, neither") {
  const absl::Time now = absl::FromUnixSeconds(1388440000);
  // AAD v1 as documented: numbers as strings.
  auto v1 = ParseTokenResponse(
      R"({"access_token":"eyJ0eXAi.v1","token_type":"Bearer","expires_in":"3599","expires_on":"1388452167","not_before":"1388448267","resource":"https://vault.azure.net"})",
      now);
  REQUIRE(v1.ok());
  CHECK(v1->token.Reveal() == "eyJ0eXAi.v1");
  CHECK(v1->expires_on == now + absl::Seconds(3599));

  auto v2 = ParseTokenResponse(
      R"({"token_type":"Bearer","expires_in":3599,"ext_expires_in":3599,"access_token":"t2"})",
      now);
  REQUIRE(v2.ok());
  CHECK(v2->expires_on == now + absl::Seconds(3599));

  auto on_only = ParseTokenResponse(R"({"access_token":"t","expires_on":1388452167})", now);
  REQUIRE(on_only.ok());
  CHECK(on_only->expires_on == absl::FromUnixSeconds(1388452167));
  auto on_string = ParseTokenResponse(R"({"access_token":"t","expires_on":"1388452167"})", now);
  REQUIRE(on_string.ok());
  CHECK(on_string->expires_on == absl::FromUnixSeconds(1388452167));

  auto imds = ParseTokenResponse(
      R"({"access_token":"t","refresh_token":"","expires_in":"3599","expires_on":"1506484173","not_before":"1506480273","resource":"https://management.azure.com/","token_type":"Bearer"})",
      now);
  REQUIRE(imds.ok());
  CHECK(imds->expires_on == now + absl::Seconds(3599));

  auto fractional = ParseTokenResponse(R"({"access_token":"t","expires_in":"3599.5"})", now);
  REQUIRE(fractional.ok());

  auto neither = ParseTokenResponse(R"({"access_token":"t"})", now);
  REQUIRE(neither.ok());
  CHECK(neither->expires_on == now + kDefaultTokenLifetime);

  // Absurd lifetimes are capped (one from the fuzzer overflowed an int64).
  auto far =
      ParseTokenResponse(R"({"access_token":"t","expires_on":"1700444444444444003599"})", now);
  REQUIRE(far.ok());
  CHECK(far->expires_on == now + kMaxTokenLifetime);
  auto long_in = ParseTokenResponse(R"({"access_token":"t","expires_in":1e300})", now);
  REQUIRE(long_in.ok());
  CHECK(long_in->expires_on == now + kMaxTokenLifetime);

  CHECK_FALSE(ParseTokenResponse(R"({"token_type":"Bearer"})", now).ok());
  CHECK_FALSE(ParseTokenResponse(R"({"access_token":"","expires_in":1})", now).ok());
  CHECK_FALSE(ParseTokenResponse(R"({"access_token":"t","token_type":"pop"})", now).ok());
  CHECK_FALSE(ParseTokenResponse("<html>", now).ok());
  // An error never quotes the token.
  auto bad = ParseTokenResponse(R"({"access_token":"SeCrEt","token_type":"mac"})", now);
  CHECK_FALSE(absl::StrContains(bad.status().message(), "SeCrEt"));
}

TEST_CASE("token and metadata answers: wrong-typed known fields are refused, naming the field") {
  const absl::Time now = absl::FromUnixSeconds(1388440000);
  CHECK(
      ParseTokenResponse(R"({"access_token":"t","expires_in":{"s":1}})", now).status().message() ==
      "field \"expires_in\" is an object, not a number");
  CHECK(ParseTokenResponse(R"({"access_token":"t","expires_in":"soon"})", now).status().message() ==
        "field \"expires_in\" is a string that is not a number, not a number");
  CHECK(ParseTokenResponse(R"({"access_token":["t"]})", now).status().message() ==
        "field \"access_token\" is an array, not a string");
  CHECK(ParseTokenResponse(R"({"access_token":"t","token_type":1})", now).status().message() ==
        "field \"token_type\" is a number, not a string");
  // A wrong-typed field never shows the token either.
  auto hidden = ParseTokenResponse(R"({"access_token":"SeCrEt","expires_on":[]})", now);
  CHECK_FALSE(absl::StrContains(hidden.status().message(), "SeCrEt"));

  CHECK(ParseMetadataEndpoints(R"({"authentication":"x"})").status().message() ==
        "field \"authentication\" is a string, not an object");
  CHECK(
      ParseMetadataEndpoints(R"({"authentication":{"loginEndpoint":"https://l/","audiences":"a"}})")
          .status()
          .message() == "field \"authentication.audiences\" is a string, not an array");
  CHECK(ParseMetadataEndpoints(
            R"({"authentication":{"loginEndpoint":"https://l/","audiences":["a",2]}})")
            .status()
            .message() == "field \"authentication.audiences[1]\" is a number, not a string");
  CHECK(ParseMetadataEndpoints(R"({"galleryEndpoint":7,"authentication":{"loginEndpoint":"x"}})")
            .status()
            .message() == "field \"galleryEndpoint\" is a number, not a string");
}

}  // namespace
}  // namespace rotor::auth
