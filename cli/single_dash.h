// Terraform's single-dash spellings on rotor's command line. People who
// use Terraform type `-auto-approve`, `-out=FILE` or `-target=NAME`; CLI11
// reads a single dash followed by a word as short options, so `-out=x`
// would become `-o ut=x` and save the plan to a file named "ut=x". Before
// CLI11 parses, every single-dash word of more than one letter is either
// rewritten to the long option it stands for (a Terraform flag rotor also
// has) or refused with a hint naming the long option. Internal to cli/.
#ifndef ROTOR_CLI_SINGLE_DASH_H_
#define ROTOR_CLI_SINGLE_DASH_H_

#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace CLI {
class App;
}  // namespace CLI

namespace rotor::cli {

// The options of rotor or of one of its commands, as declared on CLI11.
struct OptionNames {
  std::set<std::string> long_names;    // "out", "config" (without dashes)
  std::set<std::string> long_values;   // those that take a value
  std::map<char, std::string> shorts;  // 'o' -> "out" ("" without a long name)
  std::set<char> short_values;         // short options that take a value
};

struct CommandLineNames {
  OptionNames global;                           // rotor's own (--help, --version)
  std::map<std::string, OptionNames> commands;  // by command name
};

// The names declared on `app` and on each of its subcommands.
CommandLineNames NamesOf(const CLI::App& app);

// Terraform's flags that rotor takes with one dash as well as two, as the
// long option of the same name: -auto-approve, -detailed-exitcode,
// -out=FILE (and -out FILE), -json, -target=NAME (and -target NAME),
// -no-color, -parallelism=N, -replace=ADDRESS, -help and -version. A
// command without that option refuses it as it refuses the long option.
const std::vector<std::string>& TerraformFlags();

// `args` (without the program name) with every Terraform flag spelt with
// one dash rewritten to its long option ("-out=x" -> "--out=x"). Values
// of options that take one, and everything after "--", are left alone;
// so are real short options ("-c FILE", "-o FILE", "-h"). Any other word
// of one dash and several letters is InvalidArgument, with a hint:
//   -config=x.toml  -> did you mean --config=x.toml?
//   -auto-aprove    -> did you mean --auto-approve?
//   -cprod.toml     -> did you mean -c prod.toml (or --config=prod.toml)?
absl::StatusOr<std::vector<std::string>> RewriteSingleDashWords(
    const std::vector<std::string>& args, const CommandLineNames& names);

}  // namespace rotor::cli

#endif  // ROTOR_CLI_SINGLE_DASH_H_
