#include "engine/model/vault.h"

#include "absl/strings/cord.h"

namespace rotor {
namespace {
constexpr char kVaultErrorCodePayload[] = "rotor/vault-error-code";
}  // namespace

absl::Status WithVaultErrorCode(absl::Status status, absl::string_view code) {
  status.SetPayload(kVaultErrorCodePayload, absl::Cord(code));
  return status;
}

std::string VaultErrorCode(const absl::Status& status) {
  auto payload = status.GetPayload(kVaultErrorCodePayload);
  return payload.has_value() ? std::string(*payload) : std::string();
}

bool SecretVersion::ManagedByRotor() const {
  auto it = tags.find(kManagedByTag);
  return it != tags.end() && it->second == kManagedByValue;
}

std::vector<absl::StatusOr<SecretBundle>> Vault::GetSecrets(const std::vector<std::string>& names) {
  std::vector<absl::StatusOr<SecretBundle>> out;
  out.reserve(names.size());
  for (const auto& name : names) out.push_back(GetSecret(name));
  return out;
}

std::vector<absl::StatusOr<SecretVersion>> Vault::SetSecrets(
    const std::vector<std::pair<std::string, const SetSecretRequest*>>& writes) {
  std::vector<absl::StatusOr<SecretVersion>> out;
  out.reserve(writes.size());
  for (const auto& [name, request] : writes) out.push_back(SetSecret(name, *request));
  return out;
}

}  // namespace rotor
