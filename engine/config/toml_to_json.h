// Internal to the config loader: a parsed TOML value as JSON text, which
// the schema validates (engine/config/config_schema.h) and deployment
// parameters carry. Exposes toml++ types.
#ifndef ROTOR_ENGINE_CONFIG_TOML_TO_JSON_H_
#define ROTOR_ENGINE_CONFIG_TOML_TO_JSON_H_

#include <toml++/toml.h>

#include <string>

#include "absl/status/statusor.h"

namespace rotor::config_internal {

// The JSON text of a TOML value (dates and times become strings). NaN and
// infinite floats, which JSON cannot express, are an error, or null with
// `non_finite_as_null` (for validation, which reports the type itself).
absl::StatusOr<std::string> TomlToJsonText(const toml::node& node, bool non_finite_as_null = false);

}  // namespace rotor::config_internal

#endif  // ROTOR_ENGINE_CONFIG_TOML_TO_JSON_H_
