#include "cli/console.h"

#include <doctest/doctest.h>

#include <sstream>

#include "absl/strings/match.h"

namespace rotor::cli {
namespace {

const absl::Time kNow = absl::FromUnixSeconds(1790000000);  // 2026-09-21T14:13:20Z

struct Fixture {
  std::ostringstream err;
  FakeClock clock{kNow};
  ConsoleOptions Options(LogFormat format, bool tty) {
    ConsoleOptions o;
    o.err = &err;
    o.err_is_tty = tty;
    o.format = format;
    o.clock = &clock;
    return o;
  }
};

TEST_CASE("on a terminal, progress is one status line rewritten in place") {
  Fixture f;
  Console console(f.Options(LogFormat::kText, /*tty=*/true));
  CHECK(console.status_line());
  console.Progress("", "deployment.progress", "Still redeploying... [10s elapsed]");
  console.Progress("", "deployment.progress", "Still redeploying... [1m0s elapsed]");
  CHECK(f.err.str() == "\rStill redeploying... [10s elapsed]\rStill redeploying... [1m0s elapsed]");
  // A shorter text blanks what the longer one left.
  f.err.str("");
  console.Progress("", "deployment.progress", "short");
  CHECK(f.err.str() == "\rshort" + std::string(30, ' ') + "\rshort");

  // Other output erases the line first.
  std::ostringstream out;
  auto wrapped = console.WrapStream(out, /*to_events=*/false);
  f.err.str("");
  *wrapped << "Apply complete!\n";
  wrapped->flush();
  CHECK(f.err.str() == "\r     \r");
  CHECK(out.str() == "Apply complete!\n");
  // Nothing to erase now.
  f.err.str("");
  *wrapped << "more\n";
  CHECK(f.err.str().empty());
}

TEST_CASE("a fleet's registries share the status line, each its own part") {
  Fixture f;
  ConsoleOptions o = f.Options(LogFormat::kText, true);
  o.columns = 70;
  Console console(o);
  console.Progress("alphakv", "deployment.progress", "redeploying [5s]");
  console.Progress("betakv", "http.retry", "throttled: retrying in 2s");
  std::string s = f.err.str();
  CHECK(absl::EndsWith(s, "\ralphakv: redeploying [5s] | betakv: throttled: retrying in 2s"));
  console.Progress("alphakv", "deployment.progress",
                   "a much longer progress text than fits on the line");
  s = f.err.str();
  CHECK(absl::EndsWith(s, "..."));
  CHECK(s.substr(s.rfind('\r') + 1).size() == 69);
  console.EndProgress("alphakv");
  CHECK(absl::EndsWith(f.err.str(), "\rbetakv: throttled: retrying in 2s"));
  console.EndProgress("betakv");
  CHECK(absl::EndsWith(f.err.str(), "\r"));
}

TEST_CASE("log lines erase the status line and draw it again") {
  Fixture f;
  Console console(f.Options(LogFormat::kText, true));
  console.Progress("", "x", "waiting");
  f.err.str("");
  console.Log("warn", "", "throttled by host");
  CHECK(f.err.str() == "\r       \rrotor: [warn] throttled by host\n\rwaiting");
  f.err.str("");
  console.Log("info", "", "not shown at warn");
  CHECK(f.err.str().empty());
}

TEST_CASE("without a terminal, progress is plain timestamped lines") {
  Fixture f;
  Console console(f.Options(LogFormat::kText, /*tty=*/false));
  CHECK_FALSE(console.status_line());
  CHECK(console.plain_lines());
  console.Progress("", "deployment.progress", "not drawn");
  CHECK(f.err.str().empty());
  console.Line("newregkv", "deployment.registry: Still redeploying...");
  CHECK(f.err.str() ==
        "2026-09-21T14:13:20Z newregkv: deployment.registry: Still redeploying...\n");
  CHECK(console.Timestamp() == "2026-09-21T14:13:20Z");
}

TEST_CASE("--log-format json: one object per line for progress, logs and stderr text") {
  Fixture f;
  ConsoleOptions o = f.Options(LogFormat::kJson, true);
  o.log_level = "info";
  Console console(o);
  CHECK_FALSE(console.status_line());
  console.Progress("newregkv", "deployment.progress", "Still redeploying",
                   {StringField("state", "Running"), NumberField("elapsed_seconds", 12.5)});
  console.Log("info", "", "retrying GET \"x\"");
  console.Log("debug", "", "hidden");
  console.Event("info", "", "change.started", {StringField("address", "user.admin")});
  {
    std::ostringstream unused;
    auto err = console.WrapStream(unused, /*to_events=*/true);
    *err << "Error: something failed\nplain text\n";
    *err << "partial";
  }
  const std::string expected =
      "{\"time\":\"2026-09-21T14:13:20.000Z\",\"level\":\"info\",\"event\":\"deployment.progress\","
      "\"fields\":{\"registry\":\"newregkv\",\"state\":\"Running\",\"elapsed_seconds\":12.500,"
      "\"text\":\"Still redeploying\"}}\n"
      "{\"time\":\"2026-09-21T14:13:20.000Z\",\"level\":\"info\",\"event\":\"log\","
      "\"fields\":{\"message\":\"retrying GET \\\"x\\\"\"}}\n"
      "{\"time\":\"2026-09-21T14:13:20.000Z\",\"level\":\"info\",\"event\":\"change.started\","
      "\"fields\":{\"address\":\"user.admin\"}}\n"
      "{\"time\":\"2026-09-21T14:13:20.000Z\",\"level\":\"error\",\"event\":\"error\","
      "\"fields\":{\"message\":\"something failed\"}}\n"
      "{\"time\":\"2026-09-21T14:13:20.000Z\",\"level\":\"info\",\"event\":\"message\","
      "\"fields\":{\"text\":\"plain text\"}}\n"
      "{\"time\":\"2026-09-21T14:13:20.000Z\",\"level\":\"info\",\"event\":\"message\","
      "\"fields\":{\"text\":\"partial\"}}\n";
  CHECK(f.err.str() == expected);
}

TEST_CASE("--quiet: no progress, only error log lines") {
  Fixture f;
  ConsoleOptions o = f.Options(LogFormat::kText, true);
  o.quiet = true;
  o.log_level = "debug";
  Console console(o);
  CHECK_FALSE(console.status_line());
  CHECK_FALSE(console.plain_lines());
  console.Progress("", "x", "waiting");
  console.Line("", "a line");
  console.Log("warn", "", "a warning");
  CHECK(f.err.str().empty());
  console.Log("error", "", "an error");
  CHECK(f.err.str() == "rotor: [error] an error\n");
}

}  // namespace
}  // namespace rotor::cli
