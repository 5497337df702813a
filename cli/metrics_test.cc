// --metrics-file's renderer on a known state: the exact text for a plan and
// a verification, accepted by `promtool check metrics` (Debian's
// prometheus package, installed by scripts/bootstrap.sh).
#include "cli/metrics.h"

#include <doctest/doctest.h>

#include "absl/strings/match.h"
#include "base/process.h"

namespace rotor::cli {
namespace {

const absl::Time kAt = absl::FromUnixSeconds(1767225600);  // 2026-01-01T00:00:00Z

RegistryMetrics KnownRegistry() {
  RegistryMetrics r;
  r.config = "fleet/alpha.toml";
  r.vault = "alphakv";
  r.resource_group = "rg-alpha";
  r.certificate_secret = "containersecret";
  Plan plan;
  plan.observed.at = kAt;
  plan.observed.certificate =
      ObservedCertificate{"containersecret", "ABCDEF", kAt + absl::Hours(24 * 30)};
  plan.observed.logins = {{"admin", kAt - absl::Hours(48), true},
                          {"ci", kAt - absl::Seconds(90), true}};
  plan.observed.vault_secrets = 27;
  plan.observed.vm_first_page_logins = 24;
  plan.observed.vm_logins_beyond_first_page = 2;
  plan.observed.last_successful_deployment = kAt - absl::Hours(1);
  Change drift;
  drift.address = "stale_user.intruder";
  drift.action = Action::kDelete;
  drift.cause = Cause::kDrift;
  Change config;
  config.address = "user.ops";
  config.action = Action::kCreate;
  plan.changes = {drift, config, config};
  r.plan = plan;
  r.finished = true;
  r.exit_code = 2;
  r.finished_at = kAt + absl::Seconds(3);
  return r;
}

ProcessResult Promtool(const std::string& text) {
  ProcessOptions options;
  options.stdin_data = text;
  options.timeout = absl::Seconds(30);
  auto result = RunProcess({"promtool", "check", "metrics"}, options);
  REQUIRE_MESSAGE(result.ok(),
                  "promtool (Debian package prometheus) is installed by "
                  "scripts/bootstrap.sh");
  return *result;
}

TEST_CASE("metrics: a plan renders every family with HELP, TYPE and the registry's labels") {
  const std::string text = RenderMetrics("drift", {KnownRegistry()});
  const std::string labels =
      R"(config="fleet/alpha.toml",vault="alphakv",resource_group="rg-alpha",command="drift")";
  const std::string expected = absl::StrCat(
      "# HELP rotor_last_run_timestamp_seconds When this rotor command last finished for the "
      "registry (Unix time).\n"
      "# TYPE rotor_last_run_timestamp_seconds gauge\n"
      "rotor_last_run_timestamp_seconds{",
      labels, "} 1767225603\n",
      "# HELP rotor_last_run_success 1 when this rotor command last finished without error for "
      "the registry, 0 when it failed.\n"
      "# TYPE rotor_last_run_success gauge\n"
      "rotor_last_run_success{",
      labels, "} 1\n");
  CHECK(text.substr(0, expected.size()) == expected);
  for (const std::string line : {
           "rotor_certificate_expiry_timestamp_seconds{" + labels +
               ",secret=\"containersecret\"} 1769817600",
           "rotor_certificate_remaining_seconds{" + labels + ",secret=\"containersecret\"} 2592000",
           "rotor_login_secret_updated_timestamp_seconds{" + labels + ",user=\"admin\"} 1767052800",
           "rotor_login_secret_age_seconds{" + labels + ",user=\"admin\"} 172800",
           "rotor_login_secret_age_seconds{" + labels + ",user=\"ci\"} 90",
           "rotor_pending_changes{" + labels + ",cause=\"config\"} 2",
           "rotor_pending_changes{" + labels + ",cause=\"drift\"} 1",
           "rotor_vault_secrets{" + labels + "} 27",
           "rotor_vm_first_page_logins{" + labels + "} 24",
           "rotor_vm_logins_beyond_first_page{" + labels + "} 2",
           "rotor_last_successful_deployment_timestamp_seconds{" + labels + "} 1767222000",
           std::string("# TYPE rotor_pending_changes gauge"),
       }) {
    CAPTURE(line);
    CHECK(absl::StrContains(text, line + "\n"));
  }
  CHECK_FALSE(absl::StrContains(text, "rotor_verify"));
  ProcessResult checked = Promtool(text);
  INFO(text, checked.stdout_data, checked.stderr_data);
  CHECK(checked.exit_code == 0);
}

TEST_CASE("metrics: verify checks, a failed run, a fleet, and label escaping") {
  RegistryMetrics verified;
  verified.config = "beta.toml";
  verified.vault = "betakv";
  verified.certificate_secret = "containersecret";
  VerifyReport report;
  VerifyCheck cert{"certificate", true, "serves ABC"};
  cert.served_not_after = kAt + absl::Hours(10);
  VerifyCheck login{"user admin", true, "GET /v2/ -> 200"};
  login.user = "admin";
  login.expected_status = 200;
  VerifyCheck rejected{"rejected old", false, "GET /v2/ -> 200"};
  rejected.user = "old";
  rejected.expected_status = 401;
  report.checks = {cert, login, rejected};
  verified.verify = report;
  verified.verified_at = kAt;
  verified.finished = true;
  verified.exit_code = 1;
  verified.finished_at = kAt;

  RegistryMetrics broken;  // its config did not load
  broken.config = "we\"ird\\name\n.toml";
  broken.finished = true;
  broken.exit_code = 1;
  broken.finished_at = kAt;

  const std::string text = RenderMetrics("verify", {KnownRegistry(), verified, broken});
  const std::string beta = R"(config="beta.toml",vault="betakv",command="verify")";
  for (const std::string line : {
           "rotor_verify_check_success{" + beta + ",check=\"certificate\"} 1",
           "rotor_verify_check_success{" + beta + ",check=\"login\",user=\"admin\"} 1",
           "rotor_verify_check_success{" + beta + ",check=\"rejected\",user=\"old\"} 0",
           "rotor_certificate_remaining_seconds{" + beta + ",secret=\"containersecret\"} 36000",
           "rotor_last_run_success{" + beta + "} 0",
           std::string(
               R"(rotor_last_run_success{config="we\"ird\\name\n.toml",command="verify"} 0)"),
       }) {
    CAPTURE(line);
    CHECK(absl::StrContains(text, line + "\n"));
  }
  // One HELP and TYPE per family, whatever the number of registries.
  size_t helps = 0;
  for (size_t at = text.find("# HELP rotor_last_run_success "); at != std::string::npos;
       at = text.find("# HELP rotor_last_run_success ", at + 1)) {
    ++helps;
  }
  CHECK(helps == 1);
  ProcessResult checked = Promtool(text);
  INFO(text, checked.stdout_data, checked.stderr_data);
  CHECK(checked.exit_code == 0);
}

TEST_CASE("metrics: nothing recorded renders an empty file, which promtool accepts") {
  CHECK(RenderMetrics("plan", {}).empty());
  CHECK(Promtool("").exit_code == 0);
}

}  // namespace
}  // namespace rotor::cli
