// Internal to the config loader (engine/config/config.cc): the compiled-in
// JSON Schema (schemas/rotor.schema.json) and validation against it, each
// failure a diagnostic that names the key path and the source position.
#ifndef ROTOR_ENGINE_CONFIG_CONFIG_SCHEMA_H_
#define ROTOR_ENGINE_CONFIG_CONFIG_SCHEMA_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "engine/config/toml_tree.h"

namespace rotor {

// schemas/rotor.schema.json, compiled in by engine/CMakeLists.txt.
extern const char kConfigSchemaJson[];

namespace config_internal {

// Validates `root` against kConfigSchemaJson (draft 7, with valijson) and
// appends one diagnostic per problem (engine/config/schema_explainer.h).
// Fails only when the compiled-in schema is broken.
absl::Status ValidateAgainstSchema(const toml::table& root, std::vector<Diagnostic>* out);

// The key names whose values are secret sources in the schema (writeOnly):
// "password", "client_secret", ... Used to mask literal values when a
// source line is shown.
const std::vector<std::string>& SecretKeyNames();

}  // namespace config_internal
}  // namespace rotor

#endif  // ROTOR_ENGINE_CONFIG_CONFIG_SCHEMA_H_
