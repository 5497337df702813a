#include "engine/config/desired.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/files.h"
#include "engine/model/registry_vm.h"
#include "engine/template/template.h"

namespace rotor {
namespace {

constexpr char kServicePrincipalPair[] =
    "[deployment]: client_id and client_secret go together (the registry template needs both "
    "service-principal parameters on every redeploy)";

// Reads and parses a first deployment's template into `d`; problems go to
// `errors`.
void LoadTemplate(const DeploymentConfig& dc, DesiredDeployment* d,
                  std::vector<std::string>* errors) {
  if (dc.template_file.empty()) return;
  auto text = ReadFile(dc.template_file,
                       ReadLimit{.max_bytes = kMaxTemplateBytes, .what = "an ARM template"});
  if (!text.ok()) {
    errors->push_back(absl::StrCat("[deployment] template: cannot read file ", dc.template_file,
                                   ": ", FileErrorReason(text.status())));
    return;
  }
  d->template_json = *std::move(text);
  auto info = ParseTemplateInfo(d->template_json);
  if (info.ok()) {
    d->template_info = *std::move(info);
  } else {
    errors->push_back(absl::StrCat("[deployment] template: file ", dc.template_file, ": ",
                                   info.status().message()));
  }
}

}  // namespace

absl::StatusOr<OfflineValidation> ValidateOffline(const Config& config, const Environment& env,
                                                  absl::Time now) {
  OfflineValidation out;
  std::vector<std::string> errors;
  // An issuer's certificate does not exist yet: nothing to check offline.
  if (config.certificate.has_value() && !config.certificate->HasIssuer()) {
    auto cert = ValidateCertificateOffline(*config.certificate, env, now);
    if (cert.ok()) {
      out.certificate = *std::move(cert);
    } else {
      errors.push_back(std::string(cert.status().message()));
    }
  }
  if (config.deployment.has_value()) {
    const DeploymentConfig& dc = *config.deployment;
    if (dc.client_id.has_value() != dc.client_secret.has_value()) {
      errors.push_back(kServicePrincipalPair);
    }
    DesiredDeployment unused;
    LoadTemplate(dc, &unused, &errors);
  }
  if (!errors.empty()) return absl::InvalidArgumentError(absl::StrJoin(errors, "\n"));
  return out;
}

absl::StatusOr<DesiredState> BuildDesired(const Config& config, const Environment& env,
                                          absl::Time now) {
  DesiredState desired;
  desired.config_path = config.path;
  desired.config_digest = config.digest;
  desired.vault_name = config.vault.name;
  desired.registry_url = config.registry.url;
  desired.arm_endpoint = config.cloud.arm_endpoint;
  desired.policy = config.policy;
  std::vector<std::string> errors;

  for (const auto& user : config.users) {
    DesiredUser& d = desired.users.emplace_back();
    d.name = user.name;
    d.rotate_after = user.rotate_after;
    d.publish = user.publish;
    d.source = user.password.Describe();
    if (user.password.kind == ValueSource::Kind::kGenerate) {
      d.generated = true;
      d.generate_length = user.password.generate_length;
      continue;
    }
    const std::string key_path = absl::StrCat("user[", user.name, "].password");
    auto value = ResolveValue(user.password, env, key_path);
    if (!value.ok()) {
      errors.push_back(std::string(value.status().message()));
      continue;
    }
    const std::string key = NameValue(user.password, key_path);
    if (value->empty()) {
      errors.push_back(
          absl::StrCat(key, ": the value is empty; a registry login needs a password"));
      continue;
    }
    if (value->size() > kMaxLoginSecretLength) {
      errors.push_back(
          absl::StrCat(key, ": the value is ", value->size(),
                       " characters long; the registry VM silently skips secrets longer than ",
                       kMaxLoginSecretLength, ", so this user would have no login"));
      continue;
    }
    d.password = *std::move(value);
  }

  if (config.certificate.has_value()) {
    auto cert = BuildDesiredCertificate(*config.certificate, env, now);
    if (cert.ok()) {
      desired.certificate = *std::move(cert);
      // An issued certificate is for the registry's host unless it says.
      std::optional<DesiredIssuance>& issuance = desired.certificate->issuance;
      if (issuance.has_value() && issuance->dns_names.empty() && !config.registry.url.empty()) {
        issuance->dns_names.push_back(UrlHost(config.registry.url));
      }
    } else {
      errors.push_back(std::string(cert.status().message()));
    }
  }

  if (config.deployment.has_value()) {
    const DeploymentConfig& dc = *config.deployment;
    DesiredDeployment& d = desired.deployment.emplace();
    d.resource_group = dc.resource_group;
    d.name = dc.name;
    d.parameter_names = dc.parameter_names;
    d.first_parameters = dc.parameters;
    d.template_file = dc.template_file;
    if (dc.client_id.has_value() != dc.client_secret.has_value()) {
      errors.push_back(kServicePrincipalPair);
    } else if (dc.client_id.has_value()) {
      auto id = ResolveValue(*dc.client_id, env, "deployment.client_id");
      auto secret = ResolveValue(*dc.client_secret, env, "deployment.client_secret");
      if (!id.ok()) errors.push_back(std::string(id.status().message()));
      if (!secret.ok()) errors.push_back(std::string(secret.status().message()));
      if (id.ok() && secret.ok()) {
        d.client_id = *std::move(id);
        d.client_secret = *std::move(secret);
        d.has_service_principal = true;
      }
      d.client_id_source = NameValue(*dc.client_id, "deployment.client_id");
      d.client_secret_source = NameValue(*dc.client_secret, "deployment.client_secret");
    }
    LoadTemplate(dc, &d, &errors);
  }

  if (!errors.empty()) {
    return absl::InvalidArgumentError(absl::StrJoin(errors, "\n"));
  }
  return desired;
}

}  // namespace rotor
