// Binding a saved plan to the values it was made with, without keeping
// them: a binding is bcrypt, at the cost the registry's own htpasswd uses,
// of a SHA-256 of the value and what it is for, with a fresh salt. Guessing
// a value from its binding is as hard as guessing a password from the
// registry's htpasswd, and a value that changed after the plan no longer
// matches (bcrypt reads 72 bytes: the SHA-256 makes every byte count).
#ifndef ROTOR_BASE_VALUE_BINDING_H_
#define ROTOR_BASE_VALUE_BINDING_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "base/secret.h"

namespace rotor {

// `key` names what the value is for ("user.admin"): the same value under
// another key binds differently.
absl::StatusOr<std::string> BindValue(absl::string_view key, const Secret& value);
bool MatchesBinding(absl::string_view key, const Secret& value, absl::string_view binding);

}  // namespace rotor

#endif  // ROTOR_BASE_VALUE_BINDING_H_
