// Internal to the config loader (engine/config.cc): the compiled-in JSON
// Schema (schemas/rotor.schema.json), the TOML -> JSON conversion it
// validates, and the translation of each schema failure into a diagnostic
// that names the key path and the source position.
//
// This header exposes toml++ types; only the loader and its tests include it.
#ifndef ROTOR_ENGINE_CONFIG_SCHEMA_H_
#define ROTOR_ENGINE_CONFIG_SCHEMA_H_

#include <toml++/toml.h>

#include <cstddef>
#include <string>
#include <variant>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace rotor {

// schemas/rotor.schema.json, compiled in by engine/CMakeLists.txt.
extern const char kConfigSchemaJson[];

namespace config_internal {

// One step of a key path: a table key or an array index.
using PathSegment = std::variant<std::string, size_t>;
using KeyPath = std::vector<PathSegment>;

struct Position {
  int line = 1;
  int column = 1;
};

// One problem found in a config file. `message` starts with the key path
// ("vault.nmae: unknown key; did you mean \"name\"?").
struct Diagnostic {
  Position position;
  std::string message;
};

// "vault.name", "user[admin].password" (the user's name when it is a valid
// one, else the index: "user[1].password"), "deployment.parameters.\"a.b\"".
std::string FormatKeyPath(const toml::table& root, const KeyPath& path);

// The node at `path`, or nullptr.
const toml::node* NodeAt(const toml::table& root, const KeyPath& path);

// Where the value at `path` starts (falling back to its key, then to its
// parent, then to 1:1), and where its key starts.
Position ValuePosition(const toml::table& root, const KeyPath& path);
Position KeyPosition(const toml::table& root, const KeyPath& path);

// "a string", "an integer", "an inline table", "an array of tables", ...
std::string DescribeTomlType(const toml::node& node);

// Validates `root` against kConfigSchemaJson (draft 7, with valijson) and
// appends one diagnostic per problem: unknown keys (with a suggestion from
// the keys the schema allows there), wrong types, values outside an enum,
// pattern or range, missing required keys. Values of secret (writeOnly)
// keys are never quoted. Fails only when the compiled-in schema is broken.
absl::Status ValidateAgainstSchema(const toml::table& root,
                                   std::vector<Diagnostic>* out);

// The JSON text of a TOML value (dates and times become strings). Fails
// for NaN and infinite floats, which JSON cannot express.
absl::StatusOr<std::string> TomlToJsonText(const toml::node& node);

// The key names whose values are secret sources in the schema (writeOnly):
// "password", "client_secret", ... Used to mask literal values when a
// source line is shown.
const std::vector<std::string>& SecretKeyNames();

}  // namespace config_internal
}  // namespace rotor

#endif  // ROTOR_ENGINE_CONFIG_SCHEMA_H_
