#include "engine/config/desired.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/files.h"
#include "engine/model/registry_vm.h"
#include "engine/template/template.h"

namespace rotor {

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
    d.source = user.password.Describe();
    if (user.password.kind == ValueSource::Kind::kGenerate) {
      d.generated = true;
      d.generate_length = user.password.generate_length;
      continue;
    }
    std::string owner = absl::StrCat("user \"", user.name, "\"");
    auto value = ResolveValue(user.password, env, owner);
    if (!value.ok()) {
      errors.push_back(std::string(value.status().message()));
      continue;
    }
    if (value->empty()) {
      errors.push_back(absl::StrCat(owner, ": password from ", d.source,
                                    " is empty; a registry login needs a password"));
      continue;
    }
    if (value->size() > kMaxLoginSecretLength) {
      errors.push_back(
          absl::StrCat(owner, ": password from ", d.source, " is ", value->size(),
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
      errors.push_back(
          "[deployment]: client_id and client_secret go together (the registry template "
          "needs both service-principal parameters on every redeploy)");
    } else if (dc.client_id.has_value()) {
      auto id = ResolveValue(*dc.client_id, env, "[deployment] client_id");
      auto secret = ResolveValue(*dc.client_secret, env, "[deployment] client_secret");
      if (!id.ok()) errors.push_back(std::string(id.status().message()));
      if (!secret.ok()) errors.push_back(std::string(secret.status().message()));
      if (id.ok() && secret.ok()) {
        d.client_id = *std::move(id);
        d.client_secret = *std::move(secret);
        d.has_service_principal = true;
      }
      d.client_id_source = absl::StrCat("[deployment] client_id (", dc.client_id->Describe(), ")");
      d.client_secret_source =
          absl::StrCat("[deployment] client_secret (", dc.client_secret->Describe(), ")");
    }
    if (!dc.template_file.empty()) {
      auto text = ReadFile(dc.template_file,
                           ReadLimit{.max_bytes = kMaxTemplateBytes, .what = "an ARM template"});
      if (text.ok()) {
        d.template_json = *std::move(text);
        auto info = ParseTemplateInfo(d.template_json);
        if (info.ok()) {
          d.template_info = *std::move(info);
        } else {
          errors.push_back(absl::StrCat("[deployment] template: ", dc.template_file, ": ",
                                        info.status().message()));
        }
      } else {
        errors.push_back(absl::StrCat("[deployment] template: ", text.status().message()));
      }
    }
  }

  if (!errors.empty()) {
    return absl::InvalidArgumentError(absl::StrJoin(errors, "\n"));
  }
  return desired;
}

}  // namespace rotor
