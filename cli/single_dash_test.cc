// Terraform's single-dash spellings (cli/single_dash.h), on the options of
// the real command table.
#include "cli/single_dash.h"

#include <doctest/doctest.h>

#include <CLI/CLI.hpp>
#include <memory>

#include "cli/command_line.h"

namespace rotor::cli {
namespace {

// The names rotor's parser declares, built as cli.cc builds it.
const CommandLineNames& RotorNames() {
  static const CommandLineNames* const names = [] {
    CLI::App app("rotor", "rotor");
    app.set_version_flag("--version", "rotor test");
    std::vector<std::unique_ptr<CommandLine>> lines;
    for (const CommandEntry& entry : Commands()) {
      lines.push_back(entry.make());
      lines.back()->Define(app.add_subcommand(entry.name, entry.help));
    }
    return new CommandLineNames(NamesOf(app));
  }();
  return *names;
}

std::vector<std::string> Rewrite(std::vector<std::string> args) {
  absl::StatusOr<std::vector<std::string>> out = RewriteSingleDashWords(args, RotorNames());
  REQUIRE_MESSAGE(out.ok(), out.status().ToString());
  return *out;
}

std::string Refusal(std::vector<std::string> args) {
  absl::StatusOr<std::vector<std::string>> out = RewriteSingleDashWords(args, RotorNames());
  REQUIRE_FALSE(out.ok());
  CHECK(out.status().code() == absl::StatusCode::kInvalidArgument);
  return std::string(out.status().message());
}

using Args = std::vector<std::string>;

TEST_CASE("the names come from the command table") {
  const OptionNames& plan = RotorNames().commands.at("plan");
  CHECK(plan.long_names.count("out") == 1);
  CHECK(plan.long_values.count("out") == 1);
  CHECK(plan.long_values.count("detailed-exitcode") == 0);
  CHECK(plan.shorts.at('o') == "out");
  CHECK(plan.shorts.at('c') == "config");
  CHECK(plan.short_values.count('c') == 1);
  CHECK(plan.short_values.count('h') == 0);
  CHECK(RotorNames().global.long_names.count("version") == 1);
}

TEST_CASE("Terraform's single-dash flags become rotor's long options") {
  CHECK(Rewrite({"plan", "-out=tf.plan"}) == Args{"plan", "--out=tf.plan"});
  CHECK(Rewrite({"plan", "-out", "tf.plan"}) == Args{"plan", "--out", "tf.plan"});
  CHECK(Rewrite({"plan", "-detailed-exitcode", "-json"}) ==
        Args{"plan", "--detailed-exitcode", "--json"});
  CHECK(Rewrite({"apply", "-auto-approve", "saved.plan"}) ==
        Args{"apply", "--auto-approve", "saved.plan"});
  CHECK(Rewrite({"plan", "-target=newregkv", "-target", "oldkv"}) ==
        Args{"plan", "--target=newregkv", "--target", "oldkv"});
  CHECK(Rewrite({"drift", "-no-color", "-parallelism=4"}) ==
        Args{"drift", "--no-color", "--parallelism=4"});
  CHECK(Rewrite({"-version"}) == Args{"--version"});
  CHECK(Rewrite({"plan", "-help"}) == Args{"plan", "--help"});
  // A flag the command does not have is rewritten too: CLI11 then refuses
  // --auto-approve for plan as it would with two dashes.
  CHECK(Rewrite({"plan", "-auto-approve"}) == Args{"plan", "--auto-approve"});
}

TEST_CASE("real short options, values and everything after -- are left alone") {
  CHECK(Rewrite({"plan", "-o", "tf.plan", "-c", "rotor.toml"}) ==
        Args{"plan", "-o", "tf.plan", "-c", "rotor.toml"});
  CHECK(Rewrite({"plan", "-h"}) == Args{"plan", "-h"});
  // Values that look like options are values.
  CHECK(Rewrite({"plan", "-c", "-odd-name.toml", "--target", "-x-", "--out", "-plan"}) ==
        Args{"plan", "-c", "-odd-name.toml", "--target", "-x-", "--out", "-plan"});
  CHECK(Rewrite({"plan", "-out", "-json"}) == Args{"plan", "--out", "-json"});
  CHECK(Rewrite({"apply", "--", "-auto-approve"}) == Args{"apply", "--", "-auto-approve"});
  CHECK(Rewrite({"apply", "-"}) == Args{"apply", "-"});
  // A command name is a command only in the command's place.
  CHECK(Rewrite({"show", "plan"}) == Args{"show", "plan"});
}

TEST_CASE("-out=FILE is never read as -o ut=FILE") {
  for (const Args& args : {Args{"plan", "-out=tf.plan"}, Args{"plan", "-out", "tf.plan"}}) {
    const Args out = Rewrite(args);
    CHECK(std::find(out.begin(), out.end(), "-o") == out.end());
    CHECK(out[1] == "--out" + args[1].substr(4));
  }
}

TEST_CASE("every other single-dash word is refused with the long option it may mean") {
  CHECK(Refusal({"plan", "-config=prod.toml"}) ==
        "-config=prod.toml: rotor's long options take two dashes; did you mean "
        "--config=prod.toml?");
  CHECK(Refusal({"plan", "-quiet"}) ==
        "-quiet: rotor's long options take two dashes; did you mean --quiet?");
  CHECK(Refusal({"apply", "-auto-aprove"}) ==
        "-auto-aprove: rotor's long options take two dashes; did you mean --auto-approve?");
  CHECK(Refusal({"plan", "-log-levl=debug"}) ==
        "-log-levl=debug: rotor's long options take two dashes; did you mean --log-level=debug?");
  CHECK(Refusal({"plan", "-cprod.toml"}) ==
        "-cprod.toml: a short option takes its value after a space; did you mean -c prod.toml "
        "(--config=prod.toml)?");
  CHECK(Refusal({"plan", "-var=x"}) ==
        "-var=x: rotor plan has no option -var or --var; rotor plan --help lists its options");
  CHECK(Refusal({"-lock=false", "plan"}) ==
        "-lock=false: rotor has no option -lock or --lock; rotor --help lists its options");
}

}  // namespace
}  // namespace rotor::cli
