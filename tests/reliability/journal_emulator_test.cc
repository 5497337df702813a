// The emulator's journal as the checker reads it: what a request carried
// out is recorded even when the answer was then corrupted.
#include <doctest/doctest.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "tests/emulator/emulator_harness.h"
#include "tests/reliability/journal_checker.h"
#include "tests/support/testing.h"

namespace rotor::reliability {
namespace {

using emulator::testing::Emulator;
using emulator::testing::HttpResult;

TEST_CASE(
    "journal: a SetSecret whose answer was corrupted still records the version "
    "it wrote") {
  rotor::testing::TempDir dir;
  const std::string journal = dir.Path("journal.jsonl");
  Emulator emu({"--vault", "newregkv", "--journal", journal});
  const std::string token = emu.VaultToken();
  // Every answer from now on is corrupted (the token above was not); same
  // port, so the token's audience still holds.
  const std::string listen = absl::StrCat("127.0.0.1:", emu.port());
  CHECK(emu.Stop() == 0);
  Emulator corrupt(
      {"--vault", "newregkv", "--journal", journal, "--corrupt-rate", "1", "--listen", listen},
      emu.state_dir());
  HttpResult put = corrupt.Send("PUT", corrupt.VaultUrl("newregkv", "/secrets/a?api-version=7.4"),
                                R"({"value":"Journal-Test-Value-3f"})", token);
  CHECK(put.status == 200);
  CHECK_FALSE(put.body.empty());
  const std::string text = rotor::testing::ReadFileOrDie(journal);
  CHECK_FALSE(absl::StrContains(text, "Journal-Test-Value-3f"));
  auto entries = ParseJournal(text);
  REQUIRE(entries.ok());
  const JournalEntry* set = nullptr;
  for (const auto& e : *entries) {
    if (e.op == "SetSecret") set = &e;
  }
  REQUIRE(set != nullptr);
  CHECK(set->fault == "corrupt");
  CHECK(set->version.size() == 32);
  CHECK(corrupt.Stop() == 0);
}

}  // namespace
}  // namespace rotor::reliability
