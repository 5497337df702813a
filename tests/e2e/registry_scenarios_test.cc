// The seed procedures ("Rotate container registry secrets in Azure Stack
// Hub") end to end: each scenario runs the real rotor (cloud.kind =
// "azurestack", only arm_endpoint and ca_bundle pointing at the emulator)
// against a fresh rotor-emulator whose --registry-cmd (re)starts a real
// Debian docker-registry (tests/e2e/run-registry.sh) on the htpasswd and
// certificate each registry deployment provisions. `rotor verify` then logs
// in to that registry. Every rotor run is checked for leaked secrets
// (AzureWorkspace::Rotor).
//
// Each scenario starts where the seed procedure leaves a registry: user
// admin and the certificate in Key Vault (written as PowerShell writes
// them) and a successful "registry" deployment; rotor adopts it as is.
#include <doctest/doctest.h>
#include <sys/stat.h>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "tests/e2e/azure_workspace.h"

namespace rotor::e2e {
namespace {

constexpr char kNoChanges[] = "No changes.";

WorkspaceOptions ScenarioOptions() {
  WorkspaceOptions options;
  options.real_registry = true;
  options.deploy_duration = "200ms";
  return options;
}

int64_t DeploymentsStarted(AzureWorkspace& w) { return StatInt(w.Stats(), "deployments/started"); }

// The registry as the seed procedure leaves it, with one user (admin), and
// rotor agreeing with it: no changes, and verify holds.
std::string StartFromSeed(AzureWorkspace& w) {
  w.SetUsers({{"admin", "ADMIN_PW"}});
  const std::string thumbprint = w.IssuePfx();
  w.SeedAsPowerShell();
  w.WaitForRegistry();
  auto plan = w.Rotor({"plan", "--detailed-exitcode"});
  CHECK(plan.exit_code == 0);
  CHECK(absl::StrContains(plan.stdout_data, kNoChanges));
  auto verify = w.Rotor({"verify"});
  CHECK(verify.exit_code == 0);
  CHECK(absl::StrContains(verify.stdout_data, absl::StrCat("Registry: ", w.RegistryUrl())));
  CHECK(absl::StrContains(verify.stdout_data,
                          absl::StrCat("certificate  OK      serves ", thumbprint)));
  CHECK(absl::StrContains(verify.stdout_data, "user admin   OK      GET /v2/ -> 200"));
  CHECK(w.RegistryLogin("admin", w.env()["ADMIN_PW"]) == 200);
  return thumbprint;
}

// rotor verify once the registry answers (each deployment restarts it).
ProcessResult Verify(AzureWorkspace& w, std::vector<std::string> args = {}) {
  w.WaitForRegistry();
  args.insert(args.begin(), "verify");
  return w.Rotor(args);
}

// Scenario 5, after every apply: the plan is "No changes.", and a second
// apply changes nothing and starts no deployment.
void ExpectConverged(AzureWorkspace& w) {
  auto plan = w.Rotor({"plan", "--detailed-exitcode"});
  CHECK(plan.exit_code == 0);
  CHECK(absl::StrContains(plan.stdout_data, kNoChanges));
  const int64_t started = DeploymentsStarted(w);
  auto again = w.Rotor({"apply", "--auto-approve"});
  CHECK(again.exit_code == 0);
  CHECK(absl::StrContains(again.stdout_data, kNoChanges));
  CHECK_FALSE(absl::StrContains(again.stdout_data, "Apply complete!"));
  CHECK(DeploymentsStarted(w) == started);
}

// The number of versions `rotor show --json` lists for a secret.
int ShownVersions(AzureWorkspace& w, const std::string& name) {
  auto show = w.Rotor({"show", "--json"});
  REQUIRE(show.exit_code == 0);
  auto doc = emulator::testing::ParseJson(show.stdout_data);
  REQUIRE(doc.IsObject());
  for (const auto& s : doc["secrets"].GetArray()) {
    if (s["name"].GetString() == name) return static_cast<int>(s["versions"].Size());
  }
  return 0;
}

// The deployment the registry VM was last provisioned from, through ARM.
rapidjson::Document ProvisionedDeployment(AzureWorkspace& w) {
  const std::string name = JsonString(w.Stats(), "last_provisioning/deployment");
  REQUIRE_FALSE(name.empty());
  return w.Deployment(name);
}

std::string Parameter(const rapidjson::Document& deployment, const std::string& name) {
  return JsonString(deployment, absl::StrCat("properties/parameters/", name, "/value"));
}

TEST_CASE("scenario 1: an updated password for an existing user") {
  AzureWorkspace w(ScenarioOptions());
  StartFromSeed(w);
  w.env()["OLD_ADMIN_PW"] = w.env()["ADMIN_PW"];
  w.env()["ADMIN_PW"] = "Admin-Pw-Updated-5e";

  auto plan = w.Rotor({"plan", "--detailed-exitcode"});
  CHECK(plan.exit_code == 2);
  CHECK(absl::StrContains(plan.stdout_data, "~ user.admin"));
  CHECK(absl::StrContains(plan.stdout_data,
                          "Plan: 0 to add, 1 to change, 0 to destroy, 1 to redeploy."));
  auto apply = w.Rotor({"apply", "--auto-approve"});
  REQUIRE(apply.exit_code == 0);
  CHECK(absl::StrContains(
      apply.stdout_data,
      "Apply complete! Resources: 0 added, 1 changed, 0 destroyed, 1 redeployed."));

  // The new password logs in, the old one is refused.
  auto verify = Verify(w, {"--expect-rejected", "admin=OLD_ADMIN_PW"});
  CHECK(verify.exit_code == 0);
  CHECK(absl::StrContains(verify.stdout_data, "user admin      OK      GET /v2/ -> 200"));
  CHECK(absl::StrContains(verify.stdout_data, "rejected admin  OK      GET /v2/ -> 401"));
  CHECK(absl::StrContains(verify.stdout_data, "Verified: all 3 checks hold."));
  CHECK(w.RegistryLogin("admin", "Admin-Pw-Updated-5e") == 200);
  CHECK(w.RegistryLogin("admin", w.env()["OLD_ADMIN_PW"]) == 401);
  // Get-AzureKeyVaultSecret -IncludeVersions: the seed's and rotor's.
  CHECK(ShownVersions(w, "admin") == 2);
  ExpectConverged(w);
}

TEST_CASE("scenario 2: a new username and password, and only the new user logs in") {
  AzureWorkspace w(ScenarioOptions());
  StartFromSeed(w);
  w.env()["ADMIN1_PW"] = "Admin1-Pw-New-6f";
  w.SetUsers({{"admin1", "ADMIN1_PW"}});

  auto plan = w.Rotor({"plan", "--detailed-exitcode"});
  CHECK(plan.exit_code == 2);
  CHECK(absl::StrContains(plan.stdout_data, "+ user.admin1"));
  CHECK(absl::StrContains(plan.stdout_data, "- stale_user.admin"));
  CHECK(absl::StrContains(plan.stdout_data,
                          "Plan: 1 to add, 0 to change, 1 to destroy, 1 to redeploy."));
  // apply --verify: waits for the redeployed registry, then checks the old
  // user with the password rotor read just before deleting it.
  auto apply = w.Rotor({"apply", "--auto-approve", "--verify"});
  REQUIRE(apply.exit_code == 0);
  CHECK(absl::StrContains(
      apply.stdout_data,
      "Apply complete! Resources: 1 added, 0 changed, 1 destroyed, 1 redeployed."));
  CHECK(absl::StrContains(apply.stdout_data, "user admin1     OK      GET /v2/ -> 200"));
  CHECK(absl::StrContains(apply.stdout_data, "rejected admin  OK      GET /v2/ -> 401"));
  CHECK(absl::StrContains(apply.stdout_data, "Verified: all 3 checks hold."));
  CHECK(w.Logins() == std::vector<std::string>{"admin1"});

  auto verify = Verify(w, {"--expect-rejected", "admin=ADMIN_PW"});
  CHECK(verify.exit_code == 0);
  CHECK(w.RegistryLogin("admin1", "Admin1-Pw-New-6f") == 200);
  CHECK(w.RegistryLogin("admin", w.env()["ADMIN_PW"]) == 401);
  ExpectConverged(w);
}

TEST_CASE("scenario 3: an updated certificate under the existing secret name") {
  AzureWorkspace w(ScenarioOptions());
  const std::string first = StartFromSeed(w);
  const std::string seeded_url = Parameter(ProvisionedDeployment(w), "pfxKeyVaultSecretUrl");
  const std::string second = w.IssuePfx();

  auto plan = w.Rotor({"plan", "--detailed-exitcode"});
  CHECK(plan.exit_code == 2);
  CHECK(absl::StrContains(plan.stdout_data, "~ certificate.containersecret"));
  CHECK(absl::StrContains(plan.stdout_data,
                          absl::StrCat("~ thumbprint = \"", first, "\" -> \"", second, "\"")));
  CHECK(absl::StrContains(plan.stdout_data,
                          "Plan: 0 to add, 1 to change, 0 to destroy, 1 to redeploy."));
  auto apply = w.Rotor({"apply", "--auto-approve"});
  REQUIRE(apply.exit_code == 0);
  CHECK(absl::StrContains(apply.stdout_data, "PFX Certificate Thumbprint   : " + second));

  // The redeploy passed the new version's URL and the new thumbprint.
  auto deployed = ProvisionedDeployment(w);
  const std::string url = Parameter(deployed, "pfxKeyVaultSecretUrl");
  CHECK(absl::StartsWith(url, w.emu().VaultUrl("newregkv", "/secrets/containersecret/")));
  CHECK(url != seeded_url);
  CHECK(Parameter(deployed, "pfxThumbprint") == second);
  CHECK(Parameter(deployed, "registryReplicas") == "2");  // carried over
  CHECK(absl::StrContains(apply.stdout_data, "PFX KeyVaultSecretUrl        : " + url));

  // The registry serves it, and the users keep working.
  auto verify = Verify(w, {"--json"});
  CHECK(verify.exit_code == 0);
  auto report = emulator::testing::ParseJson(verify.stdout_data);
  CHECK(JsonString(report, "ok") == "true");
  CHECK(JsonString(report, "checks/0/name") == "certificate");
  CHECK(JsonString(report, "checks/0/served/thumbprint") == second);
  CHECK(JsonString(report, "checks/0/declared/thumbprint") == second);
  CHECK(JsonString(report, "checks/0/served/not_after") ==
        JsonString(report, "checks/0/declared/not_after"));
  CHECK(JsonString(report, "checks/1/name") == "user admin");
  CHECK(JsonString(report, "checks/1/status") == "200");
  CHECK(w.RegistryLogin("admin", w.env()["ADMIN_PW"]) == 200);
  CHECK(ShownVersions(w, "containersecret") == 2);
  ExpectConverged(w);
}

TEST_CASE("scenario 4: a new certificate under a new secret name") {
  AzureWorkspace w(ScenarioOptions());
  StartFromSeed(w);
  const std::string second = w.IssuePfx();
  w.SetCertificateSecretName("containersecret2");

  auto plan = w.Rotor({"plan", "--detailed-exitcode"});
  CHECK(plan.exit_code == 2);
  CHECK(absl::StrContains(plan.stdout_data, "+ certificate.containersecret2"));
  CHECK(absl::StrContains(plan.stdout_data,
                          "Plan: 1 to add, 0 to change, 0 to destroy, 1 to redeploy."));
  auto apply = w.Rotor({"apply", "--auto-approve"});
  REQUIRE(apply.exit_code == 0);
  CHECK(absl::StrContains(apply.stdout_data, "PFX Certificate Thumbprint   : " + second));

  auto deployed = ProvisionedDeployment(w);
  CHECK(absl::StartsWith(Parameter(deployed, "pfxKeyVaultSecretUrl"),
                         w.emu().VaultUrl("newregkv", "/secrets/containersecret2/")));
  CHECK(Parameter(deployed, "pfxThumbprint") == second);

  auto verify = Verify(w);
  CHECK(verify.exit_code == 0);
  CHECK(
      absl::StrContains(verify.stdout_data, absl::StrCat("certificate  OK      serves ", second)));
  CHECK(absl::StrContains(verify.stdout_data, "user admin   OK      GET /v2/ -> 200"));
  // The old certificate secret is kept (policy.delete_stale_certificates
  // defaults to false); the new one has one version.
  CHECK(ShownVersions(w, "containersecret") == 1);
  CHECK(ShownVersions(w, "containersecret2") == 1);
  ExpectConverged(w);
}

TEST_CASE("scenario 5: no drift after an apply, and a second apply redeploys nothing") {
  AzureWorkspace w(ScenarioOptions());
  StartFromSeed(w);
  // Right after adoption: nothing to do, nothing deployed.
  ExpectConverged(w);

  w.env()["ADMIN_PW"] = "Admin-Pw-Rotated-7a";
  const int64_t before = DeploymentsStarted(w);
  REQUIRE(w.Rotor({"apply", "--auto-approve"}).exit_code == 0);
  CHECK(DeploymentsStarted(w) == before + 1);
  ExpectConverged(w);
  ExpectConverged(w);
  auto drift = w.Rotor({"drift"});
  CHECK(drift.exit_code == 0);
  CHECK(absl::StrContains(drift.stdout_data, "No drift"));
  CHECK(Verify(w).exit_code == 0);

  // Without [registry] url, verify derives the registry's name from the
  // deployment's pipDomainNameLabel and the stamp's ARM endpoint; the
  // emulator's management.localhost names no region, so it says what to set.
  w.SetRegistryUrl("");
  auto derived = w.Rotor({"verify"});
  CHECK(derived.exit_code == 1);
  CHECK(absl::StrContains(derived.stderr_data,
                          "[registry] url is not set, and the ARM endpoint's host "
                          "management.localhost is not management.<region>.<external domain>, so "
                          "the registry's name (myreg.<region>.cloudapp.<external domain>) cannot "
                          "be derived; set [registry] url"));
}

TEST_CASE("scenario 6: out-of-band drift is found by plan and converged by apply") {
  AzureWorkspace w(ScenarioOptions());
  const std::string thumbprint = StartFromSeed(w);
  // rotor rotates admin once: what rotor last left is its own deployment
  // (drift is measured from it; a portal redeploy after it changes nothing).
  w.env()["ADMIN_PW"] = "Admin-Pw-By-Rotor-7a";
  REQUIRE(w.Rotor({"apply", "--auto-approve"}).exit_code == 0);
  w.WaitForRegistry();
  // Behind rotor's back, with curl and a token from the emulator's token
  // endpoint: admin's password is reset by hand, a forgotten short secret
  // appears, and someone redeploys forcing the extension to run (a portal
  // Redeploy with the same parameters would not re-run the script), so the
  // registry really takes both.
  w.env()["OOB_ADMIN_PW"] = "Admin-Pw-By-Hand-8b";
  w.env()["INTRUDER_PW"] = "Intruder-Pw-9c";
  w.PutSecret("admin", w.env()["OOB_ADMIN_PW"], "user credentials");
  w.PutSecret("intruder", w.env()["INTRUDER_PW"], "user credentials");
  const std::string url = Parameter(ProvisionedDeployment(w), "pfxKeyVaultSecretUrl");
  REQUIRE(w.Deploy("portal-redeploy", url, thumbprint, "by-hand-1") == "Succeeded");
  w.WaitForRegistry();
  CHECK(w.RegistryLogin("intruder", w.env()["INTRUDER_PW"]) == 200);

  // verify sees it live: the declared password no longer works.
  auto before = Verify(w);
  CHECK(before.exit_code == 1);
  CHECK(
      absl::StrContains(before.stdout_data, "user admin   FAILED  GET /v2/ -> 401 (expected 200)"));

  auto drift = w.Rotor({"drift"});
  CHECK(drift.exit_code == 2);
  auto plan = w.Rotor({"plan", "--detailed-exitcode"});
  CHECK(plan.exit_code == 2);
  CHECK(absl::StrContains(plan.stdout_data, "~ user.admin"));
  CHECK(absl::StrContains(plan.stdout_data, "was not written by rotor"));
  CHECK(absl::StrContains(plan.stdout_data, "- stale_user.intruder"));
  CHECK(absl::StrContains(plan.stdout_data,
                          "Plan: 0 to add, 1 to change, 1 to destroy, 1 to redeploy."));
  auto apply = w.Rotor({"apply", "--auto-approve"});
  REQUIRE(apply.exit_code == 0);

  auto after = Verify(
      w, {"--expect-rejected", "admin=OOB_ADMIN_PW", "--expect-rejected", "intruder=INTRUDER_PW"});
  CHECK(after.exit_code == 0);
  CHECK(absl::StrContains(after.stdout_data, "rejected intruder  OK      GET /v2/ -> 401"));
  CHECK(w.Logins() == std::vector<std::string>{"admin"});
  ExpectConverged(w);
}

TEST_CASE("scenario 7: an interrupted apply is reported, still planned, and converged next time") {
  AzureWorkspace w(ScenarioOptions());
  StartFromSeed(w);
  // The same emulator state and port, now failing the next deployment.
  const std::string port = absl::StrCat(w.emu().port());
  w.Restart({"--listen", "127.0.0.1:" + port, "--deploy-fail", "newregreg"}, "200ms");
  REQUIRE(w.emu().port() == std::stoi(port));
  w.WaitForRegistry();  // restarted with the emulator, on the last deployment
  w.env()["ADMIN1_PW"] = "Admin1-Pw-Interrupted-0d";
  w.SetUsers({{"admin1", "ADMIN1_PW"}});

  auto apply = w.Rotor({"apply", "--auto-approve"});
  CHECK(apply.exit_code == 1);
  const std::string all = apply.stdout_data + apply.stderr_data;
  CHECK(absl::StrContains(all, "ended Failed"));
  CHECK(absl::StrContains(all, "ResourceDeploymentFailure"));
  CHECK(absl::StrContains(all, "The secrets were written; the next rotor apply redeploys again."));

  // The registry still runs the previous deployment: the deleted user still
  // logs in, the new one does not yet. verify says so.
  auto stale = Verify(w, {"--expect-rejected", "admin=ADMIN_PW"});
  CHECK(stale.exit_code == 1);
  CHECK(absl::StrContains(stale.stdout_data,
                          "user admin1     FAILED  GET /v2/ -> 401 (expected 200)"));
  CHECK(
      absl::StrContains(stale.stdout_data,
                        "rejected admin  FAILED  GET /v2/ -> 200 (expected 401): the deleted user "
                        "can still log in; redeploy the registry"));

  auto plan = w.Rotor({"plan", "--detailed-exitcode"});
  CHECK(plan.exit_code == 2);
  CHECK(absl::StrContains(plan.stdout_data,
                          "Plan: 0 to add, 0 to change, 0 to destroy, 1 to redeploy."));
  auto rerun = w.Rotor({"apply", "--auto-approve"});
  REQUIRE(rerun.exit_code == 0);
  CHECK(absl::StrContains(
      rerun.stdout_data,
      "Apply complete! Resources: 0 added, 0 changed, 0 destroyed, 1 redeployed."));
  auto verify = Verify(w, {"--expect-rejected", "admin=ADMIN_PW"});
  CHECK(verify.exit_code == 0);
  CHECK(w.Logins() == std::vector<std::string>{"admin1"});
  ExpectConverged(w);
}

// The apply ids `rotor show --json` lists, newest first.
std::vector<std::string> ShownApplies(AzureWorkspace& w) {
  auto show = w.Rotor({"show", "--json"});
  REQUIRE(show.exit_code == 0);
  auto doc = emulator::testing::ParseJson(show.stdout_data);
  REQUIRE(doc.IsObject());
  std::vector<std::string> ids;
  for (const auto& a : doc["applies"].GetArray()) ids.push_back(a["id"].GetString());
  return ids;
}

TEST_CASE("rollback: the previous password logs in again and the new one is refused") {
  AzureWorkspace w(ScenarioOptions());
  StartFromSeed(w);
  const std::string old_pw = w.env()["ADMIN_PW"];
  w.env()["OLD_ADMIN_PW"] = old_pw;
  w.env()["ADMIN_PW"] = "Admin-Pw-Rolled-Out-3c";
  w.env()["NEW_ADMIN_PW"] = w.env()["ADMIN_PW"];
  REQUIRE(w.Rotor({"apply", "--auto-approve"}).exit_code == 0);
  w.WaitForRegistry();
  CHECK(w.RegistryLogin("admin", "Admin-Pw-Rolled-Out-3c") == 200);

  // rotor show lists the apply: its id, time and what it changed.
  const std::vector<std::string> applies = ShownApplies(w);
  REQUIRE(applies.size() == 1);
  auto shown = w.Rotor({"show"});
  CHECK(absl::StrContains(shown.stdout_data, "Applies by rotor (1, newest first"));
  CHECK(absl::StrContains(shown.stdout_data, absl::StrCat("  ", applies[0], "  ")));
  CHECK(absl::StrContains(shown.stdout_data, "wrote admin; deployment registry-"));
  CHECK(absl::StrContains(shown.stdout_data, "rotor-apply-id=" + applies[0]));

  // Without a terminal, rollback asks for --auto-approve as apply does.
  auto refused = w.Rotor({"rollback"});
  CHECK(refused.exit_code == 1);
  CHECK(absl::StrContains(refused.stderr_data, "rollback needs approval"));

  auto rollback = w.Rotor({"rollback", "--auto-approve"});
  REQUIRE(rollback.exit_code == 0);
  CHECK(absl::StrContains(rollback.stdout_data,
                          absl::StrCat("rotor will roll back apply ", applies[0])));
  CHECK(absl::StrContains(rollback.stdout_data, "~ user.admin"));
  CHECK(absl::StrContains(
      rollback.stdout_data,
      "Rollback complete! Resources: 0 added, 1 changed, 0 destroyed, 1 redeployed."));
  CHECK(absl::StrContains(rollback.stdout_data, "revert the change in the configuration too"));

  w.WaitForRegistry();
  CHECK(w.RegistryLogin("admin", old_pw) == 200);
  CHECK(w.RegistryLogin("admin", "Admin-Pw-Rolled-Out-3c") == 401);
  // The previous value was written again as a new version: 3 in all.
  CHECK(ShownVersions(w, "admin") == 3);
  CHECK(ShownApplies(w).size() == 2);

  // The configuration still asks for the new password: plan says so, with
  // cause config, and drift sees nothing that moved outside rotor.
  auto plan = w.Rotor({"plan", "--detailed-exitcode"});
  CHECK(plan.exit_code == 2);
  CHECK(absl::StrContains(plan.stdout_data, "~ user.admin"));
  CHECK(absl::StrContains(plan.stdout_data, "reason (config)"));
  CHECK_FALSE(absl::StrContains(plan.stdout_data, "reason (drift)"));
  auto drift = w.Rotor({"drift"});
  CHECK(drift.exit_code == 0);
  // Reverting the configuration converges.
  w.env()["ADMIN_PW"] = old_pw;
  ExpectConverged(w);
}

TEST_CASE("rollback from a saved plan: a renamed user and a new certificate are undone") {
  AzureWorkspace w(ScenarioOptions());
  const std::string first = StartFromSeed(w);
  const std::string seeded_url = Parameter(ProvisionedDeployment(w), "pfxKeyVaultSecretUrl");
  const std::string second = w.IssuePfx();
  w.env()["ADMIN1_PW"] = "Admin1-Pw-Rollback-4d";
  w.SetUsers({{"admin1", "ADMIN1_PW"}});
  REQUIRE(w.Rotor({"apply", "--auto-approve"}).exit_code == 0);
  w.WaitForRegistry();
  CHECK(w.RegistryLogin("admin1", "Admin1-Pw-Rollback-4d") == 200);
  CHECK(w.RegistryLogin("admin", w.env()["ADMIN_PW"]) == 401);
  const std::vector<std::string> applies = ShownApplies(w);
  REQUIRE(applies.size() == 1);

  auto saved = w.Rotor({"rollback", "--to", applies[0], "--out", "rollback.plan"});
  REQUIRE(saved.exit_code == 0);
  CHECK(absl::StrContains(saved.stdout_data, "+ user.admin"));
  CHECK(absl::StrContains(saved.stdout_data, "- user.admin1"));
  CHECK(absl::StrContains(saved.stdout_data,
                          absl::StrCat("~ pfxKeyVaultSecretUrl = \"",
                                       Parameter(ProvisionedDeployment(w), "pfxKeyVaultSecretUrl"),
                                       "\" -> \"", seeded_url, "\"")));
  CHECK(absl::StrContains(saved.stdout_data,
                          "Plan: 1 to add, 0 to change, 1 to destroy, 1 to redeploy."));
  auto shown = w.Rotor({"show", "rollback.plan"});
  CHECK(shown.exit_code == 0);
  CHECK(absl::StrContains(shown.stdout_data, absl::StrCat("roll back apply ", applies[0])));

  auto apply = w.Rotor({"apply", "rollback.plan"});
  REQUIRE(apply.exit_code == 0);
  CHECK(absl::StrContains(
      apply.stdout_data,
      "Rollback complete! Resources: 1 added, 0 changed, 1 destroyed, 1 redeployed."));
  // The registry runs the seed's certificate version again, and its users.
  auto deployed = ProvisionedDeployment(w);
  CHECK(Parameter(deployed, "pfxKeyVaultSecretUrl") == seeded_url);
  CHECK(Parameter(deployed, "pfxThumbprint") == first);
  w.WaitForRegistry();
  CHECK(w.RegistryHasCertificate(first));
  CHECK(w.RegistryLogin("admin", w.env()["ADMIN_PW"]) == 200);
  CHECK(w.RegistryLogin("admin1", "Admin1-Pw-Rollback-4d") == 401);
  CHECK(w.Logins() == std::vector<std::string>{"admin"});

  // A saved plan runs once: the state it was made on is gone.
  auto again = w.Rotor({"apply", "rollback.plan"});
  CHECK(again.exit_code == 1);
  CHECK(absl::StrContains(again.stderr_data, "is stale"));
  // The file still asks for admin1 and the new certificate (cause config).
  auto plan = w.Rotor({"plan", "--detailed-exitcode"});
  CHECK(plan.exit_code == 2);
  CHECK(absl::StrContains(plan.stdout_data, "+ user.admin1"));
  CHECK_FALSE(absl::StrContains(plan.stdout_data, "reason (drift)"));
  CHECK(absl::StrContains(plan.stdout_data, second));
  CHECK(w.Rotor({"drift"}).exit_code == 0);
}

TEST_CASE("retire_after: a renamed user logs in until its deadline, then only the new one") {
  AzureWorkspace w(ScenarioOptions());
  StartFromSeed(w);
  w.SetPolicy("retire_after = \"1m\"");
  w.env()["ADMIN1_PW"] = "Admin1-Pw-Retire-5e";
  w.SetUsers({{"admin1", "ADMIN1_PW"}});

  auto plan = w.Rotor({"plan", "--detailed-exitcode"});
  CHECK(plan.exit_code == 2);
  CHECK(absl::StrContains(plan.stdout_data, "+ user.admin1"));
  CHECK(absl::StrContains(plan.stdout_data, "- user.admin (retires "));
  CHECK(absl::StrContains(plan.stdout_data, " UTC)"));
  CHECK_FALSE(absl::StrContains(plan.stdout_data, "stale_user.admin"));
  CHECK(absl::StrContains(plan.stdout_data,
                          "Plan: 1 to add, 1 to change, 0 to destroy, 1 to redeploy."));
  auto apply = w.Rotor({"apply", "--auto-approve"});
  REQUIRE(apply.exit_code == 0);

  // During the window both users log in, and nothing is pending or drift.
  w.WaitForRegistry();
  CHECK(w.RegistryLogin("admin", w.env()["ADMIN_PW"]) == 200);
  CHECK(w.RegistryLogin("admin1", "Admin1-Pw-Retire-5e") == 200);
  auto during = w.Rotor({"plan", "--detailed-exitcode"});
  CHECK(during.exit_code == 0);
  CHECK(absl::StrContains(during.stdout_data, kNoChanges));
  auto drift = w.Rotor({"drift"});
  CHECK(drift.exit_code == 0);
  CHECK(absl::StrContains(drift.stdout_data, "No drift"));
  // The deadline is a tag on the secret's new version.
  auto show = w.Rotor({"show"});
  CHECK(absl::StrContains(show.stdout_data, "rotor-retire-at="));

  // After the deadline the first apply deletes it and redeploys.
  for (int i = 0; i < 90; ++i) {
    auto after = w.Rotor({"plan", "--detailed-exitcode"});
    if (after.exit_code == 2) break;
    absl::SleepFor(absl::Seconds(1));
  }
  auto after = w.Rotor({"plan", "--detailed-exitcode"});
  CHECK(after.exit_code == 2);
  CHECK(absl::StrContains(after.stdout_data, "- stale_user.admin"));
  CHECK(absl::StrContains(after.stdout_data, "retired: its deadline"));
  auto retire = w.Rotor({"apply", "--auto-approve"});
  REQUIRE(retire.exit_code == 0);
  CHECK(absl::StrContains(
      retire.stdout_data,
      "Apply complete! Resources: 0 added, 0 changed, 1 destroyed, 1 redeployed."));
  w.WaitForRegistry();
  CHECK(w.RegistryLogin("admin", w.env()["ADMIN_PW"]) == 401);
  CHECK(w.RegistryLogin("admin1", "Admin1-Pw-Retire-5e") == 200);
  CHECK(w.Logins() == std::vector<std::string>{"admin1"});
  ExpectConverged(w);
}

TEST_CASE("publish: a Docker config and a command get the new password after the redeploy") {
  AzureWorkspace w(ScenarioOptions());
  StartFromSeed(w);
  // A Docker config with another registry's login, which must be kept.
  w.WriteFile(
      "docker/config.json",
      "{\n\t\"auths\": {\n\t\t\"other.example\": {\n\t\t\t\"auth\": \"b3RoZXI6eA==\"\n\t\t}\n"
      "\t},\n\t\"psFormat\": \"table\"\n}\n",
      0644);
  // A command that keeps what it is given (what an image pull secret
  // updater would read).
  w.WriteFile("sink.sh", "#!/bin/sh\ncat > sink.json\n", 0755);
  w.SetUserExtra("admin",
                 "publish = [ { docker_config = \"docker/config.json\" }, { command = "
                 "[\"./sink.sh\", \"--namespace\", \"ci\"] } ]");
  w.env()["ADMIN_PW"] = "Admin-Pw-Published-6f";
  const std::string host = absl::StrCat(kRegistryHost, ":", w.registry_port());

  auto plan = w.Rotor({"plan"});
  CHECK(absl::StrContains(plan.stdout_data, "> publish user.admin to docker_config " +
                                                w.Path("docker/config.json") + " (registry " +
                                                host + ")"));
  CHECK(absl::StrContains(
      plan.stdout_data,
      "> publish user.admin to command [\"" + w.Path("sink.sh") + "\", \"--namespace\", \"ci\"]"));
  auto apply = w.Rotor({"apply", "--auto-approve", "--verify"});
  REQUIRE(apply.exit_code == 0);
  CHECK(absl::StrContains(apply.stdout_data, "Verified: all 2 checks hold."));
  CHECK(absl::StrContains(apply.stdout_data, "publish user.admin to docker_config " +
                                                 w.Path("docker/config.json") + ": done"));

  // The merged config: mode 0600, the other entries kept, and its login
  // lets requests through as docker login's would.
  struct stat st;
  REQUIRE(::stat(w.Path("docker/config.json").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  auto config =
      emulator::testing::ParseJson(rotor::testing::ReadFileOrDie(w.Path("docker/config.json")));
  CHECK(JsonString(config, "auths/other.example/auth") == "b3RoZXI6eA==");
  CHECK(JsonString(config, "psFormat") == "table");
  std::string decoded;
  REQUIRE(absl::Base64Unescape(JsonString(config, "auths/" + host + "/auth"), &decoded));
  const size_t colon = decoded.find(':');
  REQUIRE(colon != std::string::npos);
  CHECK(decoded.substr(0, colon) == "admin");
  w.WaitForRegistry();
  CHECK(w.RegistryLogin(decoded.substr(0, colon), decoded.substr(colon + 1)) == 200);

  // The command got {"registry", "username", "password"} on standard input.
  auto sink = emulator::testing::ParseJson(rotor::testing::ReadFileOrDie(w.Path("sink.json")));
  CHECK(JsonString(sink, "registry") == host);
  CHECK(JsonString(sink, "username") == "admin");
  CHECK(JsonString(sink, "password") == "Admin-Pw-Published-6f");

  // A failing sink: reported per user, exit code 1, nothing secret said,
  // and the registry keeps its new state.
  w.WriteFile("fail.sh", "#!/bin/sh\ncat\necho \"$@\" >&2\nexit 3\n", 0755);
  w.SetUserExtra("admin", "publish = [ { command = [\"./fail.sh\"] } ]");
  w.env()["ADMIN_PW"] = "Admin-Pw-Unpublished-7a";
  auto failed = w.Rotor({"apply", "--auto-approve"});
  CHECK(failed.exit_code == 1);
  CHECK(absl::StrContains(failed.stdout_data, "Apply complete!"));
  CHECK(absl::StrContains(failed.stderr_data, "Error: publish user.admin to command [\"" +
                                                  w.Path("fail.sh") + "\"]: command \"" +
                                                  w.Path("fail.sh") + "\" exited with code 3"));
  w.WaitForRegistry();
  CHECK(w.RegistryLogin("admin", "Admin-Pw-Unpublished-7a") == 200);
  ExpectConverged(w);
}

}  // namespace
}  // namespace rotor::e2e
