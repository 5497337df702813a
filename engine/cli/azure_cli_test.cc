// End to end on the Azure providers: the real `rotor` binary with
// cloud.kind = "azurestack" against a fresh `rotor-emulator` (HTTPS on
// loopback, its own CA). Only arm_endpoint and ca_bundle point at the
// emulator; everything else is derived as on a stamp: login and the ARM
// audience from /metadata/endpoints, Key Vault at
// https://newregkv.vault.localhost:PORT, its audience from the 401
// challenge. Each test seeds a resource group that already has a registry
// deployment (made through the emulator's own ARM API), then runs plan and
// apply scenarios, and checks that no secret value reaches any output.
#include <doctest/doctest.h>

#include <functional>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "certs/keyvault_secret.h"
#include "certs/pfx.h"
#include "certs/testing/make_certs.h"
#include "engine/base/files.h"
#include "engine/base/process.h"
#include "providers/local/htpasswd.h"
#include "tests/emulator/emulator_harness.h"
#include "tests/support/testing.h"

namespace rotor {
namespace {

using emulator::testing::Emulator;
using emulator::testing::HttpResult;
using emulator::testing::JsonString;
using emulator::testing::kClientId;
using emulator::testing::kClientSecret;
using emulator::testing::kTenant;

constexpr char kSubscription[] = "0a1b2c3d-0000-4000-8000-000000000001";
constexpr char kSpId[] = "registry-sp";
constexpr char kSpSecret[] = "Registry-Sp-Secret-7f3a";
constexpr char kPfxPassword[] = "Pfx-Pass-\"Quoted\"-9c1e";
constexpr char kOldPfxPassword[] = "Old-Pfx-Pass-4d2b";
constexpr char kCertClientId[] = "rotor-cert-sp";

constexpr char kRegistryTemplate[] = R"({
  "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
  "contentVersion": "1.0.0.0",
  "parameters": {
    "adminUsername": {"type": "string", "defaultValue": "azureuser"},
    "registryReplicas": {"type": "int", "defaultValue": 1},
    "pfxKeyVaultResourceId": {"type": "string"},
    "pfxKeyVaultSecretUrl": {"type": "string"},
    "pfxThumbprint": {"type": "string"},
    "servicePrincipalClientId": {"type": "string"},
    "servicePrincipalClientSecret": {"type": "securestring"}
  },
  "resources": [],
  "outputs": {"thumbprint": {"type": "string", "value": "[parameters('pfxThumbprint')]"}}
})";

struct WorkspaceOptions {
  std::vector<std::string> emulator_args;
  // [auth]: client secret of rotor-ci, or the certificate of kCertClientId.
  bool client_certificate = false;
  std::string tenant = kTenant;
  std::string deploy_duration = "300ms";
  // cloud.kind "azure" with every endpoint overridden to the emulator (the
  // stamp derivations are not used then).
  bool public_azure = false;
  std::string profile;  // cloud.profile; empty: the kind's default
};

class AzureWorkspace {
 public:
  explicit AzureWorkspace(WorkspaceOptions options = {})
      : options_(std::move(options)), pki_(absl::Now()) {
    if (options_.client_certificate) {
      // The service principal's certificate: rotor reads the PFX, the
      // emulator verifies assertions against the PEM.
      auto sp = pki_.IssueLeaf({.common_name = kCertClientId, .server_auth = false});
      dir_.Write("sp.pfx", sp.ToPfx(kPfxPassword));
      sp_cert_pem_ = dir_.Write("sp-cert.pem", sp.CertificatePem());
    }
    StartEmulator(options_.emulator_args, options_.deploy_duration);
    env_ = {{"ROTOR_CLIENT_SECRET", kClientSecret},
            {"ADMIN_PW", "Admin-Pw-Distinct-1a"},
            {"CI_PW", "Ci-Pw-Distinct-2b"},
            {"OPS_PW", "Ops-Pw-Distinct-3c"},
            {"PFX_PW", kPfxPassword},
            {"SPN_CLIENT_ID", kSpId},
            {"SPN_CLIENT_SECRET", kSpSecret},
            {"NO_COLOR", "1"}};
    users_ = {{"admin", "ADMIN_PW"}, {"ci", "CI_PW"}};
    WriteConfig();
  }
  ~AzureWorkspace() { CHECK(emu_->Stop() == 0); }

  // Stops the emulator and starts it again on the same state (vaults,
  // deployments, signing key) with other flags; the config follows the new
  // port.
  void Restart(const std::vector<std::string>& args, const std::string& deploy_duration) {
    CHECK(emu_->Stop() == 0);
    StartEmulator(args, deploy_duration);
    WriteConfig();
  }

