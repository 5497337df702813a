// Fault injection: throttles, failures, dropped connections, latency, seeds.
#include "tests/emulator/faults.h"

#include <doctest/doctest.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "tests/emulator/emulator_harness.h"

namespace rotor::emulator::testing {
namespace {

std::vector<std::string> Args(std::vector<std::string> more) {
  std::vector<std::string> args = {
      "--vault", "kv", "--vault", "kv2", "--client", absl::StrCat(kClientId, ":", kClientSecret)};
  args.insert(args.end(), more.begin(), more.end());
  return args;
}

TEST_CASE("SlidingWindow admits at most N per window and does not count refusals") {
  SlidingWindow w({3, absl::Seconds(10)});
  const absl::Time t0 = absl::FromUnixSeconds(1000);
  CHECK_FALSE(w.Admit(t0).has_value());
  CHECK_FALSE(w.Admit(t0 + absl::Seconds(1)).has_value());
  CHECK_FALSE(w.Admit(t0 + absl::Seconds(2)).has_value());
  auto wait = w.Admit(t0 + absl::Seconds(3));
  REQUIRE(wait.has_value());
  CHECK(*wait == absl::Seconds(7));
  CHECK(w.Admit(t0 + absl::Seconds(9)).has_value());
  // The first admission leaves the window at t0 + 10s.
  CHECK_FALSE(w.Admit(t0 + absl::Seconds(10)).has_value());
  CHECK(w.Admit(t0 + absl::Seconds(10)).has_value());
  SlidingWindow off({});
  for (int i = 0; i < 100; ++i) CHECK_FALSE(off.Admit(t0).has_value());
}

TEST_CASE("FaultInjector draws the same decisions from the same seed") {
  FaultInjector a(0.3, 0.2, 42), b(0.3, 0.2, 42);
  int faults = 0;
  for (int i = 0; i < 200; ++i) {
    Fault fa = a.Next();
    CHECK(fa == b.Next());
    faults += fa != Fault::kNone;
  }
  CHECK(faults > 40);
  CHECK(faults < 160);
  FaultInjector none(0, 0, 1);
  CHECK(none.Next() == Fault::kNone);
}

TEST_CASE("--throttle answers 429 with Retry-After per vault - --write-throttle limits writes") {
  Emulator emu(Args({"--throttle", "5/10s", "--write-throttle", "2/10s"}));
  const std::string token = emu.VaultToken();
  // The challenge does not use the budget.
  CHECK(emu.Get(emu.VaultUrl("kv", "/secrets?api-version=7.4")).status == 401);
  CHECK(emu.Send("PUT", emu.VaultUrl("kv", "/secrets/a?api-version=7.4"), R"({"value":"1"})", token)
            .status == 200);
  CHECK(emu.Send("PUT", emu.VaultUrl("kv", "/secrets/a?api-version=7.4"), R"({"value":"2"})", token)
            .status == 200);
  HttpResult r =
      emu.Send("PUT", emu.VaultUrl("kv", "/secrets/a?api-version=7.4"), R"({"value":"3"})", token);
  CHECK(r.status == 429);
  CHECK(JsonString(r.Json(), "error/code") == "Throttled");
  CHECK(JsonString(r.Json(), "error/message") ==
        "Request was not processed because too many requests were received. Reason: "
        "VaultRequestTypeLimitReached");
  // Reads still pass until the all-transactions budget (5) is spent; the
  // refused write did not count.
  CHECK(emu.Get(emu.VaultUrl("kv", "/secrets/a?api-version=7.4"), token).status == 200);
  CHECK(emu.Get(emu.VaultUrl("kv", "/secrets/a?api-version=7.4"), token).status == 200);
  CHECK(emu.Get(emu.VaultUrl("kv", "/secrets/a?api-version=7.4"), token).status == 200);
  r = emu.Get(emu.VaultUrl("kv", "/secrets/a?api-version=7.4"), token);
  CHECK(r.status == 429);
  int retry_after = 0;
  REQUIRE(absl::SimpleAtoi(r.Header("Retry-After"), &retry_after));
  CHECK(retry_after >= 1);
  CHECK(retry_after <= 10);
  // Another vault has its own budget.
  CHECK(emu.Get(emu.VaultUrl("kv2", "/secrets?api-version=7.4"), token).status == 200);
  auto stats = emu.Stats();
  CHECK(JsonString(stats, "vaults/kv/throttled") == "2");
  CHECK(JsonString(stats, "vaults/kv/status/429") == "2");
  CHECK(JsonString(stats, "vaults/kv/writes") == "2");
  CHECK(JsonString(stats, "vaults/kv/requests") == "8");
  CHECK(JsonString(stats, "vaults/kv2/throttled") == "0");
}

TEST_CASE("--throttle-no-retry-after answers 429 without Retry-After") {
  Emulator emu(Args({"--throttle", "1/10s", "--throttle-no-retry-after"}));
  const std::string token = emu.VaultToken();
  CHECK(emu.Get(emu.VaultUrl("kv", "/secrets?api-version=7.4"), token).status == 200);
  HttpResult r = emu.Get(emu.VaultUrl("kv", "/secrets?api-version=7.4"), token);
  CHECK(r.status == 429);
  CHECK(r.Header("Retry-After").empty());
}

TEST_CASE("--fail-rate 1 fails every request, --drop-rate 1 drops every connection") {
  {
    Emulator emu(Args({"--fail-rate", "1"}));
    for (int i = 0; i < 4; ++i) {
      HttpResult r = emu.Get(emu.ArmUrl("/metadata/endpoints?api-version=2015-01-01"));
      CHECK((r.status == 500 || r.status == 503));
    }
    // The admin endpoints are exempt.
    auto stats = emu.Stats();
    CHECK(JsonString(stats, "failed_injected") == "4");
  }
  {
    Emulator emu(Args({"--drop-rate", "1"}));
    HttpResult r = emu.Get(emu.ArmUrl("/metadata/endpoints?api-version=2015-01-01"));
    CHECK(r.status == 0);
    CHECK(r.curl_exit != 0);
    CHECK(JsonString(emu.Stats(), "dropped") == "1");
  }
}

TEST_CASE("scripted answers: a form body over 8 KiB is refused - another content type is not") {
  // The limit tests/emulator/README.md documents: cpp-httplib refuses (413)
  // a form-encoded body over 8 KiB, curl's default content type.
  Emulator emu(Args({}));
  const std::string body(9 * 1024, 'x');
  const std::string answer =
      emu.Url("127.0.0.1", "/_emulator/answer?path=/secrets/big&method=GET&status=200");
  CHECK(emu.Request("POST", answer, body).status == 413);
  CHECK(emu.Request("POST", answer, body, {"Content-Type: application/octet-stream"}).status ==
        204);
  HttpResult served = emu.Get(emu.VaultUrl("kv", "/secrets/big?api-version=7.4"));
  CHECK(served.status == 200);
  CHECK(served.body == body);
  // Or a smaller body repeated.
  CHECK(emu.Request("POST", answer + "&repeat=9", std::string(1024, 'y')).status == 204);
  CHECK(emu.Get(emu.VaultUrl("kv", "/secrets/big?api-version=7.4")).body ==
        std::string(9 * 1024, 'y'));
}

TEST_CASE("--seed replays the same faults - --latency delays answers") {
  auto run = [](const std::string& seed) {
    Emulator emu(Args({"--fail-rate", "0.5", "--seed", seed}));
    std::string statuses;
    for (int i = 0; i < 16; ++i) {
      statuses += absl::StrCat(
          emu.Get(emu.ArmUrl("/metadata/endpoints?api-version=2015-01-01")).status, " ");
    }
    return statuses;
  };
  const std::string first = run("7");
  CHECK(first == run("7"));
  CHECK(first.find("200") != std::string::npos);
  CHECK(first.find("50") != std::string::npos);

  Emulator slow(Args({"--latency", "300ms"}));
  const absl::Time start = absl::Now();
  CHECK(slow.Get(slow.ArmUrl("/metadata/endpoints?api-version=2015-01-01")).status == 200);
  CHECK(absl::Now() - start >= absl::Milliseconds(300));
}

}  // namespace
}  // namespace rotor::emulator::testing
