// The server-answer half of the catalogue: the real rotor against a
// rotor-emulator whose answer to one kind of request is replaced (POST
// /_emulator/answer) by a broken or hostile one: truncated or malformed
// JSON, wrong types, HTML error pages, huge or deeply nested bodies, bad
// nextLinks, odd tokens and challenges, known fields of the wrong type.
// `rotor apply --auto-approve` (with a pending change) must exit 1 with a
// clear message naming what failed (the field and the URL for a wrong
// shape), and the emulator's vault and deployments must not change. Each
// script answers every request until cleared, so a read that rotor sends
// again (an unreadable answer is read up to 4 times) meets it each time.
#include <doctest/doctest.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "tests/hostile/workspace.h"

namespace rotor::hostile {
namespace {

constexpr char kVaultList[] = "/secrets";
constexpr char kMetadata[] = "/metadata/endpoints";

std::string TokenPath() { return absl::StrCat("/", emulator::testing::kTenant, "/oauth2/token"); }
std::string DeploymentsPath() {
  return absl::StrCat("/subscriptions/", EmulatorWorkspace::kSubscription,
                      "/resourcegroups/newregreg/providers/Microsoft.Resources/deployments/");
}

struct BadAnswer {
  std::string name;
  std::string method;
  std::string path;
  int status = 200;
  std::string body;
  int repeat = 1;
  std::string header;
  // Every one of these must be in rotor's output.
  std::vector<std::string> expected;
  // An unreadable certificate secret is drift that apply repairs: it writes
  // a new version (and the new user), then reads the PFX back at the URL it
  // would deploy, gets the bad answer again and refuses to redeploy. For
  // these the deployments must not change; the vault legitimately does.
  bool repairs_certificate = false;
};

std::vector<BadAnswer> Cases() {
  const std::string list = kVaultList;
  const std::string secret_item =
      R"({"id":"https://newregkv.vault.localhost/secrets/admin","attributes":{"enabled":true}})";
  return {
      // Key Vault: the secret list rotor reads first.
      {"secret list: truncated JSON",
       "GET",
       list,
       200,
       R"({"value":[{"id":"https://newregkv.va)",
       1,
       "",
       {"listing the secrets of vault newregkv", "not a JSON object"}},
      {"secret list: an HTML page with 200",
       "GET",
       list,
       200,
       "<html><body>Service Unavailable</body></html>",
       1,
       "",
       {"listing the secrets of vault newregkv", "not a JSON object"}},
      {"secret list: empty body",
       "GET",
       list,
       200,
       "",
       1,
       "",
       {"listing the secrets of vault newregkv"}},
      {"secret list: a JSON array",
       "GET",
       list,
       200,
       "[1,2,3]",
       1,
       "",
       {"listing the secrets of vault newregkv", "not a JSON object"}},
      {"secret list: value is a string",
       "GET",
       list,
       200,
       R"({"value":"admin"})",
       1,
       "",
       {"listing the secrets of vault newregkv", "GET https://newregkv.vault.localhost",
        "field \"value\" is a string, not an array"}},
      {"secret list: an item without id",
       "GET",
       list,
       200,
       R"({"value":[{"attributes":{"enabled":true}}]})",
       1,
       "",
       {"has no \"id\""}},
      {"secret list: id is a number",
       "GET",
       list,
       200,
       R"({"value":[{"id":42}]})",
       1,
       "",
       {"field \"value[0].id\" is a number, not a string"}},
      {"secret list: id is not a secret id",
       "GET",
       list,
       200,
       R"({"value":[{"id":"https://newregkv.vault.localhost/keys/admin"}]})",
       1,
       "",
       {"is not a Key Vault secret id"}},
      {"secret list: nextLink to another host",
       "GET",
       list,
       200,
       absl::StrCat(
           R"({"value":[],"nextLink":"https://evil.localhost:1/secrets?api-version=2016-10-01"})"),
       1,
       "",
       {"refusing nextLink"}},
      {"secret list: nextLink over plain http",
       "GET",
       list,
       200,
       R"({"value":[],"nextLink":"http://newregkv.vault.localhost/secrets?x=1"})",
       1,
       "",
       {"refusing nextLink"}},
      {"secret list: nextLink to itself, forever",
       "GET",
       list,
       200,
       "",
       1,
       "",
       {"refusing nextLink"}},  // body filled in by the test: needs the port
      {"secret list: deeply nested JSON",
       "GET",
       list,
       200,
       "[",
       200000,
       "",
       {"listing the secrets of vault newregkv"}},
      {"secret list: a 70 MB body",
       "GET",
       list,
       200,
       absl::StrCat(R"({"value":[)", secret_item, ","),
       800000,
       "",
       {"listing the secrets of vault newregkv", "larger than"}},
      {"secret list: 500 with an HTML page",
       "GET",
       list,
       500,
       "<html><body><h1>Internal error</h1></body></html>",
       1,
       "",
       {"GET https://newregkv.vault.localhost", "500"}},
      {"secret list: 403 with a Key Vault error",
       "GET",
       list,
       403,
       R"({"error":{"code":"Forbidden","message":"The user does not have secrets list permission","innererror":{"code":"AccessDenied"}}})",
       1,
       "",
       {"403", "Forbidden", "does not have secrets list permission"}},
      {"secret list: 401 with a garbled challenge",
       "GET",
       list,
       401,
       R"({"error":{"code":"Unauthorized","message":"no"}})",
       1,
       "WWW-Authenticate: Bearer authorization=\"%%%\", resource=",
       {"401"}},
      // Key Vault: the certificate secret's value.
      {"certificate secret: value is not base64",
       "GET",
       "/secrets/containersecret/*",
       200,
       R"({"value":"%%% not base64 %%%","contentType":"pfx","id":"https://newregkv.vault.localhost/secrets/containersecret/0123456789abcdef0123456789abcdef","attributes":{"enabled":true}})",
       1,
       "",
       {"containersecret", "not valid base64"},
       true},
      {"certificate secret: value is a number",
       "GET",
       "/secrets/containersecret/*",
       200,
       R"({"value":12345,"contentType":"pfx","id":"https://newregkv.vault.localhost/secrets/containersecret/0123456789abcdef0123456789abcdef","attributes":{"enabled":true}})",
       1,
       "",
       {"read secret containersecret", "GET https://newregkv.vault.localhost",
        "field \"value\" is a number, not a string"}},
      {"certificate secret: JSON without data",
       "GET",
       "/secrets/containersecret/*",
       200,
       absl::StrCat(
           R"({"value":")", "eyJkYXRhVHlwZSI6InBmeCJ9",
           R"(","contentType":"pfx","id":"https://newregkv.vault.localhost/secrets/containersecret/0123456789abcdef0123456789abcdef","attributes":{"enabled":true}})"),
       1,
       "",
       {"containersecret", "no string \"data\" field"},
       true},
      // Sign-in.
      {"metadata: not JSON",
       "GET",
       kMetadata,
       200,
       "<html></html>",
       1,
       "",
       {"metadata", "not a JSON object"}},
      {"metadata: no login endpoint",
       "GET",
       kMetadata,
       200,
       R"({"authentication":{"audiences":["https://management.localhost/x"]}})",
       1,
       "",
       {"authentication.loginEndpoint"}},
      {"metadata: login endpoint over plain http",
       "GET",
       kMetadata,
       200,
       R"({"authentication":{"loginEndpoint":"http://login.localhost:1/","audiences":["https://management.localhost/x"]}})",
       1,
       "",
       {"plain http:// is refused"}},
      {"metadata: login endpoint on another host over http",
       "GET",
       kMetadata,
       200,
       R"({"authentication":{"loginEndpoint":"http://login.example.com/","audiences":["https://management.localhost/x"]}})",
       1,
       "",
       {"plain http:// is refused"}},
      {"token: no access_token",
       "POST",
       "*",
       200,
       R"({"token_type":"Bearer","expires_in":3599})",
       1,
       "",
       {"the token response has no access_token"}},
      {"token: not Bearer",
       "POST",
       "*",
       200,
       R"({"token_type":"mac","access_token":"abc","expires_in":3599})",
       1,
       "",
       {"token_type \"mac\", not Bearer"}},
      {"token: truncated",
       "POST",
       "*",
       200,
       R"({"token_type":"Bearer","access_tok)",
       1,
       "",
       {"the token response is not a JSON object"}},
      {"token: 400 invalid_client",
       "POST",
       "*",
       400,
       R"({"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided."})",
       1,
       "",
       {"invalid_client", "AADSTS7000215"}},
      // ARM: the deployment list.
      {"deployment list: truncated",
       "GET",
       "",
       200,
       R"({"value":[{"name":"regis)",
       1,
       "",
       {"the deployment list is not a JSON object"}},
      {"deployment list: name is a number",
       "GET",
       "",
       200,
       R"({"value":[{"name":5}]})",
       1,
       "",
       {"field \"value[0].name\" is a number, not a string", "GET https://management.localhost"}},
      {"deployment list: nextLink to another host",
       "GET",
       "",
       200,
       R"({"value":[],"nextLink":"https://evil.localhost:1/subscriptions/x"})",
       1,
       "",
       {"refusing nextLink"}},
      {"deployment list: value is an object",
       "GET",
       "",
       200,
       R"({"value":{"name":"x"}})",
       1,
       "",
       {"field \"value\" is an object, not an array"}},
      // Known fields of the wrong type: an error naming the field and the
      // URL, never read as "not given" (parameters as a string were read as
      // "no parameters", and a redeploy without them followed).
      {"deployment list: properties.parameters is a string",
       "GET",
       "",
       200,
       R"({"value":[{"name":"registry","properties":{"provisioningState":"Succeeded","parameters":"pfxThumbprint"}}]})",
       1,
       "",
       {"field \"value[0].properties.parameters\" is a string, not an object",
        "GET https://management.localhost"}},
      {"deployment list: one parameter is a string",
       "GET",
       "",
       200,
       R"({"value":[{"name":"registry","properties":{"provisioningState":"Succeeded","parameters":{"pfxThumbprint":"ABC"}}}]})",
       1,
       "",
       {"field \"value[0].properties.parameters.pfxThumbprint\" is a string, not an object"}},
      {"deployment list: provisioningState is a number",
       "GET",
       "",
       200,
       R"({"value":[{"name":"registry","properties":{"provisioningState":4}}]})",
       1,
       "",
       {"field \"value[0].properties.provisioningState\" is a number, not a string"}},
      {"deployment list: tags is an array",
       "GET",
       "",
       200,
       R"({"value":[{"name":"registry","tags":["managed-by"],"properties":{}}]})",
       1,
       "",
       {"field \"value[0].tags\" is an array, not an object"}},
      {"deployment list: nextLink is an object",
       "GET",
       "",
       200,
       R"({"value":[],"nextLink":{"href":"x"}})",
       1,
       "",
       {"field \"nextLink\" is an object, not a string"}},
      {"deployment list: an item is a string",
       "GET",
       "",
       200,
       R"({"value":["registry"]})",
       1,
       "",
       {"field \"value[0]\" is a string, not an object"}},
      {"secret list: attributes.enabled is a string",
       "GET",
       list,
       200,
       R"({"value":[{"id":"https://newregkv.vault.localhost/secrets/admin","attributes":{"enabled":"false"}}]})",
       1,
       "",
       {"field \"value[0].attributes.enabled\" is a string, not a boolean",
        "GET https://newregkv.vault.localhost"}},
      {"secret list: a tag value is a number",
       "GET",
       list,
       200,
       R"({"value":[{"id":"https://newregkv.vault.localhost/secrets/admin","tags":{"managed-by":7}}]})",
       1,
       "",
       {"field \"value[0].tags.managed-by\" is a number, not a string"}},
      {"secret list: attributes.updated is a string",
       "GET",
       list,
       200,
       R"({"value":[{"id":"https://newregkv.vault.localhost/secrets/admin","attributes":{"updated":"yesterday"}}]})",
       1,
       "",
       {"field \"value[0].attributes.updated\" is a string, not a number"}},
      {"secret list: nextLink is a number",
       "GET",
       list,
       200,
       R"({"value":[],"nextLink":5})",
       1,
       "",
       {"field \"nextLink\" is a number, not a string"}},
      {"certificate secret: contentType is an object",
       "GET",
       "/secrets/containersecret/*",
       200,
       R"({"value":"x","contentType":{"a":1},"id":"https://newregkv.vault.localhost/secrets/containersecret/0123456789abcdef0123456789abcdef"})",
       1,
       "",
       {"field \"contentType\" is an object, not a string"}},
      {"token: expires_in is an object",
       "POST",
       "*",
       200,
       R"({"token_type":"Bearer","access_token":"abc","expires_in":{"s":3599}})",
       1,
       "",
       {"field \"expires_in\" is an object, not a number", "oauth2/token"}},
      {"token: expires_in is not a number",
       "POST",
       "*",
       200,
       R"({"token_type":"Bearer","access_token":"abc","expires_in":"soon"})",
       1,
       "",
       {"field \"expires_in\" is a string that is not a number, not a number"}},
      {"token: access_token is a number",
       "POST",
       "*",
       200,
       R"({"token_type":"Bearer","access_token":12345,"expires_in":3599})",
       1,
       "",
       {"field \"access_token\" is a number, not a string"}},
      {"token: an answer over 1 MiB",
       "POST",
       "*",
       200,
       std::string(1024, 'x'),
       1100,
       "",
       {"larger than 1 MiB, the limit for this request", "oauth2/token"}},
      {"metadata: audiences is a string",
       "GET",
       kMetadata,
       200,
       R"({"authentication":{"loginEndpoint":"https://login.localhost/","audiences":"https://management.localhost/x"}})",
       1,
       "",
       {"field \"authentication.audiences\" is a string, not an array", "metadata/endpoints"}},
      {"metadata: authentication is a string",
       "GET",
       kMetadata,
       200,
       R"({"authentication":"https://login.localhost/"})",
       1,
       "",
       {"field \"authentication\" is a string, not an object"}},
      {"metadata: a terminal escape in the error message",
       "GET",
       kMetadata,
       400,
       "{\"error\":{\"code\":\"Bad\",\"message\":\"\\u001b]0;pwned\\u0007\\u001b[2J\"}}",
       1,
       "",
       {"\\e]0;pwned\\x07\\e[2J"}},
      {"secret list: an answer over 4 MiB",
       "GET",
       list,
       200,
       absl::StrCat(R"({"value":[)", secret_item, ","),
       60000,
       "",
       {"listing the secrets of vault newregkv", "larger than 4 MiB"}},
  };
}

