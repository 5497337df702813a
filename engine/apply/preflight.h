// Preflight: before plan shows a deployment and before apply's first write,
// proof that the deployment can go out: every value the plan names
// resolves, the registry's service principal signs in as the VM will
// (RegistrySignIn), and ARM's validate accepts the template and the
// parameters exactly as apply will send them (deployment_request.h; the
// certificate URL a new version will have is stood in for by a URL of the
// same form). A failure names the config key and the source to fix, and
// nothing is written.
#ifndef ROTOR_ENGINE_APPLY_PREFLIGHT_H_
#define ROTOR_ENGINE_APPLY_PREFLIGHT_H_

#include "absl/status/status.h"
#include "engine/model/deployments.h"
#include "engine/model/plan.h"
#include "engine/model/registry_sign_in.h"
#include "engine/model/value_set.h"
#include "engine/model/vault.h"

namespace rotor {

// `sign_in` may be null (no stamp to sign in to: the embedded provider).
absl::Status Preflight(const Plan& plan, const ValueSet& values, const VaultInfo& vault,
                       DeploymentService& deployments, RegistrySignIn* sign_in);

}  // namespace rotor

#endif  // ROTOR_ENGINE_APPLY_PREFLIGHT_H_
