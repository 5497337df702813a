// The rotor commands. Each takes its options and the Io it prints to and
// returns an exit code; argument parsing lives in cli.cc.
#ifndef ROTOR_CLI_COMMANDS_H_
#define ROTOR_CLI_COMMANDS_H_

#include <string>
#include <vector>

#include "cli/cli.h"
#include "cli/providers.h"

namespace rotor::cli {

struct CommonOptions {
  // The one configuration a command runs on (a fleet runs the command once
  // per file, with this set to each).
  std::string config = "rotor.toml";
  // -c as given: files and folders (every *.toml in them); empty means
  // rotor.toml. More than one, or a folder, makes a fleet (fleet.h).
  std::vector<std::string> configs;
  // --target: only the registries whose vault name or config file stem is
  // one of these.
  std::vector<std::string> targets;
  bool json = false;
  bool no_color = false;
  // Azure providers: HTTP requests in flight, and the least severe log
  // lines printed on stderr (debug shows each request, bodies redacted).
  int parallelism = 16;
  std::string log_level = "warn";
  // Progress and log events: "text" or "json" (console.h).
  std::string log_format = "text";
  // Only errors and the final summary.
  bool quiet = false;
};

struct PlanOptions {
  CommonOptions common;
  std::string out;  // save the plan here
  bool detailed_exitcode = false;
};

struct ApplyOptions {
  CommonOptions common;
  std::string plan_file;
  bool auto_approve = false;
  bool verify = false;  // run rotor verify after the apply
};

// How the providers are opened for a command run with `options`.
ProviderOptions ProviderOptionsFor(const CommonOptions& options, Io& io);

int PlanCommand(const PlanOptions& options, Io& io);
int ApplyCommand(const ApplyOptions& options, Io& io);
int ShowCommand(const CommonOptions& options, Io& io);
// rotor show PLANFILE: a plan saved by plan --out, as plan printed it (text,
// or --json); reads nothing else.
int ShowPlanFileCommand(const CommonOptions& options, const std::string& plan_file, Io& io);
// Read-only: exit 0 when nothing moved outside rotor, 2 when something did
// (pending config changes are ignored), 1 on error.
int DriftCommand(const CommonOptions& options, Io& io);
int ValidateCommand(const CommonOptions& options, Io& io);

}  // namespace rotor::cli

#endif  // ROTOR_CLI_COMMANDS_H_
