#include "engine/model/state.h"

#include "absl/strings/ascii.h"
#include "engine/model/registry_vm.h"

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
  return GalleryParameterName(logical);
}

}  // namespace rotor
