// Internal to the config loader: turns a JSON Schema failure at one key
// path into diagnostics a person can act on (unknown keys with a
// suggestion, wrong types, values outside an enum, pattern or range,
// missing required keys), never quoting the value of a secret key.
#ifndef ROTOR_ENGINE_CONFIG_SCHEMA_EXPLAINER_H_
#define ROTOR_ENGINE_CONFIG_SCHEMA_EXPLAINER_H_

#include <rapidjson/document.h>

#include <vector>

#include "engine/config/toml_tree.h"

namespace rotor::config_internal {

// Appends the diagnostics for what is wrong at `path` itself (not below
// it) and returns how many; 0 when nothing is wrong there.
int ExplainSchemaFailure(const toml::table& root, const rapidjson::Value& schema,
                         const KeyPath& path, std::vector<Diagnostic>* out);

}  // namespace rotor::config_internal

#endif  // ROTOR_ENGINE_CONFIG_SCHEMA_EXPLAINER_H_
