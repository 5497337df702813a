#include "providers/acme/acme_codec.h"

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "doctest/doctest.h"

namespace rotor::acme {
namespace {

constexpr char kUrl[] = "https://ca.test/x";

// The message of a refusal, which must name the URL.
std::string Refusal(const absl::Status& status) {
  CHECK(status.code() == absl::StatusCode::kInvalidArgument);
  CHECK(absl::StrContains(status.message(), kUrl));
  return std::string(status.message());
}

TEST_CASE("a directory as Pebble serves it") {
  auto d = ParseDirectory(kUrl, R"({
    "keyChange": "https://127.0.0.1:14000/rollover-account-key",
    "meta": {"externalAccountRequired": true, "termsOfService": "data:text/plain,Do what thou wilt"},
    "newAccount": "https://127.0.0.1:14000/sign-me-up",
    "newNonce": "https://127.0.0.1:14000/nonce-plz",
    "newOrder": "https://127.0.0.1:14000/order-plz",
    "revokeCert": "https://127.0.0.1:14000/revoke-cert"})");
  REQUIRE(d.ok());
  CHECK(d->new_nonce == "https://127.0.0.1:14000/nonce-plz");
  CHECK(d->new_account == "https://127.0.0.1:14000/sign-me-up");
  CHECK(d->new_order == "https://127.0.0.1:14000/order-plz");
  CHECK(d->terms_of_service == "data:text/plain,Do what thou wilt");
  CHECK(d->external_account_required);
}

TEST_CASE("a directory without newOrder, with a wrong-typed field, or not JSON is refused") {
  std::string m = Refusal(ParseDirectory(kUrl, R"({"newNonce":"a","newAccount":"b"})").status());
  CHECK(absl::StrContains(m, R"(field "newOrder" is missing)"));
  m = Refusal(
      ParseDirectory(kUrl, R"({"newNonce":"a","newAccount":"b","newOrder":["c"]})").status());
  CHECK(absl::StrContains(m, R"(field "newOrder" is an array, not a string)"));
  m = Refusal(ParseDirectory(kUrl, R"({"newNonce":"a","newAccount":"b","newOrder":"c",)"
                                   R"("meta":{"externalAccountRequired":"yes"}})")
                  .status());
  CHECK(absl::StrContains(m, R"("meta.externalAccountRequired" is a string, not a boolean)"));
  m = Refusal(ParseDirectory(kUrl, "<html>502 Bad Gateway</html>").status());
  CHECK(absl::StrContains(m, "not JSON"));
  m = Refusal(ParseDirectory(kUrl, "[1,2]").status());
  CHECK(absl::StrContains(m, "an array, not an object"));
  // Deep nesting does not recurse.
  m = Refusal(ParseDirectory(kUrl, std::string(200000, '[')).status());
  CHECK(absl::StrContains(m, "not JSON"));
}

TEST_CASE("answers past 1 MiB are refused") {
  std::string big = absl::StrCat(R"({"newNonce":"a","newAccount":"b","newOrder":"c","pad":")",
                                 std::string(kMaxAcmeAnswerBytes, 'x'), "\"}");
  std::string m = Refusal(ParseDirectory(kUrl, big).status());
  CHECK(absl::StrContains(m, "larger than 1048576 bytes"));
}

TEST_CASE("an order: statuses of RFC 8555 only, authorizations and finalize required") {
  auto o = ParseOrder(kUrl, R"({"status":"valid","expires":"2026-12-07T00:00:00Z",
    "identifiers":[{"type":"dns","value":"a.test"}],
    "authorizations":["https://ca.test/authz/1"],
    "finalize":"https://ca.test/finalize/1","certificate":"https://ca.test/cert/1"})");
  REQUIRE(o.ok());
  CHECK(o->status == "valid");
  REQUIRE(o->authorizations.size() == 1);
  CHECK(o->authorizations[0] == "https://ca.test/authz/1");
  CHECK(o->finalize == "https://ca.test/finalize/1");
  CHECK(o->certificate == "https://ca.test/cert/1");
  CHECK_FALSE(o->error.has_value());

  auto invalid = ParseOrder(kUrl, R"({"status":"invalid","authorizations":[],"finalize":"f",
    "error":{"type":"urn:ietf:params:acme:error:unauthorized","detail":"no"}})");
  REQUIRE(invalid.ok());
  REQUIRE(invalid->error.has_value());
  CHECK(invalid->error->Is("unauthorized"));

  std::string m =
      Refusal(ParseOrder(kUrl, R"({"status":"done","authorizations":[],"finalize":"f"})").status());
  CHECK(absl::StrContains(m, R"(field "status" is "done", not one of pending, ready,)"));
  m = Refusal(ParseOrder(kUrl, R"({"status":"ready","finalize":"f"})").status());
  CHECK(absl::StrContains(m, R"(field "authorizations" is missing)"));
  m = Refusal(
      ParseOrder(kUrl, R"({"status":"ready","authorizations":[7],"finalize":"f"})").status());
  CHECK(absl::StrContains(m, R"(field "authorizations[0]" is a number, not a string)"));
  std::string many = R"({"status":"pending","finalize":"f","authorizations":[)";
  for (int i = 0; i < 101; ++i) absl::StrAppend(&many, i ? "," : "", "\"u\"");
  m = Refusal(ParseOrder(kUrl, many + "]}").status());
  CHECK(absl::StrContains(m, "101 entries, more than 100"));
}

