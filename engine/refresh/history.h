// ReadHistory: every version of the secrets a rollback or `rotor show`
// needs (users, declared or by kind, and certificates), the applies are
// found in (engine/model/apply_history.h). One ListSecretVersions per
// secret; values are never read.
#ifndef ROTOR_ENGINE_REFRESH_HISTORY_H_
#define ROTOR_ENGINE_REFRESH_HISTORY_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/model/apply_history.h"
#include "engine/model/state.h"
#include "engine/model/vault.h"

namespace rotor {

absl::StatusOr<History> ReadHistory(const DesiredState& desired, const ActualState& actual,
                                    Vault& vault);

}  // namespace rotor

#endif  // ROTOR_ENGINE_REFRESH_HISTORY_H_
