// The bad-config half of the catalogue: every file in
// bad-inputs/configs/*.toml is a config with one problem. Each names the
// text rotor must print in its first lines ("# expect: TEXT", one or more);
// `rotor apply --auto-approve` on it must exit 1 with that text and leave
// the local vault, deployments and registry files exactly as they were.
#include <doctest/doctest.h>
#include <signal.h>

#include <algorithm>
#include <filesystem>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "base/files.h"
#include "tests/hostile/workspace.h"

namespace rotor::hostile {
namespace {

struct BadConfig {
  std::string name;
  std::string text;
  std::vector<std::string> expected;
};

std::vector<BadConfig> LoadBadConfigs() {
  std::vector<BadConfig> out;
  for (const auto& entry : std::filesystem::directory_iterator(DataDir() + "/configs")) {
    if (entry.path().extension() != ".toml") continue;
    BadConfig c;
    c.name = entry.path().filename().string();
    c.text = rotor::testing::ReadFileOrDie(entry.path().string());
    for (absl::string_view line : absl::StrSplit(c.text, '\n')) {
      if (absl::ConsumePrefix(&line, "# expect:")) {
        c.expected.emplace_back(absl::StripAsciiWhitespace(line));
      }
    }
    out.push_back(std::move(c));
  }
  std::sort(out.begin(), out.end(),
            [](const BadConfig& a, const BadConfig& b) { return a.name < b.name; });
  return out;
}

TEST_CASE("bad configs are refused with their message and change nothing") {
  LocalWorkspace ws;
  const std::vector<BadConfig> configs = LoadBadConfigs();
  CHECK(configs.size() >= 25);
  for (const BadConfig& config : configs) {
    CAPTURE(config.name);
    REQUIRE_FALSE(config.expected.empty());
    ws.Write("rotor.toml", config.text);
    for (const char* command : {"plan", "apply"}) {
      CAPTURE(command);
      std::vector<std::string> args = {command};
      if (std::string(command) == "apply") args.push_back("--auto-approve");
      const absl::Time start = absl::Now();
      ProcessResult r = ws.Rotor(args);
      const absl::Duration took = absl::Now() - start;
      const std::string output = r.stdout_data + r.stderr_data;
      CAPTURE(output.substr(0, 4000));
      CHECK(r.exit_code == 1);
      // Bounded and inert, whatever the input: a FIFO's 10 s and a
      // command's 30 s are the longest waits.
      CHECK(output.size() < 16 * 1024);
      CHECK(took < absl::Seconds(45));
      CHECK(output.find('\x1b') == std::string::npos);
      CHECK(output.find('\x07') == std::string::npos);
      for (const std::string& text : config.expected) {
        CHECK_MESSAGE(absl::StrContains(output, text), "expected: ", text);
      }
      // No secret from the workspace's sources shows up in the message.
      for (const auto& [name, value] : ws.env()) {
        if (value.has_value() && !value->empty()) CHECK_FALSE(absl::StrContains(output, *value));
      }
      CHECK_FALSE(absl::StrContains(output, LocalWorkspace::kPfxPassword));
    }
    CHECK(DescribeDifference(ws.baseline(), ws.State()) == "");
    ws.Restore();
  }
}

TEST_CASE("a missing, unreadable or non-file config is refused and changes nothing") {
  LocalWorkspace ws;
  struct Case {
    std::string name;
    std::vector<std::string> args;
    std::string expected;
  };
  std::filesystem::create_directories(ws.Path("a-folder.toml"));
  const std::vector<Case> cases = {
      {"missing",
       {"apply", "--auto-approve", "-c", "no-such.toml"},
       "no-such.toml: error: cannot read the config file"},
      {"a folder", {"apply", "--auto-approve", "-c", "a-folder.toml"}, "a-folder.toml"},
      {"empty", {"apply", "--auto-approve", "-c", "empty.toml"}, "empty.toml"},
  };
  ws.Write("empty.toml", "");
  for (const Case& c : cases) {
    CAPTURE(c.name);
    ProcessResult r = ws.Rotor(c.args);
    CAPTURE(r.stderr_data);
    CHECK(r.exit_code == 1);
    CHECK(absl::StrContains(r.stderr_data, c.expected));
  }
  CHECK(DescribeDifference(ws.baseline(), ws.State()) == "");
}

}  // namespace
}  // namespace rotor::hostile

