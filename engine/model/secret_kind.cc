#include "engine/model/secret_kind.h"

#include "certs/keyvault_secret.h"

namespace rotor {

SecretKind ClassifySecret(const SecretVersion& secret) {
  auto role = secret.tags.find(kRoleTag);
  if (role != secret.tags.end()) {
    if (role->second == kRoleUser) return SecretKind::kUser;
    if (role->second == kRoleCertificate) return SecretKind::kCertificate;
    return SecretKind::kOther;
  }
  if (secret.content_type == kUserContentType) return SecretKind::kUser;
  if (secret.content_type == certs::kCertificateContentType ||
      secret.content_type == certs::kPkcs12ContentType) {
    return SecretKind::kCertificate;
  }
  return SecretKind::kOther;
}

std::map<std::string, std::string> RotorTags(absl::string_view role) {
  return {{kManagedByTag, kManagedByValue}, {kRoleTag, std::string(role)}};
}

bool IsAcmeAccount(const SecretVersion& secret) {
  auto role = secret.tags.find(kRoleTag);
  return role != secret.tags.end() && role->second == kRoleAcmeAccount;
}

bool KindIsKnown(const SecretVersion& secret) {
  return secret.tags.count(kRoleTag) > 0 || ClassifySecret(secret) != SecretKind::kOther;
}

}  // namespace rotor
