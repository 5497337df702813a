#include "engine/diff/deployment_plan.h"

#include <map>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/json_text.h"
#include "engine/diff/diff.h"
#include "engine/model/apply_history.h"
#include "engine/model/registry_vm.h"
#include "engine/model/secret_kind.h"

namespace rotor::diff_internal {
namespace {

std::string Lower(absl::string_view s) { return absl::AsciiStrToLower(s); }

// The names a template declares, for messages.
std::string DeclaredNames(const TemplateInfo& tpl) {
  std::vector<std::string> names;
  for (const auto& [key, p] : tpl.parameters) names.push_back(p.name);
  return names.empty() ? "none" : absl::StrJoin(names, ", ");
}

}  // namespace

std::string PlannedCertificateThumbprint(const DesiredState& desired, const ActualState& actual,
                                         const std::vector<Change>& changes) {
  if (!desired.certificate.has_value()) return "";
  const DesiredCertificate& cert = *desired.certificate;
  if (!cert.issuance.has_value()) return cert.thumbprint;
  for (const Change& c : changes) {
    if (c.Kind() == "certificate" && c.write.has_value() && c.write->issue.has_value()) {
      return kKnownAfterApply;
    }
  }
  auto current = actual.certificates.find(SecretKey(cert.secret_name));
  return current == actual.certificates.end() ? "" : current->second.thumbprint;
}

absl::StatusOr<DeploymentPlanOutput> PlanDeployment(const DeploymentPlanInput& input) {
  const DesiredState& desired = *input.desired;
  const ActualState& actual = *input.actual;
  const DesiredDeployment& want = *desired.deployment;
  DeploymentPlanOutput out;
  PlannedDeployment& d = out.deployment;
  d.resource_group = want.resource_group;
  d.tags = {{kManagedByTag, kManagedByValue}};
  if (!input.apply_id.empty()) d.tags[kApplyIdTag] = input.apply_id;
  if (!input.rollback_of.empty()) d.tags[kRollbackOfTag] = input.rollback_of;
  std::vector<std::string> deleted;
  for (const auto& c : *input.secret_changes) {
    if (c.action == Action::kDelete) deleted.push_back(c.Name());
  }
  if (!deleted.empty()) d.tags[kDeletedTag] = DeletedTagValue(deleted);
  std::vector<std::string> errors;

  const bool first = actual.deployments.empty();
  const TemplateInfo* tpl = nullptr;
  std::string where;  // "the template of deployment X" / "template FILE"
  if (first) {
    d.name = DeriveDeploymentName("registry", input.now, input.name_suffix);
    d.template_json = want.template_json;
    where = absl::StrCat("template ", want.template_file);
    if (want.template_info.has_value()) tpl = &*want.template_info;
  } else {
    const Deployment& base = *actual.base_deployment;
    d.base = base.name;
    d.name = DeriveDeploymentName(base.name, input.now, input.name_suffix);
    d.mode = base.mode.empty() ? "Incremental" : base.mode;
    d.template_link_uri = base.template_link_uri;
    where = absl::StrCat("the template of deployment ", base.name);
    if (actual.base_template.has_value()) tpl = &*actual.base_template;
  }
  if (tpl == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat(where, " could not be read",
                     actual.template_error.empty() ? "" : absl::StrCat(": ", actual.template_error),
                     "; rotor checks every redeploy against it"));
  }

  // The parameters rotor sets, under the template's names.
  std::map<std::string, PlannedParameter> set;  // lower-cased name
  auto set_parameter = [&](absl::string_view logical, PlannedParameter p) {
    const std::string name = want.ParameterName(logical);
    const TemplateParameterInfo* declared = tpl->FindParameter(name);
    if (declared == nullptr) {
      errors.push_back(absl::StrCat(
          "[deployment.parameter_names] ", logical, ": ", where, " declares no parameter ", name,
          " (its parameters: ", DeclaredNames(*tpl), "); name the template's parameter for ",
          logical, " in [deployment.parameter_names]"));
      return;
    }
    p.name = declared->name;
    set[Lower(declared->name)] = std::move(p);
  };
  if (input.certificate.has_value()) {
    d.certificate_secret = input.certificate->secret_name;
    d.certificate_thumbprint = input.certificate->thumbprint;
    d.certificate_url = input.certificate->url;
  } else if (desired.certificate.has_value()) {
    const DesiredCertificate& cert = *desired.certificate;
    d.certificate_secret = cert.secret_name;
    d.certificate_thumbprint = PlannedCertificateThumbprint(desired, actual, *input.secret_changes);
    if (const SecretVersion* live = actual.FindSecret(cert.secret_name)) {
      if (!live->version.empty()) d.certificate_url = live->id;
    }
  }
  if (!d.certificate_secret.empty()) {
    set_parameter(kParamPfxKeyVaultResourceId, {"", PlannedParameter::Source::kLiteral,
                                                JsonQuote(actual.vault.resource_id), ""});
    set_parameter(kParamPfxKeyVaultSecretUrl,
                  {"", PlannedParameter::Source::kCertificateUrl, "", ""});
    // An issued certificate's thumbprint is known once apply has it.
    if (d.certificate_thumbprint == kKnownAfterApply) {
      set_parameter(kParamPfxThumbprint,
                    {"", PlannedParameter::Source::kCertificateThumbprint, "", ""});
    } else {
      set_parameter(kParamPfxThumbprint, {"", PlannedParameter::Source::kLiteral,
                                          JsonQuote(d.certificate_thumbprint), ""});
    }
  }
  if (want.has_service_principal) {
    set_parameter(kParamServicePrincipalClientId,
                  {"", PlannedParameter::Source::kValue, "", "deployment.client_id"});
    set_parameter(kParamServicePrincipalClientSecret,
                  {"", PlannedParameter::Source::kValue, "", "deployment.client_secret"});
    out.values.push_back({"deployment.client_id", want.client_id_source, ""});
    out.values.push_back({"deployment.client_secret", want.client_secret_source, ""});
  }

