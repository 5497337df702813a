// The server-answer half of the catalogue: the real rotor against a
// rotor-emulator whose answer to one kind of request is replaced (POST
// /_emulator/answer) by a broken or hostile one: truncated or malformed
// JSON, wrong types, HTML error pages, huge or deeply nested bodies, bad
// nextLinks, odd tokens and challenges. `rotor apply --auto-approve` (with a
// pending change) must exit 1 with a clear message naming what failed, and
// the emulator's vault and deployments must not change.
#include <doctest/doctest.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
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
       {"listing the secrets of vault newregkv", "no \"value\" array"}},
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
       {"has no \"id\""}},
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
       {"read secret containersecret", "the secret answer carries no value"}},
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
       {"the deployment has no \"name\""}},
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
       {"the deployment list has no \"value\" array"}},
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
    ProcessResult r = ws.Rotor({"apply", "--auto-approve"});
    ws.ClearScripts();
    const std::string output = r.stdout_data + r.stderr_data;
    CAPTURE(output.substr(0, 4000));
    CHECK(r.exit_code == 1);
    for (const std::string& text : c.expected) {
      CHECK_MESSAGE(absl::StrContains(output, text), "expected: ", text);
    }
    for (const auto& [name, value] : ws.env()) {
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

}  // namespace
}  // namespace rotor::hostile