namespace rotor::hostile {
namespace {

// The baseline with `extra` appended to the [vault] table's lines.
std::string BaselineWith(const std::string& vault_extra, const std::string& tail = "") {
  std::string text = rotor::testing::ReadFileOrDie(DataDir() + "/baseline.toml");
  const std::string anchor = "resource_group = \"newregreg\"\n";
  text.replace(text.find(anchor), anchor.size(), anchor + vault_extra);
  return text + tail;
}

TEST_CASE("huge, long and escape-laden configs: refused, bounded and inert") {
  LocalWorkspace ws;
  std::string comments = BaselineWith("");
  comments.insert(0, "# \x1b]0;pwned\x07\x1b[2J\x1b[H\n");
  std::string many = BaselineWith("");
  for (int i = 0; i < 500; ++i) absl::StrAppend(&many, "unknown", i, " = 1\n");
  struct Case {
    std::string name;
    std::string text;
    std::vector<std::string> expected;
  };
  const std::vector<Case> cases = {
      {"a 50 KB vault name",
       absl::StrReplaceAll(BaselineWith(""),
                           {{"name = \"newregkv\"", "name = \"" + std::string(50000, 'a') + "\""}}),
       {"vault.name: too long: 50000 characters, at most 24"}},
      {"a 50 KB user name",
       absl::StrReplaceAll(BaselineWith(""),
                           {{"name = \"ci\"", "name = \"" + std::string(50000, 'c') + "\""}}),
       {"too long: 50000 characters, at most 127"}},
      {"a 1 MB environment variable name",
       absl::StrReplaceAll(BaselineWith(""),
                           {{"env = \"CI_PW\"", "env = \"" + std::string(1 << 20, 'C') + "\""}}),
       {".password.env: too long: 1048576 characters, at most 256"}},
      {"a 3 MB line",
       BaselineWith("", "x = [" + std::string(3 << 20, '1') + "]\n"),
       {"rotor.toml:", "error:"}},
      {"a config over 4 MiB",
       BaselineWith("", "# " + std::string(5 << 20, 'x') + "\n"),
       {"larger than 4 MiB, the limit for a config file"}},
      {"terminal escapes in a comment", comments, {"\\e]0;pwned\\x07\\e[2J\\e[H"}},
      {"500 unknown keys", many, {"rotor.toml: 500 errors", "... and 450 more"}},
  };
  for (const Case& c : cases) {
    CAPTURE(c.name);
    ws.Write("rotor.toml", c.text);
    for (const char* command : {"plan", "apply"}) {
      CAPTURE(command);
      std::vector<std::string> args = {command};
      if (std::string(command) == "apply") args.push_back("--auto-approve");
      const absl::Time start = absl::Now();
      ProcessResult r = ws.Rotor(args);
      const absl::Duration took = absl::Now() - start;
      const std::string output = r.stdout_data + r.stderr_data;
      CAPTURE(output.substr(0, 4000));
      CHECK(r.exit_code == 1);
      for (const std::string& text : c.expected) {
        CHECK_MESSAGE(absl::StrContains(output, text), "expected: ", text);
      }
      CHECK(output.size() < 64 * 1024);
      CHECK(took < absl::Seconds(30));
      CHECK(output.find('\x1b') == std::string::npos);
      CHECK(output.find('\x07') == std::string::npos);
    }
    CHECK(DescribeDifference(ws.baseline(), ws.State()) == "");
    ws.Restore();
  }
}

// The pid a command source wrote into `file` in the workspace.
pid_t PidIn(LocalWorkspace& ws, const std::string& file) {
  std::string text;
  for (int i = 0; i < 500 && text.empty(); ++i) {
    if (PathExists(ws.Path(file))) text = rotor::testing::ReadFileOrDie(ws.Path(file));
    if (text.empty()) absl::SleepFor(absl::Milliseconds(20));
  }
  pid_t pid = 0;
  REQUIRE_MESSAGE(absl::SimpleAtoi(absl::StripAsciiWhitespace(text), &pid), file, ": ", text);
  return pid;
}

bool GoneSoon(pid_t pid) {
  for (int i = 0; i < 300 && ::kill(pid, 0) == 0; ++i) absl::SleepFor(absl::Milliseconds(10));
  return ::kill(pid, 0) != 0;
}

std::string WithOpsCommand(const std::string& command) {
  std::string text = rotor::testing::ReadFileOrDie(DataDir() + "/baseline.toml");
  const std::string anchor = "[certificate]";
  text.replace(text.find(anchor), anchor.size(),
               absl::StrCat("[[user]]\nname = \"ops\"\npassword = { command = ", command,
                            " }\n\n[certificate]"));
  return text;
}

TEST_CASE("the processes a command source starts end with it") {
  LocalWorkspace ws;
  SUBCASE("on output past the limit") {
    ws.Write("rotor.toml",
             WithOpsCommand(R"(["sh", "-c", "sleep 600 & echo $! > child.pid; exec yes"])"));
    ProcessResult r = ws.Rotor({"apply", "--auto-approve"});
    CHECK(r.exit_code == 1);
    CHECK(absl::StrContains(r.stderr_data, "printed more than 8 KiB"));
    CHECK(GoneSoon(PidIn(ws, "child.pid")));
  }
  SUBCASE("on the timeout") {
    // The shell waits for its background child: only ending the group ends
    // the command (before, `sleep 600` outlived rotor).
    ws.Write("rotor.toml",
             WithOpsCommand(R"(["sh", "-c", "sleep 600 & echo $! > child.pid; wait"])"));
    ProcessResult r = ws.Rotor({"apply", "--auto-approve"});
    CHECK(r.exit_code == 1);
    CHECK(absl::StrContains(r.stderr_data, "did not finish within 30s"));
    CHECK(GoneSoon(PidIn(ws, "child.pid")));
  }
  SUBCASE("when rotor itself is ended") {
    ws.Write("rotor.toml", WithOpsCommand(R"(["sh", "-c", "echo $$ > shell.pid; sleep 600 & )"
                                          R"(echo $! > child.pid; wait"])"));
    ProcessOptions options;
    options.working_dir = ws.dir();
    options.env = ws.env();
    auto rotor =
        BackgroundProcess::Start({rotor::testing::BuildDir() + "/rotor", "apply", "--auto-approve"},
                                 options, ws.Path("rotor.log"));
    REQUIRE(rotor.ok());
    const pid_t child = PidIn(ws, "child.pid");
    const pid_t shell = PidIn(ws, "shell.pid");
    rotor->Stop(SIGTERM);
    CHECK(GoneSoon(child));
    CHECK(GoneSoon(shell));
  }
  CHECK(DescribeDifference(ws.baseline(), ws.State()) == "");
  for (const char* file : {"child.pid", "shell.pid"}) std::filesystem::remove(ws.Path(file));
}

}  // namespace
}  // namespace rotor::hostile
