#include "engine/model/registry_vm.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "base/digest.h"
#include "base/json_text.h"

namespace rotor {

std::string GalleryParameterName(absl::string_view logical) {
  if (logical == kParamPfxKeyVaultResourceId) return "pfxKeyVaultResourceId";
  if (logical == kParamPfxKeyVaultSecretUrl) return "pfxKeyVaultSecretUrl";
  if (logical == kParamPfxThumbprint) return "pfxThumbprint";
  if (logical == kParamServicePrincipalClientId) return "servicePrincipalClientId";
  if (logical == kParamServicePrincipalClientSecret) return "servicePrincipalClientSecret";
  return std::string(logical);
}

std::string LoginStamp(const SecretVersion& secret) {
  return absl::StrCat("updated:", absl::ToUnixSeconds(secret.updated));
}

std::string LoginDigest(const std::map<std::string, std::string>& stamps) {
  std::string canonical;
  for (const auto& [key, stamp] : stamps) absl::StrAppend(&canonical, key, "=", stamp, "\n");
  return Sha256Hex(canonical).substr(0, 20);
}

absl::StatusOr<std::string> RegistryUrlFromDeployment(absl::string_view arm_endpoint,
                                                      const Deployment& deployment) {
  std::string label;
  for (const auto& [name, parameter] : deployment.parameters) {
    if (!absl::EqualsIgnoreCase(name, kDomainLabelParameter)) continue;
    label = JsonStringValue(parameter.value_json).value_or("");
  }
  if (label.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "deployment ", deployment.name, " has no ", kDomainLabelParameter,
        " parameter (the registry template's public IP DNS label) to derive the registry's name "
        "from"));
  }
  // https://management.<region>.<external domain>[:port][/]
  absl::string_view host = arm_endpoint;
  absl::ConsumePrefix(&host, "https://");
  host = host.substr(0, host.find_first_of(":/"));
  std::vector<absl::string_view> labels = absl::StrSplit(host, '.');
  if (labels.size() < 3 || !absl::EqualsIgnoreCase(labels[0], "management")) {
    return absl::FailedPreconditionError(
        absl::StrCat("the ARM endpoint's host ", host,
                     " is not management.<region>.<external domain>, so the "
                     "registry's name (",
                     label, ".<region>.cloudapp.<external domain>) cannot be derived"));
  }
  std::string domain = absl::StrJoin(labels.begin() + 2, labels.end(), ".");
  return absl::StrCat("https://", absl::AsciiStrToLower(label), ".",
                      absl::AsciiStrToLower(labels[1]), ".cloudapp.",
                      absl::AsciiStrToLower(domain));
}

bool CertificateCoversHost(const std::vector<std::string>& dns_names, absl::string_view host) {
  const std::string h = absl::AsciiStrToLower(host);
  for (const auto& name : dns_names) {
    const std::string n = absl::AsciiStrToLower(name);
    if (n == h) return true;
    if (absl::StartsWith(n, "*.")) {
      const size_t dot = h.find('.');
      if (dot != std::string::npos && dot > 0 && h.substr(dot + 1) == n.substr(2)) return true;
    }
  }
  return false;
}

std::string UrlHost(absl::string_view url) {
  absl::string_view rest = url;
  if (size_t scheme = rest.find("://"); scheme != absl::string_view::npos) {
    rest = rest.substr(scheme + 3);
  }
  rest = rest.substr(0, rest.find_first_of("/?#"));
  if (absl::StartsWith(rest, "[")) return std::string(rest.substr(0, rest.find(']') + 1));
  return absl::AsciiStrToLower(rest.substr(0, rest.find(':')));
}

std::string VmKeyVaultResource(absl::string_view management_audience) {
  constexpr absl::string_view kManagement = "https://management.";
  if (!absl::StartsWith(management_audience, kManagement)) return std::string(management_audience);
  return absl::StrCat("https://vault.", management_audience.substr(kManagement.size()));
}

}  // namespace rotor
