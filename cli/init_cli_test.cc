// rotor init against rotor-emulator: a registry set up by hand (users by
// the PowerShell procedure and by rotor, a certificate, a deployment made
// through ARM) is adopted, and `rotor plan` right after, with the printed
// variables set, says "No changes.".
#include <doctest/doctest.h>
#include <sys/stat.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/files.h"
#include "base/process.h"
#include "certs/keyvault_secret.h"
#include "certs/pfx.h"
#include "certs/testing/make_certs.h"
#include "tests/e2e/azure_workspace.h"
#include "tests/emulator/emulator_harness.h"
#include "tests/support/registry_deployment.h"
#include "tests/support/testing.h"

namespace rotor {
namespace {

using emulator::testing::Emulator;
using emulator::testing::HttpResult;
using emulator::testing::JsonString;
using emulator::testing::kClientId;
using emulator::testing::kClientSecret;
using emulator::testing::kTenant;

constexpr char kSubscription[] = "0a1b2c3d-0000-4000-8000-000000000002";
constexpr char kSpId[] = "registry-sp";
constexpr char kSpSecret[] = "Init-Sp-Secret-81c2";
constexpr char kPfxPassword[] = "Init-Pfx-Pass-\"q\"-37ab";
constexpr char kAdminPassword[] = "Init-Admin-Pw-11aa";
constexpr char kCiPassword[] = "Init-Ci-Pw-22bb";
constexpr char kNotePassword[] = "Init-Note-Value-33cc";

class Registry {
 public:
  explicit Registry(const std::string& deploy_duration = "200ms") : pki_(absl::Now()) {
    emu_ = std::make_unique<Emulator>(std::vector<std::string>{
        "--vault", "newregkv", "--resource-group", "newregreg", "--client",
        absl::StrCat(kClientId, ":", kClientSecret), "--client",
        absl::StrCat(kSpId, ":", kSpSecret), "--deploy-duration", deploy_duration, "--bcrypt-cost",
        "4", "--registry-dir", dir_.Path("registry")});
  }
  ~Registry() { CHECK(emu_->Stop() == 0); }

  std::string PutSecret(const std::string& name, const std::string& value,
                        const std::string& extra_json) {
    HttpResult put = emu_->Send(
        "PUT",
        emu_->VaultUrl("newregkv", absl::StrCat("/secrets/", name, "?api-version=2016-10-01")),
        absl::StrCat(R"({"value":")", value, R"(")", extra_json, "}"), emu_->VaultToken());
    REQUIRE_MESSAGE(put.status == 200, put.body);
    return JsonString(put.Json(), "id");
  }

  // What the seed's procedure leaves behind: two users (one by
  // PowerShell, one by rotor), an unrelated short secret, the certificate,
  // and a deployment that references it.
  void Seed() {
    PutSecret("admin", kAdminPassword, R"(,"contentType":"user credentials")");
    PutSecret(
        "ci-bot", kCiPassword,
        R"(,"tags":{"managed-by":"rotor","rotor-role":"user"},"contentType":"user credentials")");
    PutSecret("note", kNotePassword, "");
    auto leaf =
        pki_.IssueLeaf({.common_name = "myreg.localhost", .dns_names = {"myreg.localhost"}});
    auto value = certs::EncodeCertificateSecret(leaf.ToPfx(kPfxPassword), Secret(kPfxPassword));
    REQUIRE(value.ok());
    auto thumbprint = certs::ThumbprintOfPem(leaf.CertificatePem(), "leaf");
    REQUIRE(thumbprint.ok());
    thumbprint_ = *thumbprint;
    const std::string url =
        PutSecret("containersecret", std::string(value->Reveal()), R"(,"contentType":"pfx")");
    // The portal's deployment comes seconds after the writes: in a later
    // second, or rotor would read the by-hand writes as made after it.
    testing::SleepIntoNextSecond();
    const std::string body = testing::RegistryDeploymentBody(
        {.vault_resource_id = testing::VaultResourceId(kSubscription, "newregreg", "newregkv"),
         .secret_url = url,
         .thumbprint = thumbprint_,
         .sp_client_id = kSpId,
         .sp_client_secret = kSpSecret},
        /*replicas=*/2);
    const std::string path =
        absl::StrCat("/subscriptions/", kSubscription,
                     "/resourcegroups/newregreg/providers/Microsoft.Resources/deployments/"
                     "registry?api-version=2019-10-01");
    HttpResult deploy = emu_->Send("PUT", emu_->ArmUrl(path), body, emu_->ArmToken());
    REQUIRE_MESSAGE(deploy.status / 100 == 2, deploy.body);
    REQUIRE(emulator::testing::WaitForOperation(*emu_, deploy.Header("Azure-AsyncOperation"),
                                                emu_->ArmToken()) == "Succeeded");
  }