  Emulator& emu() { return *emu_; }
  std::map<std::string, std::string>& env() { return env_; }
  std::string ArmPath(const std::string& suffix) const {
    return absl::StrCat("/subscriptions/", kSubscription,
                        "/resourcegroups/newregreg/providers/Microsoft.Resources/deployments/", suffix,
                        absl::StrContains(suffix, "?") ? "&" : "?", "api-version=2019-10-01");
  }

  // A registry deployed before rotor: an old certificate in containersecret
  // and a successful "registry" deployment that references it.
  void Seed() {
    auto old = pki_.IssueLeaf({.common_name = "myreg.localhost", .dns_names = {"myreg.localhost"}});
    auto value = certs::EncodeCertificateSecret(old.ToPfx(kOldPfxPassword), Secret(kOldPfxPassword));
    REQUIRE(value.ok());
    auto thumbprint = certs::ThumbprintOfPem(old.CertificatePem(), "old");
    REQUIRE(thumbprint.ok());
    old_thumbprint_ = *thumbprint;
    HttpResult put = emu_->Send(
        "PUT", emu_->VaultUrl("newregkv", "/secrets/containersecret?api-version=2016-10-01"),
        absl::StrCat(R"({"value":")", value->Reveal(), R"(","contentType":"pfx"})"),
        emu_->VaultToken());
    REQUIRE_MESSAGE(put.status == 200, put.body);
    const std::string url = JsonString(put.Json(), "id");
    const std::string token = emu_->ArmToken();
    std::string body = absl::StrCat(
        R"({"properties":{"mode":"Incremental","template":)", kRegistryTemplate,
        R"(,"parameters":{"pfxKeyVaultResourceId":{"value":"/subscriptions/)", kSubscription,
        R"(/resourceGroups/newregreg/providers/Microsoft.KeyVault/vaults/newregkv"},)",
        R"("registryReplicas":{"value":2},)",
        R"("pfxKeyVaultSecretUrl":{"value":")", url, R"("},)",
        R"("pfxThumbprint":{"value":")", old_thumbprint_, R"("},)",
        R"("servicePrincipalClientId":{"value":")", kSpId, R"("},)",
        R"("servicePrincipalClientSecret":{"value":")", kSpSecret, R"("}}}})");
    HttpResult deploy = emu_->Send("PUT", emu_->ArmUrl(ArmPath("registry")), body, token);
    REQUIRE_MESSAGE((deploy.status == 201 || deploy.status == 200), deploy.body);
    REQUIRE(WaitForOperation(deploy.Header("Azure-AsyncOperation")) == "Succeeded");
  }

  // Polls an Azure-AsyncOperation URL with a fresh token each time (tokens
  // may live only a second here).
  std::string WaitForOperation(const std::string& url) {
    const absl::Time deadline = absl::Now() + absl::Seconds(60);
    std::string status;
    while (absl::Now() < deadline) {
      HttpResult r = emu_->Get(url, emu_->ArmToken());
      REQUIRE_MESSAGE(r.status == 200, r.body);
      status = JsonString(r.Json(), "status");
      if (status == "Succeeded" || status == "Failed" || status == "Canceled") return status;
      absl::SleepFor(absl::Milliseconds(100));
    }
    return status;
  }

  void SetUsers(std::vector<std::pair<std::string, std::string>> users) {
    users_ = std::move(users);
    WriteConfig();
  }

  void WriteConfig() {
    const int port = emu_->port();
    std::string text = absl::StrCat("[cloud]\nkind = \"", options_.public_azure ? "azure" : "azurestack",
                                    "\"\narm_endpoint = \"https://management.localhost:", port, "\"\n");
    if (options_.public_azure) {
      // Public Azure's well-known endpoints, each overridden to the emulator.
      absl::StrAppend(&text, "login_endpoint = \"https://login.localhost:", port, "\"\n",
                      "management_audience = \"", emu_->ArmAudience(), "\"\n",
                      "vault_dns_suffix = \"vault.localhost:", port, "\"\n");
    }
    if (!options_.profile.empty()) absl::StrAppend(&text, "profile = \"", options_.profile, "\"\n");
    absl::StrAppend(&text, "tenant_id = \"", options_.tenant, "\"\nsubscription_id = \"", kSubscription,
                    "\"\nca_bundle = \"", emu_->ca_path(), "\"\n\n[auth]\n");
    if (options_.client_certificate) {
      absl::StrAppend(&text, "method = \"client_certificate\"\nclient_id = \"", kCertClientId,
                      "\"\nclient_certificate = \"sp.pfx\"\n"
                      "client_certificate_password = { env = \"PFX_PW\" }\n");
    } else {
      absl::StrAppend(&text, "method = \"client_secret\"\nclient_id = \"", kClientId,
                      "\"\nclient_secret = { env = \"ROTOR_CLIENT_SECRET\" }\n");
    }
    absl::StrAppend(&text, R"(
[vault]
name = "newregkv"
resource_group = "newregreg"
)");
    for (const auto& [name, variable] : users_) {
      absl::StrAppend(&text, "\n[[user]]\nname = \"", name, "\"\npassword = { env = \"", variable,
                      "\" }\n");
    }
    absl::StrAppend(&text, R"(
[certificate]
secret_name = "containersecret"
pfx = "registry.pfx"
password = { env = "PFX_PW" }
dns_name = "myreg.localhost"

[deployment]
resource_group = "newregreg"
client_id = { env = "SPN_CLIENT_ID" }
client_secret = { env = "SPN_CLIENT_SECRET" }
)");
    dir_.Write("rotor.toml", text);
  }

  // A new certificate for the registry in registry.pfx; its thumbprint.
  std::string IssuePfx() {
    auto leaf = pki_.IssueLeaf({.common_name = "myreg.localhost", .dns_names = {"myreg.localhost"}});
    dir_.Write("registry.pfx", leaf.ToPfx(kPfxPassword));
    auto t = certs::ThumbprintOfPem(leaf.CertificatePem(), "leaf");
    REQUIRE(t.ok());
    return *t;
  }

  ProcessResult Rotor(std::vector<std::string> args) {
    std::vector<std::string> argv = {testing::BuildDir() + "/rotor"};
    argv.insert(argv.end(), args.begin(), args.end());
    ProcessOptions options;
    options.working_dir = dir_.path();
    options.timeout = absl::Seconds(150);
    for (const auto& [k, v] : env_) options.env[k] = v;
    auto result = RunProcess(argv, options);
    REQUIRE(result.ok());
    INFO("rotor ", absl::StrJoin(args, " "), "\nstdout:\n", result->stdout_data, "\nstderr:\n",
         result->stderr_data);
    CHECK_FALSE(result->timed_out);
    // No secret value, ever: passwords, client secrets, PFX passwords.
    std::vector<std::string> secrets = {kClientSecret, kSpSecret, kPfxPassword, kOldPfxPassword};
    for (const auto& [k, v] : env_) {
      if (absl::EndsWith(k, "_PW")) secrets.push_back(v);
    }
    for (const auto& secret : secrets) {
      CHECK_FALSE(absl::StrContains(result->stdout_data, secret));
      CHECK_FALSE(absl::StrContains(result->stderr_data, secret));
    }
    // Nor a token (the emulator's are JWTs).
    CHECK_FALSE(absl::StrContains(result->stderr_data, "eyJ"));
    CHECK_FALSE(absl::StrContains(result->stdout_data, "eyJ"));
    return *std::move(result);
  }

  rapidjson::Document Stats() { return emu_->Stats(); }
  std::vector<std::string> Logins() {
    auto stats = Stats();
    std::vector<std::string> out;
    for (int i = 0;; ++i) {
      std::string login = JsonString(stats, absl::StrCat("last_provisioning/result/logins/", i));
      if (login.empty()) break;
      out.push_back(login);
    }
    return out;
  }
  // Whether the registry VM's htpasswd lets `user` in with `password`.
  bool RegistryAccepts(const std::string& user, const std::string& password) {
    auto text = ReadFile(dir_.Path("registry/htpasswd"));
    if (!text.ok()) return false;
    for (absl::string_view line : absl::StrSplit(*text, '\n')) {
      if (absl::StartsWith(line, user + ":") && local::VerifyHtpasswd(line, password)) return true;
    }
    return false;
  }
  bool RegistryHasCertificate(const std::string& thumbprint) {
    return PathExists(dir_.Path(absl::StrCat("registry/", thumbprint, ".crt")));
  }
  // The latest deployment of the resource group, from ARM.
  rapidjson::Document Deployment(const std::string& name) {
    HttpResult r = emu_->Get(emu_->ArmUrl(ArmPath(name)), emu_->ArmToken());
    REQUIRE_MESSAGE(r.status == 200, r.body);
    return r.Json();
  }
  std::vector<std::string> DeploymentNames() {
    HttpResult r = emu_->Get(emu_->ArmUrl(ArmPath("")), emu_->ArmToken());
    REQUIRE(r.status == 200);
    auto doc = r.Json();
    std::vector<std::string> names;
    for (const auto& d : doc["value"].GetArray()) names.push_back(d["name"].GetString());
    return names;
  }
  const std::string& old_thumbprint() const { return old_thumbprint_; }

  void StartEmulator(const std::vector<std::string>& extra, const std::string& deploy_duration) {
    std::vector<std::string> args = {
        "--vault", "newregkv", "--resource-group", "newregreg",
        "--client", absl::StrCat(kClientId, ":", kClientSecret),
        "--client", absl::StrCat(kSpId, ":", kSpSecret),
        "--deploy-duration", deploy_duration, "--bcrypt-cost", "4",
        "--registry-dir", dir_.Path("registry")};
    if (!sp_cert_pem_.empty()) {
      args.push_back("--client-cert");
      args.push_back(absl::StrCat(kCertClientId, ":", sp_cert_pem_));
    }
    args.insert(args.end(), extra.begin(), extra.end());
    emu_ = std::make_unique<Emulator>(args, dir_.Path("emulator-state"));
  }
  std::string Path(const std::string& relative) const { return dir_.Path(relative); }

 private:
  WorkspaceOptions options_;
  testing::TempDir dir_;
  certs::testing::TestPki pki_;
  std::unique_ptr<Emulator> emu_;
  std::map<std::string, std::string> env_;
  std::vector<std::pair<std::string, std::string>> users_;
  std::string old_thumbprint_;
  std::string sp_cert_pem_;
};

