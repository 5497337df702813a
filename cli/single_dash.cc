#include "cli/single_dash.h"

#include <CLI/CLI.hpp>
#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "engine/config/did_you_mean.h"

namespace rotor::cli {
namespace {

OptionNames OptionsOf(const CLI::App& app) {
  OptionNames names;
  for (const CLI::Option* option : app.get_options()) {
    if (option->get_positional() && option->get_lnames().empty() && option->get_snames().empty()) {
      continue;
    }
    const bool takes_value = option->get_items_expected_max() > 0;  // flags expect 0
    std::string first_long;
    for (const std::string& name : option->get_lnames()) {
      if (first_long.empty()) first_long = name;
      names.long_names.insert(name);
      if (takes_value) names.long_values.insert(name);
    }
    for (const std::string& name : option->get_snames()) {
      if (name.size() != 1) continue;
      names.shorts[name[0]] = first_long;
      if (takes_value) names.short_values.insert(name[0]);
    }
  }
  return names;
}

bool IsTerraformFlag(absl::string_view name) {
  const auto& flags = TerraformFlags();
  return std::find(flags.begin(), flags.end(), name) != flags.end();
}

// Why `word` (one dash, several letters) is refused, and what to type.
std::string Refusal(const std::string& word, const OptionNames& options,
                    const std::string& command) {
  const std::string body = word.substr(1);
  const size_t equals = body.find('=');
  const std::string name = body.substr(0, equals);
  const std::string value = equals == std::string::npos ? "" : body.substr(equals);
  const std::string prefix = absl::StrCat(word, ": rotor's long options take two dashes");
  if (options.long_names.count(name) > 0) {
    return absl::StrCat(prefix, "; did you mean --", body, "?");
  }
  std::vector<std::string> candidates(options.long_names.begin(), options.long_names.end());
  for (const std::string& flag : TerraformFlags()) candidates.push_back(flag);
  if (std::optional<std::string> near = DidYouMean(name, candidates); near.has_value()) {
    return absl::StrCat(prefix, "; did you mean --", *near, value, "?");
  }
  if (auto it = options.shorts.find(body[0]);
      it != options.shorts.end() && options.short_values.count(body[0]) > 0) {
    const std::string glued = body.substr(1);
    return absl::StrCat(word, ": a short option takes its value after a space; did you mean -",
                        std::string(1, body[0]), " ", glued,
                        it->second.empty() ? "" : absl::StrCat(" (--", it->second, "=", glued, ")"),
                        "?");
  }
  const std::string rotor = command.empty() ? "rotor" : absl::StrCat("rotor ", command);
  return absl::StrCat(word, ": ", rotor, " has no option -", name, " or --", name, "; ", rotor,
                      " --help lists its options");
}

}  // namespace

CommandLineNames NamesOf(const CLI::App& app) {
  CommandLineNames names;
  names.global = OptionsOf(app);
  for (const CLI::App* command : app.get_subcommands({})) {
    names.commands[command->get_name()] = OptionsOf(*command);
  }
  return names;
}

const std::vector<std::string>& TerraformFlags() {
  static const auto* const kFlags = new std::vector<std::string>{
      "auto-approve", "detailed-exitcode", "out",     "json", "target",
      "no-color",     "parallelism",       "replace", "help", "version"};
  return *kFlags;
}

absl::StatusOr<std::vector<std::string>> RewriteSingleDashWords(
    const std::vector<std::string>& args, const CommandLineNames& names) {
  std::vector<std::string> out;
  out.reserve(args.size());
  const OptionNames* options = &names.global;
  std::string command;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    // The value of an option that takes one is never an option itself.
    auto keep_value = [&](bool takes_value) {
      if (takes_value && i + 1 < args.size()) out.push_back(args[++i]);
    };
    if (arg == "--") {
      out.insert(out.end(), args.begin() + i, args.end());
      break;
    }
    if (absl::StartsWith(arg, "--")) {
      out.push_back(arg);
      if (arg.find('=') == std::string::npos) {
        keep_value(options->long_values.count(arg.substr(2)) > 0);
      }
      continue;
    }
    if (arg.size() >= 2 && arg[0] == '-') {
      if (arg.size() == 2) {  // a real short option: -c, -o, -h
        out.push_back(arg);
        keep_value(options->short_values.count(arg[1]) > 0);
        continue;
      }
      const std::string body = arg.substr(1);
      const size_t equals = body.find('=');
      const std::string name = body.substr(0, equals);
      if (!IsTerraformFlag(name)) {
        return absl::InvalidArgumentError(Refusal(arg, *options, command));
      }
      out.push_back(absl::StrCat("--", body));
      if (equals == std::string::npos) keep_value(options->long_values.count(name) > 0);
      continue;
    }
    if (command.empty()) {
      if (auto it = names.commands.find(arg); it != names.commands.end()) {
        command = arg;
        options = &it->second;
      }
    }
    out.push_back(arg);
  }
  return out;
}

}  // namespace rotor::cli
