// The fault matrix: one apply of a pending rotation (a new certificate, the
// user ops replacing ci, admin's new password) against an emulator that
// injects one kind of fault, seeded. In every cell rotor either succeeds or
// exits 1 with an error naming what failed; the journal keeps the
// invariants; and with the faults off the next apply converges and the plan
// after it shows no changes.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "tests/reliability/reliability_workspace.h"

namespace rotor::reliability {
namespace {

using emulator::testing::HttpResult;

struct Cell {
  std::string name;
  std::vector<std::string> faults;  // emulator flags
  // The fault fired: the journal lines of the faulty apply hold `fired`
  // at least `fired_count` times.
  std::string fired;
  int fired_count = 1;
  std::string deploy_duration;  // while faulty; "" the default
  std::map<std::string, std::string> env;
  // A failed apply's stderr names what failed with one of these.
  std::vector<std::string> errors;
  // The apply must fail (the fault cannot be retried away), or must
  // succeed (rotor waits the fault out).
  bool must_fail = false;
  bool must_succeed = false;
};

int CountIn(const std::string& text, const std::string& needle) {
  int n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

void RunCell(const Cell& cell, JournaledWorkspace& w) {
  INFO("cell ", cell.name);
  // The pending rotation.
  w.ws().IssuePfx();
  w.env()["ADMIN_PW"] = "Admin-Pw-Rotated-5e";
  w.SetUsers({{"admin", "ADMIN_PW"}, {"ops", "OPS_PW"}});
  w.Restart(cell.faults, cell.deploy_duration);
  for (const auto& [k, v] : cell.env) w.env()[k] = v;

  const size_t journal_before = rotor::testing::ReadFileOrDie(w.journal_path()).size();
  ProcessResult apply = w.Rotor({"apply", "--auto-approve", "--no-color"});
  if (!cell.fired.empty()) {
    const std::string during =
        rotor::testing::ReadFileOrDie(w.journal_path()).substr(journal_before);
    CHECK_MESSAGE(CountIn(during, cell.fired) >= cell.fired_count, "the fault did not fire (",
                  cell.fired, "):\n", during);
  }
  INFO("faulty apply exit ", apply.exit_code, "\nstdout:\n", apply.stdout_data, "\nstderr:\n",
       apply.stderr_data);
  CHECK((apply.exit_code == 0 || apply.exit_code == 1));
  if (cell.must_fail) CHECK(apply.exit_code == 1);
  if (cell.must_succeed) CHECK(apply.exit_code == 0);
  if (apply.exit_code == 1) {
    CHECK(absl::StrContains(apply.stderr_data, "Error: "));
    bool named = false;
    for (const auto& e : cell.errors) named = named || absl::StrContains(apply.stderr_data, e);
    CHECK_MESSAGE(named, "the error names none of: ", absl::StrJoin(cell.errors, " | "));
  }
  w.ExpectInvariants(cell.name + ", faulty apply");

  for (const auto& [k, v] : cell.env) w.env().erase(k);
  w.Restart({});
  w.ExpectConverges(cell.name);
  w.ExpectInvariants(cell.name + ", after converging");
  w.ExpectNothingLost(cell.name);
  // The rotation happened: ci is gone, ops and the new certificate live.
  auto versions = w.VaultVersions();
  CHECK(versions.count("ci") == 0);
  CHECK(versions.count("ops") == 1);
}

void Run(const Cell& cell) {
  JournaledWorkspace w;
  RunCell(cell, w);
}

TEST_CASE("fault matrix: 429 with Retry-After") {
  // Retry-After (at most a second here) is honoured at full length, so
  // the apply waits the throttling out.
  Run({.name = "429 Retry-After",
       .faults = {"--throttle", "5/1s", "--seed", "11"},
       .fired = "\"status\":429",
       .env = {{"ROTOR_TEST_TIME_SCALE", "1"}},
       .errors = {"429", "Throttled"},
       .must_succeed = true});
}

TEST_CASE("fault matrix: 429 without Retry-After") {
  Run({.name = "429 no Retry-After",
       .faults = {"--throttle", "6/2s", "--throttle-no-retry-after", "--seed", "12"},
       .fired = "\"status\":429",
       .errors = {"429", "Throttled"}});
}

TEST_CASE("fault matrix: 500 and 503") {
  Run({.name = "500/503",
       .faults = {"--fail-rate", "0.3", "--seed", "13"},
       .fired = "\"fault\":\"50",
       .errors = {"500", "503", "InternalServerError", "ServiceUnavailable"}});
}

TEST_CASE("fault matrix: dropped connections") {
  Run({.name = "drop",
       .faults = {"--drop-rate", "0.2", "--seed", "14"},
       .fired = "\"fault\":\"drop\"",
       .errors = {"connection", "Connection", "reply", "closed"}});
}

TEST_CASE("fault matrix: slow answers past the timeout") {
  Run({.name = "slow",
       .faults = {"--slow-rate", "0.2", "--slow", "2s", "--seed", "15"},
       .fired = "slow\"",
       .env = {{"ROTOR_HTTP_TIMEOUT", "500ms"}},
       .errors = {"timed out", "Timeout", "timeout"}});
}

TEST_CASE("fault matrix: truncated and malformed JSON") {
  Run({.name = "corrupt",
       .faults = {"--corrupt-rate", "0.2", "--seed", "16"},
       .fired = "\"fault\":\"corrupt\"",
       .errors = {"not a JSON object", "JSON"}});
}

TEST_CASE("fault matrix: a few corrupt answers are read again, and the apply succeeds") {
  // Issue 16: under 3% corrupt answers 3 of 4 applies failed where reading
  // again would have succeeded. A corrupt answer to a read is read again;
  // one to a write is an unknown outcome settled by reading back.
  for (const char* seed : {"21", "22", "24", "25"}) {
    Run({.name = absl::StrCat("corrupt 3%, seed ", seed),
         .faults = {"--corrupt-rate", "0.03", "--seed", seed},
         .fired = "\"fault\":\"corrupt\"",
         .errors = {"JSON"},
         .must_succeed = true});
  }
}

TEST_CASE("fault matrix: the token expires in the middle of an apply") {
  // Tokens live a second; the redeploy runs three, with slow requests:
  // rotor must fetch fresh tokens as it goes.
  Run({.name = "token expiry",
       .faults = {"--token-lifetime", "1s", "--latency", "30ms", "--seed", "17"},
       .fired = "\"surface\":\"token\"",
       .fired_count = 3,
       .deploy_duration = "3s",
       .errors = {"token", "401"}});
}

TEST_CASE("fault matrix: a failed deployment") {
  Run({.name = "deploy fail",
       .faults = {"--deploy-fail", "newregreg", "--seed", "18"},
       .errors = {"ended Failed"},
       .must_fail = true});
}

TEST_CASE("fault matrix: a deployment that never ends") {
  Run({.name = "deploy never ends",
       .faults = {"--seed", "19"},
       .deploy_duration = "1h",
       .env = {{"ROTOR_DEPLOYMENT_TIMEOUT", "2s"}},
       .errors = {"is still Running after 2s"},
       .must_fail = true});
}

TEST_CASE("fault matrix: a soft-deleted name in the way") {
  // ops was created and deleted out of band: its name is soft-deleted, and
  // writing it is refused until rotor recovers it.
  JournaledWorkspace w;
  w.ws().PutSecret("ops", "Ops-Out-Of-Band-Value-9d", "user credentials");
  auto& emu = w.ws().emu();
  HttpResult del = emu.Send("DELETE", emu.VaultUrl("newregkv", "/secrets/ops?api-version=7.4"), "",
                            emu.VaultToken());
  REQUIRE_MESSAGE(del.status == 200, del.body);
  w.ws().AddSecret("Ops-Out-Of-Band-Value-9d");
  RunCell({.name = "soft-deleted name",
           .faults = {"--seed", "20"},
           .fired = "\"op\":\"RecoverDeletedSecret\"",
           .errors = {"ops"}},
          w);
}

}  // namespace
}  // namespace rotor::reliability
