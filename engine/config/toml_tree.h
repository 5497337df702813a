// Internal to the config loader (engine/config/): key paths into a parsed
// TOML document, and where each key and value sits in the file, for
// diagnostics ("rotor.toml:12:3: vault.name: ..."). Exposes toml++ types.
#ifndef ROTOR_ENGINE_CONFIG_TOML_TREE_H_
#define ROTOR_ENGINE_CONFIG_TOML_TREE_H_

#include <toml++/toml.h>

#include <cstddef>
#include <string>
#include <variant>
#include <vector>

namespace rotor::config_internal {

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

// A date, time or date-time as TOML writes it.
std::string TemporalText(const toml::node& node);

// `path` without its last step (`path` must not be empty).
KeyPath Parent(const KeyPath& path);
// Whether `prefix` is a proper prefix of `path`.
bool IsStrictPrefix(const KeyPath& prefix, const KeyPath& path);

}  // namespace rotor::config_internal

#endif  // ROTOR_ENGINE_CONFIG_TOML_TREE_H_
