#include "cli/cli.h"

#include <CLI/CLI.hpp>
#include <memory>
#include <ostream>
#include <vector>

#include "cli/command_line.h"

namespace rotor::cli {

#ifndef ROTOR_VERSION
#define ROTOR_VERSION "0.0.0"
#endif

int Run(int argc, const char* const* argv, Io& io) {
  CLI::App app(
      "rotor keeps a container registry's logins and TLS certificate, declared in "
      "TOML, in sync with Key Vault and the registry's ARM deployment.",
      "rotor");
  app.require_subcommand(1);
  app.set_version_flag("--version", "rotor " ROTOR_VERSION);
  app.footer(
      "Exit codes: 0 success (or no changes), 1 error (in a fleet: any registry), 2 "
      "changes present (plan --detailed-exitcode) or drift found (drift).");

  struct Defined {
    CLI::App* app;
    std::unique_ptr<CommandLine> line;
  };
  std::vector<Defined> commands;
  for (const CommandEntry& entry : Commands()) {
    Defined d{app.add_subcommand(entry.name, entry.help), entry.make()};
    d.line->Define(d.app);
    commands.push_back(std::move(d));
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    std::ostream& stream = e.get_exit_code() == 0 ? io.out : io.err;
    int code = app.exit(e, stream, stream);
    return code == 0 ? kExitOk : kExitError;
  }
  for (Defined& d : commands) {
    if (d.app->parsed()) return d.line->Run(io);
  }
  return kExitError;
}

}  // namespace rotor::cli
