#include "providers/local/provisioning.h"

#include <exception>
#include <utility>

#include "absl/strings/str_cat.h"
#include "providers/local/certificate_files.h"
#include "providers/local/htpasswd.h"
#include "rapidjson/document.h"

namespace rotor::local {

ProvisioningHook ComposeProvisioningSteps(std::vector<ProvisioningStep> steps) {
  return [steps = std::move(steps)](const DeploymentRequest& request,
                                    const std::string& resource_group) -> absl::Status {
    for (const auto& step : steps) {
      if (!step.run) continue;
      absl::Status status;
      try {
        status = step.run(request, resource_group);
      } catch (const std::exception& e) {
        status = absl::InternalError(absl::StrCat("unexpected exception: ", e.what()));
      }
      if (!status.ok()) {
        return absl::Status(status.code(), absl::StrCat(step.name, ": ", status.message()));
      }
    }
    return absl::OkStatus();
  };
}

ProvisioningHook MakeLocalRegistryHook(Vault& vault, LocalRegistryOptions options) {
  std::vector<ProvisioningStep> steps;
  // The VM agent places the certificate before the start-up script builds
  // htpasswd and starts the registry.
  steps.push_back(MakeCertificateStep(vault, options.registry_dir));
  steps.push_back(MakeHtpasswdStep(vault, options.registry_dir, options.bcrypt_cost));
  return ComposeProvisioningSteps(std::move(steps));
}

absl::StatusOr<std::string> StringParameter(const DeploymentRequest& request,
                                            absl::string_view name) {
  auto it = request.parameters.find(std::string(name));
  if (it == request.parameters.end()) {
    return absl::NotFoundError(absl::StrCat("deployment parameter ", name, " is not given"));
  }
  rapidjson::Document doc;
  doc.Parse(it->second.Reveal().data(), it->second.size());
  if (doc.HasParseError() || !doc.IsString()) {
    return absl::InvalidArgumentError(
        absl::StrCat("deployment parameter ", name, " is not a JSON string"));
  }
  return std::string(doc.GetString(), doc.GetStringLength());
}

}  // namespace rotor::local
