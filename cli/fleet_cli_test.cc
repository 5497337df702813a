// Fleets, --target, --quiet and --log-format json, and rotor init on the
// embedded local provider: the real `rotor` binary in fresh folders.
#include <doctest/doctest.h>
#include <sys/stat.h>

#include <algorithm>
#include <map>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "base/files.h"
#include "base/process.h"
#include "cli/init_command.h"
#include "tests/e2e/azure_workspace.h"
#include "tests/support/testing.h"

namespace rotor {
namespace {

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

// Every password and secret the tests use: none may ever be printed.
const std::map<std::string, std::string> kSecrets = {{"ALPHA_ADMIN_PW", "Alpha-Admin-Distinct-1"},
                                                     {"BETA_ADMIN_PW", "Beta-Admin-Distinct-2"},
                                                     {"GAMMA_ADMIN_PW", "Gamma-Admin-Distinct-3"},
                                                     {"OPS_PW", "Ops-Distinct-Password-4"},
                                                     {"SPN_SECRET", "Spn-Distinct-Secret-5"}};

// A registry config with its own state folder: vault `vault`, users from
// `users` ("name=VAR").
std::string RegistryConfig(const std::string& vault, const std::vector<std::string>& users) {
  std::string text =
      absl::StrCat("[cloud]\nkind = \"local\"\nstate_dir = \".rotor-", vault,
                   "\"\n\n[vault]\nname = \"", vault, "\"\nresource_group = \"rg-", vault, "\"\n");
  for (const auto& u : users) {
    std::pair<std::string, std::string> kv = absl::StrSplit(u, '=');
    absl::StrAppend(&text, "\n[[user]]\nname = \"", kv.first, "\"\npassword = { env = \"",
                    kv.second, "\" }\n");
  }
  absl::StrAppend(&text, "\n[deployment]\nresource_group = \"rg-", vault,
                  "\"\nclient_id = \"11111111-2222-3333-4444-555555555555\"\n"
                  "client_secret = { env = \"SPN_SECRET\" }\ntemplate = \"../template.json\"\n\n"
                  "[deployment.parameters]\ndomainNameLabel = \"",
                  vault, "\"\n");
  return text;
}

class Fleet {
 public:
  Fleet() {
    dir_.Write("template.json", kTemplate);
    dir_.Write("fleet/alpha.toml", RegistryConfig("alphakv", {"admin=ALPHA_ADMIN_PW"}));
    dir_.Write("fleet/beta.toml", RegistryConfig("betakv", {"admin=BETA_ADMIN_PW"}));
    dir_.Write("fleet/gamma.toml", RegistryConfig("gammakv", {"admin=GAMMA_ADMIN_PW"}));
    dir_.Write("fleet/notes.txt", "not a config");
    env_ = kSecrets;
    env_["NO_COLOR"] = "1";
  }

  ProcessResult Rotor(std::vector<std::string> args) {
    std::vector<std::string> argv = {testing::BuildDir() + "/rotor"};
    argv.insert(argv.end(), args.begin(), args.end());
    ProcessOptions options;
    options.working_dir = dir_.path();
    options.timeout = absl::Seconds(60);
    for (const auto& [k, v] : env_) options.env[k] = v;
    auto result = RunProcess(argv, options);
    REQUIRE(result.ok());
    INFO("rotor ", absl::StrJoin(args, " "), "\nstdout:\n", result->stdout_data, "\nstderr:\n",
         result->stderr_data);
    CHECK_FALSE(result->timed_out);
    std::vector<std::string> secrets;
    for (const auto& entry : kSecrets) secrets.push_back(entry.second);
    const std::string leaks =
        e2e::FindSecretLeaks(result->stdout_data, result->stderr_data, secrets);
    CHECK_MESSAGE(leaks.empty(), leaks);
    return *std::move(result);
  }
  std::map<std::string, std::string>& env() { return env_; }
  const testing::TempDir& dir() const { return dir_; }

