// --metrics-file end to end: the real rotor (cloud.kind azurestack) against
// rotor-emulator with a real docker-registry; each file passes
// `promtool check metrics`, and its values are the registry's known state:
// the certificate's expiry from the PFX issued, the logins the vault holds,
// the changes `plan --json` lists, verify's checks.
#include <doctest/doctest.h>
#include <sys/stat.h>

#include <map>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "base/files.h"
#include "certs/pfx.h"
#include "rapidjson/document.h"
#include "tests/e2e/azure_workspace.h"

namespace rotor {
namespace {

using e2e::AzureWorkspace;
using e2e::WorkspaceOptions;

// The value of the one sample of `name` whose labels include every one of
// `labels` (name="value"); fails the test unless exactly one matches.
int64_t Sample(const std::string& text, const std::string& name,
               const std::vector<std::string>& labels) {
  std::vector<int64_t> found;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (!absl::StartsWith(line, name + "{")) continue;
    bool all = true;
    for (const auto& l : labels) all = all && absl::StrContains(line, l);
    if (!all) continue;
    int64_t value = 0;
    REQUIRE(absl::SimpleAtoi(line.substr(line.rfind(' ') + 1), &value));
    found.push_back(value);
  }
  INFO(name, " ", absl::StrJoin(labels, ","), "\n", text);
  REQUIRE(found.size() == 1);
  return found[0];
}

void CheckWithPromtool(const std::string& path) {
  auto checked =
      RunProcess({"promtool", "check", "metrics"}, {.stdin_data = ReadFile(path).value_or(""),
                                                    .env = {},
                                                    .working_dir = "",
                                                    .timeout = absl::Seconds(30)});
  REQUIRE_MESSAGE(checked.ok(), "promtool is installed by scripts/bootstrap.sh");
  INFO(path, "\n", checked->stdout_data, checked->stderr_data);
  CHECK(checked->exit_code == 0);
}

std::string Metrics(AzureWorkspace& w, const std::string& file) {
  CheckWithPromtool(w.Path(file));
  auto text = ReadFile(w.Path(file));
  REQUIRE(text.ok());
  return *text;
}

// Changes of `plan --json` by cause.
std::map<std::string, int> PlannedCauses(AzureWorkspace& w) {
  auto plan = w.Rotor({"plan", "--json"});
  REQUIRE(plan.exit_code == 0);
  rapidjson::Document doc;
  doc.Parse(plan.stdout_data.c_str());
  REQUIRE(doc.IsObject());
  // The facts the metrics come from, in the plan itself.
  CHECK(doc["observed"]["vm_first_page_logins"].IsInt());
  std::map<std::string, int> causes = {{"config", 0}, {"drift", 0}};
  for (const auto& c : doc["changes"].GetArray()) ++causes[c["cause"].GetString()];
  return causes;
}

TEST_CASE("metrics: plan, drift, apply --verify and verify write what the registry is") {
  WorkspaceOptions options;
  options.real_registry = true;
  options.deploy_duration = "200ms";
  AzureWorkspace w(options);
  w.SetUsers({{"admin", "ADMIN_PW"}});
  w.IssuePfx();
  const absl::Time seeded = absl::Now();
  w.SeedAsPowerShell();
  w.WaitForRegistry();
  auto pfx = ReadFile(w.Path("registry.pfx"));
  REQUIRE(pfx.ok());
  auto opened = certs::Pfx::Open(*pfx, Secret(e2e::kPfxPassword), "registry.pfx");
  REQUIRE(opened.ok());
  const int64_t not_after = absl::ToUnixSeconds(opened->Info(absl::Now()).not_after);
  const std::string registry = R"(config="rotor.toml",vault="newregkv",resource_group="newregreg")";

  // plan: the seeded registry, nothing pending.
  const absl::Time before = absl::Now();
  REQUIRE(w.Rotor({"plan", "--metrics-file", "plan.prom"}).exit_code == 0);
  const absl::Time after = absl::Now();
  std::string m = Metrics(w, "plan.prom");
  const std::string plan = absl::StrCat(registry, R"(,command="plan")");
  CHECK(Sample(m, "rotor_last_run_success", {plan}) == 1);
  const int64_t ran = Sample(m, "rotor_last_run_timestamp_seconds", {plan});
  CHECK(ran >= absl::ToUnixSeconds(before));
  CHECK(ran <= absl::ToUnixSeconds(after) + 1);
  CHECK(Sample(m, "rotor_certificate_expiry_timestamp_seconds",
               {plan, R"(secret="containersecret")"}) == not_after);
  const int64_t left = Sample(m, "rotor_certificate_remaining_seconds", {plan});
  CHECK(left <= not_after - absl::ToUnixSeconds(before) + 1);
  CHECK(left >= not_after - absl::ToUnixSeconds(after) - 1);
  const int64_t age = Sample(m, "rotor_login_secret_age_seconds", {plan, R"(user="admin")"});
  CHECK(age >= 0);
  CHECK(age <= absl::ToInt64Seconds(after - seeded) + 1);
  CHECK(Sample(m, "rotor_pending_changes", {plan, R"(cause="config")"}) == 0);
  CHECK(Sample(m, "rotor_pending_changes", {plan, R"(cause="drift")"}) == 0);
  CHECK(Sample(m, "rotor_vault_secrets", {plan}) == 2);  // admin, containersecret
  CHECK(Sample(m, "rotor_vm_first_page_logins", {plan}) == 1);
  CHECK(Sample(m, "rotor_vm_logins_beyond_first_page", {plan}) == 0);
  CHECK(Sample(m, "rotor_last_successful_deployment_timestamp_seconds", {plan}) >=
        absl::ToUnixSeconds(seeded) - 1);
  CHECK_FALSE(absl::StrContains(m, w.env()["ADMIN_PW"]));

  // drift: a login added by hand (drift) and a user added to the config.
  w.env()["INTRUDER_PW"] = "Intruder-Pw-Metrics-3c";
  w.PutSecret("intruder", w.env()["INTRUDER_PW"], "user credentials");
  w.env()["OPS_PW"] = "Ops-Pw-Metrics-4d";
  w.SetUsers({{"admin", "ADMIN_PW"}, {"ops", "OPS_PW"}});
  auto drift = w.Rotor({"drift", "--metrics-file", "drift.prom"});
  CHECK(drift.exit_code == 2);
  m = Metrics(w, "drift.prom");
  const std::string on_drift = absl::StrCat(registry, R"(,command="drift")");
  const std::map<std::string, int> causes = PlannedCauses(w);
  CHECK(causes.at("drift") >= 1);
  CHECK(causes.at("config") >= 1);
  CHECK(Sample(m, "rotor_pending_changes", {on_drift, R"(cause="drift")"}) == causes.at("drift"));
  CHECK(Sample(m, "rotor_pending_changes", {on_drift, R"(cause="config")"}) == causes.at("config"));
  CHECK(Sample(m, "rotor_vm_first_page_logins", {on_drift}) == 2);  // admin, intruder
  CHECK(Sample(m, "rotor_login_secret_age_seconds", {on_drift, R"(user="intruder")"}) >= 0);
  CHECK(Sample(m, "rotor_last_run_success", {on_drift}) == 1);

  // A folder that does not exist: refused before anything is written.
  auto refused = w.Rotor({"apply", "--auto-approve", "--metrics-file", "no/such/m.prom"});
  CHECK(refused.exit_code == 1);
  CHECK(absl::StrContains(refused.stderr_data,
                          "--metrics-file no/such/m.prom: folder no/such does not exist"));
  CHECK(PlannedCauses(w).at("config") == causes.at("config"));

  // apply --verify: converged, and verify's checks, the deleted login refused.
  auto apply = w.Rotor({"apply", "--auto-approve", "--verify", "--metrics-file", "apply.prom"});
  INFO(apply.stdout_data, apply.stderr_data);
  REQUIRE(apply.exit_code == 0);
  m = Metrics(w, "apply.prom");
  const std::string on_apply = absl::StrCat(registry, R"(,command="apply")");
  CHECK(Sample(m, "rotor_last_run_success", {on_apply}) == 1);
  CHECK(Sample(m, "rotor_pending_changes", {on_apply, R"(cause="config")"}) == 0);
  CHECK(Sample(m, "rotor_pending_changes", {on_apply, R"(cause="drift")"}) == 0);
  CHECK(Sample(m, "rotor_vm_first_page_logins", {on_apply}) == 2);  // admin, ops
  CHECK(Sample(m, "rotor_login_secret_age_seconds", {on_apply, R"(user="ops")"}) <= 60);
  // The deleted login is gone from the vault's logins.
  CHECK_FALSE(absl::StrContains(
      m, absl::StrCat("rotor_login_secret_age_seconds{", on_apply, ",user=\"intruder\"}")));
  CHECK(Sample(m, "rotor_verify_check_success", {on_apply, R"(check="login",user="ops")"}) == 1);
  CHECK(Sample(m, "rotor_verify_check_success",
               {on_apply, R"(check="rejected",user="intruder")"}) == 1);
  CHECK(Sample(m, "rotor_verify_check_success", {on_apply, R"(check="certificate")"}) == 1);

  // verify: the certificate the registry serves; a failed check fails the run.
  w.WaitForRegistry();
  auto verify =
      w.Rotor({"verify", "--expect-rejected", "admin=ADMIN_PW", "--metrics-file", "verify.prom"});
  CHECK(verify.exit_code == 1);
  m = Metrics(w, "verify.prom");
  const std::string on_verify = absl::StrCat(registry, R"(,command="verify")");
  CHECK(Sample(m, "rotor_last_run_success", {on_verify}) == 0);
  CHECK(Sample(m, "rotor_verify_check_success", {on_verify, R"(check="login",user="admin")"}) == 1);
  CHECK(Sample(m, "rotor_verify_check_success", {on_verify, R"(check="rejected",user="admin")"}) ==
        0);
  CHECK(Sample(m, "rotor_certificate_expiry_timestamp_seconds", {on_verify}) == not_after);
  CHECK_FALSE(absl::StrContains(m, "rotor_pending_changes"));
  for (const char* file : {"plan.prom", "drift.prom", "apply.prom", "verify.prom"}) {
    struct stat st {};
    REQUIRE(::stat(w.Path(file).c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0644);
  }
}

}  // namespace
}  // namespace rotor
