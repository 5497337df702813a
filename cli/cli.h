// The rotor command line: parses arguments and runs one command against the
// streams, environment and clock it is given, so tests drive it in-process
// as well as through the real binary.
#ifndef ROTOR_CLI_CLI_H_
#define ROTOR_CLI_CLI_H_

#include <iosfwd>
#include <string>

#include "base/clock.h"
#include "engine/config/value_source.h"

namespace rotor::cli {

// Exit codes, as Terraform's.
inline constexpr int kExitOk = 0;
inline constexpr int kExitError = 1;
inline constexpr int kExitChanges = 2;

class Console;

struct Io {
  std::ostream& out;
  std::ostream& err;
  std::istream& in;
  bool out_is_tty = false;
  bool in_is_tty = false;
  const Environment& env;
  const Clock& clock;
  bool err_is_tty = false;
  // Progress and log events (cli/console.h); set by Run for the
  // commands, null when a command is run without one.
  Console* console = nullptr;
  // The registry this Io runs in a fleet ("newregkv"); "" for one config.
  std::string scope;
};

int Run(int argc, const char* const* argv, Io& io);

}  // namespace rotor::cli

#endif  // ROTOR_CLI_CLI_H_