int64_t StatInt(const rapidjson::Document& stats, const std::string& path) {
  int64_t v = 0;
  (void)absl::SimpleAtoi(JsonString(stats, path), &v);
  return v;
}

// The first apply on a seeded group, shared by most scenarios.
std::string FirstApply(AzureWorkspace& w) {
  w.Seed();
  const std::string thumbprint = w.IssuePfx();
  auto plan = w.Rotor({"plan", "--detailed-exitcode"});
  CHECK(plan.exit_code == 2);
  CHECK(absl::StrContains(plan.stdout_data, "+ user.admin"));
  CHECK(absl::StrContains(plan.stdout_data, "+ user.ci"));
  CHECK(absl::StrContains(plan.stdout_data, "~ certificate.containersecret"));
  CHECK(absl::StrContains(plan.stdout_data, "Plan: 2 to add, 1 to change, 0 to destroy, 1 to redeploy."));
  auto apply = w.Rotor({"apply", "--auto-approve"});
  REQUIRE(apply.exit_code == 0);
  CHECK(absl::StrContains(apply.stdout_data, "Apply complete! Resources: 2 added, 1 changed, 0 destroyed, 1 redeployed."));
  CHECK(absl::StrContains(apply.stdout_data, "PFX Certificate Thumbprint   : " + thumbprint));
  CHECK(absl::StrContains(apply.stdout_data, "PFX KeyVaultSecretUrl        : https://newregkv.vault.localhost:"));
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
  // learns the audience), one version listing per secret (no values), and
  // the values of the declared secrets only.
  REQUIRE(w.emu().Request("POST", w.emu().Url("127.0.0.1", "/_emulator/stats/reset")).status / 100 == 2);
  const int64_t tokens_before = StatInt(w.Stats(), "tokens/issued");
  REQUIRE(w.Rotor({"plan"}).exit_code == 0);
  stats = w.Stats();
  CHECK(StatInt(stats, "vaults/newregkv/operations/GetSecrets") == 2);
  CHECK(StatInt(stats, "vaults/newregkv/operations/GetSecretVersions") == 3);
  // The values of admin, ci and containersecret; one more read only when
  // containersecret's two versions were created in the same second (the
  // list does not say which is latest then).
  const int64_t reads = StatInt(stats, "vaults/newregkv/operations/GetSecret");
  CHECK(reads >= 3);
  CHECK(reads <= 4);
  CHECK(StatInt(stats, "vaults/newregkv/operations/GetDeletedSecrets") == 1);
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
  CHECK(absl::StrContains(plan.stdout_data, "Plan: 0 to add, 1 to change, 0 to destroy, 1 to redeploy."));
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
  CHECK(absl::StrContains(plan.stdout_data, "Plan: 1 to add, 0 to change, 1 to destroy, 1 to redeploy."));
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
  CHECK(absl::StrContains(plan.stdout_data, "Plan: 0 to add, 1 to change, 0 to destroy, 1 to redeploy."));
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
  CHECK(absl::StrContains(apply.stdout_data, "deployment.registry: Still redeploying... (registry-"));
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
      absl::StrCat(R"({"properties":{"mode":"Incremental","template":)", kRegistryTemplate,
                   R"(,"parameters":{"pfxKeyVaultResourceId":{"value":")",
                   JsonString(seeded, "properties/parameters/pfxKeyVaultResourceId/value"),
                   R"("},"pfxKeyVaultSecretUrl":{"value":")",
                   JsonString(seeded, "properties/parameters/pfxKeyVaultSecretUrl/value"),
                   R"("},"pfxThumbprint":{"value":")", w.old_thumbprint(),
                   R"("},"servicePrincipalClientId":{"value":")", kSpId,
                   R"("},"servicePrincipalClientSecret":{"value":")", kSpSecret, R"("}}}})"),
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
  CHECK(absl::StrContains(plan.stdout_data, "Plan: 0 to add, 0 to change, 0 to destroy, 1 to redeploy."));
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
