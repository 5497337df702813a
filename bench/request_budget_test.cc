// The request budget of issue 7, held exactly against the real rotor and a
// fresh rotor-emulator: a plan is one pass over the secret list (a request
// per 25 secrets) plus one read per declared secret, and nothing else
// scales with the vault; an apply of N new versions adds exactly N writes,
// the certificate check before the redeploy, and a convergence check that
// lists again but reads nothing it wrote.
#include <doctest/doctest.h>

#include <map>
#include <string>

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

// The vault's requests of each operation are as `expected`, but for one:
// the first request of a run gets the 401 challenge that tells rotor Key
// Vault's audience, and is sent again. Which request goes first (the list,
// a read, the deleted-secret list) depends on the threads.
void CheckOperations(const EmulatorCounts& c, const std::map<std::string, int64_t>& expected) {
  CHECK(c.unauthorized == 1);
  int64_t extra = 0;
  for (const auto& entry : expected) {
    const std::string& op = entry.first;  // not a structured binding: CAPTURE
    CAPTURE(op);                          // takes it in a lambda (clang 14)
    const int64_t more = Op(c, op) - entry.second;
    CHECK((more == 0 || more == 1));
    extra += more;
  }
  CHECK(extra == c.unauthorized);
  int64_t total = 0;
  for (const auto& entry : c.operations) total += entry.second;
  CHECK(total == c.vault_requests);  // no operation but the expected ones
  CHECK(c.operations.size() <= expected.size());
}

TEST_CASE("request budget: a plan is one list pass plus one read per declared secret") {
  constexpr int kUsers = 60;
  Workspace ws(kUsers);
  for (std::string parallelism : {"16", "1"}) {
    CAPTURE(parallelism);
    EmulatorCounts c = ws.Run({"plan", "--parallelism", parallelism}, 0);
    // The list, once; each declared user and the certificate, once; one
    // page of the (empty) deleted-secret list; no version listing.
    CheckOperations(
        c, {{"GetSecrets", Pages(kUsers)}, {"GetSecret", kUsers + 1}, {"GetDeletedSecrets", 1}});
    CHECK(c.vault_requests == Pages(kUsers) + kUsers + 1 + 1 + 1);
    CHECK(c.throttled == 0);
    // ARM: the deployment list, one page, and the template a redeploy
    // would send (exported once); two tokens (Key Vault, ARM) and the
    // stamp's metadata.
    CHECK(c.arm_requests == 2);
    CHECK(c.tokens == 2);
    CHECK(c.requests == c.vault_requests + c.arm_requests + c.tokens + 1);
  }
}

TEST_CASE("request budget: nothing else in a plan scales with the vault") {
  Workspace small(30);
  Workspace large(130);
  EmulatorCounts a = small.Run({"plan"}, 0);
  EmulatorCounts b = large.Run({"plan"}, 0);
  CHECK(b.requests - a.requests == (Pages(130) - Pages(30)) + (130 - 30));
}

TEST_CASE(
    "request budget: an apply of N new versions: N writes, one certificate check, one redeploy") {
  constexpr int kUsers = 40;
  Workspace ws(kUsers);
  EmulatorCounts c = ws.Run({"apply", "--auto-approve"}, 1);
  CHECK(Op(c, "SetSecret") == kUsers);
  // The refresh reads every declared secret; the redeploy reads the PFX at
  // the URL it passes; the convergence check lists again but reads nothing
  // (the list shows the versions just written, and the certificate as read).
  CheckOperations(c, {{"SetSecret", kUsers},
                      {"GetSecret", kUsers + 1 + 1},
                      {"GetSecrets", 2 * Pages(kUsers)},
                      {"GetDeletedSecrets", 2}});
  CHECK(c.writes == kUsers);
  CHECK(c.throttled == 0);
  // The next plan has nothing to do.
  auto plan = ws.w->Rotor({"plan", "--detailed-exitcode"}, 1);
  REQUIRE(plan.ok());
  CHECK(plan->exit_code == 0);
}

}  // namespace
}  // namespace rotor::bench
