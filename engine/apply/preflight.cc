#include "engine/apply/preflight.h"

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/status_context.h"
#include "base/status_macros.h"
#include "engine/apply/deployment_request.h"

namespace rotor {
namespace {

std::string SourceOf(const Plan& plan, absl::string_view key) {
  const PlannedValue* v = plan.FindValue(key);
  return v != nullptr ? v->source : std::string(key);
}

}  // namespace

absl::Status Preflight(const Plan& plan, const ValueSet& values, const VaultInfo& vault,
                       DeploymentService& deployments, RegistrySignIn* sign_in) {
  for (const Change& c : plan.changes) {
    if (!c.deployment.has_value()) continue;
    const PlannedDeployment& d = *c.deployment;
    // Every value the deployment passes resolves.
    for (const PlannedParameter& p : d.parameters) {
      if (p.source != PlannedParameter::Source::kValue) continue;
      absl::StatusOr<Secret> value = values.Value(p.value_key);
      if (!value.ok()) return WithContext(value.status(), SourceOf(plan, p.value_key));
    }
    // The service principal signs in as the registry VM will.
    absl::StatusOr<Secret> id = values.Value("deployment.client_id");
    absl::StatusOr<Secret> secret = values.Value("deployment.client_secret");
    if (sign_in != nullptr && id.ok() && secret.ok() &&
        plan.FindValue("deployment.client_secret") != nullptr) {
      absl::Status signed_in = sign_in->SignIn(*id, *secret);
      if (!signed_in.ok()) {
        // AADSTS700016: no such application (the id); otherwise the secret.
        const bool unknown_app = absl::StrContains(signed_in.message(), "AADSTS700016");
        return WithMessage(
            signed_in,
            absl::StrCat(
                SourceOf(plan, unknown_app ? "deployment.client_id" : "deployment.client_secret"),
                ": the stamp refused this service principal, so the registry VM could "
                "not read Key Vault: ",
                signed_in.message()));
      }
    }
    // ARM accepts the request apply will send.
    std::string template_json = d.template_json;
    if (template_json.empty() && (d.template_link_uri.empty() || d.set_force_update_tag)) {
      ASSIGN_OR_RETURN(template_json, deployments.ExportTemplate(d.resource_group, d.base));
    }
    std::string url = d.certificate_url;
    if (url.empty() && !d.certificate_secret.empty()) {
      url = absl::StrCat(vault.base_url, "/secrets/", d.certificate_secret, "/",
                         std::string(32, '0'));
    }
    const std::string logins = DeployedLoginDigest(d, {});
    const std::string tag = d.set_force_update_tag ? ForceUpdateTag(logins) : "";
    // A certificate this apply issues has no thumbprint yet: ARM's validate
    // gets one of the same shape, as the URL above.
    PlannedDeployment validated = d;
    if (validated.certificate_thumbprint == kKnownAfterApply) {
      validated.certificate_thumbprint = std::string(40, '0');
    }
    ASSIGN_OR_RETURN(DeploymentRequest request, BuildDeploymentRequest(validated, plan, values, url,
                                                                       template_json, tag, logins));
    absl::Status valid = deployments.ValidateDeployment(d.resource_group, request);
    if (!valid.ok()) {
      return WithMessage(valid, absl::StrCat("ARM's validate refuses the ",
                                             d.base.empty() ? "first deployment" : "redeploy",
                                             " this plan needs: ", valid.message()));
    }
  }
  return absl::OkStatus();
}

}  // namespace rotor
