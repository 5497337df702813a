// End to end on the Azure providers: the real `rotor` binary with
// cloud.kind = "azurestack" against a fresh `rotor-emulator` (HTTPS on
// loopback, its own CA). Only arm_endpoint and ca_bundle point at the
// emulator; everything else is derived as on a stamp: login and the ARM
// audience from /metadata/endpoints, Key Vault at
// https://newregkv.vault.localhost:PORT, its audience from the 401
// challenge. Each test seeds a resource group that already has a registry
// deployment (made through the emulator's own ARM API), then runs plan and
// apply scenarios, and checks that no secret value reaches any output. The
// workspace (tests/e2e/azure_workspace.h) is shared with tests/e2e.
#include <doctest/doctest.h>

#include <functional>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "tests/e2e/azure_workspace.h"
#include "tests/support/registry_deployment.h"

namespace rotor {
namespace {

using e2e::AzureWorkspace;
using e2e::Emulator;
using e2e::HttpResult;
using e2e::JsonString;
using e2e::kSpId;
using e2e::kSpSecret;
using e2e::StatInt;
using e2e::WorkspaceOptions;

// The first apply on a seeded group, shared by most scenarios.
std::string FirstApply(AzureWorkspace& w) {
  w.Seed();
  const std::string thumbprint = w.IssuePfx();
  auto plan = w.Rotor({"plan", "--detailed-exitcode"});
  CHECK(plan.exit_code == 2);
  // The seeded admin login already holds its configured password.
  CHECK_FALSE(absl::StrContains(plan.stdout_data, "user.admin"));
  CHECK(absl::StrContains(plan.stdout_data, "+ user.ci"));
  CHECK(absl::StrContains(plan.stdout_data, "~ certificate.containersecret"));
  CHECK(absl::StrContains(plan.stdout_data,
                          "Plan: 1 to add, 1 to change, 0 to destroy, 1 to redeploy."));
  auto apply = w.Rotor({"apply", "--auto-approve"});
  REQUIRE(apply.exit_code == 0);
  CHECK(absl::StrContains(
      apply.stdout_data,
      "Apply complete! Resources: 1 added, 1 changed, 0 destroyed, 1 redeployed."));
  CHECK(absl::StrContains(apply.stdout_data, "PFX Certificate Thumbprint   : " + thumbprint));
  CHECK(absl::StrContains(apply.stdout_data,
                          "PFX KeyVaultSecretUrl        : https://newregkv.vault.localhost:"));
  return thumbprint;
}

TEST_CASE("azurestack: first apply into a group with a registry deployment, then no changes") {
  AzureWorkspace w;
  const std::string thumbprint = FirstApply(w);
  CHECK(w.Logins() == std::vector<std::string>{"admin", "ci"});
  CHECK(w.RegistryAccepts("admin", "Admin-Pw-Distinct-1a"));
  CHECK(w.RegistryAccepts("ci", "Ci-Pw-Distinct-2b"));
  CHECK(w.RegistryHasCertificate(thumbprint));
  // The redeploy carried the other parameters over and replaced the PFX pair.
  auto names = w.DeploymentNames();
  REQUIRE(names.size() == 2);
  std::string redeployed = names[0] == "registry" ? names[1] : names[0];
  CHECK(absl::StartsWith(redeployed, "registry-"));
  auto d = w.Deployment(redeployed);
  CHECK(JsonString(d, "properties/provisioningState") == "Succeeded");
  CHECK(JsonString(d, "properties/mode") == "Incremental");
  CHECK(JsonString(d, "properties/parameters/pfxThumbprint/value") == thumbprint);
  CHECK(JsonString(d, "properties/parameters/registryReplicas/value").empty() == false);
  CHECK(JsonString(d, "tags/managed-by") == "rotor");

  auto again = w.Rotor({"plan", "--detailed-exitcode"});
  CHECK(again.exit_code == 0);
  CHECK(absl::StrContains(again.stdout_data, "No changes."));
  auto show = w.Rotor({"show"});
  CHECK(show.exit_code == 0);
  CHECK(absl::StrContains(show.stdout_data, "Vault: newregkv (https://newregkv.vault.localhost:"));
  auto stats = w.Stats();
  CHECK(StatInt(stats, "vaults/newregkv/operations/SetSecret") == 4);  // seed + 3 writes

  // A plan's reads: the list once (plus the unauthenticated probe that
  // learns the audience), nothing per listed secret, and the values of the
  // declared secrets only (admin, ci and containersecret, whose read gives
  // the exact version the deployment is compared with).
  REQUIRE(w.emu().Request("POST", w.emu().Url("127.0.0.1", "/_emulator/stats/reset")).status /
              100 ==
          2);
  const int64_t tokens_before = StatInt(w.Stats(), "tokens/issued");
  REQUIRE(w.Rotor({"plan"}).exit_code == 0);
  stats = w.Stats();
  // The refresh lists, lists the deleted secrets and reads at once, so the
  // unauthenticated probe is whichever request goes first (seen: each of
  // the three, on a loaded machine).
  const int64_t lists = StatInt(stats, "vaults/newregkv/operations/GetSecrets");
  const int64_t reads = StatInt(stats, "vaults/newregkv/operations/GetSecret");
  const int64_t deleted_lists = StatInt(stats, "vaults/newregkv/operations/GetDeletedSecrets");
  CHECK(lists + reads + deleted_lists == 6);
  CHECK(lists >= 1);
  CHECK(reads >= 3);
  CHECK(deleted_lists >= 1);
  CHECK(StatInt(stats, "vaults/newregkv/operations/GetSecretVersions") == 0);
  CHECK(StatInt(stats, "vaults/newregkv/unauthorized") == 1);
  CHECK(StatInt(stats, "tokens/issued") - tokens_before == 2);  // Key Vault's and ARM's
}

TEST_CASE("azurestack: a password change is one change and one redeploy") {
  AzureWorkspace w;
  FirstApply(w);
  w.env()["ADMIN_PW"] = "Admin-Pw-Changed-4d";
  auto plan = w.Rotor({"plan", "--detailed-exitcode"});
  CHECK(plan.exit_code == 2);
  CHECK(absl::StrContains(plan.stdout_data, "~ user.admin"));
  CHECK(absl::StrContains(plan.stdout_data,
                          "Plan: 0 to add, 1 to change, 0 to destroy, 1 to redeploy."));
  // With every request logged: still no secret in the output.
  auto apply = w.Rotor({"apply", "--auto-approve", "--log-level", "debug"});
  REQUIRE(apply.exit_code == 0);
  CHECK(absl::StrContains(apply.stderr_data, "> PUT https://newregkv.vault.localhost:"));
  CHECK(absl::StrContains(apply.stderr_data, "body: ("));
  CHECK(w.RegistryAccepts("admin", "Admin-Pw-Changed-4d"));
  CHECK_FALSE(w.RegistryAccepts("admin", "Admin-Pw-Distinct-1a"));
  CHECK(w.Rotor({"plan", "--detailed-exitcode"}).exit_code == 0);
}

TEST_CASE("azurestack: a replaced user is a create, a delete and one redeploy") {
  AzureWorkspace w;
  FirstApply(w);
  w.SetUsers({{"admin", "ADMIN_PW"}, {"ops", "OPS_PW"}});
  auto plan = w.Rotor({"plan", "--detailed-exitcode"});
  CHECK(plan.exit_code == 2);
  CHECK(absl::StrContains(plan.stdout_data, "+ user.ops"));
  CHECK(absl::StrContains(plan.stdout_data, "- stale_user.ci"));
  CHECK(absl::StrContains(plan.stdout_data,
                          "Plan: 1 to add, 0 to change, 1 to destroy, 1 to redeploy."));
  auto apply = w.Rotor({"apply", "--auto-approve"});
  REQUIRE(apply.exit_code == 0);
  CHECK(w.Logins() == std::vector<std::string>{"admin", "ops"});
  CHECK(w.RegistryAccepts("ops", "Ops-Pw-Distinct-3c"));
  CHECK_FALSE(w.RegistryAccepts("ci", "Ci-Pw-Distinct-2b"));
  CHECK(w.Rotor({"plan", "--detailed-exitcode"}).exit_code == 0);

  // ci comes back: its soft-deleted secret is recovered, then written.
  w.SetUsers({{"admin", "ADMIN_PW"}, {"ci", "CI_PW"}, {"ops", "OPS_PW"}});
  w.env()["CI_PW"] = "Ci-Pw-Returned-6f";
  auto back = w.Rotor({"plan", "--detailed-exitcode"});
  CHECK(back.exit_code == 2);
  CHECK(absl::StrContains(back.stdout_data, "will be recovered from soft delete"));
  auto recover = w.Rotor({"apply", "--auto-approve"});
  REQUIRE(recover.exit_code == 0);
  CHECK(w.Logins() == std::vector<std::string>{"admin", "ci", "ops"});
  CHECK(w.RegistryAccepts("ci", "Ci-Pw-Returned-6f"));
  CHECK(StatInt(w.Stats(), "vaults/newregkv/operations/RecoverDeletedSecret") == 1);
  CHECK(w.Rotor({"plan", "--detailed-exitcode"}).exit_code == 0);
}

TEST_CASE("a vault without soft delete: no deleted-secret listing, deletes purge") {
  WorkspaceOptions options;
  options.emulator_args = {"--no-soft-delete"};
  AzureWorkspace w(options);
  FirstApply(w);
  w.SetUsers({{"admin", "ADMIN_PW"}});
  auto apply = w.Rotor({"apply", "--auto-approve"});
  REQUIRE(apply.exit_code == 0);
  CHECK(w.Logins() == std::vector<std::string>{"admin"});
  w.SetUsers({{"admin", "ADMIN_PW"}, {"ci", "CI_PW"}});
  auto plan = w.Rotor({"plan", "--detailed-exitcode"});
  CHECK(plan.exit_code == 2);
  CHECK(absl::StrContains(plan.stdout_data, "+ user.ci"));
  REQUIRE(w.Rotor({"apply", "--auto-approve"}).exit_code == 0);
  CHECK(w.Rotor({"plan", "--detailed-exitcode"}).exit_code == 0);
}

TEST_CASE("azurestack: certificate rotation under the same secret name") {
  AzureWorkspace w;
  const std::string first = FirstApply(w);
  const std::string second = w.IssuePfx();
  auto plan = w.Rotor({"plan", "--detailed-exitcode"});
  CHECK(plan.exit_code == 2);
  CHECK(absl::StrContains(plan.stdout_data,
                          absl::StrCat("~ thumbprint = \"", first, "\" -> \"", second, "\"")));
  CHECK(absl::StrContains(plan.stdout_data,
                          "Plan: 0 to add, 1 to change, 0 to destroy, 1 to redeploy."));
  auto apply = w.Rotor({"apply", "--auto-approve"});
  REQUIRE(apply.exit_code == 0);
  CHECK(absl::StrContains(apply.stdout_data, "PFX Certificate Thumbprint   : " + second));
  CHECK(w.RegistryHasCertificate(second));
  CHECK(JsonString(w.Stats(), "last_provisioning/result/thumbprint") == second);
  CHECK(w.Rotor({"plan", "--detailed-exitcode"}).exit_code == 0);
}

TEST_CASE("azurestack with AD FS: authority without tenant, resource= tokens") {
  WorkspaceOptions options;
  options.emulator_args = {"--identity", "adfs"};
  options.tenant = "adfs";
  AzureWorkspace w(options);
  FirstApply(w);
  CHECK(w.Rotor({"plan", "--detailed-exitcode"}).exit_code == 0);
  // Debug logs show the AD FS token endpoint, and nothing secret.
  auto debug = w.Rotor({"plan", "--log-level", "debug"});
  CHECK(debug.exit_code == 0);
  CHECK(absl::StrContains(debug.stderr_data, "/adfs/oauth2/token"));
  CHECK(absl::StrContains(debug.stderr_data, "(AD FS)"));
  CHECK(absl::StrContains(debug.stderr_data, "Authorization: (redacted)"));
}

TEST_CASE("client certificate: a JWT assertion (RS256, x5t) signs rotor in") {
  WorkspaceOptions options;
  options.client_certificate = true;
  AzureWorkspace w(options);
  FirstApply(w);
  CHECK(w.Rotor({"plan", "--detailed-exitcode"}).exit_code == 0);
  auto stats = w.Stats();
  CHECK(StatInt(stats, "tokens/issued") >= 2);
  CHECK(StatInt(stats, "tokens/refused") == 0);
}

TEST_CASE("a long deployment: progress lines, and tokens that expire meanwhile are renewed") {
  AzureWorkspace w;
  w.Seed();
  w.IssuePfx();
  // Same state, now with 2 s tokens and a 15 s deployment.
  w.Restart({"--token-lifetime", "2s"}, "15s");
  auto apply = w.Rotor({"apply", "--auto-approve", "--log-level", "info"});
  REQUIRE(apply.exit_code == 0);
  CHECK(
      absl::StrContains(apply.stdout_data, "deployment.registry: Still redeploying... (registry-"));
  CHECK(absl::StrContains(apply.stdout_data, "s elapsed]"));
  auto stats = w.Stats();
  // Tokens renewed during the wait (each ARM poll needs a live one); none
  // was refused.
  CHECK(StatInt(stats, "tokens/issued") >= 5);
  CHECK(StatInt(stats, "tokens/refused") == 0);
  CHECK(w.Rotor({"plan", "--detailed-exitcode"}).exit_code == 0);
}

TEST_CASE("apply waits for a deployment that is already running, then redeploys") {
  AzureWorkspace w;
  w.Seed();
  w.IssuePfx();
  w.Restart({}, "4s");
  // Someone redeploys from the portal just before rotor runs.
  auto seeded = w.Deployment("registry");
  HttpResult manual = w.emu().Send(
      "PUT", w.emu().ArmUrl(w.ArmPath("portal-redeploy")),
      testing::RegistryDeploymentBody(
          {.vault_resource_id =
               JsonString(seeded, "properties/parameters/pfxKeyVaultResourceId/value"),
           .secret_url = JsonString(seeded, "properties/parameters/pfxKeyVaultSecretUrl/value"),
           .thumbprint = w.old_thumbprint(),
           .sp_client_id = kSpId,
           .sp_client_secret = kSpSecret}),
      w.emu().ArmToken());
  REQUIRE_MESSAGE(manual.status / 100 == 2, manual.body);
  auto apply = w.Rotor({"apply", "--auto-approve"});
  REQUIRE(apply.exit_code == 0);
  CHECK(absl::StrContains(apply.stdout_data, "  deployment portal-redeploy is "));
  CHECK(absl::StrContains(apply.stdout_data, "; waiting for it to finish before redeploying"));
  CHECK(JsonString(w.Deployment("portal-redeploy"), "properties/provisioningState") == "Succeeded");
  CHECK(w.Rotor({"plan", "--detailed-exitcode"}).exit_code == 0);
}

TEST_CASE("profile 2019-03-01-hybrid: deployments at 2018-05-01, Key Vault at 2016-10-01") {
  WorkspaceOptions options;
  options.profile = "2019-03-01-hybrid";
  AzureWorkspace w(options);
  FirstApply(w);
  auto plan = w.Rotor({"plan", "--detailed-exitcode", "--log-level", "debug"});
  CHECK(plan.exit_code == 0);
  CHECK(absl::StrContains(plan.stderr_data, "deployments/?api-version=2018-05-01"));
  CHECK(absl::StrContains(plan.stderr_data, "/secrets?api-version=2016-10-01"));
}

TEST_CASE("kind azure, profile latest: Key Vault 7.6, deployments 2025-04-01, AAD v2 tokens") {
  WorkspaceOptions options;
  options.public_azure = true;
  AzureWorkspace w(options);
  FirstApply(w);
  auto plan = w.Rotor({"plan", "--detailed-exitcode", "--log-level", "debug"});
  CHECK(plan.exit_code == 0);
  CHECK(absl::StrContains(plan.stderr_data, "/oauth2/v2.0/token"));
  CHECK(absl::StrContains(plan.stderr_data, "(AAD v2)"));
  CHECK(absl::StrContains(plan.stderr_data, "/secrets?api-version=7.6"));
  CHECK(absl::StrContains(plan.stderr_data, "deployments/?api-version=2025-04-01"));
  CHECK_FALSE(absl::StrContains(plan.stderr_data, "/metadata/endpoints"));
}

TEST_CASE("429 throttling with Retry-After: waits and converges") {
  WorkspaceOptions options;
  options.emulator_args = {"--throttle", "5/1s"};
  AzureWorkspace w(options);
  FirstApply(w);
  auto stats = w.Stats();
  CHECK(StatInt(stats, "vaults/newregkv/throttled") > 0);
  CHECK(w.Rotor({"plan", "--detailed-exitcode"}).exit_code == 0);
}

TEST_CASE("429 throttling without Retry-After: Key Vault's 1-2-4-8-16 s backoff") {
  WorkspaceOptions options;
  options.emulator_args = {"--throttle", "6/1s", "--throttle-no-retry-after"};
  AzureWorkspace w(options);
  w.Seed();
  w.IssuePfx();
  auto apply = w.Rotor({"apply", "--auto-approve"});
  REQUIRE(apply.exit_code == 0);
  CHECK(absl::StrContains(apply.stderr_data, "[warn] throttled by"));
  CHECK(StatInt(w.Stats(), "vaults/newregkv/throttled") > 0);
  CHECK(w.Rotor({"plan", "--detailed-exitcode"}).exit_code == 0);
}

TEST_CASE("a failed deployment is reported with ARM's error, the next apply converges") {
  WorkspaceOptions options;
  options.emulator_args = {"--arm-page-size", "1"};  // every deployment list is paged
  AzureWorkspace w(options);
  w.Seed();
  w.IssuePfx();
  HttpResult fail = w.emu().Request(
      "POST", w.emu().Url("127.0.0.1", "/_emulator/deploy-fail?resourceGroup=newregreg"));
  REQUIRE(fail.status / 100 == 2);
  auto apply = w.Rotor({"apply", "--auto-approve"});
  CHECK(apply.exit_code == 1);
  const std::string all = apply.stdout_data + apply.stderr_data;
  CHECK(absl::StrContains(all, "ended Failed"));
  CHECK(absl::StrContains(all, "DeploymentFailed"));
  CHECK(absl::StrContains(all, "Failed operations:"));
  CHECK(absl::StrContains(all, "The secrets were written; the next rotor apply redeploys again."));

  auto plan = w.Rotor({"plan", "--detailed-exitcode"});
  CHECK(plan.exit_code == 2);
  CHECK(absl::StrContains(plan.stdout_data,
                          "Plan: 0 to add, 0 to change, 0 to destroy, 1 to redeploy."));
  auto rerun = w.Rotor({"apply", "--auto-approve"});
  REQUIRE(rerun.exit_code == 0);
  CHECK(w.Logins() == std::vector<std::string>{"admin", "ci"});
  CHECK(w.Rotor({"plan", "--detailed-exitcode"}).exit_code == 0);
}

TEST_CASE("a wrong client secret: AAD's error, naming the app, never the secret") {
  AzureWorkspace w;
  w.IssuePfx();
  w.env()["ROTOR_CLIENT_SECRET"] = "Wrong-Client-Secret-5e";
  auto plan = w.Rotor({"plan"});
  CHECK(plan.exit_code == 1);
  CHECK(absl::StrContains(plan.stderr_data, "AADSTS7000215"));
  CHECK(absl::StrContains(plan.stderr_data, "rotor-ci"));
  CHECK_FALSE(absl::StrContains(plan.stderr_data, "Wrong-Client-Secret-5e"));
}

}  // namespace
}  // namespace rotor
