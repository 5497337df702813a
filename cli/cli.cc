#include "cli/cli.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "cli/command_line.h"
#include "cli/single_dash.h"

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

  // Terraform's single-dash spellings, before CLI11 reads "-out=x" as
  // "-o ut=x" (single_dash.h).
  std::vector<std::string> args(argv + std::min(argc, 1), argv + argc);
  absl::StatusOr<std::vector<std::string>> rewritten = RewriteSingleDashWords(args, NamesOf(app));
  if (!rewritten.ok()) {
    io.err << "Error: " << rewritten.status().message() << "\n";
    return kExitError;
  }
  std::vector<const char*> words = {argc > 0 ? argv[0] : "rotor"};
  for (const std::string& word : *rewritten) words.push_back(word.c_str());

  try {
    app.parse(static_cast<int>(words.size()), words.data());
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
