// libFuzzer target: the config loader on arbitrary TOML text.
// ParseConfig must answer every input with a Config or an error (never a
// crash, a leak or undefined behaviour), and an error whose text is bounded
// and inert. It reads no file: paths are only resolved against the folder
// of the name it is given.
#include <cstddef>
#include <cstdint>
#include <string>

#include "engine/config/config.h"
#include "tests/fuzz/inert.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::string_view text(reinterpret_cast<const char*>(data), size);
  auto config = rotor::ParseConfig(text, "/nonexistent/fuzz/rotor.toml");
  if (config.ok()) {
    // Exercise what callers do with a loaded config.
    for (const auto& user : config->users) (void)user.password.Describe();
    if (config->deployment.has_value()) {
      (void)config->deployment->ParameterName("pfx_thumbprint");
    }
  } else {
    // The diagnostics are bounded (at most 50 problems, each a cut message
    // and an excerpt of its line's neighbourhood) and inert (control
    // characters from the file shown escaped), whatever the text.
    rotor::fuzz::ExpectInert(config.status().message(), 128 * 1024);
  }
  return 0;
}