 private:
  testing::TempDir dir_;
  std::map<std::string, std::string> env_;
};

size_t Find(const std::string& text, const std::string& what) {
  size_t at = text.find(what);
  CHECK_MESSAGE(at != std::string::npos, "missing: ", what);
  return at;
}

TEST_CASE("a fleet folder is planned per registry, grouped in file order, with a summary") {
  Fleet f;
  auto plan = f.Rotor({"plan", "-c", "fleet", "--detailed-exitcode"});
  CHECK(plan.exit_code == 2);
  const std::string& out = plan.stdout_data;
  size_t a = Find(out, "=== alphakv (fleet/alpha.toml) ===\n");
  size_t b = Find(out, "=== betakv (fleet/beta.toml) ===\n");
  size_t g = Find(out, "=== gammakv (fleet/gamma.toml) ===\n");
  CHECK(a < b);
  CHECK(b < g);
  // Each group holds its own registry's plan.
  CHECK(out.find("+ user.admin", a) < b);
  CHECK(out.find("Plan: 2 to add", b) < g);
  CHECK(
      absl::StrContains(out, "Fleet: 3 registries: 3 with changes, 0 without changes, 0 failed."));
  CHECK_FALSE(absl::StrContains(out, "notes"));

  // Without --detailed-exitcode changes are not an error.
  CHECK(f.Rotor({"plan", "-c", "fleet"}).exit_code == 0);
}

TEST_CASE("a failing registry does not stop the others - the exit code reports it") {
  Fleet f;
  f.env().erase("BETA_ADMIN_PW");
  auto plan = f.Rotor({"plan", "-c", "fleet", "--detailed-exitcode"});
  CHECK(plan.exit_code == 1);
  CHECK(absl::StrContains(plan.stdout_data, "=== alphakv (fleet/alpha.toml) ==="));
  CHECK(absl::StrContains(plan.stdout_data, "=== gammakv (fleet/gamma.toml) ==="));
  CHECK(absl::StrContains(
      plan.stdout_data,
      "Fleet: 3 registries: 2 with changes, 0 without changes, 1 failed (betakv)."));
  CHECK(absl::StrContains(plan.stderr_data, "betakv: Error: "));
  CHECK(absl::StrContains(plan.stderr_data, "BETA_ADMIN_PW is not set"));

  // A config that does not even load is named by its file.
  f.dir().Write("fleet/broken.toml", "[cloud]\nkind = \"local\"\n[vault]\nnmae = \"x\"\n");
  auto broken = f.Rotor({"plan", "-c", "fleet", "-c", "fleet/alpha.toml"});
  CHECK(broken.exit_code == 1);
  CHECK(absl::StrContains(broken.stdout_data, "=== broken (fleet/broken.toml) ==="));
  CHECK(absl::StrContains(broken.stderr_data, "broken: Error: "));
  // alpha.toml named twice (in the folder, and by name) runs once.
  CHECK(absl::StrContains(
      broken.stdout_data,
      "Fleet: 4 registries: 2 with changes, 0 without changes, 2 failed (betakv, broken)."));
}

TEST_CASE("--target picks registries by vault name or file stem") {
  Fleet f;
  auto one = f.Rotor({"plan", "-c", "fleet", "--target", "BETAKV"});
  CHECK(one.exit_code == 0);
  CHECK(absl::StrContains(one.stdout_data, "=== betakv (fleet/beta.toml) ==="));
  CHECK_FALSE(absl::StrContains(one.stdout_data, "alphakv"));
  CHECK(absl::StrContains(one.stdout_data, "Fleet: 1 registry: 1 with changes"));

  auto two = f.Rotor({"plan", "-c", "fleet", "--target", "alpha", "--target", "gammakv"});
  CHECK(two.exit_code == 0);
  CHECK(absl::StrContains(two.stdout_data, "=== alphakv"));
  CHECK(absl::StrContains(two.stdout_data, "=== gammakv"));
  CHECK_FALSE(absl::StrContains(two.stdout_data, "=== betakv"));

  auto none = f.Rotor({"plan", "-c", "fleet", "--target", "deltakv"});
  CHECK(none.exit_code == 1);
  CHECK(absl::StrContains(none.stderr_data,
                          "--target deltakv: no configuration has that vault "
                          "name or file stem; the configurations are: alphakv "
                          "(alpha), betakv (beta), gammakv (gamma)"));

  // One file, named once: the output is a single registry's, unchanged.
  auto single = f.Rotor({"plan", "-c", "fleet/beta.toml", "--target", "betakv"});
  CHECK(single.exit_code == 0);
  CHECK_FALSE(absl::StrContains(single.stdout_data, "==="));
  CHECK(absl::StrContains(single.stdout_data, "Plan: 2 to add"));
}

// The vaults a fleet's run printed a group for, in order.
std::vector<std::string> Groups(const std::string& out) {
  std::vector<std::string> vaults;
  for (absl::string_view line : absl::StrSplit(out, '\n')) {
    if (!absl::ConsumePrefix(&line, "=== ")) continue;
    vaults.emplace_back(line.substr(0, line.find(' ')));
  }
  return vaults;
}

TEST_CASE("--shard K/N splits a fleet by file name - every config in exactly one shard") {
  Fleet f;
  // More files than shards, so that shards differ; only the name counts.
  for (const char* name : {"delta", "epsilon", "zeta", "eta"}) {
    f.dir().Write(absl::StrCat("fleet/", name, ".toml"),
                  RegistryConfig(absl::StrCat(name, "kv"), {"admin=ALPHA_ADMIN_PW"}));
  }
  for (int n : {2, 3}) {
    CAPTURE(n);
    std::map<std::string, int> seen;
    for (int k = 1; k <= n; ++k) {
      auto run = f.Rotor({"validate", "-c", "fleet", "--shard", absl::StrCat(k, "/", n)});
      CHECK(run.exit_code == 0);
      for (const auto& vault : Groups(run.stdout_data)) ++seen[vault];
    }
    CHECK(seen.size() == 7);
    for (const auto& entry : seen) {  // no structured binding: CAPTURE is a lambda
      const std::string& vault = entry.first;
      CAPTURE(vault);
      CHECK(entry.second == 1);
    }
  }
  // Stable: the same names elsewhere, with another file added, keep their
  // shard (the shard of a file is a function of its name).
  auto first = f.Rotor({"validate", "-c", "fleet", "--shard", "1/3"});
  f.dir().Write("copy/alpha.toml", RegistryConfig("alphakv", {"admin=ALPHA_ADMIN_PW"}));
  for (const char* name : {"beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"}) {
    f.dir().Write(absl::StrCat("copy/", name, ".toml"),
                  RegistryConfig(absl::StrCat(name, "kv"), {"admin=ALPHA_ADMIN_PW"}));
  }
  auto copy = f.Rotor({"validate", "-c", "copy", "--shard", "1/3"});
  std::vector<std::string> kept = Groups(copy.stdout_data);
  kept.erase(std::remove(kept.begin(), kept.end(), "thetakv"), kept.end());
  CHECK(kept == Groups(first.stdout_data));

  // --target narrows first; a shard left with nothing is not an error.
  auto alone = f.Rotor({"plan", "-c", "fleet", "--target", "alpha", "--shard", "1/1"});
  CHECK(alone.exit_code == 0);
  CHECK(Groups(alone.stdout_data) == std::vector<std::string>{"alphakv"});
  bool empty_seen = false;
  for (int k = 1; k <= 2; ++k) {
    auto run = f.Rotor({"plan", "-c", "fleet/alpha.toml", "--shard", absl::StrCat(k, "/2")});
    CHECK(run.exit_code == 0);
    if (absl::StrContains(run.stderr_data, "none of the 1 configuration falls in this shard")) {
      empty_seen = true;
      CHECK(run.stdout_data.empty());
      CHECK(absl::StrContains(run.stderr_data, absl::StrCat("--shard ", k, "/2: ")));
    }
  }
  CHECK(empty_seen);
}

TEST_CASE("--shard refuses what is not K/N with 1 <= K <= N") {
  Fleet f;
  for (const char* bad :
       {"0/2", "3/2", "1/0", "2", "a/b", "-1/2", "1/2/3", "+1/2", "1/", "1/20000"}) {
    CAPTURE(bad);
    auto run = f.Rotor({"plan", "-c", "fleet", "--shard", bad});
    CHECK(run.exit_code == 1);
    CHECK(absl::StrContains(
        run.stderr_data,
        absl::StrCat("Error: --shard ", bad, ": expected K/N, shard K (from 1) of N")));
    CHECK(run.stdout_data.empty());
  }
}

TEST_CASE("--metrics-file on a fleet writes every registry into one file") {
  Fleet f;
  auto plan = f.Rotor({"plan", "-c", "fleet", "--metrics-file", "fleet.prom"});
  CHECK(plan.exit_code == 0);
  const std::string text = f.dir().Read("fleet.prom");
  for (const char* vault : {"alphakv", "betakv", "gammakv"}) {
    CAPTURE(vault);
    CHECK(absl::StrContains(text, absl::StrCat("rotor_last_run_success{config=\"fleet/",
                                               absl::string_view(vault).substr(0, 4))));
    CHECK(absl::StrContains(text, absl::StrCat("vault=\"", vault, "\",resource_group=\"rg-", vault,
                                               "\",command=\"plan\",cause=\"config\"} 2\n")));
  }
  // One HELP line per family, whatever the number of registries.
  CHECK(absl::StrContains(text, "# HELP rotor_pending_changes "));
  CHECK(text.find("# HELP rotor_pending_changes ") == text.rfind("# HELP rotor_pending_changes "));
  auto checked =
      RunProcess({"promtool", "check", "metrics"},
                 {.stdin_data = text, .env = {}, .working_dir = "", .timeout = absl::Seconds(30)});
  REQUIRE(checked.ok());
  INFO(text, checked->stderr_data);
  CHECK(checked->exit_code == 0);
}

TEST_CASE("fleet --json is an array of registries, each with its plan") {
  Fleet f;
  f.env().erase("GAMMA_ADMIN_PW");
  auto plan = f.Rotor({"plan", "-c", "fleet", "--json"});
  CHECK(plan.exit_code == 1);
  const std::string& out = plan.stdout_data;
  CHECK(absl::StartsWith(out,
                         "[\n  {\n    \"config\": \"fleet/alpha.toml\",\n    \"vault\": "
                         "\"alphakv\",\n    \"exit_code\": 2,\n    \"result\": {"));
  CHECK(
      absl::StrContains(out,
                        "{\n    \"config\": \"fleet/gamma.toml\",\n    \"vault\": \"gammakv\",\n"
                        "    \"exit_code\": 1,\n    \"result\": null,\n    \"error\": "
                        "\"user[admin].password: environment variable GAMMA_ADMIN_PW is not set"));
  CHECK(absl::EndsWith(out, "}\n]\n"));
  CHECK(absl::StrContains(out, "\"format_version\": 3"));
  CHECK_FALSE(absl::StrContains(out, "Fleet:"));
}

TEST_CASE("apply on a fleet needs --auto-approve, then converges every registry concurrently") {
  Fleet f;
  auto refused = f.Rotor({"apply", "-c", "fleet"});
  CHECK(refused.exit_code == 1);
  CHECK(absl::StrContains(refused.stderr_data, "run rotor apply --auto-approve"));
  CHECK(f.Rotor({"plan", "-c", "fleet", "--out", "x.plan"}).exit_code == 1);

  auto apply = f.Rotor({"apply", "-c", "fleet", "--auto-approve"});
  CHECK(apply.exit_code == 0);
  CHECK(absl::StrContains(apply.stdout_data, "Fleet: 3 registries: 3 succeeded, 0 failed."));
  for (const char* vault : {"alphakv", "betakv", "gammakv"}) {
    CHECK(absl::StrContains(
        f.dir().Read(absl::StrCat("fleet/.rotor-", vault, "/registry/htpasswd")), "admin:"));
  }
  auto plan = f.Rotor({"plan", "-c", "fleet", "--detailed-exitcode"});
  CHECK(plan.exit_code == 0);
  CHECK(absl::StrContains(plan.stdout_data,
                          "Fleet: 3 registries: 0 with changes, 3 without changes, 0 failed."));
  auto drift = f.Rotor({"drift", "-c", "fleet"});
  CHECK(drift.exit_code == 0);
  CHECK(absl::StrContains(drift.stdout_data,
                          "Fleet: 3 registries: 0 drifted, 3 without drift, 0 failed."));

  // One registry's config changes: only it has changes, and drift ignores it.
  f.dir().Write("fleet/beta.toml", RegistryConfig("betakv", {"admin=BETA_ADMIN_PW", "ops=OPS_PW"}));
  auto changed = f.Rotor({"plan", "-c", "fleet", "--detailed-exitcode"});
  CHECK(changed.exit_code == 2);
  CHECK(absl::StrContains(changed.stdout_data, "1 with changes, 2 without changes"));
  CHECK(f.Rotor({"drift", "-c", "fleet"}).exit_code == 0);
  CHECK(f.Rotor({"validate", "-c", "fleet"}).exit_code == 0);
  CHECK(f.Rotor({"show", "-c", "fleet", "--target", "gamma"}).exit_code == 0);
}

TEST_CASE("--quiet prints only the summary, --log-format json prints events on stderr") {
  Fleet f;
  auto quiet = f.Rotor({"plan", "-c", "fleet/alpha.toml", "--quiet"});
  CHECK(quiet.exit_code == 0);
  CHECK(quiet.stdout_data == "Plan: 2 to add, 0 to change, 0 to destroy, 0 to redeploy.\n");

  auto apply = f.Rotor({"apply", "-c", "fleet/alpha.toml", "--auto-approve", "--quiet"});
  CHECK(apply.exit_code == 0);
  CHECK(apply.stdout_data ==
        "Apply complete! Resources: 2 added, 0 changed, 0 destroyed, 0 redeployed.\n");
  CHECK(apply.stderr_data.empty());

  auto json = f.Rotor({"apply", "-c", "fleet/beta.toml", "--auto-approve", "--log-format", "json"});
  CHECK(json.exit_code == 0);
  CHECK(absl::StrContains(json.stdout_data, "Apply complete!"));
  CHECK_FALSE(absl::StrContains(json.stdout_data, "user.admin: Creating..."));
  int events = 0;
  for (absl::string_view line : absl::StrSplit(json.stderr_data, '\n', absl::SkipEmpty())) {
    CHECK(absl::StartsWith(line, "{\"time\":\""));
    CHECK(absl::EndsWith(line, "}}"));
    ++events;
  }
  CHECK(absl::StrContains(json.stderr_data,
                          "\"level\":\"info\",\"event\":\"change.started\",\"fields\":{\"address\":"
                          "\"user.admin\",\"action\":\"create\"}"));
  CHECK(absl::StrContains(json.stderr_data,
                          "\"event\":\"change.finished\",\"fields\":{\"address\":\"deployment."
                          "registry\",\"action\":\"create\",\"ok\":true,"));
  CHECK(events >= 4);

  // Errors become events too.
  f.env().erase("GAMMA_ADMIN_PW");
  auto error = f.Rotor({"plan", "-c", "fleet/gamma.toml", "--log-format", "json"});
  CHECK(error.exit_code == 1);
  CHECK(
      absl::StrContains(error.stderr_data,
                        "\"level\":\"error\",\"event\":\"error\",\"fields\":{\"message\":"
                        "\"user[admin].password: environment variable GAMMA_ADMIN_PW is not set"));
}

TEST_CASE("rotor init --kind local adopts a registry - plan right after has no changes") {
  Fleet f;
  f.dir().Write("fleet/beta.toml",
                RegistryConfig("betakv", {"admin=BETA_ADMIN_PW", "ops-team=OPS_PW"}));
  REQUIRE(f.Rotor({"apply", "-c", "fleet/beta.toml", "--auto-approve"}).exit_code == 0);

  auto init = f.Rotor({"init", "--kind", "local", "--vault", "betakv", "--resource-group",
                       "rg-betakv", "-o", "fleet/adopted.toml"});
  // The local state folder is .rotor next to the new file by default: here
  // it is .rotor-betakv, so point a config at it instead.
  CHECK(init.exit_code == 1);
  CHECK(absl::StrContains(init.stderr_data, "no local state at"));
  f.dir().Write("fleet/existing.toml", RegistryConfig("betakv", {}));
  init = f.Rotor({"init", "-c", "fleet/existing.toml", "-o", "fleet/adopted.toml"});
  REQUIRE(init.exit_code == 0);
  CHECK(absl::StrContains(init.stdout_data, "Wrote fleet/adopted.toml: 2 users, deployment "));
  CHECK(absl::StrContains(init.stdout_data, "REGISTRY_USER_ADMIN_PASSWORD"));
  CHECK(absl::StrContains(init.stdout_data, "REGISTRY_USER_OPS_TEAM_PASSWORD"));
  CHECK(absl::StrContains(init.stdout_data, "REGISTRY_SPN_CLIENT_SECRET"));
  const std::string adopted = f.dir().Read("fleet/adopted.toml");
  CHECK(absl::StrContains(adopted, "#   REGISTRY_USER_ADMIN_PASSWORD "));
  CHECK(absl::StrContains(
      adopted, "name = \"ops-team\"\npassword = { env = \"REGISTRY_USER_OPS_TEAM_PASSWORD\" }"));
  CHECK(absl::StrContains(adopted, "state_dir = \".rotor-betakv\""));
  CHECK(absl::StrContains(adopted, "client_id = \"11111111-2222-3333-4444-555555555555\""));

  // Not overwritten.
  auto again = f.Rotor({"init", "-c", "fleet/existing.toml", "-o", "fleet/adopted.toml"});
  CHECK(again.exit_code == 1);
  CHECK(absl::StrContains(again.stderr_data, "exists: rotor init does not overwrite"));

  f.env()["REGISTRY_USER_ADMIN_PASSWORD"] = kSecrets.at("BETA_ADMIN_PW");
  f.env()["REGISTRY_USER_OPS_TEAM_PASSWORD"] = kSecrets.at("OPS_PW");
  f.env()["REGISTRY_SPN_CLIENT_SECRET"] = kSecrets.at("SPN_SECRET");
  auto plan = f.Rotor({"plan", "-c", "fleet/adopted.toml", "--detailed-exitcode"});
  CHECK(plan.exit_code == 0);
  CHECK(absl::StrContains(plan.stdout_data, "No changes."));
}

TEST_CASE("init's variable names come from the user names") {
  CHECK(cli::UserPasswordVariable("admin") == "REGISTRY_USER_ADMIN_PASSWORD");
  CHECK(cli::UserPasswordVariable("ci-bot-2") == "REGISTRY_USER_CI_BOT_2_PASSWORD");
}

}  // namespace
}  // namespace rotor
