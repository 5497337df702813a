// Terraform habits and quieter, more precise output, on the real `rotor`
// binary with the embedded local provider: Terraform's single-dash flags,
// --target given a resource address, the certificate checks on one line,
// validate without any secret value, and value errors that name the key
// and the source once.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdio>
#include <future>
#include <map>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "base/files.h"
#include "base/process.h"
#include "certs/checks.h"
#include "certs/pfx.h"
#include "certs/testing/make_certs.h"
#include "rapidjson/document.h"
#include "tests/e2e/azure_workspace.h"
#include "tests/support/registry_deployment.h"
#include "tests/support/testing.h"

namespace rotor {
namespace {

constexpr char kAdminPassword[] = "Habits-Admin-Distinct-Pw";
constexpr char kSpnSecret[] = "Habits-Spn-Distinct-Secret";
constexpr char kPfxPassword[] = "Habits-Pfx-Distinct-Pass";
constexpr char kHost[] = "myreg.local.cloudapp.azurestack.external";

// A local registry with a user, a certificate and a deployment; every
// secret from the environment.
class Habits {
 public:
  Habits() : pki_(absl::Now()) {
    dir_.Write("template.json", testing::kRegistryTemplateJson);
    WriteConfig();
    env_ = {{"ADMIN_PW", kAdminPassword},
            {"SPN_SECRET", kSpnSecret},
            {"PFX_PW", kPfxPassword},
            {"NO_COLOR", "1"}};
    IssuePfx();
  }

  void WriteConfig(const std::string& extra_user = "") {
    dir_.Write("rotor.toml", absl::StrCat(R"([cloud]
kind = "local"

[vault]
name = "newregkv"
resource_group = "newregreg"

[[user]]
name = "admin"
password = { env = "ADMIN_PW" }
)",
                                          extra_user, R"(
[certificate]
secret_name = "containersecret"
pfx = "registry.pfx"
password = { env = "PFX_PW" }
dns_name = ")",
                                          kHost, R"("

[deployment]
resource_group = "newregreg"
client_id = "11111111-2222-3333-4444-555555555555"
client_secret = { env = "SPN_SECRET" }
template = "template.json"
)"));
  }

  void IssuePfx(certs::testing::CertOptions options = {},
                const certs::testing::PfxContents& contents = {}) {
    options.common_name = kHost;
    if (options.dns_names.empty()) options.dns_names = {kHost};
    dir_.Write("registry.pfx", pki_.IssueLeaf(options).ToPfx(
                                   kPfxPassword, certs::testing::PfxEncryption::kAes256, contents));
  }

  void Unset(const std::string& name) { env_.erase(name); }

  // The command line and environment Rotor(args) runs.
  std::pair<std::vector<std::string>, ProcessOptions> Invocation(
      const std::vector<std::string>& args) const {
    std::vector<std::string> argv = {testing::BuildDir() + "/rotor"};
    argv.insert(argv.end(), args.begin(), args.end());
    ProcessOptions options;
    options.working_dir = dir_.path();
    options.timeout = absl::Seconds(60);
    // Only what the test sets: no variable from the test's own environment.
    for (const char* name : {"ADMIN_PW", "SPN_SECRET", "PFX_PW"}) options.env[name] = std::nullopt;
    for (const auto& [k, v] : env_) options.env[k] = v;
    return {std::move(argv), std::move(options)};
  }

  ProcessResult Rotor(std::vector<std::string> args) {
    const auto [argv, options] = Invocation(args);
    auto result = RunProcess(argv, options);
    REQUIRE(result.ok());
    INFO("rotor ", absl::StrJoin(args, " "), "\nstdout:\n", result->stdout_data, "\nstderr:\n",
         result->stderr_data);
    CHECK_FALSE(result->timed_out);
    const std::string leaks = e2e::FindSecretLeaks(result->stdout_data, result->stderr_data,
                                                   {kAdminPassword, kSpnSecret, kPfxPassword});
    CHECK_MESSAGE(leaks.empty(), leaks);
    return *std::move(result);
  }

  bool Exists(const std::string& name) const { return PathExists(dir_.Path(name)); }
  const testing::TempDir& dir() const { return dir_; }

