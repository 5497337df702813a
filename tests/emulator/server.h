// Runs rotor-emulator: TLS set-up, the HTTPS server (cpp-httplib), the
// start-up banner, DIR/port and DIR/endpoints.json, and a clean stop on
// SIGTERM / SIGINT.
#ifndef ROTOR_TESTS_EMULATOR_SERVER_H_
#define ROTOR_TESTS_EMULATOR_SERVER_H_

#include "tests/emulator/options.h"

namespace rotor::emulator {

// Returns the process exit code (0 after a signal-initiated stop).
int RunEmulator(EmulatorOptions options);

}  // namespace rotor::emulator

#endif  // ROTOR_TESTS_EMULATOR_SERVER_H_
