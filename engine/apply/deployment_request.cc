#include "engine/apply/deployment_request.h"

#include "absl/strings/str_cat.h"
#include "base/json_text.h"
#include "base/status_context.h"
#include "engine/model/registry_vm.h"
#include "engine/model/secret_kind.h"
#include "engine/template/template.h"

namespace rotor {

std::string DeployedLoginDigest(const PlannedDeployment& d,
                                const std::map<std::string, SecretVersion>& written) {
  std::map<std::string, std::string> stamps = d.login_stamps;
  for (const auto& [key, version] : written) {
    if (ClassifySecret(version) == SecretKind::kUser) stamps[key] = LoginStamp(version);
  }
  return LoginDigest(stamps);
}

std::string ForceUpdateTag(absl::string_view login_digest) {
  return absl::StrCat("rotor-", login_digest);
}

absl::StatusOr<DeploymentRequest> BuildDeploymentRequest(const PlannedDeployment& d,
                                                         const Plan& plan, const ValueSet& values,
                                                         absl::string_view certificate_url,
                                                         absl::string_view template_json,
                                                         absl::string_view force_update_tag,
                                                         absl::string_view login_digest) {
  DeploymentRequest request;
  request.name = d.name;
  request.mode = d.mode;
  request.tags = d.tags;
  request.tags[kLoginsTag] = std::string(login_digest);
  if (!template_json.empty()) {
    if (force_update_tag.empty()) {
      request.template_json = std::string(template_json);
    } else {
      auto tagged = WithForceUpdateTag(template_json, force_update_tag);
      if (!tagged.ok()) return WithContext(tagged.status(), "setting the forceUpdateTag");
      request.template_json = *std::move(tagged);
    }
  } else {
    request.template_link_uri = d.template_link_uri;
  }
  for (const PlannedParameter& p : d.parameters) {
    switch (p.source) {
      case PlannedParameter::Source::kCarried:
      case PlannedParameter::Source::kLiteral:
        request.parameters[p.name] = Secret(p.value_json);
        break;
      case PlannedParameter::Source::kCertificateUrl:
        request.parameters[p.name] = Secret(JsonQuote(certificate_url));
        break;
      case PlannedParameter::Source::kCertificateThumbprint:
        if (d.certificate_thumbprint == kKnownAfterApply) {
          return absl::FailedPreconditionError(
              "the deployment passes the thumbprint of a certificate this apply issues, and "
              "none was issued");
        }
        request.parameters[p.name] = Secret(JsonQuote(d.certificate_thumbprint));
        break;
      case PlannedParameter::Source::kValue: {
        absl::StatusOr<Secret> value = values.Value(p.value_key);
        if (!value.ok()) {
          const PlannedValue* planned = plan.FindValue(p.value_key);
          return WithContext(value.status(), planned != nullptr ? planned->source : p.value_key);
        }
        request.parameters[p.name] = JsonQuoteSecret(*value);
        break;
      }
    }
  }
  return request;
}

}  // namespace rotor