  // `init` with the flags for this emulator, writing rotor.toml.
  ProcessResult Init() {
    env_["AZURE_CLIENT_SECRET"] = kClientSecret;
    return Rotor({"init", "--vault", "newregkv", "--resource-group", "newregreg", "--arm-endpoint",
                  absl::StrCat("https://management.localhost:", emu_->port()), "--tenant-id",
                  kTenant, "--subscription-id", kSubscription, "--ca-bundle", emu_->ca_path(),
                  "--client-id", kClientId, "-o", "rotor.toml"});
  }
  void SetVariables() {
    env_["REGISTRY_USER_ADMIN_PASSWORD"] = kAdminPassword;
    env_["REGISTRY_USER_CI_BOT_PASSWORD"] = kCiPassword;
    env_["REGISTRY_PFX_PASSWORD"] = kPfxPassword;
    env_["REGISTRY_SPN_CLIENT_SECRET"] = kSpSecret;
  }

  // `through` runs rotor under another program (script, for a terminal).
  ProcessResult Rotor(std::vector<std::string> args, std::vector<std::string> through = {}) {
    std::vector<std::string> argv = {testing::BuildDir() + "/rotor"};
    argv.insert(argv.end(), args.begin(), args.end());
    if (!through.empty()) {
      std::string command;
      for (const auto& a : argv) absl::StrAppend(&command, command.empty() ? "'" : " '", a, "'");
      through.push_back(command);
      through.push_back("/dev/null");
      argv = through;
    }
    ProcessOptions options;
    options.working_dir = dir_.path();
    options.timeout = absl::Seconds(120);
    for (const auto& [k, v] : env_) options.env[k] = v;
    auto result = RunProcess(argv, options);
    REQUIRE(result.ok());
    INFO("rotor ", absl::StrJoin(args, " "), "\nstdout:\n", result->stdout_data, "\nstderr:\n",
         result->stderr_data);
    CHECK_FALSE(result->timed_out);
    const std::string leaks = e2e::FindSecretLeaks(
        result->stdout_data, result->stderr_data,
        {kClientSecret, kSpSecret, kPfxPassword, kAdminPassword, kCiPassword, kNotePassword});
    CHECK_MESSAGE(leaks.empty(), leaks);
    CHECK_FALSE(absl::StrContains(result->stderr_data, "eyJ"));  // no token
    return *std::move(result);
  }

  std::map<std::string, std::string>& env() { return env_; }
  Emulator& emu() { return *emu_; }
  const testing::TempDir& dir() const { return dir_; }
  const std::string& thumbprint() const { return thumbprint_; }

