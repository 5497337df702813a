// The ARM request a PlannedDeployment sends, built the same way for the
// preflight check (ARM's validate) and for the deployment itself, so what
// was checked is what goes out.
#ifndef ROTOR_ENGINE_APPLY_DEPLOYMENT_REQUEST_H_
#define ROTOR_ENGINE_APPLY_DEPLOYMENT_REQUEST_H_

#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "engine/model/deployments.h"
#include "engine/model/plan.h"
#include "engine/model/value_set.h"
#include "engine/model/vault.h"

namespace rotor {

// The LoginDigest of the logins the registry VM will take from `d`: the
// login stamps of the secrets that stay and of the user secrets `written`
// by this apply (keyed by SecretKey). The same inputs give the same digest.
std::string DeployedLoginDigest(const PlannedDeployment& d,
                                const std::map<std::string, SecretVersion>& written);
// The forceUpdateTag that makes the VM take them: "rotor-" and the digest.
std::string ForceUpdateTag(absl::string_view login_digest);

// The request: `d`'s parameters with values from `values` (PlannedValues
// sent as JSON strings), `certificate_url` for the certificate URL
// parameter, `d.certificate_thumbprint` for an issued certificate's
// thumbprint (the executor sets the issued one), and the template: `template_json` (the first
// deployment's, or the base's as exported) with `force_update_tag` set when not empty, or the
// base's link when `template_json` is empty; tagged kLoginsTag = `login_digest`. Errors name the
// value.
absl::StatusOr<DeploymentRequest> BuildDeploymentRequest(const PlannedDeployment& d,
                                                         const Plan& plan, const ValueSet& values,
                                                         absl::string_view certificate_url,
                                                         absl::string_view template_json,
                                                         absl::string_view force_update_tag,
                                                         absl::string_view login_digest);

}  // namespace rotor

#endif  // ROTOR_ENGINE_APPLY_DEPLOYMENT_REQUEST_H_
