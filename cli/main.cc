// rotor: entry point. Everything else lives in cli (testable
// in-process); this file only binds the real streams, environment and clock.
#include <unistd.h>

#include <csignal>
#include <iostream>

#include "base/process.h"
#include "cli/cli.h"

int main(int argc, char** argv) {
  // A value source's command that exits early must not kill rotor.
  std::signal(SIGPIPE, SIG_IGN);
  // A command source runs in its own process group: Ctrl-C or a kill of
  // rotor must still end it (and what it started).
  rotor::EndChildrenOnSignals();
  rotor::ProcessEnvironment env;
  rotor::cli::Io io{std::cout,
                    std::cerr,
                    std::cin,
                    ::isatty(1) == 1,
                    ::isatty(0) == 1,
                    env,
                    rotor::RealClock::Get(),
                    ::isatty(2) == 1,
                    /*console=*/nullptr,
                    /*scope=*/""};
  int code = rotor::cli::Run(argc, argv, io);
  std::cout.flush();
  return code;
}