 private:
  testing::TempDir dir_;
  certs::testing::TestPki pki_;
  std::unique_ptr<Emulator> emu_;
  std::map<std::string, std::string> env_ = {{"NO_COLOR", "1"}};
  std::string thumbprint_;
};

TEST_CASE("rotor init adopts a live registry - plan right after says No changes") {
  Registry r;
  r.Seed();
  auto init = r.Init();
  REQUIRE(init.exit_code == 0);
  CHECK(absl::StrContains(init.stdout_data,
                          "Wrote rotor.toml: 2 users, certificate containersecret, "
                          "deployment registry (resource group newregreg)."));
  CHECK(absl::StrContains(init.stdout_data, absl::StrCat("containersecret.pfx (mode 0600): the PFX "
                                                         "in secret containersecret, thumbprint ",
                                                         r.thumbprint())));
  for (const char* variable :
       {"REGISTRY_USER_ADMIN_PASSWORD", "REGISTRY_USER_CI_BOT_PASSWORD", "REGISTRY_PFX_PASSWORD",
        "REGISTRY_SPN_CLIENT_SECRET", "AZURE_CLIENT_SECRET"}) {
    CHECK_MESSAGE(absl::StrContains(init.stdout_data, absl::StrCat("  ", variable, " ")), variable);
  }
  // The short secret nobody declared is named, not adopted.
  CHECK(absl::StrContains(init.stderr_data, "Warning: secret note is neither a registry user"));

  const std::string config = r.dir().Read("rotor.toml");
  CHECK(absl::StrContains(config, "#   REGISTRY_USER_CI_BOT_PASSWORD "));
  CHECK(absl::StrContains(
      config, "[[user]]\nname = \"admin\"\npassword = { env = \"REGISTRY_USER_ADMIN_PASSWORD\" }"));
  CHECK(absl::StrContains(config, "[certificate]\nsecret_name = \"containersecret\"\n"));
  CHECK(absl::StrContains(
      config, "pfx = \"containersecret.pfx\"\npassword = { env = \"REGISTRY_PFX_PASSWORD\" }"));
  CHECK(absl::StrContains(
      config,
      "client_id = \"registry-sp\"\nclient_secret = { env = \"REGISTRY_SPN_CLIENT_SECRET\" }"));
  CHECK(absl::StrContains(config, "client_secret = { env = \"AZURE_CLIENT_SECRET\" }"));
  CHECK(absl::StrContains(config, absl::StrCat("ca_bundle = \"", r.emu().ca_path(), "\"")));
  CHECK_FALSE(absl::StrContains(config, "name = \"note\""));
  CHECK(absl::StrContains(config,
                          "[policy]\n# The registry VM turns note into logins today; this "
                          "keeps them so.\nother_short_secrets = \"keep\"\n"));
  // An editor checks the file against the schema; the certificate names the
  // host it must cover; the registry's address is asked for when the
  // deployment cannot give it (this ARM endpoint is not management.REGION.DOMAIN).
  CHECK(absl::StartsWith(config, "#:schema /"));
  CHECK(absl::StrContains(config, "rotor.schema.json\n"));
  CHECK(absl::StrContains(config, "dns_name = \"myreg.localhost\"\n"));
  CHECK(absl::StrContains(config, "# [registry]\n# url = \"https://REGISTRY-HOST\"\n"));
  for (const char* secret : {kClientSecret, kSpSecret, kPfxPassword, kAdminPassword, kCiPassword}) {
    CHECK_FALSE(absl::StrContains(config, secret));
  }
  // The PFX is the one in the vault, readable by its owner only.
  struct stat st;
  REQUIRE(::stat(r.dir().Path("containersecret.pfx").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  auto pfx = certs::Pfx::Open(r.dir().Read("containersecret.pfx"), Secret(kPfxPassword), "pfx");
  REQUIRE(pfx.ok());
  CHECK(pfx->Thumbprint() == r.thumbprint());

  // The variables set: nothing to do, and the live registry is untouched.
  r.SetVariables();
  auto plan = r.Rotor({"plan", "--detailed-exitcode"});
  CHECK(plan.exit_code == 0);
  CHECK(absl::StrContains(plan.stdout_data, "No changes."));
  // The undeclared short secret still warns, as it should.
  CHECK(absl::StrContains(plan.stdout_data, "secret.note"));

  // A wrong value shows up as a change: the references are live. That
  // change redeploys; the short secret nobody declared is a login today,
  // and init kept it one (policy.other_short_secrets = "keep").
  r.env()["REGISTRY_USER_ADMIN_PASSWORD"] = "Another-Admin-Pw-44dd";
  auto changed = r.Rotor({"plan", "--detailed-exitcode"});
  CHECK(changed.exit_code == 2);
  // An edit of the file after adopting the registry is config, not drift.
  CHECK(r.Rotor({"drift"}).exit_code == 0);
  // Without that policy, plan stops before the redeploy and names it.
  std::string strict = config;
  const size_t policy = strict.find("\n[policy]\n");
  REQUIRE(policy != std::string::npos);
  strict.erase(policy);
  r.dir().Write("strict.toml", strict);
  auto refused = r.Rotor({"plan", "-c", "strict.toml", "--detailed-exitcode"});
  CHECK(refused.exit_code == 1);
  CHECK(absl::StrContains(refused.stderr_data, "secret note is not declared, yet short enough"));
  r.env()["REGISTRY_USER_ADMIN_PASSWORD"] = kAdminPassword;

  // -c takes [cloud] and [auth] (and the vault) from a config.
  auto again = r.Rotor({"init", "-c", "rotor.toml", "-o", "copy/rotor.toml"});
  REQUIRE(again.exit_code == 0);
  const std::string copy = r.dir().Read("copy/rotor.toml");
  CHECK(absl::StrContains(copy, "name = \"newregkv\""));
  CHECK(absl::StrContains(copy, absl::StrCat("tenant_id = \"", kTenant, "\"")));
  CHECK(PathExists(r.dir().Path("copy/containersecret.pfx")));
  // ... and carries [registry] over, its CA bundle relative to the new file.
  r.dir().Write("with-registry.toml",
                absl::StrCat(config,
                             "\n[registry]\nurl = \"https://myreg.localhost:8443\"\n"
                             "ca_bundle = \"registry-ca.pem\"\n"));
  r.dir().Write("registry-ca.pem", "");
  auto carried = r.Rotor({"init", "-c", "with-registry.toml", "-o", "carried/rotor.toml"});
  REQUIRE(carried.exit_code == 0);
  const std::string carried_config = r.dir().Read("carried/rotor.toml");
  CHECK(absl::StrContains(carried_config,
                          "[registry]\nurl = \"https://myreg.localhost:8443\"\n"
                          "ca_bundle = \"../registry-ca.pem\"\n"));
  auto plan_copy = r.Rotor({"plan", "-c", "copy/rotor.toml", "--detailed-exitcode"});
  CHECK(plan_copy.exit_code == 0);

  // Refusals: an existing file, cloud flags beside -c, no ARM endpoint.
  CHECK(r.Rotor({"init", "-c", "rotor.toml", "-o", "rotor.toml"}).exit_code == 1);
  auto both = r.Rotor({"init", "-c", "rotor.toml", "--client-id", "x", "-o", "other.toml"});
  CHECK(both.exit_code == 1);
  CHECK(absl::StrContains(both.stderr_data, "--client-id and -c both give the cloud settings"));
  auto no_arm =
      r.Rotor({"init", "--vault", "newregkv", "--resource-group", "newregreg", "-o", "x.toml"});
  CHECK(no_arm.exit_code == 1);
  CHECK(absl::StrContains(no_arm.stderr_data, "--arm-endpoint is required"));
  auto unknown = r.Rotor({"init", "-c", "rotor.toml", "--deployment", "nope", "-o", "y.toml"});
  CHECK(unknown.exit_code == 1);
  CHECK(absl::StrContains(unknown.stderr_data,
                          "deployment \"nope\" not found in resource group "
                          "newregreg; its deployments: registry"));
  CHECK_FALSE(PathExists(r.dir().Path("y.toml")));
}

TEST_CASE("a deployment's progress: a line rewritten in place on a terminal, events in JSON") {
  if (!PathExists("/usr/bin/script")) {
    MESSAGE("script(1) is not installed: no terminal to run rotor on");
    return;
  }
  Registry r("4s");
  r.Seed();
  REQUIRE(r.Init().exit_code == 0);
  r.SetVariables();
  r.env()["REGISTRY_USER_ADMIN_PASSWORD"] = "Init-Admin-Rotated-55ee";
  r.env()["COLUMNS"] = "100";
  auto tty = r.Rotor({"apply", "--auto-approve"}, {"/usr/bin/script", "-qec"});
  REQUIRE_MESSAGE(tty.exit_code == 0, tty.stdout_data);
  const std::string& out = tty.stdout_data;
  // The status line starts with '\r', is drawn again on each poll, and is
  // erased before the change's last line.
  size_t draws = 0;
  for (size_t at = out.find("\rdeployment.registry: Still redeploying... [");
       at != std::string::npos;
       at = out.find("\rdeployment.registry: Still redeploying... [", at + 1)) {
    ++draws;
  }
  CHECK(draws >= 2);
  CHECK(
      absl::StrContains(out, "\rdeployment.registry: Still redeploying... [0s elapsed] registry-"));
  size_t redeployed = out.find("deployment.registry: Redeployed [");
  REQUIRE(redeployed != std::string::npos);
  CHECK(out.substr(redeployed - 1, 1) == "\r");
  CHECK_FALSE(absl::StrContains(out, "s elapsed]\n"));  // no plain progress lines
  CHECK(absl::StrContains(
      out, "Apply complete! Resources: 0 added, 1 changed, 0 destroyed, 1 redeployed."));

  r.env()["REGISTRY_USER_ADMIN_PASSWORD"] = kAdminPassword;
  auto json = r.Rotor({"apply", "--auto-approve", "--log-format", "json"});
  REQUIRE(json.exit_code == 0);
  CHECK(absl::StrContains(json.stderr_data,
                          "\"level\":\"info\",\"event\":\"deployment.progress\",\"fields\":{"
                          "\"deployment\":\"registry-"));
  CHECK(absl::StrContains(json.stderr_data, "\"state\":\"Running\",\"elapsed_seconds\":"));
  CHECK_FALSE(absl::StrContains(json.stdout_data, "Still redeploying"));
  CHECK(r.Rotor({"plan", "--detailed-exitcode"}).exit_code == 0);
}

}  // namespace
}  // namespace rotor
