#include "engine/model/registry_vm.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace rotor {

std::string GalleryParameterName(absl::string_view logical) {
  if (logical == kParamPfxKeyVaultResourceId) return "pfxKeyVaultResourceId";
  if (logical == kParamPfxKeyVaultSecretUrl) return "pfxKeyVaultSecretUrl";
  if (logical == kParamPfxThumbprint) return "pfxThumbprint";
  if (logical == kParamServicePrincipalClientId) return "servicePrincipalClientId";
  if (logical == kParamServicePrincipalClientSecret) return "servicePrincipalClientSecret";
  return std::string(logical);
}

std::string VmKeyVaultResource(absl::string_view management_audience) {
  constexpr absl::string_view kManagement = "https://management.";
  if (!absl::StartsWith(management_audience, kManagement)) return std::string(management_audience);
  return absl::StrCat("https://vault.", management_audience.substr(kManagement.size()));
}

}  // namespace rotor
