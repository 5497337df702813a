// Writing TOML text: for the places that write config (rotor init) or
// quote what a user wrote back to them (config errors, key paths).
#ifndef ROTOR_ENGINE_CONFIG_TOML_TEXT_H_
#define ROTOR_ENGINE_CONFIG_TOML_TEXT_H_

#include <string>

#include "absl/strings/string_view.h"

namespace rotor {

// `"text"` as a TOML basic string: quote, backslash and the control
// characters TOML forbids in one (U+0000-U+001F, U+007F) escaped.
std::string TomlQuote(absl::string_view text);

// Whether `key` may be written without quotes (A-Za-z0-9_-, not empty).
bool IsTomlBareKey(absl::string_view key);

}  // namespace rotor

#endif  // ROTOR_ENGINE_CONFIG_TOML_TEXT_H_
