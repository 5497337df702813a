// Internal to the config loader (engine/config/): every problem found in a
// config file rendered at once, in source order, after a summary line:
//
//   rotor.toml: 1 error
//   rotor.toml:12:3: error: vault.nmae: unknown key; did you mean "name"?
//      12 | nmae = "newregkv"
//         |   ^
//
// The source line is shown without the secrets on it: the literal after each
// secret key name (SecretKeyNames, engine/config/config_schema.h) and every
// region the loader marked as a literal secret value are masked with '*'.
// The output is bounded and inert whatever the file holds: an excerpt is
// the line's neighbourhood of the column, a message is cut, at most 50
// problems are shown, and control characters (a terminal escape in a
// comment) are shown escaped (base/inert_text.h).
// Uses toml_tree.h's Position and Diagnostic, so it exposes toml++ types.
#ifndef ROTOR_ENGINE_CONFIG_DIAGNOSTICS_H_
#define ROTOR_ENGINE_CONFIG_DIAGNOSTICS_H_

#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "engine/config/toml_tree.h"

namespace rotor::config_internal {

// A span of the file as toml++ reports a value's source: from `begin` up to
// (not including) `end`.
struct Region {
  Position begin;
  Position end;
};

// The InvalidArgument status that reports `diagnostics` (at least one) found
// in `text`, the file at `path`: sorted by position (stably, so problems at
// one place keep the order they were found in), exact duplicates dropped,
// each followed by its source line, with `secret_regions` masked, and a caret
// under its column.
absl::Status DiagnosticsError(absl::string_view path, absl::string_view text,
                              std::vector<Diagnostic> diagnostics,
                              const std::vector<Region>& secret_regions);

}  // namespace rotor::config_internal

#endif  // ROTOR_ENGINE_CONFIG_DIAGNOSTICS_H_