 private:
  testing::TempDir dir_;
  certs::testing::TestPki pki_;
  std::map<std::string, std::string> env_;
};

// ---------------------------------------------------------------------------
// 8. Terraform habits

TEST_CASE("Terraform's single-dash flags work as rotor's long options") {
  Habits h;
  auto plan = h.Rotor({"plan", "-out=tf.plan", "-detailed-exitcode"});
  CHECK(plan.exit_code == 2);
  CHECK(h.Exists("tf.plan"));
  CHECK_FALSE(h.Exists("ut=tf.plan"));
  CHECK(absl::StrContains(plan.stdout_data, "Saved the plan to: tf.plan"));

  auto spaced = h.Rotor({"plan", "-out", "spaced.plan", "-json", "-target=newregkv"});
  CHECK(spaced.exit_code == 0);
  CHECK(h.Exists("spaced.plan"));
  CHECK(absl::StartsWith(spaced.stdout_data, "{"));

  // The real short options keep working.
  auto shorts = h.Rotor({"plan", "-c", "rotor.toml", "-o", "short.plan", "-target", "rotor"});
  CHECK(shorts.exit_code == 0);
  CHECK(h.Exists("short.plan"));

  auto apply = h.Rotor({"apply", "-auto-approve", "-no-color"});
  CHECK(apply.exit_code == 0);
  CHECK(absl::StrContains(apply.stdout_data, "Apply complete!"));
  CHECK(h.Rotor({"-version"}).stdout_data == h.Rotor({"--version"}).stdout_data);
}

TEST_CASE("other single-dash words are refused with the long option, and nothing runs") {
  Habits h;
  auto config = h.Rotor({"plan", "-config=rotor.toml"});
  CHECK(config.exit_code == 1);
  CHECK(config.stdout_data.empty());
  CHECK(config.stderr_data ==
        "Error: -config=rotor.toml: rotor's long options take two dashes; did you mean "
        "--config=rotor.toml?\n");

  auto typo = h.Rotor({"apply", "-auto-aprove"});
  CHECK(typo.exit_code == 1);
  CHECK(typo.stderr_data ==
        "Error: -auto-aprove: rotor's long options take two dashes; did you mean "
        "--auto-approve?\n");

  auto unknown = h.Rotor({"plan", "-lock=false"});
  CHECK(unknown.exit_code == 1);
  CHECK(unknown.stderr_data ==
        "Error: -lock=false: rotor plan has no option -lock or --lock; rotor plan --help lists "
        "its options\n");
  CHECK_FALSE(h.Exists(".rotor/vaults/newregkv.json"));  // nothing was applied
}

TEST_CASE("--target given a resource address points at --replace") {
  Habits h;
  for (std::string address :
       {"user.admin", "certificate.containersecret", "stale_user.old", "deployment.registry"}) {
    CAPTURE(address);
    for (const std::vector<std::string>& args :
         {std::vector<std::string>{"plan", "--target", address},
          std::vector<std::string>{"apply", "-target=" + address, "--auto-approve"}}) {
      auto r = h.Rotor(args);
      CHECK(r.exit_code == 1);
      CHECK(r.stderr_data ==
            absl::StrCat("Error: --target ", address,
                         ": --target picks registries (by vault name or configuration file "
                         "stem), not resources; to force a change to ",
                         address, ", run rotor plan --replace ", address, "\n"));
    }
  }
  // A registry name still targets.
  CHECK(h.Rotor({"plan", "--target", "newregkv"}).exit_code == 0);
}

// The latest version and the number of versions of `secret` in the local
// vault, from rotor show --json.
std::pair<std::string, size_t> LatestVersion(Habits& h, const std::string& secret) {
  auto show = h.Rotor({"show", "--json"});
  REQUIRE(show.exit_code == 0);
  rapidjson::Document doc;
  doc.Parse(show.stdout_data.c_str());
  REQUIRE_FALSE(doc.HasParseError());
  for (const auto& s : doc["secrets"].GetArray()) {
    if (std::string(s["name"].GetString()) != secret) continue;
    const auto& versions = s["versions"];
    REQUIRE(versions.Size() > 0);
    return {versions[0]["version"].GetString(), versions.Size()};
  }
  FAIL("no secret ", secret, " in rotor show --json");
  return {};
}

constexpr char kGeneratedUser[] = R"(
[[user]]
name = "ci"
password = { generate = 24 }
)";

TEST_CASE("--replace user.NAME plans a new generated password now, and apply writes it") {
  Habits h;
  h.WriteConfig(kGeneratedUser);
  REQUIRE(h.Rotor({"apply", "--auto-approve"}).exit_code == 0);
  REQUIRE(h.Rotor({"plan", "--detailed-exitcode"}).exit_code == 0);
  const auto [before, versions] = LatestVersion(h, "ci");

  auto plan = h.Rotor({"plan", "--replace", "user.ci", "--detailed-exitcode"});
  CHECK(plan.exit_code == 2);
  CHECK(absl::StrContains(plan.stdout_data, "  ~ user.ci\n"));
  CHECK(
      absl::StrContains(plan.stdout_data, "reason (config): --replace: a new generated password"));
  CHECK(absl::StrContains(plan.stdout_data, "  ~ deployment.registry\n"));
  CHECK_FALSE(absl::StrContains(plan.stdout_data, "user.admin"));
  CHECK(LatestVersion(h, "ci").first == before);  // plan writes nothing

  // Terraform's spelling, on apply.
  auto apply = h.Rotor({"apply", "-replace=user.ci", "--auto-approve"});
  CHECK(apply.exit_code == 0);
  CHECK(absl::StrContains(apply.stdout_data,
                          "Apply complete! Resources: 0 added, 1 changed, "
                          "0 destroyed, 1 redeployed."));
  const auto [after, versions_after] = LatestVersion(h, "ci");
  CHECK(after != before);
  CHECK(versions_after == versions + 1);
  // Replaced once: the next plan is empty again.
  CHECK(h.Rotor({"plan", "--detailed-exitcode"}).exit_code == 0);

  // A saved plan made with --replace applies the replacement.
  REQUIRE(h.Rotor({"plan", "--replace", "user.ci", "--out", "replace.plan"}).exit_code == 0);
  auto saved = h.Rotor({"apply", "replace.plan"});
  CHECK(saved.exit_code == 0);
  CHECK(LatestVersion(h, "ci").second == versions + 2);
  // ...but --replace does not change a saved plan.
  REQUIRE(h.Rotor({"plan", "--out", "plain.plan"}).exit_code == 0);
  auto both = h.Rotor({"apply", "--replace", "user.ci", "plain.plan"});
  CHECK(both.exit_code == 1);
  CHECK(both.stderr_data ==
        "Error: --replace makes a new plan, and saved plan plain.plan is applied as it was made; "
        "run rotor plan --replace user.ci --out FILE, then rotor apply FILE\n");
  CHECK(LatestVersion(h, "ci").second == versions + 2);
}

TEST_CASE("--replace certificate.NAME uploads the same PFX as a new version, and redeploys") {
  Habits h;
  REQUIRE(h.Rotor({"apply", "--auto-approve"}).exit_code == 0);
  const auto [before, versions] = LatestVersion(h, "containersecret");
  auto plan = h.Rotor({"plan", "--replace", "certificate.containersecret"});
  CHECK(plan.exit_code == 0);
  CHECK(absl::StrContains(plan.stdout_data, "  ~ certificate.containersecret\n"));
  CHECK(absl::StrContains(plan.stdout_data,
                          absl::StrCat("reason (config): --replace: ", h.dir().Path("registry.pfx"),
                                       " uploaded as a new version")));
  CHECK(absl::StrContains(plan.stdout_data, "  ~ deployment.registry\n"));
  CHECK(absl::StrContains(plan.stdout_data,
                          "Plan: 0 to add, 1 to change, 0 to destroy, 1 to redeploy."));

  auto apply = h.Rotor({"apply", "--replace", "certificate.containersecret", "--auto-approve"});
  CHECK(apply.exit_code == 0);
  // One more version (which one lists first is undefined within a second).
  const auto [after, versions_after] = LatestVersion(h, "containersecret");
  CHECK(versions_after == versions + 1);
  CHECK(h.Rotor({"plan", "--detailed-exitcode"}).exit_code == 0);
}

TEST_CASE("--replace of anything else is an error that says what can be replaced") {
  Habits h;
  h.WriteConfig(kGeneratedUser);
  REQUIRE(h.Rotor({"apply", "--auto-approve"}).exit_code == 0);
  const std::string replaceable =
      "; the resources --replace writes anew are user.ci, certificate.containersecret (users "
      "with { generate = N }, and the certificate)\n";
  auto sourced = h.Rotor({"plan", "--replace", "user.admin"});
  CHECK(sourced.exit_code == 1);
  CHECK(sourced.stderr_data ==
        absl::StrCat("Error: --replace user.admin: its password comes from env ADMIN_PW: give "
                     "that source a new value instead",
                     replaceable));
  for (const std::string address : {"user.nobody", "deployment.registry", "ci", "stale_user.x"}) {
    CAPTURE(address);
    auto r = h.Rotor({"apply", "--auto-approve", "--replace", address});
    CHECK(r.exit_code == 1);
    CHECK(r.stderr_data == absl::StrCat("Error: --replace ", address,
                                        ": it is not a resource this configuration declares",
                                        replaceable));
  }
  CHECK(h.Rotor({"plan", "--detailed-exitcode"}).exit_code == 0);  // nothing was written
}

TEST_CASE("azurestack: --replace certificate.NAME redeploys with the new version's URL") {
  e2e::AzureWorkspace w;
  w.SetUsers({{"admin", "ADMIN_PW"}});
  const std::string thumbprint = w.IssuePfx();
  w.SeedAsPowerShell();
  REQUIRE(w.Rotor({"plan", "--detailed-exitcode"}).exit_code == 0);
  const std::vector<std::string> deployments = w.DeploymentNames();

  auto apply = w.Rotor({"apply", "--auto-approve", "--replace", "certificate.containersecret"});
  CHECK(apply.exit_code == 0);
  CHECK(absl::StrContains(apply.stdout_data,
                          "Apply complete! Resources: 0 added, 1 changed, "
                          "0 destroyed, 1 redeployed."));
  const std::vector<std::string> after = w.DeploymentNames();
  REQUIRE(after.size() == deployments.size() + 1);
  std::string latest;
  for (const auto& name : after) {
    if (std::find(deployments.begin(), deployments.end(), name) == deployments.end()) {
      latest = name;
    }
  }
  const rapidjson::Document deployment = w.Deployment(latest);
  const std::string url =
      e2e::JsonString(deployment, "properties/parameters/pfxKeyVaultSecretUrl/value");
  CHECK(e2e::JsonString(deployment, "properties/parameters/pfxThumbprint/value") == thumbprint);
  // The new version is the latest, and the deployment passes it.
  auto show = w.Rotor({"show", "--json"});
  rapidjson::Document doc;
  doc.Parse(show.stdout_data.c_str());
  REQUIRE_FALSE(doc.HasParseError());
  std::string newest;
  for (const auto& secret : doc["secrets"].GetArray()) {
    if (std::string(secret["name"].GetString()) != "containersecret") continue;
    CHECK(secret["versions"].Size() == 2);
    newest = secret["versions"][0]["version"].GetString();
  }
  REQUIRE_FALSE(newest.empty());
  CHECK(absl::EndsWith(url, "/secrets/containersecret/" + newest));
  CHECK(w.Rotor({"plan", "--detailed-exitcode"}).exit_code == 0);

  // A user whose password comes from a variable is rotated through it.
  auto sourced = w.Rotor({"plan", "--replace", "user.admin"});
  CHECK(sourced.exit_code == 1);
  CHECK(absl::StartsWith(sourced.stderr_data,
                         "Error: --replace user.admin: its password comes from env ADMIN_PW: give "
                         "that source a new value instead; the resources --replace writes anew "
                         "are certificate.containersecret"));
}

TEST_CASE("two plans in the same second name different deployments") {
  Habits h;
  // Each plan of a fresh registry deploys it. Two plans started together
  // fall in the same second, however loaded the machine is.
  const auto plan = h.Invocation({"plan", "--json"});
  auto run_plan = [&plan] { return RunProcess(plan.first, plan.second); };
  auto deployment_name = [](const absl::StatusOr<ProcessResult>& plan) {
    REQUIRE(plan.ok());
    REQUIRE(plan->exit_code == 0);
    rapidjson::Document doc;
    doc.Parse(plan->stdout_data.c_str());
    REQUIRE_FALSE(doc.HasParseError());
    std::string name;
    for (const auto& change : doc["changes"].GetArray()) {
      if (change.HasMember("deployment")) name = change["deployment"]["name"].GetString();
    }
    // registry-YYYYMMDDTHHMMSSZ-XXXX: the time, then four random hex digits.
    REQUIRE(name.size() == std::string("registry-20261205T211503Z-3f9a").size());
    return name;
  };
  bool same_second = false;
  for (int i = 0; i < 20 && !same_second; ++i) {
    auto other = std::async(std::launch::async, run_plan);
    const std::string first = deployment_name(run_plan());
    const std::string second = deployment_name(other.get());
    if (first.substr(0, first.size() - 5) == second.substr(0, second.size() - 5)) {
      same_second = true;
      CHECK(first != second);
    }
  }
  CHECK(same_second);
}

// ---------------------------------------------------------------------------
// 9. Quieter, more precise output

TEST_CASE("the plan prints the certificate checks on one line when all pass, every one otherwise") {
  Habits h;
  auto plan = h.Rotor({"plan"});
  CHECK(plan.exit_code == 0);
  CHECK(absl::StartsWith(plan.stdout_data,
                         "Certificate checks: all 11 passed (rotor validate lists them).\n\n"));
  CHECK_FALSE(absl::StrContains(plan.stdout_data, "Parse PFX"));
  REQUIRE(h.Rotor({"apply", "--auto-approve"}).exit_code == 0);
  auto again = h.Rotor({"plan"});
  CHECK(absl::StartsWith(again.stdout_data,
                         "Certificate checks: all 11 passed (rotor validate lists them).\n\n"
                         "No changes."));

  // A WARNING: every check, as validate prints them.
  certs::testing::PfxContents no_chain;
  no_chain.include_chain = false;
  h.IssuePfx({}, no_chain);
  auto warned = h.Rotor({"plan"});
  CHECK(warned.exit_code == 0);
  CHECK(absl::StartsWith(warned.stdout_data, "Certificate checks:\n  Parse PFX: OK ("));
  CHECK(absl::StrContains(warned.stdout_data, "\n  Cert Chain: WARNING ("));
  CHECK(absl::StrContains(warned.stdout_data, "\n  Issuer: OK ("));
  CHECK_FALSE(absl::StrContains(warned.stdout_data, "all 11 passed"));
  auto validate = h.Rotor({"validate"});
  CHECK(validate.exit_code == 0);
  CHECK(absl::StrContains(validate.stdout_data, "  Cert Chain: WARNING ("));
}

TEST_CASE("validate lists every check even when all pass") {
  Habits h;
  auto validate = h.Rotor({"validate"});
  CHECK(validate.exit_code == 0);
  CHECK(absl::StartsWith(validate.stdout_data, "Certificate checks for "));
  for (const char* line : {"\n  Parse PFX: OK (", "\n  Expiry Date: OK (", "\n  Issuer: OK ("}) {
    CHECK_MESSAGE(absl::StrContains(validate.stdout_data, line), line);
  }
  CHECK(absl::EndsWith(validate.stdout_data, "Success! The configuration is valid.\n"));
}

// The names of the checks validate printed, in order.
std::vector<std::string> CheckNames(const std::string& out) {
  std::vector<std::string> names;
  for (absl::string_view line : absl::StrSplit(out, '\n')) {
    if (!absl::ConsumePrefix(&line, "  ")) continue;
    const size_t colon = line.find(": ");
    if (colon != absl::string_view::npos) names.emplace_back(line.substr(0, colon));
  }
  return names;
}

TEST_CASE("validate needs no secret value: without the PFX password it says what it skipped") {
  Habits h;
  // Every name the checks print when they run...
  auto full = h.Rotor({"validate"});
  REQUIRE(full.exit_code == 0);
  const std::vector<std::string> all = CheckNames(full.stdout_data);
  CHECK(all.size() == 11);

  for (const char* name : {"ADMIN_PW", "SPN_SECRET", "PFX_PW"}) h.Unset(name);
  auto validate = h.Rotor({"validate"});
  CHECK(validate.exit_code == 0);
  CHECK(validate.stderr_data.empty());
  const std::string pfx = h.dir().Path("registry.pfx");
  // ...is the list of those skipped.
  CHECK(validate.stdout_data ==
        absl::StrCat("Certificate checks for ", pfx,
                     ": 11 skipped, as each opens the PFX with its password, which is not "
                     "available:\n  [certificate] password: environment variable PFX_PW is not set "
                     "(at rotor.toml:15:12)\n  Skipped: ",
                     absl::StrJoin(all, ", "),
                     ".\nSuccess! The configuration is valid (the certificate checks were "
                     "skipped: they need the PFX password).\n"));

  auto json = h.Rotor({"validate", "--json"});
  CHECK(json.exit_code == 0);
  rapidjson::Document doc;
  doc.Parse(json.stdout_data.c_str());
  REQUIRE_FALSE(doc.HasParseError());
  CHECK(doc["valid"].GetBool());
  CHECK(doc["certificate"]["checks"].Size() == 0);
  const auto& skipped = doc["certificate"]["skipped"]["checks"];
  REQUIRE(skipped.Size() == all.size());
  for (rapidjson::SizeType i = 0; i < skipped.Size(); ++i) {
    CHECK(std::string(skipped[i].GetString()) == all[i]);
  }
  CHECK(absl::StartsWith(doc["certificate"]["skipped"]["reason"].GetString(),
                         "[certificate] password: environment variable PFX_PW is not set"));

  // With --quiet, the last line only.
  auto quiet = h.Rotor({"validate", "--quiet"});
  CHECK(quiet.stdout_data ==
        "Success! The configuration is valid (the certificate checks were skipped: they need "
        "the PFX password).\n");

  // Everything else is still checked: the PFX file and the template.
  h.dir().Write("template.json", "{ not json");
  std::remove(h.dir().Path("registry.pfx").c_str());
  auto broken = h.Rotor({"validate"});
  CHECK(broken.exit_code == 1);
  CHECK(absl::StrContains(broken.stderr_data,
                          absl::StrCat("Error: [certificate] pfx: cannot read file ", pfx,
                                       ": No such file or directory\n")));
  CHECK(absl::StrContains(broken.stderr_data, absl::StrCat("[deployment] template: file ",
                                                           h.dir().Path("template.json"), ": ")));
}

TEST_CASE("validate with a wrong PFX password is an error, not a skip") {
  Habits h;
  h.Unset("ADMIN_PW");
  h.Unset("SPN_SECRET");
  auto ok = h.Rotor({"validate"});
  CHECK(ok.exit_code == 0);  // the PFX password alone is enough for every check
  CHECK(absl::StrContains(ok.stdout_data, "  Issuer: OK ("));
  h.dir().Write("other-password.txt", "Not-The-Pfx-Password\n");
  h.WriteConfig();
  std::string config = h.dir().Read("rotor.toml");
  config.replace(config.find("{ env = \"PFX_PW\" }"), std::string("{ env = \"PFX_PW\" }").size(),
                 "{ file = \"other-password.txt\" }");
  h.dir().Write("rotor.toml", config);
  auto wrong = h.Rotor({"validate"});
  CHECK(wrong.exit_code == 1);
  CHECK(absl::StrContains(wrong.stdout_data, "  Parse PFX: ERROR ("));
  CHECK(wrong.stderr_data == "Error: the certificate fails its checks\n");
}

TEST_CASE("a value error names the config key and its source once") {
  Habits h;
  h.Unset("ADMIN_PW");
  h.Unset("SPN_SECRET");
  h.WriteConfig(R"(
[[user]]
name = "ci"
password = { file = "no-such-password.txt" }

[[user]]
name = "ops"
password = { command = ["sh", "-c", "echo vault is sealed >&2; exit 3"] }
)");
  auto plan = h.Rotor({"plan"});
  CHECK(plan.exit_code == 1);
  CHECK(plan.stderr_data ==
        absl::StrCat("Error: user[admin].password: environment variable ADMIN_PW is not set (at "
                     "rotor.toml:10:12)\n",
                     "user[ci].password: cannot read file ", h.dir().Path("no-such-password.txt"),
                     ": No such file or directory (at rotor.toml:14:12)\n",
                     "user[ops].password: command \"sh\" exited with code 3: vault is sealed (at "
                     "rotor.toml:18:12)\n",
                     "[deployment] client_secret: environment variable SPN_SECRET is not set (at "
                     "rotor.toml:29:17)\n"));
  CHECK_FALSE(absl::StrContains(plan.stderr_data, "client_secret: client_secret"));
}

}  // namespace
}  // namespace rotor
