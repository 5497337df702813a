#include "engine/deployments.h"

namespace rotor {

bool IsTerminalProvisioningState(absl::string_view state) {
  return state == kStateSucceeded || state == kStateFailed || state == kStateCanceled;
}

}  // namespace rotor
