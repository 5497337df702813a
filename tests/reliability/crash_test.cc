// kill -9 of `rotor apply` at seeded random points: after the Nth request
// the emulator journaled since the apply started. The next apply converges,
// the plan after it has no changes, the whole journal keeps the invariants,
// and every version ever written to a live secret is still in the vault.
#include <doctest/doctest.h>
#include <signal.h>

#include <algorithm>
#include <random>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "tests/reliability/reliability_workspace.h"

namespace rotor::reliability {
namespace {

constexpr int kTrials = 28;

TEST_CASE("crash: kill -9 of apply at seeded random points then apply converges") {
  JournaledWorkspace w;
  w.SetUsers({{"admin", "ADMIN_PW"}, {"ops", "OPS_PW"}});
  // One uninterrupted apply (ci deleted, ops created, the registry
  // redeployed) measures how many requests a rotation takes.
  w.ws().IssuePfx();
  int before = w.JournalLines();
  w.ExpectConverges("first apply");
  const int full = w.JournalLines() - before;
  REQUIRE(full > 4);

  std::mt19937 random(20250806);
  int killed = 0;
  for (int trial = 0; trial < kTrials; ++trial) {
    const std::string context = absl::StrCat("trial ", trial);
    INFO(context);
    // The change: new passwords, and every other trial a new certificate.
    w.env()["OPS_PW"] = absl::StrCat("Ops-Pw-Trial-", trial, "-c7");
    w.env()["ADMIN_PW"] = absl::StrCat("Admin-Pw-Trial-", trial, "-e2");
    if (trial % 2 == 0) w.ws().IssuePfx();

    // Within the first two thirds of a rotation, so that nearly every trial
    // is cut short.
    const int kill_after = std::uniform_int_distribution<int>(1, std::max(2, full * 2 / 3))(random);
    before = w.JournalLines();
    BackgroundProcess rotor =
        w.StartRotor({"apply", "--auto-approve", "--no-color"}, w.Path("killed-apply.log"));
    const absl::Time deadline = absl::Now() + absl::Seconds(60);
    bool running = true;
    while ((running = rotor.Running()) && w.JournalLines() - before < kill_after &&
           absl::Now() < deadline) {
      absl::SleepFor(absl::Microseconds(500));
    }
    const int exit_code = rotor.Stop(SIGKILL);
    if (running) {
      ++killed;
      CHECK(exit_code == 128 + SIGKILL);
    } else {
      CHECK_MESSAGE(exit_code == 0, rotor::testing::ReadFileOrDie(w.Path("killed-apply.log")));
    }
    w.ExpectInvariants(context + ", after the kill");
    w.ExpectConverges(context);
    w.ExpectInvariants(context + ", after converging");
    w.ExpectNothingLost(context);
  }
  CHECK(killed >= 25);
}

}  // namespace
}  // namespace rotor::reliability