TEST_CASE("an authorization and its challenges") {
  auto a = ParseAuthorization(kUrl, R"({"status":"pending","wildcard":true,
    "identifier":{"type":"dns","value":"example.test"},
    "challenges":[
      {"type":"http-01","url":"https://ca.test/chal/1","token":"t1","status":"pending"},
      {"type":"dns-01","url":"https://ca.test/chal/2","token":"t2","status":"invalid",
       "error":{"type":"urn:ietf:params:acme:error:dns","detail":"SERVFAIL"}}]})");
  REQUIRE(a.ok());
  CHECK(a->identifier_type == "dns");
  CHECK(a->identifier == "example.test");
  CHECK(a->wildcard);
  REQUIRE(a->challenges.size() == 2);
  CHECK(a->challenges[1].type == "dns-01");
  CHECK(a->challenges[1].token == "t2");
  REQUIRE(a->challenges[1].error.has_value());
  CHECK(a->challenges[1].error->Describe() == "urn:ietf:params:acme:error:dns: SERVFAIL");

  std::string m =
      Refusal(ParseAuthorization(kUrl, R"({"status":"pending","challenges":[]})").status());
  CHECK(absl::StrContains(m, R"(field "identifier.type" is missing)"));
  m = Refusal(ParseAuthorization(kUrl, R"({"status":"pending","identifier":{"type":"dns",
    "value":"a"},"challenges":[{"type":"dns-01","status":"pending"}]})")
                  .status());
  CHECK(absl::StrContains(m, R"(field "challenges[0]" lacks one of "type", "url", "status")"));
  m = Refusal(ParseAuthorization(kUrl, R"({"status":"pending","identifier":{"type":"dns",
    "value":"a"},"challenges":"dns-01"})")
                  .status());
  CHECK(absl::StrContains(m, R"(field "challenges" is a string, not an array)"));
}

TEST_CASE("problem documents, with subproblems, described inert and bounded") {
  auto p = ParseProblem(kUrl, R"({"type":"urn:ietf:params:acme:error:rejectedIdentifier",
    "detail":"Error creating new order \u001b[2J","status":400,
    "subproblems":[{"type":"urn:ietf:params:acme:error:rejectedIdentifier",
      "detail":"bad name","identifier":{"type":"dns","value":"x\u0007.test"}}]})");
  REQUIRE(p.ok());
  CHECK(p->Is("rejectedIdentifier"));
  CHECK_FALSE(p->Is("rejected"));
  CHECK(p->status == 400);
  REQUIRE(p->subproblems.size() == 1);
  CHECK(p->subproblems[0].identifier == "x\a.test");
  const std::string text = p->Describe();
  CHECK(text ==
        "urn:ietf:params:acme:error:rejectedIdentifier: Error creating new order \\e[2J; "
        "x\\x07.test: urn:ietf:params:acme:error:rejectedIdentifier: bad name");
  const std::string huge =
      absl::StrCat(R"({"type":"t","detail":")", std::string(100000, 'd'), "\"}");
  CHECK(ParseProblem(kUrl, huge)->Describe().size() < 1100);
  std::string m = Refusal(ParseProblem(kUrl, R"({"detail":"no type"})").status());
  CHECK(absl::StrContains(m, R"(field "type" is missing)"));
}

TEST_CASE("the payloads the client posts") {
  CHECK(NewAccountPayload("ops@example.test", "") ==
        R"({"termsOfServiceAgreed":true,"contact":["mailto:ops@example.test"]})");
  CHECK(NewAccountPayload("", R"({"protected":"p"})") ==
        R"({"termsOfServiceAgreed":true,"externalAccountBinding":{"protected":"p"}})");
  CHECK(NewOrderPayload({"a.test", "*.b.test"}) ==
        R"({"identifiers":[{"type":"dns","value":"a.test"},{"type":"dns","value":"*.b.test"}]})");
  CHECK(FinalizePayload(std::string("\x30\x82\xfb", 3)) == R"({"csr":"MIL7"})");
}

}  // namespace
}  // namespace rotor::acme
