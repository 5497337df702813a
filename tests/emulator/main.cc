// rotor-emulator: an HTTPS Azure Stack Hub stand-in. See
// tests/emulator/README.md.
#include <cstdio>

#include "tests/emulator/options.h"
#include "tests/emulator/server.h"

int main(int argc, char** argv) {
  rotor::emulator::ParsedCommandLine parsed = rotor::emulator::ParseCommandLine(argc, argv);
  if (!parsed.options) {
    std::fprintf(parsed.exit_code == 0 ? stdout : stderr, "%s\n", parsed.message.c_str());
    return parsed.exit_code;
  }
  return rotor::emulator::RunEmulator(std::move(*parsed.options));
}
