// The plan is the contract: apply does exactly what plan showed, or writes
// nothing. The real rotor against rotor-emulator (the gallery template's
// shape, the registry VM replayed): a redeploy that cannot go out is refused
// by plan and by apply before the first write, and a saved plan applies only
// with the values it was made with.
#include <doctest/doctest.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "base/files.h"
#include "tests/e2e/azure_workspace.h"
#include "tests/support/registry_deployment.h"
#include "tests/support/testing.h"

namespace rotor::e2e {
namespace {

int64_t VaultWrites(AzureWorkspace& w) { return StatInt(w.Stats(), "vaults/newregkv/writes"); }
int64_t DeploymentsStarted(AzureWorkspace& w) { return StatInt(w.Stats(), "deployments/started"); }

// A seeded registry and a new password for admin: a plan with a write and a
// redeploy. Returns admin's password before.
std::string SeedWithPendingRotation(AzureWorkspace& w) {
  w.SetUsers({{"admin", "ADMIN_PW"}});
  w.IssuePfx();
  w.SeedAsPowerShell();
  std::string old = w.env()["ADMIN_PW"];
  w.env()["ADMIN_PW"] = "Admin-Pw-Rotated-2c";
  return old;
}

TEST_CASE("a saved plan applies only with the values it was made with") {
  AzureWorkspace w;
  SeedWithPendingRotation(w);
  auto plan = w.Rotor({"plan", "--out", "rotation.plan"});
  REQUIRE(plan.exit_code == 0);
  auto saved = ReadFile(w.Path("rotation.plan"));
  REQUIRE(saved.ok());
  // The plan file holds no value, in any form.
  CHECK(FindSecretLeaks(*saved, "", {"Admin-Pw-Rotated-2c", kSpSecret, kPfxPassword}).empty());
  CHECK(absl::StrContains(*saved, "\"binding\": \"$2b$10$"));

  // rotor show prints the saved plan, text and JSON, and reads nothing else.
  auto shown = w.Rotor({"show", "rotation.plan"});
  CHECK(shown.exit_code == 0);
  CHECK(absl::StrContains(shown.stdout_data, "Saved plan rotation.plan"));
  CHECK(absl::StrContains(shown.stdout_data, "~ user.admin"));
  CHECK(absl::StrContains(shown.stdout_data,
                          "Plan: 0 to add, 1 to change, 0 to destroy, 1 to redeploy."));
  auto shown_json = w.Rotor({"show", "--json", "rotation.plan"});
  CHECK(shown_json.exit_code == 0);
  CHECK(absl::StrContains(shown_json.stdout_data, "\"format_version\": 3"));

  const int64_t writes = VaultWrites(w);
  w.env()["ADMIN_PW"] = "Admin-Pw-Other-3d";
  auto refused = w.Rotor({"apply", "rotation.plan"});
  CHECK(refused.exit_code == 1);
  CHECK(absl::StrContains(refused.stderr_data,
                          "Error: saved plan rotation.plan was made with another value of "
                          "user[admin].password (env ADMIN_PW)"));
  CHECK(VaultWrites(w) == writes);
  CHECK(DeploymentsStarted(w) == 1);  // the seed's

  // The value it was made with: applied as shown.
  w.env()["ADMIN_PW"] = "Admin-Pw-Rotated-2c";
  auto applied = w.Rotor({"apply", "rotation.plan"});
  CHECK(applied.exit_code == 0);
  CHECK(w.RegistryAccepts("admin", "Admin-Pw-Rotated-2c"));
}

TEST_CASE("a redeploy without a source for the securestring service principal writes nothing") {
  WorkspaceOptions options;
  options.service_principal_sources = false;
  AzureWorkspace w(options);
  SeedWithPendingRotation(w);
  const int64_t writes = VaultWrites(w);
  const std::string expected =
      "[deployment] client_id: parameter servicePrincipalClientId of deployment registry is a "
      "securestring that ARM never returns";
  auto plan = w.Rotor({"plan"});
  CHECK(plan.exit_code == 1);
  CHECK(absl::StrContains(plan.stderr_data, expected));
  CHECK(absl::StrContains(plan.stderr_data, "client_id = { env = \"REGISTRY_SPN_CLIENT_ID\" }"));
  auto apply = w.Rotor({"apply", "--auto-approve"});
  CHECK(apply.exit_code == 1);
  CHECK(absl::StrContains(apply.stderr_data, expected));
  CHECK(VaultWrites(w) == writes);
  CHECK(DeploymentsStarted(w) == 1);
}

TEST_CASE("a service principal the stamp refuses is caught before the first write") {
  AzureWorkspace w;
  SeedWithPendingRotation(w);
  w.env()["SPN_CLIENT_SECRET"] = "Not-The-Sp-Secret-4e";
  w.AddSecret("Not-The-Sp-Secret-4e");
  const int64_t writes = VaultWrites(w);
  for (std::vector<std::string> args :
       {std::vector<std::string>{"plan"}, std::vector<std::string>{"apply", "--auto-approve"}}) {
    CAPTURE(args[0]);
    auto r = w.Rotor(args);
    CHECK(r.exit_code == 1);
    CHECK(absl::StrContains(r.stderr_data,
                            "Error: [deployment] client_secret (env SPN_CLIENT_SECRET): the stamp "
                            "refused this service principal"));
    CHECK(absl::StrContains(r.stderr_data, "AADSTS7000215"));
  }
  CHECK(VaultWrites(w) == writes);
  CHECK(DeploymentsStarted(w) == 1);
}

TEST_CASE("a parameter rotor sets must exist in the template under its name") {
  AzureWorkspace w;
  SeedWithPendingRotation(w);
  const int64_t writes = VaultWrites(w);
  // Say the thumbprint parameter is called certThumbprint: the gallery
  // template has no such parameter.
  std::string config = *ReadFile(w.Path("rotor.toml"));
  config += "\n[deployment.parameter_names]\npfx_thumbprint = \"certThumbprint\"\n";
  REQUIRE(WriteFileAtomic(w.Path("rotor.toml"), config).ok());
  auto plan = w.Rotor({"plan"});
  CHECK(plan.exit_code == 1);
  CHECK(absl::StrContains(plan.stderr_data,
                          "[deployment.parameter_names] pfx_thumbprint: the template of "
                          "deployment registry declares no parameter certThumbprint"));
  auto apply = w.Rotor({"apply", "--auto-approve"});
  CHECK(apply.exit_code == 1);
  CHECK(VaultWrites(w) == writes);
  CHECK(DeploymentsStarted(w) == 1);
}

TEST_CASE("a password-only rotation takes effect on the registry VM (forceUpdateTag)") {
  AzureWorkspace w;
  const std::string old = SeedWithPendingRotation(w);
  auto plan = w.Rotor({"plan"});
  REQUIRE(plan.exit_code == 0);
  CHECK(absl::StrContains(plan.stdout_data, "forceUpdateTag"));
  CHECK(absl::StrContains(plan.stdout_data, "the VM reads them only when its CustomScript"));
  auto apply = w.Rotor({"apply", "--auto-approve"});
  REQUIRE(apply.exit_code == 0);
  // The script ran again: the new password logs in, the old one does not.
  CHECK(w.RegistryAccepts("admin", "Admin-Pw-Rotated-2c"));
  CHECK_FALSE(w.RegistryAccepts("admin", old));
  auto again = w.Rotor({"plan", "--detailed-exitcode"});
  CHECK(again.exit_code == 0);
}

TEST_CASE("a running deployment is said by every plan and apply - with nothing else to do too") {
  AzureWorkspace w;
  w.SetUsers({{"admin", "ADMIN_PW"}});
  w.IssuePfx();
  w.SeedAsPowerShell();
  const std::string url =
      JsonString(w.Deployment("registry"), "properties/parameters/pfxKeyVaultSecretUrl/value");
  REQUIRE_FALSE(url.empty());
  // Someone redeploys by hand, and the deployment takes its time.
  w.Restart({"--listen", absl::StrCat("127.0.0.1:", w.emu().port())}, "1h");
  HttpResult started = w.emu().Send(
      "PUT", w.emu().ArmUrl(w.ArmPath("registry-by-hand")),
      testing::GalleryDeploymentBody(
          {.vault_resource_id = testing::VaultResourceId(kSubscription, "newregreg", "newregkv"),
           .secret_url = url,
           .thumbprint = w.old_thumbprint(),
           .sp_client_id = kSpId,
           .sp_client_secret = kSpSecret,
           .domain_name_label = "myreg",
           .registry_replicas = "2"}),
      w.emu().ArmToken());
  REQUIRE_MESSAGE((started.status == 201 || started.status == 200), started.body);
  const int64_t writes = VaultWrites(w);
  w.env()["ROTOR_DEPLOYMENT_TIMEOUT"] = "5s";  // bounded, should apply ever wait
  for (const char* command : {"plan", "apply"}) {
    std::vector<std::string> args = {command, "--no-color"};
    if (std::string(command) == "apply") args.push_back("--auto-approve");
    auto run = w.Rotor(args);
    INFO(command, " stdout:\n", run.stdout_data, "\nstderr:\n", run.stderr_data);
    CHECK(run.exit_code == 0);
    CHECK(absl::StrContains(run.stdout_data, "No changes."));
    // Accepted, then Running.
    CHECK(
        absl::StrContains(run.stdout_data, "Warning: deployment: deployment registry-by-hand is "));
    CHECK(absl::StrContains(run.stdout_data, " since 20"));
  }
  CHECK(VaultWrites(w) == writes);
}

// Causes, as plan labels them and as rotor drift's exit code reports them.
TEST_CASE("causes: re-declaring a user rotor deleted is config, not drift") {
  AzureWorkspace w;
  w.SetUsers({{"admin", "ADMIN_PW"}, {"ops", "OPS_PW"}});
  w.env()["OPS_PW"] = "Ops-Pw-First-5f";
  w.IssuePfx();
  w.SeedAsPowerShell();
  // rotor deletes ops when the file drops it...
  w.SetUsers({{"admin", "ADMIN_PW"}});
  REQUIRE(w.Rotor({"apply", "--auto-approve"}).exit_code == 0);
  // ...and recovers it when the file declares it again.
  w.SetUsers({{"admin", "ADMIN_PW"}, {"ops", "OPS_PW"}});
  auto plan = w.Rotor({"plan", "--json"});
  REQUIRE(plan.exit_code == 0);
  auto doc = emulator::testing::ParseJson(plan.stdout_data);
  bool recovered = false;
  for (const auto& c : doc["changes"].GetArray()) {
    if (std::string(c["address"].GetString()) == "user.ops") {
      recovered = true;
      CHECK(std::string(c["action"].GetString()) == "recover");
      CHECK(std::string(c["cause"].GetString()) == "config");
    }
  }
  CHECK(recovered);
  CHECK(w.Rotor({"drift"}).exit_code == 0);
}

TEST_CASE("causes: an interrupted apply's own writes are pending config, not drift") {
  AzureWorkspace w;
  SeedWithPendingRotation(w);
  const std::string port = absl::StrCat(w.emu().port());
  w.Restart({"--listen", "127.0.0.1:" + port, "--deploy-fail", "newregreg"}, "200ms");
  CHECK(w.Rotor({"apply", "--auto-approve"}).exit_code == 1);  // written, not deployed
  // The redeploy rotor still owes: config.
  auto plan = w.Rotor({"plan", "--json", "--detailed-exitcode"});
  CHECK(plan.exit_code == 2);
  auto doc = emulator::testing::ParseJson(plan.stdout_data);
  REQUIRE(doc["changes"].Size() == 1);
  CHECK(std::string(doc["changes"][0]["action"].GetString()) == "redeploy");
  CHECK(std::string(doc["changes"][0]["cause"].GetString()) == "config");
  auto drift = w.Rotor({"drift"});
  CHECK(drift.exit_code == 0);
  const bool pending = absl::StrContains(drift.stdout_data, "from the configuration are pending") ||
                       absl::StrContains(drift.stdout_data, "from the configuration is pending");
  CHECK(pending);
}

// The VM's logins are the vault's first page as of the last run of its
// script: what changed since is a pending redeploy, whoever changed it.
TEST_CASE("the VM's logins: a login deleted by hand is a pending redeploy, cause drift") {
  AzureWorkspace w;
  w.SetUsers({{"admin", "ADMIN_PW"}});
  w.IssuePfx();
  // A login the PowerShell way that the file does not declare, kept by policy.
  w.PutSecret("helper", "Helper-Login-Pw-3d", "user credentials");
  w.AddSecret("Helper-Login-Pw-3d");
  w.SeedAsPowerShell();
  REQUIRE(w.RegistryAccepts("helper", "Helper-Login-Pw-3d"));
  const std::string config = rotor::testing::ReadFileOrDie(w.Path("rotor.toml"));
  REQUIRE(WriteFileAtomic(w.Path("rotor.toml"),
                          absl::StrCat(config, "\n[policy]\ndelete_stale_users = false\n"), 0644)
              .ok());
  CHECK(w.Rotor({"plan", "--detailed-exitcode"}).exit_code == 0);

  // Deleted by hand: the VM still lets helper in until its script runs again.
  // Key Vault stamps whole seconds: a delete in the deployment's own second
  // cannot be told from one before it (a real deployment takes minutes).
  absl::SleepFor(absl::Milliseconds(1100));
  HttpResult del =
      w.emu().Send("DELETE", w.emu().VaultUrl("newregkv", "/secrets/helper?api-version=7.4"), "",
                   w.emu().VaultToken());
  REQUIRE(del.status == 200);
  CHECK(w.RegistryAccepts("helper", "Helper-Login-Pw-3d"));
  auto plan = w.Rotor({"plan", "--json", "--detailed-exitcode"});
  CHECK(plan.exit_code == 2);
  auto doc = emulator::testing::ParseJson(plan.stdout_data);
  bool redeploy = false;
  for (const auto& c : doc["changes"].GetArray()) {
    if (std::string(c["action"].GetString()) != "redeploy") continue;
    redeploy = true;
    CHECK(std::string(c["cause"].GetString()) == "drift");
  }
  CHECK(redeploy);
  CHECK(w.Rotor({"drift"}).exit_code == 2);
  REQUIRE(w.Rotor({"apply", "--auto-approve"}).exit_code == 0);
  CHECK_FALSE(w.RegistryAccepts("helper", "Helper-Login-Pw-3d"));
  CHECK(w.Rotor({"drift"}).exit_code == 0);
}

TEST_CASE("the VM's logins: a stray short secret blocks a redeploy, naming the choices") {
  AzureWorkspace w;
  SeedWithPendingRotation(w);
  w.PutSecret("aaa-note", "Stray-Note-Value-9", "");
  w.AddSecret("Stray-Note-Value-9");
  const int64_t writes = VaultWrites(w);
  auto apply = w.Rotor({"apply", "--auto-approve"});
  CHECK(apply.exit_code == 1);
  CHECK(absl::StrContains(apply.stderr_data, "secret aaa-note is not declared, yet short enough"));
  CHECK(absl::StrContains(apply.stderr_data, "policy.other_short_secrets"));
  CHECK(VaultWrites(w) == writes);
  CHECK(DeploymentsStarted(w) == 1);  // the seed's
}

TEST_CASE("a certificate that does not cover the registry's host is refused before any write") {
  AzureWorkspace w;
  w.SetUsers({{"admin", "ADMIN_PW"}});
  w.IssuePfx();
  w.SeedAsPowerShell();
  w.IssuePfx("registry.contoso.local");
  const int64_t writes = VaultWrites(w);
  auto plan = w.Rotor({"plan"});
  CHECK(plan.exit_code == 1);
  CHECK(absl::StrContains(plan.stderr_data, "registry.contoso.local"));
  CHECK(absl::StrContains(plan.stderr_data, kRegistryHost));
  CHECK(w.Rotor({"apply", "--auto-approve"}).exit_code == 1);
  CHECK(VaultWrites(w) == writes);
}

// What the registry VM would break on is refused by plan and by apply,
// before anything is written.
void ExpectRefusedUnchanged(AzureWorkspace& w, const std::string& error) {
  const int64_t writes = VaultWrites(w);
  const int64_t started = DeploymentsStarted(w);
  auto plan = w.Rotor({"plan"});
  CHECK(plan.exit_code == 1);
  CHECK_MESSAGE(absl::StrContains(plan.stderr_data, error), plan.stderr_data);
  auto apply = w.Rotor({"apply", "--auto-approve"});
  CHECK(apply.exit_code == 1);
  CHECK_MESSAGE(absl::StrContains(apply.stderr_data, error), apply.stderr_data);
  CHECK(VaultWrites(w) == writes);
  CHECK(DeploymentsStarted(w) == started);
}

TEST_CASE("the VM's refusals: a password its shell would split or expand") {
  AzureWorkspace w;
  SeedWithPendingRotation(w);
  w.env()["ADMIN_PW"] = "Admin Pw*Rotated-2c";
  ExpectRefusedUnchanged(w,
                         "user[admin].password (env ADMIN_PW): the password has whitespace or one "
                         "of '*', '?', '['");
}

TEST_CASE("the VM's refusals: a new password bcrypt cannot tell from the old one") {
  AzureWorkspace w;
  const std::string prefix(72, 'k');
  w.SetUsers({{"admin", "ADMIN_PW"}});
  w.env()["ADMIN_PW"] = prefix + "-old-tail";
  w.IssuePfx();
  w.SeedAsPowerShell();
  w.env()["ADMIN_PW"] = prefix + "-new-tail";
  ExpectRefusedUnchanged(w, "user[admin].password (env ADMIN_PW)");
}

TEST_CASE("the VM's refusals: a first-listed secret that is not a login") {
  AzureWorkspace w;
  SeedWithPendingRotation(w);
  w.PutSecret("aaa-blob", std::string(300, 'b'), "application/octet-stream");
  ExpectRefusedUnchanged(w, "secret aaa-blob is the first secret the registry VM will list");
}

}  // namespace
}  // namespace rotor::e2e
