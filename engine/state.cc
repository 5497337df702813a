#include "engine/state.h"

#include "absl/strings/ascii.h"

namespace rotor {

std::string SecretKey(absl::string_view name) { return absl::AsciiStrToLower(name); }

const SecretVersion* ActualState::FindSecret(absl::string_view name) const {
  auto it = secrets.find(SecretKey(name));
  return it == secrets.end() ? nullptr : &it->second;
}

const DeletedSecret* ActualState::FindDeleted(absl::string_view name) const {
  auto it = deleted.find(SecretKey(name));
  return it == deleted.end() ? nullptr : &it->second;
}

const Secret* ActualState::FindValue(absl::string_view name) const {
  auto it = values.find(SecretKey(name));
  return it == values.end() ? nullptr : &it->second;
}

std::string DesiredDeployment::ParameterName(absl::string_view logical) const {
  auto it = parameter_names.find(std::string(logical));
  if (it != parameter_names.end()) return it->second;
  if (logical == "pfx_key_vault_resource_id") return "pfxKeyVaultResourceId";
  if (logical == "pfx_key_vault_secret_url") return "pfxKeyVaultSecretUrl";
  if (logical == "pfx_thumbprint") return "pfxThumbprint";
  if (logical == "service_principal_client_id") return "servicePrincipalClientId";
  if (logical == "service_principal_client_secret") return "servicePrincipalClientSecret";
  return std::string(logical);
}

}  // namespace rotor
