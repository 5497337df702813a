// Internal to engine/diff: what the registry VM will do with the vault as a
// plan leaves it (engine/model/registry_vm.h), checked before a redeploy:
//  - the first secret it lists must be an enabled login, or its login check
//    fails the deployment (exit code 50);
//  - a password reaches htpasswd unquoted: whitespace or '*', '?', '['
//    would break it;
//  - bcrypt reads 72 bytes: a new password that starts with the old one's
//    72 bytes leaves the old one working;
//  - a short secret of another kind becomes a login unseen
//    (policy.other_short_secrets);
// and warnings for what it will not refuse: passwords longer than 72 bytes,
// logins beyond the first page.
#ifndef ROTOR_ENGINE_DIFF_VM_LOGINS_H_
#define ROTOR_ENGINE_DIFF_VM_LOGINS_H_

#include <string>
#include <vector>

#include "engine/model/plan.h"
#include "engine/model/state.h"

namespace rotor::diff_internal {

// Whether bash would split or expand `value` when the VM passes it
// unquoted: whitespace, or a file name pattern character.
bool BreaksUnquoted(absl::string_view value);

struct VmLoginReport {
  std::vector<std::string> errors;  // each names the secret and the fix
  std::vector<Warning> warnings;
  // Whether the plan redeploys (the VM reads the vault again); without one
  // only the checks of values the plan writes apply.
  bool redeploy = false;
};

// `changes`: all of a plan's changes (its secret changes and its redeploy).
VmLoginReport CheckVmLogins(const DesiredState& desired, const ActualState& actual,
                            const std::vector<Change>& changes);

// How the registry VM reads the vault as it is now: the live secrets, the
// logins among the first kVmListedSecrets (by name), and the logins beyond.
struct VmPage {
  int secrets = 0;
  int first_page_logins = 0;
  int logins_beyond = 0;
};
VmPage ReadVmPage(const DesiredState& desired, const ActualState& actual);

}  // namespace rotor::diff_internal

#endif  // ROTOR_ENGINE_DIFF_VM_LOGINS_H_
