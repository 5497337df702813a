// Internal to the config loader (engine/config/): a value source as
// rotor.toml writes it turned into a ValueSource (engine/config/config.h):
//
//   password = { env = "REGISTRY_ADMIN_PASSWORD" }
//   password = { file = "secrets/admin" }         # relative to the config
//   password = { command = ["pass", "show", "x"] } # "./x" relative, "x" in PATH
//   password = { generate = 32 }                   # user passwords only
//   password = "literal"                           # cloud.kind = "local" only
//
// Parsing only: resolving a source to its value touches the environment and
// is engine/config/value_source.h's. Exposes toml++ types.
#ifndef ROTOR_ENGINE_CONFIG_VALUE_SOURCE_PARSER_H_
#define ROTOR_ENGINE_CONFIG_VALUE_SOURCE_PARSER_H_

#include <cstddef>
#include <optional>
#include <vector>

#include "absl/strings/string_view.h"
#include "engine/config/config.h"
#include "engine/config/diagnostics.h"
#include "engine/config/toml_tree.h"

namespace rotor::config_internal {

// What a key accepts.
struct SourceRules {
  bool secret = true;           // a literal only for kind = "local"
  bool allow_generate = false;  // { generate = N }: user passwords only
  size_t max_length = 0;        // ValueSource::max_length
};

// The file the source is read from.
struct SourceContext {
  absl::string_view file;         // the config file as given, for locations
  absl::string_view dir;          // its folder, absolute; relative paths resolve here
  std::optional<CloudKind> kind;  // cloud.kind; unset when missing or invalid
};

// The source at `path` in `root`, or nullopt when there is none: the key is
// absent, an empty literal, or a table that is not exactly one well-formed
// source (the schema has reported those already). A literal secret (rules
// .secret) is added to `secret_regions` so that no excerpt shows it, and when
// cloud.kind is not "local" it is refused with a diagnostic appended to
// `diagnostics`.
std::optional<ValueSource> ParseValueSource(const toml::table& root, const KeyPath& path,
                                            const SourceRules& rules, const SourceContext& context,
                                            std::vector<Diagnostic>* diagnostics,
                                            std::vector<Region>* secret_regions);

}  // namespace rotor::config_internal

#endif  // ROTOR_ENGINE_CONFIG_VALUE_SOURCE_PARSER_H_
