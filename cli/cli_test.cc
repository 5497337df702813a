// End-to-end runs of the real `rotor` binary on the embedded local provider,
// in fresh folders: the plan/apply loop for registry users.
#include <doctest/doctest.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/files.h"
#include "base/process.h"
#include "engine/model/vault.h"
#include "providers/local/local_vault.h"
#include "tests/e2e/azure_workspace.h"
#include "tests/support/testing.h"

namespace rotor {
namespace {

constexpr char kAdminPassword[] = "Adm1n-Very-Distinctive-Pw";
constexpr char kNewAdminPassword[] = "Rotated-Distinctive-Pw-2";
constexpr char kClientSecret[] = "Spn-Distinctive-Secret-77";

constexpr char kTemplate[] = R"({
  "$schema": "https://schema.management.azure.com/schemas/2015-01-01/deploymentTemplate.json#",
  "contentVersion": "1.0.0.0",
  "parameters": {
    "domainNameLabel": { "type": "string" },
    "servicePrincipalClientId": { "type": "string" },
    "servicePrincipalClientSecret": { "type": "securestring" }
  },
  "resources": []
})";

std::string Config(const std::string& users) {
  return absl::StrCat(R"([cloud]
kind = "local"

[vault]
name = "newregkv"
resource_group = "newregreg"
)",
                      users, R"(
[deployment]
resource_group = "newregreg"
client_id = "11111111-2222-3333-4444-555555555555"
client_secret = { env = "SPN_SECRET" }
template = "template.json"

[deployment.parameters]
domainNameLabel = "myreg"
)");
}

constexpr char kAdminUser[] = R"(
[[user]]
name = "admin"
password = { env = "ADMIN_PW" }

[[user]]
name = "ci"
password = { generate = 24 }
)";

class Workspace {
 public:
  Workspace() {
    dir_.Write("template.json", kTemplate);
    WriteConfig(kAdminUser);
    env_["ADMIN_PW"] = kAdminPassword;
    env_["SPN_SECRET"] = kClientSecret;
    env_["NO_COLOR"] = "1";
  }
  void WriteConfig(const std::string& users) { dir_.Write("rotor.toml", Config(users)); }
  void SetEnv(const std::string& name, const std::string& value) { env_[name] = value; }

  ProcessResult Rotor(std::vector<std::string> args, const std::string& stdin_data = "") {
    std::vector<std::string> argv = {testing::BuildDir() + "/rotor"};
    argv.insert(argv.end(), args.begin(), args.end());
    ProcessOptions options;
    options.working_dir = dir_.path();
    options.stdin_data = stdin_data;
    options.timeout = absl::Seconds(60);
    for (const auto& [k, v] : env_) options.env[k] = v;
    auto result = RunProcess(argv, options);
    REQUIRE(result.ok());
    // No secret value ever appears in anything rotor prints.
    const std::string leaks =
        e2e::FindSecretLeaks(result->stdout_data, result->stderr_data,
                             {kAdminPassword, kNewAdminPassword, kClientSecret});
    CHECK_MESSAGE(leaks.empty(), leaks);
    return *std::move(result);
  }

  std::string Htpasswd() const { return dir_.Read(".rotor/registry/htpasswd"); }
  std::vector<std::string> HtpasswdUsers() const {
    std::vector<std::string> users;
    for (absl::string_view line : absl::StrSplit(Htpasswd(), '\n', absl::SkipEmpty())) {
      users.emplace_back(line.substr(0, line.find(':')));
    }
    return users;
  }
  std::unique_ptr<local::LocalVault> OpenVault() const {
    local::LocalVaultOptions options;
    options.state_dir = dir_.Path(".rotor");
    options.name = "newregkv";
    options.resource_group = "newregreg";
    auto vault = local::LocalVault::Open(options);
    REQUIRE(vault.ok());
    return *std::move(vault);
  }
  const testing::TempDir& dir() const { return dir_; }

 private:
  testing::TempDir dir_;
  std::map<std::string, std::string> env_;
};

