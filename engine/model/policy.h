// PolicyConfig: what rotor may do to secrets nobody declares ([policy] in
// the config); part of the desired state the diff reads.
#ifndef ROTOR_ENGINE_MODEL_POLICY_H_
#define ROTOR_ENGINE_MODEL_POLICY_H_

#include <optional>

#include "absl/time/time.h"

namespace rotor {

struct PolicyConfig {
  bool delete_stale_users = true;
  bool delete_stale_certificates = false;
  // A short secret of another kind, which the registry VM would turn into a
  // login, when a redeploy is planned: refuse the plan, delete it, or keep
  // it (a login).
  enum class OtherShortSecrets { kRefuse, kDelete, kKeep };
  OtherShortSecrets other_short_secrets = OtherShortSecrets::kRefuse;
  // policy.retire_after: how long a user the config no longer declares
  // keeps its login (kRetire); unset: deleted at once.
  std::optional<absl::Duration> retire_after;
};

}  // namespace rotor

#endif  // ROTOR_ENGINE_MODEL_POLICY_H_
