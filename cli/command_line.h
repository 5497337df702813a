// How a rotor command meets the command line: a CommandLine declares its
// options on its CLI11 subcommand and runs once parsed. The table of every
// command is cli/commands_table.cc (one row per command); cli.cc builds the
// parser from it. Internal to cli/.
#ifndef ROTOR_CLI_COMMAND_LINE_H_
#define ROTOR_CLI_COMMAND_LINE_H_

#include <functional>
#include <memory>

#include "absl/status/status.h"
#include "absl/types/span.h"
#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/fleet.h"

namespace CLI {
class App;
}  // namespace CLI

namespace rotor::cli {

class CommandLine {
 public:
  virtual ~CommandLine() = default;
  // Declares the command's options on `command`, bound to this object.
  virtual void Define(CLI::App* command) = 0;
  // Runs the command with the options as parsed.
  virtual int Run(Io& io) = 0;
};

struct CommandEntry {
  const char* name;
  const char* help;
  std::unique_ptr<CommandLine> (*make)();
};

// Every command, in the order `rotor --help` lists them.
absl::Span<const CommandEntry> Commands();

// The options of every command that runs on configurations (-c, --target,
// --json, --parallelism and the output options).
void AddCommonOptions(CLI::App* command, CommonOptions* options);
// --metrics-file, for `command_name` (plan, drift, apply, verify).
void AddMetricsOption(CLI::App* command, CommonOptions* options, const char* command_name);
// The output options alone (--no-color, --log-level, --log-format, --quiet).
void AddOutputOptions(CLI::App* command, CommonOptions* options);

// Runs `body` with the console `options` ask for (status line, JSON
// events) wrapped around `io`.
int WithConsole(const CommonOptions& options, Io& io, const std::function<int(Io&)>& body);

// Runs `command` on the configurations `common` selects (fleet.h), after
// `check` (may be null) accepted the selection; prints "Error: ..." and
// returns 1 otherwise.
int RunOnConfigs(const CommonOptions& common, Io& io, FleetSummary summary, bool user_exit_codes,
                 const std::function<absl::Status(const FleetSelection&)>& check,
                 const RegistryCommand& command);

}  // namespace rotor::cli

#endif  // ROTOR_CLI_COMMAND_LINE_H_
