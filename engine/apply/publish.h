// Hands the passwords an apply wrote to their clients ([[user]] publish,
// Plan::publishes), after the apply (its redeploy included) succeeded and,
// with --verify, verify passed:
//  - docker_config: auths."HOST[:PORT]".auth = base64("USER:PASSWORD") is
//    merged into the Docker config.json (created when absent; every other
//    entry kept), which is replaced atomically with mode 0600;
//  - command: the program runs without a shell, {"registry", "username",
//    "password"} as JSON on its standard input, and must exit 0 within
//    kCommandTimeout (its process group is killed after that).
// The password is read back from the version the apply wrote, so a
// generated one is handed over as the registry has it. Each sink's outcome
// is reported on its own; a failure says which user and which sink, never
// the password (nor the program's output, which may hold it), and nothing
// is undone in the registry.
#ifndef ROTOR_ENGINE_APPLY_PUBLISH_H_
#define ROTOR_ENGINE_APPLY_PUBLISH_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "base/process.h"
#include "engine/model/apply_outputs.h"
#include "engine/model/plan.h"
#include "engine/model/vault.h"

namespace rotor {

struct PublishResult {
  PlannedPublish publish;
  absl::Status status;
};

std::vector<PublishResult> RunPublishes(const Plan& plan, const ApplyOutputs& outputs, Vault& vault,
                                        absl::Duration command_timeout = kCommandTimeout);

}  // namespace rotor

#endif  // ROTOR_ENGINE_APPLY_PUBLISH_H_
