// Two `rotor apply` at once on one config: exactly one redeploy; the other
// refuses, naming the lock and the rotor that holds it (or, when it starts
// after the first finished, finds nothing to do).
#include <doctest/doctest.h>

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "base/files.h"
#include "tests/reliability/reliability_workspace.h"

namespace rotor::reliability {
namespace {

// Deployment PUTs rotor sent, per the journal.
int RotorDeploymentPuts(const JournaledWorkspace& w) {
  auto entries = ParseJournal(rotor::testing::ReadFileOrDie(w.journal_path()));
  REQUIRE(entries.ok());
  int n = 0;
  for (const auto& e : *entries) {
    n += e.IsDeploymentPut() && absl::StartsWith(e.client, "rotor/");
  }
  return n;
}

// Waits for a background rotor; its exit code.
int Wait(BackgroundProcess& p) {
  const absl::Time deadline = absl::Now() + absl::Seconds(120);
  while (p.Running() && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(5));
  CHECK_FALSE(p.Running());
  return p.Stop();
}

std::string LockMessage(int pid) {
  return absl::StrCat("another rotor process (pid ", pid, ") holds the lock ");
}

TEST_CASE(
    "concurrency: azurestack - a second apply while the first redeploys "
    "refuses naming the lock") {
  JournaledWorkspace w("2s");
  w.ws().IssuePfx();
  BackgroundProcess first =
      w.StartRotor({"apply", "--auto-approve", "--no-color"}, w.Path("first.log"));
  // The first one holds the lock for as long as its deployment runs.
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  while (RotorDeploymentPuts(w) == 0 && first.Running() && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  REQUIRE_MESSAGE(first.Running(), rotor::testing::ReadFileOrDie(w.Path("first.log")));
  const int first_pid = first.pid();
  ProcessResult second = w.Rotor({"apply", "--auto-approve", "--no-color"});
  CHECK(second.exit_code == 1);
  CHECK_MESSAGE(absl::StrContains(second.stderr_data, LockMessage(first_pid)), second.stderr_data);
  CHECK(absl::StrContains(second.stderr_data, w.RuntimeDir() + "/rotor/"));
  CHECK(Wait(first) == 0);
  CHECK(RotorDeploymentPuts(w) == 1);
  // Now it is free: nothing left to do.
  ProcessResult plan = w.Rotor({"plan", "--detailed-exitcode", "--no-color"});
  CHECK(plan.exit_code == 0);
  w.ExpectInvariants("two applies");
}

TEST_CASE("concurrency: azurestack - two applies started together redeploy once") {
  JournaledWorkspace w("1s");
  w.ws().IssuePfx();
  BackgroundProcess a = w.StartRotor({"apply", "--auto-approve", "--no-color"}, w.Path("a.log"));
  BackgroundProcess b = w.StartRotor({"apply", "--auto-approve", "--no-color"}, w.Path("b.log"));
  const int a_pid = a.pid(), b_pid = b.pid();
  const int a_exit = Wait(a);
  const int b_exit = Wait(b);
  const std::string a_log = rotor::testing::ReadFileOrDie(w.Path("a.log"));
  const std::string b_log = rotor::testing::ReadFileOrDie(w.Path("b.log"));
  INFO("a (exit ", a_exit, "):\n", a_log, "\nb (exit ", b_exit, "):\n", b_log);
  CHECK(RotorDeploymentPuts(w) == 1);
  // One redeployed; the other refused on the lock, or came after and
  // found no changes.
  const bool a_won = absl::StrContains(a_log, "1 redeployed");
  const bool b_won = absl::StrContains(b_log, "1 redeployed");
  CHECK(a_won != b_won);
  const std::string& loser_log = a_won ? b_log : a_log;
  const int loser_exit = a_won ? b_exit : a_exit;
  const int winner_pid = a_won ? a_pid : b_pid;
  CHECK(((loser_exit == 1 && absl::StrContains(loser_log, LockMessage(winner_pid))) ||
         (loser_exit == 0 && absl::StrContains(loser_log, "No changes"))));
  CHECK((a_won ? a_exit : b_exit) == 0);
  w.ExpectInvariants("two applies together");
}

TEST_CASE(
    "concurrency: local - a second apply while the first redeploys refuses "
    "naming the lock") {
  LocalRegistry r;
  ProcessResult first_apply = r.Rotor({"apply", "--auto-approve"});
  REQUIRE_MESSAGE(first_apply.exit_code == 0, first_apply.stdout_data, first_apply.stderr_data);
  const int deployments = r.Deployments();
  REQUIRE(deployments >= 1);
  r.IssuePfx();
  BackgroundProcess first = r.Start({"apply", "--auto-approve"}, "first.log");
  // The lock file names its holder once it is taken.
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  const std::string lock = r.Path(".rotor/lock");
  while (first.Running() && absl::Now() < deadline) {
    auto text = ReadFile(lock);
    if (text.ok() && absl::StrContains(*text, absl::StrCat(first.pid()))) break;
    absl::SleepFor(absl::Milliseconds(1));
  }
  REQUIRE_MESSAGE(first.Running(), rotor::testing::ReadFileOrDie(r.Path("first.log")));
  ProcessResult second = r.Rotor({"apply", "--auto-approve"});
  CHECK(second.exit_code == 1);
  CHECK_MESSAGE(absl::StrContains(second.stderr_data, LockMessage(first.pid()) + lock),
                second.stderr_data);
  CHECK_FALSE(absl::StrContains(second.stdout_data, "Redeploying"));
  CHECK(Wait(first) == 0);
  CHECK(absl::StrContains(rotor::testing::ReadFileOrDie(r.Path("first.log")), "1 redeployed."));
  CHECK(r.Deployments() <= deployments + 1);
  CHECK(r.Rotor({"plan", "--detailed-exitcode"}).exit_code == 0);
}

}  // namespace
}  // namespace rotor::reliability