TEST_CASE("first apply creates the users and makes the first deployment - then no changes") {
  Workspace w;
  auto plan = w.Rotor({"plan", "--detailed-exitcode"});
  CHECK(plan.exit_code == 2);
  CHECK(absl::StrContains(plan.stdout_data, "+ user.admin"));
  CHECK(absl::StrContains(plan.stdout_data, "+ user.ci"));
  CHECK(absl::StrContains(plan.stdout_data, "+ deployment.registry"));
  CHECK(absl::StrContains(plan.stdout_data,
                          "Plan: 3 to add, 0 to change, 0 to destroy, 0 to redeploy."));

  auto apply = w.Rotor({"apply", "--auto-approve"});
  INFO(apply.stdout_data, apply.stderr_data);
  REQUIRE(apply.exit_code == 0);
  CHECK(absl::StrContains(
      apply.stdout_data,
      "Apply complete! Resources: 3 added, 0 changed, 0 destroyed, 0 redeployed."));
  CHECK(w.HtpasswdUsers() == std::vector<std::string>{"admin", "ci"});

  auto again = w.Rotor({"plan", "--detailed-exitcode"});
  CHECK(again.exit_code == 0);
  CHECK(absl::StrContains(again.stdout_data, "No changes."));

  auto apply_again = w.Rotor({"apply", "--auto-approve"});
  CHECK(apply_again.exit_code == 0);
  CHECK(absl::StrContains(apply_again.stdout_data, "No changes."));
}

TEST_CASE("a new password from the environment is one change and one redeploy") {
  Workspace w;
  REQUIRE(w.Rotor({"apply", "--auto-approve"}).exit_code == 0);
  w.SetEnv("ADMIN_PW", kNewAdminPassword);
  auto plan = w.Rotor({"plan", "--detailed-exitcode"});
  CHECK(plan.exit_code == 2);
  CHECK(absl::StrContains(plan.stdout_data, "~ user.admin"));
  CHECK(absl::StrContains(plan.stdout_data, "~ value = (sensitive value)"));
  CHECK(absl::StrContains(plan.stdout_data,
                          "Plan: 0 to add, 1 to change, 0 to destroy, 1 to redeploy."));
  REQUIRE(w.Rotor({"apply", "--auto-approve"}).exit_code == 0);
  CHECK(w.Rotor({"plan", "--detailed-exitcode"}).exit_code == 0);

  // The vault holds both versions; show lists them.
  auto show = w.Rotor({"show"});
  CHECK(show.exit_code == 0);
  auto versions = w.OpenVault()->ListSecretVersions("admin");
  REQUIRE(versions.ok());
  CHECK(versions->size() == 2);
  for (const auto& v : *versions) CHECK(absl::StrContains(show.stdout_data, v.version));
}

TEST_CASE("replacing admin by admin1 creates, deletes and redeploys once") {
  Workspace w;
  REQUIRE(w.Rotor({"apply", "--auto-approve"}).exit_code == 0);
  w.WriteConfig(R"(
[[user]]
name = "admin1"
password = { env = "ADMIN_PW" }

[[user]]
name = "ci"
password = { generate = 24 }
)");
  auto plan = w.Rotor({"plan"});
  CHECK(plan.exit_code == 0);
  CHECK(absl::StrContains(plan.stdout_data, "+ user.admin1"));
  CHECK(absl::StrContains(plan.stdout_data, "- stale_user.admin"));
  CHECK(absl::StrContains(plan.stdout_data,
                          "Plan: 1 to add, 0 to change, 1 to destroy, 1 to redeploy."));
  auto apply = w.Rotor({"apply", "--auto-approve"});
  INFO(apply.stdout_data, apply.stderr_data);
  REQUIRE(apply.exit_code == 0);
  CHECK(w.HtpasswdUsers() == std::vector<std::string>{"admin1", "ci"});
  CHECK(w.Rotor({"plan", "--detailed-exitcode"}).exit_code == 0);
}

TEST_CASE("a saved plan applies as made, and is refused once the vault moved") {
  Workspace w;
  auto plan = w.Rotor({"plan", "--out", "first.plan"});
  REQUIRE(plan.exit_code == 0);
  std::string saved = w.dir().Read("first.plan");
  CHECK_FALSE(absl::StrContains(saved, kAdminPassword));
  CHECK_FALSE(absl::StrContains(saved, kClientSecret));
  auto apply = w.Rotor({"apply", "first.plan"});
  INFO(apply.stdout_data, apply.stderr_data);
  REQUIRE(apply.exit_code == 0);

  w.SetEnv("ADMIN_PW", kNewAdminPassword);
  REQUIRE(w.Rotor({"plan", "--out", "second.plan"}).exit_code == 0);
  // Someone writes a secret behind rotor's back.
  SetSecretRequest request;
  request.value = Secret("out-of-band");
  request.content_type = "text/plain";
  REQUIRE(w.OpenVault()->SetSecret("other", request).ok());
  auto refused = w.Rotor({"apply", "second.plan"});
  CHECK(refused.exit_code == 1);
  CHECK(refused.stderr_data ==
        "Error: saved plan second.plan is stale: the vault or the deployments changed since it "
        "was made; run rotor plan again\n");
}

