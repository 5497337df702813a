// The request budget of issue 7, held exactly against the real rotor and a
// fresh rotor-emulator: a plan is one pass over the secret list (a request
// per 25 secrets) plus one read per declared secret, and nothing else
// scales with the vault; an apply of N new versions adds exactly N writes,
// the certificate check before the redeploy, and a convergence check that
// lists again but reads nothing it wrote.
#include <doctest/doctest.h>

#include "absl/strings/str_cat.h"
#include "bench/bench_workspace.h"
#include "tests/support/testing.h"

namespace rotor::bench {
namespace {

int64_t Op(const EmulatorCounts& c, const std::string& name) {
  auto it = c.operations.find(name);
  return it == c.operations.end() ? 0 : it->second;
}

struct Workspace {
  explicit Workspace(int users) {
    auto created = BenchWorkspace::Create(dir.Path("w"), testing::BuildDir(), users);
    REQUIRE_MESSAGE(created.ok(), created.status().ToString());
    w = *std::move(created);
    absl::Status started = w->StartEmulator({});
    REQUIRE_MESSAGE(started.ok(), started.ToString());
  }
  // Runs rotor with the passwords of `round` and returns what the emulator
  // counted.
  EmulatorCounts Run(const std::vector<std::string>& args, int round) {
    REQUIRE(w->ResetStats().ok());
    auto before = w->ReadStats();  // the token counter is not reset
    REQUIRE(before.ok());
    auto run = w->Rotor(args, round);
    REQUIRE(run.ok());
    INFO("rotor ", args[0], " stderr:\n", run->stderr_data.substr(0, 3000));
    REQUIRE(run->exit_code == 0);
    auto counts = w->ReadStats();
    REQUIRE(counts.ok());
    counts->tokens -= before->tokens;
    return *counts;
  }
  testing::TempDir dir;
  std::unique_ptr<BenchWorkspace> w;
};

// Pages of the secret list: N users and the certificate, 25 a page.
int64_t Pages(int users) { return (users + 1 + 24) / 25; }

TEST_CASE("a plan is one list pass plus one read per declared secret") {
  constexpr int kUsers = 60;
  Workspace ws(kUsers);
  for (std::string parallelism : {"16", "1"}) {
    CAPTURE(parallelism);
    EmulatorCounts c = ws.Run({"plan", "--parallelism", parallelism}, 0);
    // The list (and the first, unauthenticated request that learns Key
    // Vault's audience from its challenge).
    CHECK(Op(c, "GetSecrets") == Pages(kUsers) + 1);
    // Each declared user and the certificate, once; no version listing.
    CHECK(Op(c, "GetSecret") == kUsers + 1);
    CHECK(Op(c, "GetSecretVersions") == 0);
    CHECK(Op(c, "GetDeletedSecrets") == 1);
    CHECK(c.vault_requests == Pages(kUsers) + 1 + kUsers + 1 + 1);
    CHECK(c.throttled == 0);
    // ARM: the deployment list, one page; two tokens (Key Vault, ARM) and
    // the stamp's metadata.
    CHECK(c.arm_requests == 1);
    CHECK(c.tokens == 2);
    CHECK(c.requests == c.vault_requests + c.arm_requests + c.tokens + 1);
  }
}

TEST_CASE("nothing else in a plan scales with the vault") {
  Workspace small(30);
  Workspace large(130);
  EmulatorCounts a = small.Run({"plan"}, 0);
  EmulatorCounts b = large.Run({"plan"}, 0);
  CHECK(b.requests - a.requests == (Pages(130) - Pages(30)) + (130 - 30));
}

TEST_CASE("an apply of N new versions: N writes, one certificate check, one redeploy") {
  constexpr int kUsers = 40;
  Workspace ws(kUsers);
  EmulatorCounts c = ws.Run({"apply", "--auto-approve"}, 1);
  CHECK(Op(c, "SetSecret") == kUsers);
  // The refresh reads every declared secret; the redeploy reads the PFX at
  // the URL it passes; the convergence check lists again but reads nothing
  // (the list shows the versions just written, and the certificate as read).
  CHECK(Op(c, "GetSecret") == kUsers + 1 + 1);
  CHECK(Op(c, "GetSecrets") == 2 * Pages(kUsers) + 1);
  CHECK(Op(c, "GetSecretVersions") == 0);
  CHECK(Op(c, "GetDeletedSecrets") == 2);
  CHECK(c.throttled == 0);
  // The next plan has nothing to do.
  auto plan = ws.w->Rotor({"plan", "--detailed-exitcode"}, 1);
  REQUIRE(plan.ok());
  CHECK(plan->exit_code == 0);
}

}  // namespace
}  // namespace rotor::bench
