// Adding context to an error without losing what it carries: the code and
// the payloads (a service's error code, see VaultErrorCode) stay, only the
// message changes. Use these instead of absl::Status(code, message), which
// drops payloads.
#ifndef ROTOR_BASE_STATUS_CONTEXT_H_
#define ROTOR_BASE_STATUS_CONTEXT_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace rotor {

// "context: message".
absl::Status WithContext(const absl::Status& status, absl::string_view context);
// `message` instead of the status's own.
absl::Status WithMessage(const absl::Status& status, absl::string_view message);

}  // namespace rotor

#endif  // ROTOR_BASE_STATUS_CONTEXT_H_
