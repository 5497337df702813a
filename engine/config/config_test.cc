// Tests of the config loader: every malformed config asserts the whole
// message (summary, file:line:col, key path, what is wrong, the fix, the
// source line and the caret); valid configs check defaults and paths.
#include "engine/config/config.h"

#include <doctest/doctest.h>
#include <rapidjson/document.h>

#include <filesystem>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "engine/config/config_schema.h"
#include "tests/support/testing.h"

namespace rotor {
namespace {

using ::rotor::testing::TempDir;

// The message of a config that must fail to load.
std::string ErrorOf(const std::string& toml) {
  absl::StatusOr<Config> config = ParseConfig(toml, "rotor.toml");
  if (config.ok()) return "(loaded without errors)";
  CHECK(config.status().code() == absl::StatusCode::kInvalidArgument);
  return std::string(config.status().message());
}

Config LoadOrDie(const std::string& toml, const std::string& path = "/srv/registry/rotor.toml") {
  absl::StatusOr<Config> config = ParseConfig(toml, path);
  REQUIRE_MESSAGE(config.ok(), config.status().ToString());
  return std::move(*config);
}

constexpr char kLocalHead[] = R"([cloud]
kind = "local"
[vault]
name = "newregkv"
)";

// ---------------------------------------------------------------------------
// Malformed configs (the whole message each time).

TEST_CASE("config error: toml syntax error") {
  CHECK(ErrorOf(R"x([cloud
kind = "local"
)x") ==
        R"x(rotor.toml: 1 error
rotor.toml:1:7: error: Error while parsing table header: expected ']', saw '\n'
    1 | [cloud
      |       ^)x");
}

TEST_CASE("config error: unknown top-level table") {
  CHECK(ErrorOf(R"x([cloud]
kind = "local"
[vault]
name = "newregkv"
[valut]
name = "x"
)x") ==
        R"x(rotor.toml: 1 error
rotor.toml:5:2: error: valut: unknown table; did you mean [vault]?
    5 | [valut]
      |  ^)x");
}

TEST_CASE("config error: unknown key with did you mean") {
  CHECK(ErrorOf(R"x([cloud]
kind = "local"
[vault]
nmae = "newregkv"
)x") ==
        R"x(rotor.toml: 2 errors
rotor.toml:3:1: error: vault: missing required key "name"; for example name = "newregkv"
    3 | [vault]
      | ^
rotor.toml:4:1: error: vault.nmae: unknown key; did you mean "name"?
    4 | nmae = "newregkv"
      | ^)x");
}

TEST_CASE("config error: unknown key lists allowed keys") {
  CHECK(ErrorOf(R"x([cloud]
kind = "local"
[vault]
name = "newregkv"
colour = "blue"
)x") ==
        R"x(rotor.toml: 1 error
rotor.toml:5:1: error: vault.colour: unknown key; expected one of: name, resource_group
    5 | colour = "blue"
      | ^)x");
}

TEST_CASE("config error: unknown top-level key") {
  CHECK(ErrorOf(R"x(users = 3
[cloud]
kind = "local"
[vault]
name = "newregkv"
)x") ==
        R"x(rotor.toml: 1 error
rotor.toml:1:1: error: users: unknown key; did you mean [[user]]?
    1 | users = 3
      | ^)x");
}

TEST_CASE("config error: wrong type integer as string") {
  CHECK(ErrorOf(R"x([cloud]
kind = "local"
[vault]
name = "newregkv"
[certificate]
secret_name = "cert"
pfx = "r.pfx"
password = "pw-local"
min_valid_days = "30"
)x") ==
        R"x(rotor.toml: 1 error
rotor.toml:9:18: error: certificate.min_valid_days: expected an integer, found a string; remove the quotes
    9 | min_valid_days = "30"
      |                  ^)x");
}

TEST_CASE("config error: wrong type string as integer") {
  CHECK(ErrorOf(R"x([cloud]
kind = "local"
[vault]
name = 42
)x") ==
        R"x(rotor.toml: 1 error
rotor.toml:4:8: error: vault.name: expected a string, found an integer; put the value in quotes
    4 | name = 42
      |        ^)x");
}

TEST_CASE("config error: wrong type boolean") {
  CHECK(ErrorOf(R"x([cloud]
kind = "local"
[vault]
name = "newregkv"
[policy]
delete_stale_users = "yes"
)x") ==
        R"x(rotor.toml: 1 error
rotor.toml:6:22: error: policy.delete_stale_users: expected a boolean (true or false), found a string
    6 | delete_stale_users = "yes"
      |                      ^)x");
}

TEST_CASE("config error: bad cloud kind with suggestion") {
  CHECK(ErrorOf(R"x([cloud]
kind = "azurstack"
[vault]
name = "newregkv"
)x") ==
        R"x(rotor.toml: 1 error
rotor.toml:2:8: error: cloud.kind: unknown value "azurstack"; did you mean "azurestack"?
    2 | kind = "azurstack"
      |        ^)x");
}

TEST_CASE("config error: bad cloud kind without suggestion") {
  CHECK(ErrorOf(R"x([cloud]
kind = "aws"
[vault]
name = "newregkv"
)x") ==
        R"x(rotor.toml: 1 error
rotor.toml:2:8: error: cloud.kind: unknown value "aws"; expected one of "azurestack", "azure", "local"
    2 | kind = "aws"
      |        ^)x");
}

TEST_CASE("config error: vault name with consecutive hyphens") {
  CHECK(ErrorOf(R"x([cloud]
kind = "local"
[vault]
name = "new--kv"
)x") ==
        R"x(rotor.toml: 1 error
rotor.toml:4:8: error: vault.name: invalid value "new--kv": a vault name has letters, digits and hyphens, starts with a letter, ends with a letter or digit and has no "--"
    4 | name = "new--kv"
      |        ^)x");
}

TEST_CASE("config error: vault name too short") {
  CHECK(ErrorOf(R"x([cloud]
kind = "local"
[vault]
name = "kv"
)x") ==
        R"x(rotor.toml: 1 error
rotor.toml:4:8: error: vault.name: "kv" is too short: 2 characters, at least 3
    4 | name = "kv"
      |        ^)x");
}

TEST_CASE("config error: vault name starting with a digit") {
  CHECK(ErrorOf(R"x([cloud]
kind = "local"
[vault]
name = "1kv"
)x") ==
        R"x(rotor.toml: 1 error
rotor.toml:4:8: error: vault.name: invalid value "1kv": a vault name has letters, digits and hyphens, starts with a letter, ends with a letter or digit and has no "--"
    4 | name = "1kv"
      |        ^)x");
}

TEST_CASE("config error: user name with a colon") {
  CHECK(ErrorOf(R"x([cloud]
kind = "local"
[vault]
name = "newregkv"
[[user]]
name = "ci:bot"
password = { env = "CI_PASSWORD" }
)x") ==
        R"x(rotor.toml: 1 error
rotor.toml:6:8: error: user[0].name: invalid value "ci:bot": a user name is its Key Vault secret name and htpasswd login: letters, digits and hyphens only (no ":", "_", "." or spaces)
    6 | name = "ci:bot"
      |        ^)x");
}

TEST_CASE("config error: user name with an underscore") {
  CHECK(ErrorOf(R"x([cloud]
kind = "local"
[vault]
name = "newregkv"
[[user]]
name = "ci_bot"
password = { env = "CI_PASSWORD" }
)x") ==
        R"x(rotor.toml: 1 error
rotor.toml:6:8: error: user[0].name: invalid value "ci_bot": a user name is its Key Vault secret name and htpasswd login: letters, digits and hyphens only (no ":", "_", "." or spaces)
    6 | name = "ci_bot"
      |        ^)x");
}

TEST_CASE("config error: duplicate users differing in case") {
  CHECK(ErrorOf(R"x([cloud]
kind = "local"
[vault]
name = "newregkv"
[[user]]
name = "admin"
password = { env = "A" }

[[user]]
name = "Admin"
password = { env = "B" }
)x") ==
        R"x(rotor.toml: 1 error
rotor.toml:10:8: error: user[Admin].name: duplicate user "Admin": user "admin" is declared at line 6 and Key Vault secret names ignore case; rename or remove one of them
   10 | name = "Admin"
      |        ^)x");
}

TEST_CASE("config error: literal password with kind azurestack") {
  CHECK(ErrorOf(R"x([cloud]
kind = "azurestack"
arm_endpoint = "https://management.local.azurestack.external"
[auth]
method = "environment"
[vault]
name = "newregkv"
[[user]]
name = "admin"
password = "hunter2-literal"
)x") ==
        R"x(rotor.toml: 1 error
rotor.toml:10:12: error: user[admin].password: a literal secret is only allowed when cloud.kind = "local"; use { env = "NAME" }, { file = "PATH" }, { command = ["PROGRAM", ...] } or { generate = 32 }
   10 | password = "***************"
      |            ^)x");
}

TEST_CASE("config error: source with two kinds") {
  CHECK(ErrorOf(R"x([cloud]
kind = "local"
[vault]
name = "newregkv"
[[user]]
name = "admin"
password = { env = "A", file = "admin.txt" }
)x") ==
        R"x(rotor.toml: 1 error
rotor.toml:7:12: error: user[admin].password: set exactly one of env, file, command or generate (found env and file)
    7 | password = { env = "A", file = "admin.txt" }
      |            ^)x");
}

TEST_CASE("config error: empty source table") {
  CHECK(ErrorOf(R"x([cloud]
kind = "local"
[vault]
name = "newregkv"
[[user]]
name = "admin"
password = {}
)x") ==
        R"x(rotor.toml: 1 error
rotor.toml:7:12: error: user[admin].password: set exactly one of env, file, command or generate (the table is empty)
    7 | password = {}
      |            ^)x");
}

TEST_CASE("config error: empty command array") {
  CHECK(ErrorOf(R"x([cloud]
kind = "local"
[vault]
name = "newregkv"
[[user]]
name = "admin"
password = { command = [] }
)x") ==
        R"x(rotor.toml: 1 error
rotor.toml:7:24: error: user[admin].password.command: must not be empty; for example command = ["pass", "show", "registry/admin"]
    7 | password = { command = [] }
      |                        ^)x");
}

TEST_CASE("config error: empty program name") {
  CHECK(ErrorOf(R"x([cloud]
kind = "local"
[vault]
name = "newregkv"
[[user]]
name = "admin"
password = { command = ["", "x"] }
)x") ==
        R"x(rotor.toml: 1 error
rotor.toml:7:25: error: user[admin].password.command[0]: must not be empty
    7 | password = { command = ["", "x"] }
      |                         ^)x");
}

TEST_CASE("config error: generate too short") {
  CHECK(ErrorOf(R"x([cloud]
kind = "local"
[vault]
name = "newregkv"
[[user]]
name = "ci"
password = { generate = 8 }
)x") ==
        R"x(rotor.toml: 1 error
rotor.toml:7:25: error: user[ci].password.generate: 8 is out of range (shorter generated passwords are too easy to guess); use a value from 16 to 255
    7 | password = { generate = 8 }
      |                         ^)x");
}

TEST_CASE("config error: generate too long") {
  CHECK(ErrorOf(R"x([cloud]
kind = "local"
[vault]
name = "newregkv"
[[user]]
name = "ci"
password = { generate = 300 }
)x") ==
        R"x(rotor.toml: 1 error
rotor.toml:7:25: error: user[ci].password.generate: 300 is out of range (the registry VM skips longer secrets); use a value from 16 to 255
    7 | password = { generate = 300 }
      |                         ^)x");
}

TEST_CASE("config error: generate for the certificate password") {
  CHECK(ErrorOf(R"x([cloud]
kind = "local"
[vault]
name = "newregkv"
[certificate]
secret_name = "cert"
pfx = "r.pfx"
password = { generate = 32 }
)x") ==
        R"x(rotor.toml: 1 error
rotor.toml:8:14: error: certificate.password.generate: generate is only for [[user]] passwords; use env, file or command
    8 | password = { generate = 32 }
      |              ^)x");
}

TEST_CASE("config error: bad rotate_after") {
  CHECK(ErrorOf(R"x([cloud]
kind = "local"
[vault]
name = "newregkv"
[[user]]
name = "ci"
password = { generate = 32 }
rotate_after = "90days"
)x") ==
        R"x(rotor.toml: 1 error
rotor.toml:8:16: error: user[ci].rotate_after: invalid value "90days": a duration is a whole number followed by m, h, d or w, such as "90d" or "12h"
    8 | rotate_after = "90days"
      |                ^)x");
}

TEST_CASE("config error: rotate_after without generate") {
  CHECK(ErrorOf(R"x([cloud]
kind = "local"
[vault]
name = "newregkv"
[[user]]
name = "ci"
password = { env = "CI_PASSWORD" }
rotate_after = "90d"
)x") ==
        R"x(rotor.toml: 1 error
rotor.toml:8:1: error: user[ci].rotate_after: only used with password = { generate = N }: rotor rotates only the passwords it generates; remove it
    8 | rotate_after = "90d"
      | ^)x");
}

TEST_CASE("config error: user named like the certificate secret") {
  CHECK(ErrorOf(R"x([cloud]
kind = "local"
[vault]
name = "newregkv"
[[user]]
name = "ContainerSecret"
password = { env = "X" }
[certificate]
secret_name = "containersecret"
pfx = "r.pfx"
password = { env = "PFX_PASSWORD" }
)x") ==
        R"x(rotor.toml: 1 error
rotor.toml:6:8: error: user[ContainerSecret].name: "ContainerSecret" is also the certificate's secret name (certificate.secret_name, line 9); rename the user or the certificate secret
    6 | name = "ContainerSecret"
      |        ^)x");
}

TEST_CASE("config error: empty file") {
  CHECK(ErrorOf(R"x()x") ==
        R"x(rotor.toml: 2 errors
rotor.toml:1:1: error: missing required table [cloud]; add it with kind = "azurestack"
    1 | 
      | ^
rotor.toml:1:1: error: missing required table [vault]; add it with name = "newregkv"
    1 | 
      | ^)x");
}

TEST_CASE("config error: user as a single table") {
  CHECK(ErrorOf(R"x([cloud]
kind = "local"
[vault]
name = "newregkv"
[user]
name = "admin"
password = { env = "X" }
)x") ==
        R"x(rotor.toml: 1 error
rotor.toml:5:1: error: user: expected an array of tables ([[user]]), found a table; write [[user]] for each entry
    5 | [user]
      | ^)x");
}

TEST_CASE("config error: user without a name") {
  CHECK(ErrorOf(R"x([cloud]
kind = "local"
[vault]
name = "newregkv"
[[user]]
password = { env = "X" }
)x") ==
        R"x(rotor.toml: 1 error
rotor.toml:5:1: error: user[0]: missing required key "name"; for example name = "admin"
    5 | [[user]]
      | ^)x");
}

TEST_CASE("config error: invalid env variable name") {
  CHECK(ErrorOf(R"x([cloud]
kind = "local"
[vault]
name = "newregkv"
[[user]]
name = "admin"
password = { env = "1PASSWORD" }
)x") ==
        R"x(rotor.toml: 1 error
rotor.toml:7:20: error: user[admin].password.env: invalid value "1PASSWORD": an environment variable name has letters, digits and underscores and does not start with a digit
    7 | password = { env = "1PASSWORD" }
      |                    ^)x");
}

TEST_CASE("config error: state_dir with azurestack") {
  CHECK(ErrorOf(R"x([cloud]
kind = "azurestack"
arm_endpoint = "https://management.local.azurestack.external"
state_dir = ".rotor"
[auth]
method = "environment"
[vault]
name = "newregkv"
)x") ==
        R"x(rotor.toml: 1 error
rotor.toml:4:1: error: cloud.state_dir: only used when kind = "local"; remove it
    4 | state_dir = ".rotor"
      | ^)x");
}

TEST_CASE("config error: azurestack without arm_endpoint and auth") {
  CHECK(ErrorOf(R"x([cloud]
kind = "azurestack"
[vault]
name = "newregkv"
)x") ==
        R"x(rotor.toml: 2 errors
rotor.toml:1:1: error: cloud: missing key "arm_endpoint" (required when kind = "azurestack"); for example arm_endpoint = "https://management.local.azurestack.external"
    1 | [cloud]
      | ^
rotor.toml:2:8: error: cloud.kind: kind = "azurestack" needs an [auth] table; add one with method = "client_secret", "client_certificate", "managed_identity" or "environment"
    2 | kind = "azurestack"
      |        ^)x");
}

TEST_CASE("config error: http endpoint without allow_insecure_loopback") {
  CHECK(ErrorOf(R"x([cloud]
kind = "azurestack"
arm_endpoint = "http://management.localhost:8443"
[auth]
method = "environment"
[vault]
name = "newregkv"
)x") ==
        R"x(rotor.toml: 1 error
rotor.toml:3:16: error: cloud.arm_endpoint: http:// is only allowed for a loopback host (localhost, 127.0.0.1, [::1]) with allow_insecure_loopback = true; use https://
    3 | arm_endpoint = "http://management.localhost:8443"
      |                ^)x");
}

TEST_CASE("config error: cloud keys with kind local") {
  CHECK(ErrorOf(R"x([cloud]
kind = "local"
arm_endpoint = "https://management.azure.com"
profile = "latest"
[vault]
name = "newregkv"
)x") ==
        R"x(rotor.toml: 2 errors
rotor.toml:3:1: error: cloud.arm_endpoint: not used when kind = "local"; remove it, or set kind = "azurestack" or "azure"
    3 | arm_endpoint = "https://management.azure.com"
      | ^
rotor.toml:4:1: error: cloud.profile: not used when kind = "local"; remove it, or set kind = "azurestack" or "azure"
    4 | profile = "latest"
      | ^)x");
}

TEST_CASE("config error: auth method needs and forbids") {
  CHECK(ErrorOf(R"x([cloud]
kind = "azure"
[auth]
method = "client_secret"
client_certificate = "spn.pem"
[vault]
name = "newregkv"
)x") ==
        R"x(rotor.toml: 3 errors
rotor.toml:3:1: error: auth: missing key "client_id" (required with method = "client_secret")
    3 | [auth]
      | ^
rotor.toml:3:1: error: auth: missing key "client_secret" (required with method = "client_secret"); for example client_secret = { env = "AZURE_CLIENT_SECRET" }
    3 | [auth]
      | ^
rotor.toml:5:1: error: auth.client_certificate: not used with method = "client_secret"; remove it
    5 | client_certificate = "spn.pem"
      | ^)x");
}

TEST_CASE("config error: auth environment with client_id") {
  CHECK(ErrorOf(R"x([cloud]
kind = "azure"
[auth]
method = "environment"
client_id = "x"
[vault]
name = "newregkv"
)x") ==
        R"x(rotor.toml: 1 error
rotor.toml:5:1: error: auth.client_id: not used with method = "environment"; remove it (method "environment" reads AZURE_CLIENT_ID and the rest from the environment)
    5 | client_id = "x"
      | ^)x");
}

TEST_CASE("config error: warn_days below min_valid_days") {
  CHECK(ErrorOf(R"x([cloud]
kind = "local"
[vault]
name = "newregkv"
[certificate]
secret_name = "cert"
pfx = "r.pfx"
password = { env = "P" }
min_valid_days = 60
)x") ==
        R"x(rotor.toml: 1 error
rotor.toml:9:18: error: certificate.min_valid_days: warn_days (45, the default) is less than min_valid_days (60); set warn_days to at least 60
    9 | min_valid_days = 60
      |                  ^)x");
}

TEST_CASE("config error: deployment parameter NaN") {
  CHECK(ErrorOf(R"x([cloud]
kind = "local"
[vault]
name = "newregkv"
[deployment]
resource_group = "rg"
[deployment.parameters]
ratio = nan
)x") ==
        R"x(rotor.toml: 1 error
rotor.toml:8:9: error: deployment.parameters.ratio: JSON has no NaN or infinite numbers; use a finite number
    8 | ratio = nan
      |         ^)x");
}

TEST_CASE("config error: unknown parameter_names key") {
  CHECK(ErrorOf(R"x([cloud]
kind = "local"
[vault]
name = "newregkv"
[deployment]
resource_group = "rg"
[deployment.parameter_names]
pfx_thumbprnt = "thumb"
)x") ==
        R"x(rotor.toml: 1 error
rotor.toml:8:1: error: deployment.parameter_names.pfx_thumbprnt: unknown key; did you mean "pfx_thumbprint"?
    8 | pfx_thumbprnt = "thumb"
      | ^)x");
}

TEST_CASE("config error: deployment without resource_group") {
  CHECK(ErrorOf(R"x([cloud]
kind = "local"
[vault]
name = "newregkv"
[deployment]
name = "latest"
)x") ==
        R"x(rotor.toml: 1 error
rotor.toml:5:1: error: deployment: missing required key "resource_group"; for example resource_group = "newregreg"
    5 | [deployment]
      | ^)x");
}

TEST_CASE("config error: literal client secret for deployment on azure") {
  CHECK(ErrorOf(R"x([cloud]
kind = "azure"
[auth]
method = "managed_identity"
[vault]
name = "newregkv"
[deployment]
resource_group = "rg"
client_id = "11111111-2222-3333-4444-555555555555"
client_secret = "hunter2-literal"
)x") ==
        R"x(rotor.toml: 1 error
rotor.toml:10:17: error: deployment.client_secret: a literal secret is only allowed when cloud.kind = "local"; use { env = "NAME" }, { file = "PATH" } or { command = ["PROGRAM", ...] }
   10 | client_secret = "***************"
      |                 ^)x");
}

TEST_CASE("config error: parse error on a secret line") {
  CHECK(ErrorOf(R"x([cloud]
kind = "local"
[vault]
name = "newregkv"
[[user]]
name = "admin"
password = "hunter2-literal
)x") ==
        R"x(rotor.toml: 1 error
rotor.toml:7:28: error: Error while parsing string: unescaped control characters other than TAB (U+0009) are explicitly prohibited
    7 | password = "***************
      |                            ^)x");
}

TEST_CASE("config error: several errors in source order") {
  CHECK(ErrorOf(R"x([cloud]
kind = "azurestack"
arm_endpoint = "https://management.local.azurestack.external"
[auth]
method = "client_secret"
client_id = "app"
client_secret = { env = "AZURE_CLIENT_SECRET" }

[vault]
name = "new_reg_kv"
resource_group = "rg"

[[user]]
name = "admin"
password = "hunter2-literal"

[[user]]
name = "ci"
password = { generate = 8 }
rotate_after = "soon"

[[user]]
name = "ADMIN"
password = { env = "X", command = ["pass"] }

[certificate]
secret_name = "containersecret"
pfx = "certs/registry.pfx"
password = { generate = 32 }
min_vaild_days = 30
)x") ==
        R"x(rotor.toml: 8 errors
rotor.toml:10:8: error: vault.name: invalid value "new_reg_kv": a vault name has letters, digits and hyphens, starts with a letter, ends with a letter or digit and has no "--"
   10 | name = "new_reg_kv"
      |        ^
rotor.toml:15:12: error: user[admin].password: a literal secret is only allowed when cloud.kind = "local"; use { env = "NAME" }, { file = "PATH" }, { command = ["PROGRAM", ...] } or { generate = 32 }
   15 | password = "***************"
      |            ^
rotor.toml:19:25: error: user[ci].password.generate: 8 is out of range (shorter generated passwords are too easy to guess); use a value from 16 to 255
   19 | password = { generate = 8 }
      |                         ^
rotor.toml:20:16: error: user[ci].rotate_after: invalid value "soon": a duration is a whole number followed by m, h, d or w, such as "90d" or "12h"
   20 | rotate_after = "soon"
      |                ^
rotor.toml:23:8: error: user[ADMIN].name: duplicate user "ADMIN": user "admin" is declared at line 14 and Key Vault secret names ignore case; rename or remove one of them
   23 | name = "ADMIN"
      |        ^
rotor.toml:24:12: error: user[ADMIN].password: set exactly one of env, file, command or generate (found command and env)
   24 | password = { env = "X", command = ["pass"] }
      |            ^
rotor.toml:29:14: error: certificate.password.generate: generate is only for [[user]] passwords; use env, file or command
   29 | password = { generate = 32 }
      |              ^
rotor.toml:30:1: error: certificate.min_vaild_days: unknown key; did you mean "min_valid_days"?
   30 | min_vaild_days = 30
      | ^)x");
}

TEST_CASE("config error: user name too long") {
  const std::string name(128, 'a');
  CHECK(ErrorOf(absl::StrCat(kLocalHead, "[[user]]\nname = \"", name,
                             "\"\npassword = { env = \"CI_PASSWORD\" }\n")) ==
        absl::StrCat("rotor.toml: 1 error\n"
                     "rotor.toml:6:8: error: user[0].name: too long: 128 "
                     "characters, at most 127\n"
                     "    6 | name = \"",
                     std::string(79, 'a'),  // the excerpt stops 80 bytes past the column
                     "...\n"
                     "      |        ^"));
}

TEST_CASE("config error: literal password longer than 255, value never shown") {
  const std::string value(300, 'S');
  const std::string message =
      ErrorOf(absl::StrCat(kLocalHead, "[[user]]\nname = \"admin\"\npassword = \"", value, "\"\n"));
  CHECK(message == absl::StrCat("rotor.toml: 1 error\n"
                                "rotor.toml:7:12: error: user[admin].password: "
                                "too long: 300 characters, "
                                "at most 255 (the registry VM skips longer "
                                "secrets, so the user could not "
                                "log in)\n"
                                "    7 | password = \"",
                                std::string(79, '*'),
                                "...\n"
                                "      |            ^"));
  CHECK(message.find("SSSS") == std::string::npos);
}

TEST_CASE("config errors never show a literal secret") {
  for (const char* toml : {
           // Wrong kind for a literal, in a [[user]] and in [deployment].
           "[cloud]\nkind = \"azure\"\n[auth]\nmethod = "
           "\"environment\"\n[vault]\n"
           "name = \"newregkv\"\n[[user]]\nname = \"admin\"\npassword = "
           "\"hunter2-literal\"\n",
           "[cloud]\nkind = \"azure\"\n[auth]\nmethod = "
           "\"environment\"\n[vault]\n"
           "name = \"newregkv\"\n[deployment]\nresource_group = \"rg\"\n"
           "client_secret = \"hunter2-literal\"\n",
           // An error elsewhere on the same line as a literal.
           "[cloud]\nkind = \"local\"\n[vault]\nname = \"newregkv\"\n"
           "[[user]]\nname = \"admin\"\npassword = "
           "\"hunter2-literal\"\nrotate_after = \"1d\"\n",
           "user = [{ name = \"a:b\", password = \"hunter2-literal\" }]\n"
           "[cloud]\nkind = \"local\"\n[vault]\nname = \"newregkv\"\n",
           // Multi-line literal; a parse error on a secret line.
           "[cloud]\nkind = \"local\"\n[vault]\nname = \"newregkv\"\n[[user]]\n"
           "name = \"admin\"\npassword = "
           "\"\"\"\nhunter2-literal\n\"\"\"\nrotate_after = \"1d\"\n",
           "[cloud]\nkind = \"local\"\n[vault]\nname = \"newregkv\"\n[[user]]\n"
           "name = \"admin\"\npassword = \"hunter2-literal\nx = 1\n",
           "[cloud]\nkind = \"local\"\n[vault]\nname = \"newregkv\"\n[[user]]\n"
           "name = \"admin\"\n\"password\" = 'hunter2-literal' x\n",
       }) {
    CAPTURE(toml);
    const std::string message = ErrorOf(toml);
    CHECK(message.find("error:") != std::string::npos);
    CHECK(message.find("hunter2") == std::string::npos);
  }
}

TEST_CASE("config error: a NUL in a path or a program name is refused where it is") {
  // TOML allows \u0000 in strings; the system would read "pw" and run
  // "/bin/echo".
  CHECK(ErrorOf(absl::StrCat(kLocalHead, R"x([[user]]
name = "ops"
password = { file = "pw\u0000.txt" }
[[user]]
name = "ci"
password = { command = ["/bin/echo\u0000x", "pw"] }
[certificate]
secret_name = "containersecret"
pfx = "cert2.pfx\u0000.old"
password = { env = "PFX_PW" }
)x")) == R"x(rotor.toml: 3 errors
rotor.toml:7:21: error: user[ops].password.file: holds a NUL character (\u0000), which would end a file name, program name or argument early; remove it
    7 | password = { file = "pw\u0000.txt" }
      |                     ^
rotor.toml:10:25: error: user[ci].password.command[0]: holds a NUL character (\u0000), which would end a file name, program name or argument early; remove it
   10 | password = { command = ["/bin/echo\u0000x", "pw"] }
      |                         ^
rotor.toml:13:7: error: certificate.pfx: holds a NUL character (\u0000), which would end a file name, program name or argument early; remove it
   13 | pfx = "cert2.pfx\u0000.old"
      |       ^)x");
}

TEST_CASE("config error: a 50 KB vault name is refused by its length, not a deep regex") {
  // std::regex's matcher recursed once per character and overflowed the
  // stack; the length is checked first, and patterns never recurse per
  // character.
  const std::string name(50000, 'a');
  const std::string message =
      ErrorOf(absl::StrCat("[cloud]\nkind = \"local\"\n[vault]\nname = \"", name, "\"\n"));
  CHECK(message.find("vault.name: too long: 50000 characters, at most 24") != std::string::npos);
  CHECK(message.size() < 1000);
  // A pattern on a string with no length limit of its own, still matched
  // without recursion: a 1 MB env name.
  const std::string env(1 << 20, 'A');
  const std::string env_message = ErrorOf(
      absl::StrCat(kLocalHead, "[[user]]\nname = \"ops\"\npassword = { env = \"", env, "-\" }\n"));
  CHECK(env_message.find("user[ops].password.env: too long") != std::string::npos);
  CHECK(env_message.size() < 2000);
  // And a pattern failure that only the pattern finds is still reported.
  CHECK(ErrorOf(absl::StrCat(kLocalHead, "[[user]]\nname = \"ops\"\npassword = { env = \"1X\" }\n"))
            .find("an environment variable name has letters") != std::string::npos);
}

TEST_CASE("config errors are bounded and inert: a huge line, terminal escapes, many problems") {
  // One line of 3 MB with an unknown key at its end: the excerpt is the
  // neighbourhood of the column.
  const std::string huge = absl::StrCat(kLocalHead, "x = [", std::string(3 << 20, '1'), "] y\n");
  const std::string huge_message = ErrorOf(huge);
  CHECK(huge_message.size() < 2000);
  CHECK(huge_message.find("error:") != std::string::npos);
  // A terminal escape (retitle, clear the screen) in a comment next to an
  // error, and in a key name, is shown escaped.
  const std::string escapes =
      ErrorOf(absl::StrCat(kLocalHead, "nmae = 1 # \x1b]0;pwned\x07\x1b[2J\n"));
  CHECK(escapes.find('\x1b') == std::string::npos);
  CHECK(escapes.find('\x07') == std::string::npos);
  CHECK(escapes.find("\\e]0;pwned\\x07\\e[2J") != std::string::npos);
  const std::string key_escape = ErrorOf(absl::StrCat(kLocalHead, "\"k\\u001b[2J\" = 2\n"));
  CHECK(key_escape.find('\x1b') == std::string::npos);
  CHECK(key_escape.find("vault.\"k\\u001B[2J\": unknown key") != std::string::npos);
  // 500 problems: the first 50 are shown, the rest counted.
  std::string many = kLocalHead;
  for (int i = 0; i < 500; ++i) absl::StrAppend(&many, "unknown", i, " = 1\n");
  const std::string many_message = ErrorOf(many);
  CHECK(many_message.find("rotor.toml: 500 errors\n") == 0);
  CHECK(many_message.find("... and 450 more (the first 50 are shown)") != std::string::npos);
  CHECK(many_message.size() < 50 * 400);
}

TEST_CASE("config error: inline-table users keep the name in key paths") {
  CHECK(ErrorOf(absl::StrCat("user = [{ name = \"admin\", password = { env = \"A\" }, "
                             "rotate_after = \"1d\" }]\n",
                             kLocalHead)) ==
        R"x(rotor.toml: 1 error
rotor.toml:1:53: error: user[admin].rotate_after: only used with password = { generate = N }: rotor rotates only the passwords it generates; remove it
    1 | user = [{ name = "admin", password = { env = "A" }, rotate_after = "1d" }]
      |                                                     ^)x");
}

TEST_CASE("LoadConfig: a missing file is NotFound naming the path") {
  TempDir dir;
  const std::string path = dir.Path("nope/rotor.toml");
  absl::StatusOr<Config> config = LoadConfig(path);
  REQUIRE_FALSE(config.ok());
  CHECK(config.status().code() == absl::StatusCode::kNotFound);
  CHECK(config.status().message() ==
        absl::StrCat(path, ": error: cannot read the config file: No such file or directory"));
}

// ---------------------------------------------------------------------------
// Valid configs.

TEST_CASE("the example config from docs/DESIGN.md loads") {
  // docs/DESIGN.md's "Desired state" example, with its "..." placeholders filled
  // in (a tenant and subscription must be GUIDs when given).
  const char* kDesign = R"(
[cloud]
kind = "azurestack"                 # azurestack | azure | local
arm_endpoint = "https://management.local.azurestack.external"
tenant_id = "72f988bf-86f1-41af-91ab-2d7cd011db47"                   # or AZURE_TENANT_ID
subscription_id = "0a1b2c3d-0000-4000-8000-000000000000"             # or AZURE_SUBSCRIPTION_ID
ca_bundle = "certs/azs-root.pem"    # optional: an enterprise CA
profile = "2020-09-01-hybrid"       # API versions; "latest" on Azure
# every endpoint is derived as on a real stamp (management.X -> vault.X,
# login and audiences from /metadata/endpoints) and can be overridden:
# vault_dns_suffix = "vault.local.azurestack.external"
# login_endpoint = "https://adfs.local.azurestack.external/adfs"
# kind = "local" keeps the vault and deployments in a folder instead:
# state_dir = ".rotor"               # relative to this file

[auth]
method = "client_secret"            # client_secret | client_certificate |
                                    # managed_identity | environment
client_id = "11111111-2222-3333-4444-555555555555"
client_secret = { env = "AZURE_CLIENT_SECRET" }

[vault]
name = "newregkv"
resource_group = "newregreg"

[[user]]
name = "admin"
password = { env = "REGISTRY_ADMIN_PASSWORD" }

[[user]]
name = "ci"
password = { generate = 32 }        # lives only in Key Vault
rotate_after = "90d"

[certificate]
secret_name = "containersecret"
pfx = "certs/registry.pfx"
password = { env = "REGISTRY_PFX_PASSWORD" }
min_valid_days = 30

[deployment]
resource_group = "newregreg"
name = "latest"                     # the most recent deployment, as the
                                    # portal's Redeploy picks it
client_id = { env = "SPN_CLIENT_ID" }
client_secret = { env = "SPN_CLIENT_SECRET" }
# only when the resource group has no deployment yet:
# template = "registry-template.json"
# [deployment.parameters]  plain values for the first deployment

[registry]
url = "https://myreg.local.cloudapp.azurestack.external"   # for verify
ca_bundle = "certs/registry-ca.pem"  # optional: trust for verify

[policy]
delete_stale_users = true
)";
  Config c = LoadOrDie(kDesign, "/srv/registry/rotor.toml");
  CHECK(c.path == "/srv/registry/rotor.toml");
  CHECK(c.dir == "/srv/registry");
  CHECK(c.cloud.kind == CloudKind::kAzureStack);
  CHECK(c.cloud.arm_endpoint == "https://management.local.azurestack.external");
  CHECK(c.cloud.tenant_id == "72f988bf-86f1-41af-91ab-2d7cd011db47");
  CHECK(c.cloud.subscription_id == "0a1b2c3d-0000-4000-8000-000000000000");
  CHECK(c.cloud.ca_bundle == "/srv/registry/certs/azs-root.pem");
  CHECK(c.cloud.profile == "2020-09-01-hybrid");
  CHECK(c.cloud.state_dir.empty());
  CHECK(c.auth.method == AuthMethod::kClientSecret);
  CHECK(c.auth.client_id == "11111111-2222-3333-4444-555555555555");
  REQUIRE(c.auth.client_secret.has_value());
  CHECK(c.auth.client_secret->Describe() == "env AZURE_CLIENT_SECRET");
  CHECK(c.auth.client_secret->key_path == "auth.client_secret");
  CHECK(c.vault.name == "newregkv");
  CHECK(c.vault.resource_group == "newregreg");
  REQUIRE(c.users.size() == 2);
  CHECK(c.users[0].name == "admin");
  CHECK(c.users[0].password.kind == ValueSource::Kind::kEnv);
  CHECK(c.users[0].password.env == "REGISTRY_ADMIN_PASSWORD");
  CHECK(c.users[0].password.key_path == "user[admin].password");
  CHECK(c.users[0].password.max_length == 255);
  CHECK(c.users[0].password.location.file == "/srv/registry/rotor.toml");
  CHECK(c.users[0].password.location.line == 28);
  CHECK(c.users[0].password.location.column == 12);
  CHECK_FALSE(c.users[0].rotate_after.has_value());
  CHECK(c.users[0].location.line == 26);
  CHECK(c.users[1].name == "ci");
  CHECK(c.users[1].password.kind == ValueSource::Kind::kGenerate);
  CHECK(c.users[1].password.generate_length == 32);
  CHECK(c.users[1].rotate_after == absl::Hours(24 * 90));
  REQUIRE(c.certificate.has_value());
  CHECK(c.certificate->secret_name == "containersecret");
  CHECK(c.certificate->pfx == "/srv/registry/certs/registry.pfx");
  CHECK(c.certificate->password.Describe() == "env REGISTRY_PFX_PASSWORD");
  CHECK(c.certificate->password.max_length == 0);
  CHECK(c.certificate->min_valid_days == 30);
  CHECK(c.certificate->warn_days == 45);
  REQUIRE(c.deployment.has_value());
  CHECK(c.deployment->resource_group == "newregreg");
  CHECK(c.deployment->name == "latest");
  REQUIRE(c.deployment->client_id.has_value());
  CHECK(c.deployment->client_id->Describe() == "env SPN_CLIENT_ID");
  REQUIRE(c.deployment->client_secret.has_value());
  CHECK(c.deployment->client_secret->Describe() == "env SPN_CLIENT_SECRET");
  CHECK(c.deployment->template_file.empty());
  CHECK(c.deployment->parameters.empty());
  CHECK(c.registry.url == "https://myreg.local.cloudapp.azurestack.external");
  CHECK(c.registry.ca_bundle == "/srv/registry/certs/registry-ca.pem");
  CHECK(c.policy.delete_stale_users);
  CHECK_FALSE(c.policy.delete_stale_certificates);
}

TEST_CASE("defaults: a minimal local config") {
  Config c = LoadOrDie(kLocalHead, "/srv/registry/rotor.toml");
  CHECK(c.cloud.kind == CloudKind::kLocal);
  CHECK(c.cloud.state_dir == "/srv/registry/.rotor");
  CHECK(c.cloud.profile.empty());
  CHECK(c.cloud.arm_endpoint.empty());
  CHECK(c.vault.resource_group.empty());
  CHECK(c.users.empty());
  CHECK_FALSE(c.certificate.has_value());
  CHECK_FALSE(c.deployment.has_value());
  CHECK(c.policy.delete_stale_users);
  CHECK_FALSE(c.policy.delete_stale_certificates);
  CHECK(c.digest == "fd4e66e8cea9b6f3e3c7481539815d7049b23ee10ae65e53b56cf7c4d7b242ef");
}

TEST_CASE("defaults: profile and endpoint by cloud kind") {
  Config azure = LoadOrDie(R"([cloud]
kind = "azure"
[auth]
method = "managed_identity"
[vault]
name = "newregkv"
[deployment]
resource_group = "registry-rg"
)");
  CHECK(azure.cloud.arm_endpoint == "https://management.azure.com");
  CHECK(azure.cloud.profile == "latest");
  CHECK(azure.cloud.tenant_id.empty());  // AZURE_TENANT_ID when connecting
  CHECK(azure.auth.method == AuthMethod::kManagedIdentity);
  CHECK(azure.vault.resource_group == "registry-rg");  // from [deployment]
  CHECK(azure.deployment->name == "latest");

  Config stack = LoadOrDie(R"([cloud]
kind = "azurestack"
arm_endpoint = "https://management.localhost:8443/"
allow_insecure_loopback = true
login_endpoint = "http://127.0.0.1:9000/adfs"
[auth]
method = "client_certificate"
client_id = "app"
client_certificate = "../spn.pem"
client_certificate_password = { file = "/run/secrets/spn" }
[vault]
name = "newregkv"
)");
  CHECK(stack.cloud.profile == "2020-09-01-hybrid");
  CHECK(stack.cloud.arm_endpoint == "https://management.localhost:8443");
  CHECK(stack.cloud.allow_insecure_loopback);
  CHECK(stack.cloud.login_endpoint == "http://127.0.0.1:9000/adfs");
  CHECK(stack.auth.client_certificate == "/srv/spn.pem");
  CHECK(stack.auth.client_certificate_password->Describe() == "file /run/secrets/spn");
}

TEST_CASE("relative paths resolve against the config file's folder") {
  TempDir dir;
  const std::string path = dir.Write("conf/rotor.toml", R"([cloud]
kind = "local"
state_dir = "state"
[vault]
name = "newregkv"
[[user]]
name = "a"
password = { file = "secrets/a.txt" }
[[user]]
name = "b"
password = { command = ["./bin/get-secret", "b"] }
[[user]]
name = "c"
password = { command = ["pass", "show", "c"] }
[[user]]
name = "d"
password = { file = "/etc/rotor/d.txt" }
[certificate]
secret_name = "cert"
pfx = "../certs/registry.pfx"
password = { env = "PFX_PASSWORD" }
ca_bundle = "ca.pem"
[deployment]
resource_group = "rg"
template = "./templates/registry.json"
[registry]
url = "https://registry.example"
ca_bundle = "certs//ca.pem"
)");
  absl::StatusOr<Config> loaded = LoadConfig(path);
  REQUIRE_MESSAGE(loaded.ok(), loaded.status().ToString());
  const Config& c = *loaded;
  const std::string conf = dir.Path("conf");
  CHECK(c.path == path);
  CHECK(c.dir == conf);
  CHECK(c.cloud.state_dir == conf + "/state");
  CHECK(c.users[0].password.file == conf + "/secrets/a.txt");
  CHECK(c.users[1].password.command == std::vector<std::string>{conf + "/bin/get-secret", "b"});
  CHECK(c.users[2].password.command == std::vector<std::string>{"pass", "show", "c"});
  CHECK(c.users[3].password.file == "/etc/rotor/d.txt");
  CHECK(c.certificate->pfx == dir.Path("certs/registry.pfx"));
  CHECK(c.certificate->ca_bundle == conf + "/ca.pem");
  CHECK(c.deployment->template_file == conf + "/templates/registry.json");
  CHECK(c.registry.ca_bundle == conf + "/certs/ca.pem");
  CHECK(c.digest.size() == 64);
}

TEST_CASE("a config given by a relative path gets an absolute dir") {
  Config c = LoadOrDie(kLocalHead, "rotor.toml");
  CHECK(c.path == "rotor.toml");
  CHECK(c.dir == std::filesystem::current_path().string());
  CHECK(c.cloud.state_dir == std::filesystem::current_path().string() + "/.rotor");
}

TEST_CASE("rotate_after units") {
  for (auto [text, duration] :
       std::vector<std::pair<std::string, absl::Duration>>{{"30m", absl::Minutes(30)},
                                                           {"12h", absl::Hours(12)},
                                                           {"90d", absl::Hours(90 * 24)},
                                                           {"2w", absl::Hours(14 * 24)}}) {
    Config c =
        LoadOrDie(absl::StrCat(kLocalHead, "[[user]]\nname = \"ci\"\n",
                               "password = { generate = 16 }\nrotate_after = \"", text, "\"\n"));
    CHECK(c.users[0].rotate_after == duration);
  }
}

TEST_CASE("certificate defaults and optional keys") {
  Config c = LoadOrDie(absl::StrCat(kLocalHead, R"([certificate]
secret_name = "containersecret"
pfx = "r.pfx"
password = "local-only-literal"
dns_name = "myreg.local.cloudapp.azurestack.external"
)"));
  CHECK(c.certificate->min_valid_days == 30);
  CHECK(c.certificate->warn_days == 45);
  CHECK(c.certificate->dns_name == "myreg.local.cloudapp.azurestack.external");
  CHECK(c.certificate->ca_bundle.empty());
  CHECK(c.certificate->password.kind == ValueSource::Kind::kLiteral);
  CHECK(c.certificate->password.literal.Reveal() == "local-only-literal");
  CHECK(c.certificate->password.Describe() == "literal");
}

TEST_CASE("deployment parameters become JSON - parameter names are remappable") {
  Config c = LoadOrDie(absl::StrCat(kLocalHead, R"([deployment]
resource_group = "rg"
name = "registry-1"
client_id = "11111111-2222-3333-4444-555555555555"
template = "registry.json"
[deployment.parameters]
adminUsername = "azureuser"
vmCount = 2
enabled = true
ratio = 0.5
zones = ["1", "2"]
tags = { team = "infra" }
[deployment.parameter_names]
pfx_thumbprint = "certThumbprint"
)"));
  const DeploymentConfig& d = *c.deployment;
  CHECK(d.name == "registry-1");
  CHECK(d.client_id->kind == ValueSource::Kind::kLiteral);
  CHECK(d.client_id->literal.Reveal() == "11111111-2222-3333-4444-555555555555");
  CHECK(d.parameters == std::map<std::string, std::string>{{"adminUsername", "\"azureuser\""},
                                                           {"vmCount", "2"},
                                                           {"enabled", "true"},
                                                           {"ratio", "0.5"},
                                                           {"zones", "[\"1\",\"2\"]"},
                                                           {"tags", "{\"team\":\"infra\"}"}});
  CHECK(d.ParameterName("pfx_thumbprint") == "certThumbprint");
  CHECK(d.ParameterName("pfx_key_vault_resource_id") == "pfxKeyVaultResourceId");
  CHECK(d.ParameterName("pfx_key_vault_secret_url") == "pfxKeyVaultSecretUrl");
  CHECK(d.ParameterName("service_principal_client_id") == "servicePrincipalClientId");
  CHECK(d.ParameterName("service_principal_client_secret") == "servicePrincipalClientSecret");
}

TEST_CASE("a deployment client_id may be a plain string on any cloud") {
  Config c = LoadOrDie(R"([cloud]
kind = "azure"
[auth]
method = "environment"
[vault]
name = "newregkv"
[deployment]
resource_group = "rg"
client_id = "11111111-2222-3333-4444-555555555555"
client_secret = { command = ["az", "keyvault", "secret", "show"] }
)");
  CHECK(c.deployment->client_id->kind == ValueSource::Kind::kLiteral);
  CHECK(c.deployment->client_secret->Describe() == "command [az, keyvault, secret, show]");
}

TEST_CASE("ValueSource::Clone copies every field, Describe never shows a literal") {
  ValueSource s;
  s.kind = ValueSource::Kind::kLiteral;
  s.literal = Secret("hunter2");
  s.key_path = "user[admin].password";
  s.location = SourceLocation{"rotor.toml", 3, 12};
  s.max_length = 255;
  ValueSource c = s.Clone();
  CHECK(c.kind == ValueSource::Kind::kLiteral);
  CHECK(c.literal.Reveal() == "hunter2");
  CHECK(c.key_path == "user[admin].password");
  CHECK(c.location.line == 3);
  CHECK(c.location.column == 12);
  CHECK(c.max_length == 255);
  CHECK(c.Describe() == "literal");

  ValueSource g;
  g.kind = ValueSource::Kind::kGenerate;
  g.generate_length = 32;
  CHECK(g.Clone().Describe() == "generate 32");
  ValueSource f;
  f.kind = ValueSource::Kind::kFile;
  f.file = "/x/y";
  CHECK(f.Describe() == "file /x/y");
  ValueSource e;
  e.env = "REGISTRY_ADMIN_PASSWORD";
  CHECK(e.Describe() == "env REGISTRY_ADMIN_PASSWORD");
  ValueSource cmd;
  cmd.kind = ValueSource::Kind::kCommand;
  cmd.command = {"pass", "show"};
  CHECK(cmd.Clone().Describe() == "command [pass, show]");
}

// ---------------------------------------------------------------------------
// The schema itself.

void CheckDescribed(const rapidjson::Value& node, const std::string& where) {
  if (!node.IsObject()) return;
  if (auto props = node.FindMember("properties"); props != node.MemberEnd()) {
    for (auto it = props->value.MemberBegin(); it != props->value.MemberEnd(); ++it) {
      const std::string key = absl::StrCat(where, ".", it->name.GetString());
      const rapidjson::Value& child = it->value;
      CAPTURE(key);
      CHECK((child.HasMember("description") || child.HasMember("$ref")));
      CheckDescribed(child, key);
    }
  }
  if (auto items = node.FindMember("items"); items != node.MemberEnd()) {
    CheckDescribed(items->value, where + "[]");
  }
}

TEST_CASE("the schema has an $id and describes every key") {
  rapidjson::Document schema;
  schema.Parse(kConfigSchemaJson);
  REQUIRE_FALSE(schema.HasParseError());
  CHECK(std::string(schema["$id"].GetString()) == "urn:rotor:schemas:rotor.schema.json");
  CHECK(std::string(schema["$schema"].GetString()) == "http://json-schema.org/draft-07/schema#");
  CheckDescribed(schema, "");
  for (auto it = schema["definitions"].MemberBegin(); it != schema["definitions"].MemberEnd();
       ++it) {
    CAPTURE(it->name.GetString());
    CHECK(it->value.HasMember("description"));
    CheckDescribed(it->value, it->name.GetString());
  }
  // The compiled-in copy is the file in the repository.
  CHECK(std::string(kConfigSchemaJson) ==
        ::rotor::testing::ReadFileOrDie(::rotor::testing::SourceDir() +
                                        "/schemas/rotor.schema.json"));
}

TEST_CASE("secret key names come from the schema's writeOnly sources") {
  CHECK(config_internal::SecretKeyNames() == std::vector<std::string>{"client_certificate_password",
                                                                      "client_secret",
                                                                      "eab_hmac_key", "password"});
}

}  // namespace
}  // namespace rotor
