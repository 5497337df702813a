// Ctrl-C during a redeploy (cli/interrupt.h), on the real `rotor` binary
// against rotor-emulator: the deployment keeps running in ARM, rotor says
// so and how to see it, exits 130, and the next apply waits for it.
#include <doctest/doctest.h>

#include <csignal>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "base/files.h"
#include "base/process.h"
#include "cli/interrupt.h"
#include "tests/e2e/azure_workspace.h"
#include "tests/support/testing.h"

namespace rotor {
namespace {

using e2e::AzureWorkspace;
using e2e::JsonString;

// `rotor ARGS` in the workspace, stdout and stderr to out.txt and err.txt.
BackgroundProcess StartRotor(AzureWorkspace& w, const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"sh", "-c", "exec \"$0\" \"$@\" >out.txt 2>err.txt",
                                   testing::BuildDir() + "/rotor"};
  argv.insert(argv.end(), args.begin(), args.end());
  ProcessOptions options;
  options.working_dir = w.Path(".");
  for (const auto& [k, v] : w.env()) options.env[k] = v;
  auto process = BackgroundProcess::Start(argv, options);
  REQUIRE(process.ok());
  return *std::move(process);
}

// Waits until `file` in the workspace holds `text`; fails the test after
// a minute.
std::string WaitFor(AzureWorkspace& w, const std::string& file, const std::string& text) {
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  for (;;) {
    auto contents = ReadFile(w.Path(file));
    if (contents.ok() && absl::StrContains(*contents, text)) return *contents;
    REQUIRE_MESSAGE(absl::Now() < deadline, file, " never held: ", text, "\n",
                    contents.ok() ? *contents : "");
    absl::SleepFor(absl::Milliseconds(50));
  }
}

// The name in "deployment NAME started in resource group newregreg".
std::string StartedDeployment(const std::string& out) {
  const std::string tail = " started in resource group newregreg";
  const size_t end = out.find(tail);
  REQUIRE(end != std::string::npos);
  const size_t begin = out.rfind("deployment ", end) + std::string("deployment ").size();
  return out.substr(begin, end - begin);
}

void CheckNoLeaks(AzureWorkspace& w) {
  std::vector<std::string> secrets = {e2e::kSpSecret, e2e::kPfxPassword, e2e::kClientSecret};
  for (const auto& [k, v] : w.env()) {
    if (absl::EndsWith(k, "_PW")) secrets.push_back(v);
  }
  const std::string leaks =
      e2e::FindSecretLeaks(testing::ReadFileOrDie(w.Path("out.txt")),
                           testing::ReadFileOrDie(w.Path("err.txt")), secrets);
  CHECK_MESSAGE(leaks.empty(), leaks);
}

TEST_CASE("Ctrl-C during a redeploy: the deployment keeps running, rotor says how to see it") {
  AzureWorkspace w;
  w.Seed();
  w.IssuePfx();
  w.Restart({}, "12s");  // long enough to be interrupted, twice

  BackgroundProcess apply = StartRotor(w, {"apply", "--auto-approve"});
  const std::string out = WaitFor(w, "out.txt", " started in resource group newregreg");
  const std::string name = StartedDeployment(out);
  absl::SleepFor(absl::Milliseconds(500));  // its first poll: ARM reported it running
  CHECK(apply.Stop(SIGINT, absl::Seconds(10)) == cli::kExitInterrupted);
  const std::string err = testing::ReadFileOrDie(w.Path("err.txt"));
  INFO("stdout:\n", testing::ReadFileOrDie(w.Path("out.txt")), "\nstderr:\n", err);
  CHECK(err == absl::StrCat("Interrupted: rotor stopped waiting for deployment ", name,
                            " in resource group newregreg, which keeps running in ARM (stopping "
                            "rotor does not stop it).\n"
                            "  See it with rotor show, in the Azure portal (the resource group's "
                            "Deployments) or with\n"
                            "    az deployment group show -g newregreg -n ",
                            name,
                            "\n  The next rotor apply waits for it to finish before it "
                            "redeploys.\n"));
  CheckNoLeaks(w);

  // It does keep running (ARM's Accepted, then Running), and rotor show
  // lists it.
  const std::string state = JsonString(w.Deployment(name), "properties/provisioningState");
  CHECK((state == "Accepted" || state == "Running"));
  auto show = w.Rotor({"show"});
  CHECK(show.exit_code == 0);
  CHECK(absl::StrContains(show.stdout_data, absl::StrCat("  ", name, "  ")));

  // The next apply that redeploys (a new admin password) waits for it;
  // interrupted while it waits, it names the deployment it waited for
  // (here as a --log-format json event).
  w.env()["ADMIN_PW"] = "Admin-Pw-Interrupted-5e";
  BackgroundProcess second = StartRotor(w, {"apply", "--auto-approve", "--log-format", "json"});
  WaitFor(w, "err.txt", absl::StrCat("; waiting for it to finish before redeploying"));
  absl::SleepFor(absl::Milliseconds(500));
  CHECK(second.Stop(SIGINT, absl::Seconds(10)) == cli::kExitInterrupted);
  const std::string events = testing::ReadFileOrDie(w.Path("err.txt"));
  INFO("stderr:\n", events);
  CHECK(
      absl::StrContains(events, absl::StrCat("\"level\":\"error\",\"event\":\"apply.interrupted\","
                                             "\"fields\":{\"deployment\":\"",
                                             name,
                                             "\",\"resource_group\":\"newregreg\",\"running\":true,"
                                             "\"text\":\"Interrupted: rotor stopped waiting for "
                                             "deployment ",
                                             name)));
  CheckNoLeaks(w);

  // Left alone, the next apply waits for it and then converges.
  auto third = w.Rotor({"apply", "--auto-approve"});
  CHECK(third.exit_code == 0);
  CHECK(absl::StrContains(third.stdout_data, absl::StrCat("deployment ", name, " is ")));
  CHECK(absl::StrContains(third.stdout_data, "; waiting for it to finish before redeploying"));
  CHECK(absl::StrContains(third.stdout_data, "Apply complete!"));
  CHECK(JsonString(w.Deployment(name), "properties/provisioningState") == "Succeeded");
  CHECK(w.Rotor({"plan", "--detailed-exitcode"}).exit_code == 0);
}

TEST_CASE("Ctrl-C while nothing is deployed acts as it always did") {
  AzureWorkspace w;
  w.Seed();
  // An apply that asks for approval: no deployment runs while it waits.
  std::vector<std::string> argv = {"sh", "-c", "exec \"$0\" \"$@\" >out.txt 2>err.txt",
                                   testing::BuildDir() + "/rotor", "apply"};
  ProcessOptions options;
  options.working_dir = w.Path(".");
  for (const auto& [k, v] : w.env()) options.env[k] = v;
  // Standard input stays open and silent: the plan is shown, then rotor
  // refuses (no terminal), unless the signal comes first.
  auto apply = BackgroundProcess::Start(argv, options);
  REQUIRE(apply.ok());
  absl::SleepFor(absl::Milliseconds(200));
  const int code = apply->Stop(SIGINT, absl::Seconds(10));
  CHECK((code == 128 + SIGINT || code == 1));
  CHECK_FALSE(absl::StrContains(testing::ReadFileOrDie(w.Path("err.txt")), "Interrupted"));
}

}  // namespace
}  // namespace rotor
