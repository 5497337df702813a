#include "engine/config/value_source.h"

#include <doctest/doctest.h>

#include <set>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "engine/config/config.h"
#include "tests/support/testing.h"

namespace rotor {
namespace {

using ::rotor::testing::TempDir;

ValueSource EnvSource(const std::string& name) {
  ValueSource s;
  s.kind = ValueSource::Kind::kEnv;
  s.env = name;
  s.key_path = "user[admin].password";
  s.location = SourceLocation{"rotor.toml", 14, 12};
  return s;
}

ValueSource FileSource(const std::string& path) {
  ValueSource s;
  s.kind = ValueSource::Kind::kFile;
  s.file = path;
  s.key_path = "certificate.password";
  s.location = SourceLocation{"rotor.toml", 30, 12};
  return s;
}

ValueSource CommandSource(std::vector<std::string> argv) {
  ValueSource s;
  s.kind = ValueSource::Kind::kCommand;
  s.command = std::move(argv);
  s.key_path = "deployment.client_secret";
  s.location = SourceLocation{"rotor.toml", 40, 17};
  return s;
}

TEST_CASE("env source: value, unset and empty variables") {
  FakeEnvironment env({{"REGISTRY_ADMIN_PASSWORD", "s3cret-value\n"}, {"EMPTY", ""}});
  absl::StatusOr<Secret> value =
      ResolveValue(EnvSource("REGISTRY_ADMIN_PASSWORD"), env, "user \"admin\"");
  REQUIRE(value.ok());
  CHECK(value->Reveal() == "s3cret-value\n");  // variables are taken as they are

  absl::StatusOr<Secret> unset = ResolveValue(EnvSource("NOPE"), env, "user \"admin\"");
  CHECK(unset.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(unset.status().message() ==
        "user[admin].password: environment variable NOPE is not set (at rotor.toml:14:12)");

  absl::StatusOr<Secret> empty = ResolveValue(EnvSource("EMPTY"), env, "user \"admin\"");
  CHECK(empty.status().message() ==
        "user[admin].password: environment variable EMPTY is empty (at rotor.toml:14:12)");

  // The key is said once, whatever the caller calls the value.
  absl::StatusOr<Secret> anonymous = ResolveValue(EnvSource("NOPE"), env, "");
  CHECK(anonymous.status().message() == unset.status().message());
  ValueSource keyless = EnvSource("NOPE");
  keyless.key_path.clear();
  keyless.location = {};
  CHECK(ResolveValue(keyless, env, "auth.client_secret").status().message() ==
        "[auth] client_secret: environment variable NOPE is not set");
}

TEST_CASE("file source: one trailing newline is dropped") {
  TempDir dir;
  FakeEnvironment env;
  for (auto [contents, expected] :
       std::vector<std::pair<std::string, std::string>>{{"pfx-pass\n", "pfx-pass"},
                                                        {"pfx-pass\r\n", "pfx-pass"},
                                                        {"pfx-pass", "pfx-pass"},
                                                        {"pfx-pass\n\n", "pfx-pass\n"},
                                                        {" spaced pass \n", " spaced pass "}}) {
    const std::string path = dir.Write("pw.txt", contents);
    absl::StatusOr<Secret> value = ResolveValue(FileSource(path), env, "certificate");
    REQUIRE(value.ok());
    CHECK(value->Reveal() == expected);
  }
}

TEST_CASE("file source: missing and empty files name the path and the owner") {
  TempDir dir;
  FakeEnvironment env;
  const std::string missing = dir.Path("absent.txt");
  absl::StatusOr<Secret> value = ResolveValue(FileSource(missing), env, "certificate");
  CHECK(value.status().code() == absl::StatusCode::kNotFound);
  CHECK(value.status().message() ==
        absl::StrCat("[certificate] password: cannot read file ", missing,
                     ": No such file or directory (at rotor.toml:30:12)"));

  const std::string empty = dir.Write("empty.txt", "\n");
  value = ResolveValue(FileSource(empty), env, "certificate");
  CHECK(value.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(value.status().message() ==
        absl::StrCat("[certificate] password: file ", empty, " is empty (at rotor.toml:30:12)"));
}

TEST_CASE("command source: stdout less one newline, no shell") {
  FakeEnvironment env;
  absl::StatusOr<Secret> value =
      ResolveValue(CommandSource({"printf", "%s\\n", "spn secret; $HOME"}), env, "deployment");
  REQUIRE_MESSAGE(value.ok(), value.status().ToString());
  CHECK(value->Reveal() == "spn secret; $HOME");  // arguments reach the program verbatim
}

TEST_CASE(
    "command source: failures name argv[0], the exit code, stderr, never "
    "stdout") {
  FakeEnvironment env;
  absl::StatusOr<Secret> value =
      ResolveValue(CommandSource({"sh", "-c",
                                  "echo leaked-stdout-value; echo 'vault is sealed' >&2; "
                                  "echo 'second line' >&2; exit 3"}),
                   env, "deployment");
  CHECK(value.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(value.status().message() ==
        "[deployment] client_secret: command \"sh\" exited with code 3: vault is sealed (at "
        "rotor.toml:40:17)");
  CHECK_FALSE(absl::StrContains(value.status().message(), "leaked-stdout-value"));

  value = ResolveValue(CommandSource({"true"}), env, "deployment");
  CHECK(value.status().message() ==
        "[deployment] client_secret: command \"true\" printed nothing (at rotor.toml:40:17)");

  value = ResolveValue(CommandSource({"rotor-no-such-program-xyz"}), env, "deployment");
  CHECK(value.status().code() == absl::StatusCode::kNotFound);
  CHECK(value.status().message() ==
        "[deployment] client_secret: command \"rotor-no-such-program-xyz\" could not be "
        "started: No such file or directory (at rotor.toml:40:17)");
}

TEST_CASE("literal and generate sources") {
  FakeEnvironment env;
  ValueSource literal;
  literal.kind = ValueSource::Kind::kLiteral;
  literal.literal = Secret("local-literal");
  literal.key_path = "user[dev].password";
  absl::StatusOr<Secret> value = ResolveValue(literal, env, "user \"dev\"");
  REQUIRE(value.ok());
  CHECK(value->Reveal() == "local-literal");

  ValueSource generate;
  generate.kind = ValueSource::Kind::kGenerate;
  generate.generate_length = 32;
  generate.key_path = "user[ci].password";
  value = ResolveValue(generate, env, "user \"ci\"");
  CHECK(value.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(value.status().message() ==
        "user[ci].password: a { generate = N } value is created by rotor when it writes the "
        "secret, not resolved; use GeneratePassword");
}

TEST_CASE(
    "a resolved user password longer than max_length is refused without its "
    "value") {
  FakeEnvironment env({{"LONG", std::string(256, 'x')}, {"MAX", std::string(255, 'y')}});
  ValueSource source = EnvSource("LONG");
  source.max_length = 255;
  absl::StatusOr<Secret> value = ResolveValue(source, env, "user \"admin\"");
  CHECK(value.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(value.status().message() ==
        "user[admin].password: the value from env LONG is 256 characters long; at most 255 are "
        "allowed (the registry turns only secrets of at most 255 characters into logins) (at "
        "rotor.toml:14:12)");
  CHECK_FALSE(absl::StrContains(value.status().message(), "xxx"));

  source = EnvSource("MAX");
  source.max_length = 255;
  CHECK(ResolveValue(source, env, "user \"admin\"").ok());
}

TEST_CASE("values resolve from a loaded config") {
  TempDir dir;
  dir.Write("secrets/admin.txt", "from-file\n");
  const std::string path = dir.Write("rotor.toml", R"([cloud]
kind = "local"
[vault]
name = "newregkv"
[[user]]
name = "admin"
password = { file = "secrets/admin.txt" }
[[user]]
name = "ci"
password = { env = "CI_PASSWORD" }
)");
  absl::StatusOr<Config> config = LoadConfig(path);
  REQUIRE(config.ok());
  FakeEnvironment env;
  absl::StatusOr<Secret> admin = ResolveValue(config->users[0].password, env, "user \"admin\"");
  REQUIRE(admin.ok());
  CHECK(admin->Reveal() == "from-file");
  absl::StatusOr<Secret> ci = ResolveValue(config->users[1].password, env, "user \"ci\"");
  CHECK(ci.status().message() ==
        absl::StrCat("user[ci].password: environment variable CI_PASSWORD is not set (at ", path,
                     ":10:12)"));
}

TEST_CASE("environments: the process's and the fake") {
  ProcessEnvironment process;
  CHECK(process.Get("PATH").has_value());
  CHECK_FALSE(process.Get("ROTOR_SURELY_UNSET_VARIABLE_42").has_value());
  FakeEnvironment fake;
  fake.Set("A", "1");
  CHECK(fake.Get("A") == "1");
  fake.Unset("A");
  CHECK_FALSE(fake.Get("A").has_value());
}

TEST_CASE("ResolveCloudIdentity fills tenant and subscription from the environment") {
  CloudConfig cloud;
  cloud.kind = CloudKind::kAzureStack;
  cloud.tenant_id = "adfs";
  FakeEnvironment env({{"AZURE_SUBSCRIPTION_ID", "0a1b2c3d-0000-4000-8000-000000000000"},
                       {"AZURE_TENANT_ID", "ignored-when-set-in-file"}});
  REQUIRE(ResolveCloudIdentity(&cloud, env).ok());
  CHECK(cloud.tenant_id == "adfs");
  CHECK(cloud.subscription_id == "0a1b2c3d-0000-4000-8000-000000000000");

  CloudConfig missing;
  missing.kind = CloudKind::kAzure;
  absl::Status status = ResolveCloudIdentity(&missing, FakeEnvironment());
  CHECK(status.code() == absl::StatusCode::kInvalidArgument);
  CHECK(status.message() ==
        "cloud.tenant_id is not set and neither is the environment variable "
        "AZURE_TENANT_ID; "
        "cloud.subscription_id is not set and neither is the environment "
        "variable "
        "AZURE_SUBSCRIPTION_ID; set it in [cloud] or export the variable");

  CloudConfig local;
  local.kind = CloudKind::kLocal;
  CHECK(ResolveCloudIdentity(&local, FakeEnvironment()).ok());
}

}  // namespace
}  // namespace rotor

namespace rotor {
namespace {

TEST_CASE("sources are bounded: a file or a program that never ends is refused at the limit") {
  FakeEnvironment env;
  auto zero = ResolveValue(FileSource("/dev/zero"), env, "[certificate]");
  REQUIRE_FALSE(zero.ok());
  CHECK(zero.status().code() == absl::StatusCode::kResourceExhausted);
  CHECK(zero.status().message() ==
        "[certificate] password: cannot read file /dev/zero: larger than 8 KiB, the limit for a "
        "secret value (at rotor.toml:30:12)");

  auto yes = ResolveValue(CommandSource({"yes"}), env, "[deployment]");
  REQUIRE_FALSE(yes.ok());
  CHECK(yes.status().code() == absl::StatusCode::kResourceExhausted);
  CHECK(yes.status().message() ==
        "[deployment] client_secret: command \"yes\" printed more than 8 KiB, the limit for a "
        "secret value (at rotor.toml:40:17)");

  // A program whose error line is a terminal escape: shown escaped.
  auto escape = ResolveValue(CommandSource({"sh", "-c", "printf '\\033]0;x\\007' >&2; exit 2"}),
                             env, "[deployment]");
  REQUIRE_FALSE(escape.ok());
  CHECK(absl::StrContains(escape.status().message(), "exited with code 2: \\e]0;x\\x07"));
}

}  // namespace
}  // namespace rotor