  // The other parameters: the first deployment's from the config, a
  // redeploy's carried over from the deployment it redeploys.
  std::set<std::string> valued;
  for (const auto& [key, p] : set) valued.insert(key);
  std::vector<PlannedParameter> others;
  if (first) {
    for (const auto& [name, json] : want.first_parameters) {
      const TemplateParameterInfo* declared = tpl->FindParameter(name);
      if (declared == nullptr) {
        errors.push_back(absl::StrCat(
            "[deployment.parameters] ", name, ": ", where,
            " declares no such parameter (its parameters: ", DeclaredNames(*tpl), ")"));
        continue;
      }
      if (set.count(Lower(name)) > 0) {
        errors.push_back(absl::StrCat("[deployment.parameters] ", name,
                                      ": rotor sets this parameter itself; remove it"));
        continue;
      }
      others.push_back({declared->name, PlannedParameter::Source::kLiteral, json, ""});
      valued.insert(Lower(name));
    }
  } else {
    const Deployment& base = *actual.base_deployment;
    for (const auto& [name, p] : base.parameters) {
      if (set.count(Lower(name)) > 0) continue;
      const TemplateParameterInfo* declared = tpl->FindParameter(name);
      if (!p.value_json.empty()) {
        others.push_back({name, PlannedParameter::Source::kCarried, p.value_json, ""});
        valued.insert(Lower(name));
        continue;
      }
      const bool secure = (declared != nullptr && declared->IsSecure()) ||
                          absl::StartsWithIgnoreCase(p.type, "secure");
      if (!secure) continue;
      // ARM never returns a securestring: a redeploy must be given it again.
      const bool sp_id = Lower(name) == Lower(want.ParameterName(kParamServicePrincipalClientId));
      const bool sp_secret =
          Lower(name) == Lower(want.ParameterName(kParamServicePrincipalClientSecret));
      if (sp_id || sp_secret) {
        errors.push_back(absl::StrCat(
            "[deployment] ", sp_id ? "client_id" : "client_secret", ": parameter ", name,
            " of deployment ", base.name,
            " is a securestring that ARM never returns, so a redeploy must pass it again, and "
            "rotor has no source for it; set [deployment] client_id = { env = "
            "\"REGISTRY_SPN_CLIENT_ID\" } and client_secret = { env = "
            "\"REGISTRY_SPN_CLIENT_SECRET\" } (the registry's service principal)"));
      } else {
        errors.push_back(absl::StrCat(
            "parameter ", name, " of deployment ", base.name,
            " is a securestring that ARM never returns, and rotor has no source for it; a "
            "redeploy cannot pass it again"));
      }
      valued.insert(Lower(name));  // reported once
    }
  }
  // Every parameter without a default needs a value.
  for (const auto& [key, p] : tpl->parameters) {
    if (p.has_default || valued.count(key) > 0) continue;
    const bool pfx = key == Lower(want.ParameterName(kParamPfxKeyVaultSecretUrl)) ||
                     key == Lower(want.ParameterName(kParamPfxThumbprint)) ||
                     key == Lower(want.ParameterName(kParamPfxKeyVaultResourceId));
    errors.push_back(
        absl::StrCat("parameter ", p.name, " of ", where, " has no default and no value",
                     pfx     ? "; declare [certificate] so rotor passes the registry's certificate"
                     : first ? absl::StrCat("; set it in [deployment.parameters]")
                             : "; the deployment being redeployed does not pass it either"));
  }
  if (!errors.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("the ", first ? "first deployment" : "redeploy",
                     " this plan needs cannot go out:\n  ", absl::StrJoin(errors, "\n  ")));
  }
  for (auto& [key, p] : set) d.parameters.push_back(std::move(p));
  for (auto& p : others) d.parameters.push_back(std::move(p));

  // The registry VM reads Key Vault only when its script runs, and the
  // script runs only when the CustomScript extension's configuration
  // changes: a login change alone must change it.
  // The logins the VM will take: the user secrets this plan leaves alone
  // (apply adds the ones it writes), for the deployment's kLoginsTag.
  std::set<std::string> touched;
  for (const auto& c : *input.secret_changes) touched.insert(SecretKey(c.Name()));
  for (const auto& [key, live] : actual.secrets) {
    if (touched.count(key) > 0) continue;
    bool declared_user = false;
    for (const auto& u : desired.users) declared_user |= SecretKey(u.name) == key;
    if (!declared_user && ClassifySecret(live) != SecretKind::kUser) continue;
    d.login_stamps[key] = LoginStamp(live);
  }
  // The registry VM reads Key Vault only when its script runs, and the
  // script runs only when the CustomScript extension's configuration
  // changes: a login change alone must change it.
  if (input.logins_change) {
    if (tpl->has_custom_script) {
      d.set_force_update_tag = true;
      out.reasons.push_back(
          "the registry's logins change, and the VM reads them only when its CustomScript "
          "extension runs again: rotor sets the extension's forceUpdateTag to a digest of the "
          "logins it will read");
    } else {
      out.warnings.push_back(
          {"deployment",
           absl::StrCat(where,
                        " has no CustomScript extension: nothing in it forces the registry VM "
                        "to read Key Vault again, so the new logins may not take effect")});
    }
  }
  return out;
}

}  // namespace rotor::diff_internal