TEST_CASE("apply without --auto-approve asks, and refuses without a terminal") {
  Workspace w;
  auto apply = w.Rotor({"apply"}, "yes\n");
  CHECK(apply.exit_code == 1);
  CHECK(absl::StrContains(apply.stderr_data, "apply needs approval, and no terminal is attached"));
  CHECK(w.OpenVault()->ListSecrets()->empty());
}

TEST_CASE("a second apply on the same state refuses while the first holds the lock") {
  Workspace w;
  REQUIRE(MakeDirs(w.dir().Path(".rotor")).ok());
  auto held = FileLock::Acquire(w.dir().Path(".rotor/lock"));
  REQUIRE(held.ok());
  auto apply = w.Rotor({"apply", "--auto-approve"});
  CHECK(apply.exit_code == 1);
  CHECK(absl::StrContains(apply.stderr_data, "Error: another rotor process (pid "));
  CHECK(absl::StrContains(apply.stderr_data, "holds the lock " + w.dir().Path(".rotor/lock")));
  CHECK(w.OpenVault()->ListSecrets()->empty());
  // plan only reads: it does not need the lock.
  CHECK(w.Rotor({"plan"}).exit_code == 0);
}

TEST_CASE("drift tells changes made outside rotor from pending config changes") {
  Workspace w;
  REQUIRE(w.Rotor({"apply", "--auto-approve"}).exit_code == 0);
  auto clean = w.Rotor({"drift"});
  CHECK(clean.exit_code == 0);
  CHECK(clean.stdout_data == "No drift: the vault and the deployment are as rotor left them.\n");

  // A config change is pending, not drift.
  w.SetEnv("ADMIN_PW", kNewAdminPassword);
  auto pending = w.Rotor({"drift"});
  CHECK(pending.exit_code == 0);
  CHECK(absl::StrContains(pending.stdout_data, "(2 changes from the configuration are pending"));
  w.SetEnv("ADMIN_PW", kAdminPassword);

  // Someone sets admin's password by hand: drift.
  SetSecretRequest by_hand;
  by_hand.value = Secret("set-by-hand-123");
  by_hand.content_type = kUserContentType;
  REQUIRE(w.OpenVault()->SetSecret("admin", by_hand).ok());
  auto drifted = w.Rotor({"drift"});
  CHECK(drifted.exit_code == 2);
  CHECK(absl::StrContains(drifted.stdout_data, "~ user.admin"));
  CHECK(absl::StrContains(drifted.stdout_data, "reason (drift): the latest version"));
  auto json = w.Rotor({"plan", "--json"});
  CHECK(absl::StrContains(json.stdout_data, "\"cause\": \"drift\""));
  REQUIRE(w.Rotor({"apply", "--auto-approve"}).exit_code == 0);
  CHECK(w.Rotor({"drift"}).exit_code == 0);
}

TEST_CASE("--help works for every command") {
  Workspace w;
  for (const char* command : {"plan", "apply", "show", "validate", "verify", "drift"}) {
    auto help = w.Rotor({command, "--help"});
    CHECK(help.exit_code == 0);
    CHECK(absl::StrContains(help.stdout_data, "--config"));
  }
  auto version = w.Rotor({"--version"});
  CHECK(version.exit_code == 0);
  CHECK(absl::StartsWith(version.stdout_data, "rotor "));
}

TEST_CASE("plan --json follows the plan schema's shape") {
  Workspace w;
  auto plan = w.Rotor({"plan", "--json"});
  REQUIRE(plan.exit_code == 0);
  CHECK(absl::StrContains(plan.stdout_data, "\"format_version\": 3"));
  CHECK(absl::StrContains(plan.stdout_data, "\"address\": \"user.admin\""));
  CHECK(absl::StrContains(plan.stdout_data, "\"after\": \"(sensitive value)\""));
}

}  // namespace
}  // namespace rotor
