// The bad-config half of the catalogue: every file in
// bad-inputs/configs/*.toml is a config with one problem. Each names the
// text rotor must print in its first lines ("# expect: TEXT", one or more);
// `rotor apply --auto-approve` on it must exit 1 with that text and leave
// the local vault, deployments and registry files exactly as they were.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
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
      ProcessResult r = ws.Rotor(args);
      const std::string output = r.stdout_data + r.stderr_data;
      CAPTURE(output);
      CHECK(r.exit_code == 1);
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