TEST_CASE("bad server answers are refused with a clear message and change nothing") {
  EmulatorWorkspace ws;
  std::vector<BadAnswer> cases = Cases();
  CHECK(cases.size() >= 25);
  for (BadAnswer& c : cases) {
    CAPTURE(c.name);
    if (c.path.empty()) c.path = DeploymentsPath();
    if (c.path == "*") c.path = TokenPath();
    if (absl::StrContains(c.name, "to itself")) {
      c.body = absl::StrCat(R"({"value":[],"nextLink":")",
                            ws.emu().VaultUrl("newregkv", "/secrets?api-version=2016-10-01&page=2"),
                            R"("})");
    }
    ws.Script(c.method, c.path, c.status, c.body, c.repeat, c.header);
    const absl::Time start = absl::Now();
    ProcessResult r = ws.Rotor({"apply", "--auto-approve"});
    const absl::Duration took = absl::Now() - start;
    ws.ClearScripts();
    const std::string output = r.stdout_data + r.stderr_data;
    CAPTURE(output.substr(0, 4000));
    CHECK(r.exit_code == 1);
    // Bounded: a hostile answer neither floods the output nor holds rotor.
    CHECK(output.size() < 16 * 1024);
    CHECK(took < absl::Seconds(60));
    CHECK(output.find('\x1b') == std::string::npos);
    for (const std::string& text : c.expected) {
      CHECK_MESSAGE(absl::StrContains(output, text), "expected: ", text);
    }
    for (const auto& [name, value] : ws.env()) {
      if (absl::StartsWith(name, "ROTOR_TEST_")) continue;  // a test hook, not a secret
      if (value.has_value() && !value->empty()) CHECK_FALSE(absl::StrContains(output, *value));
    }
    if (c.repairs_certificate) {
      CHECK(absl::StrContains(output, "the latest version does not hold a readable certificate"));
      Snapshot before, after;
      for (const auto& [path, contents] : ws.baseline()) {
        if (absl::StartsWith(path, "deployments/")) before[path] = contents;
      }
      for (const auto& [path, contents] : ws.State()) {
        if (absl::StartsWith(path, "deployments/")) after[path] = contents;
      }
      CHECK(DescribeDifference(before, after) == "");
      ws.Rebaseline();
      continue;
    }
    CHECK(DescribeDifference(ws.baseline(), ws.State()) == "");
  }
  // And with the server behaving again, the same apply goes through.
  ProcessResult r = ws.Rotor({"apply", "--auto-approve"});
  INFO(r.stdout_data, r.stderr_data);
  CHECK(r.exit_code == 0);
  CHECK(DescribeDifference(ws.baseline(), ws.State()) != "");
}

