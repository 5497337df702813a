// Small file helpers shared by the local provider's stores.
#ifndef ROTOR_PROVIDERS_LOCAL_LOCAL_FILES_H_
#define ROTOR_PROVIDERS_LOCAL_LOCAL_FILES_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace rotor::local {

// Creates `path` and its parents when missing, and sets `path` itself to
// mode 0700 (it holds secret material).
absl::Status EnsurePrivateDir(const std::string& path);

// Creates the state folder (0700) when it does not exist yet, then its
// private subfolder `sub` (0700). An existing state folder keeps its mode.
absl::Status EnsureStateSubdir(const std::string& state_dir, const std::string& sub);

// Whether `name` is safe as a single file-name component made of
// [0-9A-Za-z-_.()] (no "." or ".."), 1 to `max_length` characters.
bool IsSafeFileComponent(absl::string_view name, size_t max_length);

}  // namespace rotor::local

#endif  // ROTOR_PROVIDERS_LOCAL_LOCAL_FILES_H_