TEST_CASE("an unreadable answer to a read is read again, and one to a write is checked") {
  EmulatorWorkspace ws;
  // One truncated answer each to the token request, the secret list and the
  // deployment list, and a garbled one to the new secret's PUT (the scripted
  // answer replaces the write, which then did not happen: rotor reads back,
  // finds it missing, and writes once).
  ws.Script("POST", TokenPath(), 200, R"({"token_type":"Bearer","access_tok)", 1, "", 1);
  ws.Script("GET", kVaultList, 200, R"({"value":[{"id":"https://newregkv.va)", 1, "", 1);
  ws.Script("GET", DeploymentsPath(), 200, R"({"value":[{"name":"regis)", 1, "", 1);
  ws.Script("PUT", "/secrets/ops", 200, "<html>proxy error</html>", 1, "", 1);
  ProcessResult r = ws.Rotor({"apply", "--auto-approve"});
  ws.ClearScripts();
  INFO(r.stdout_data, r.stderr_data);
  CHECK(r.exit_code == 0);
  const std::string diff = DescribeDifference(ws.baseline(), ws.State());
  CHECK(absl::StrContains(diff, "vaults/"));
  // Converged: nothing left to do.
  ProcessResult plan = ws.Rotor({"plan", "--detailed-exitcode"});
  INFO(plan.stdout_data, plan.stderr_data);
  CHECK(plan.exit_code == 0);
}

}  // namespace
}  // namespace rotor::hostile
