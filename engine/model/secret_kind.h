// What a secret in the registry's vault is, read from its metadata alone:
// the one rule diff, refresh, show and init share.
#ifndef ROTOR_ENGINE_MODEL_SECRET_KIND_H_
#define ROTOR_ENGINE_MODEL_SECRET_KIND_H_

#include <map>
#include <string>

#include "absl/strings/string_view.h"
#include "engine/model/vault.h"

namespace rotor {

// Tag naming what a rotor-managed secret is, beside managed-by = rotor.
inline constexpr char kRoleTag[] = "rotor-role";
inline constexpr char kRoleUser[] = "user";
inline constexpr char kRoleCertificate[] = "certificate";
// The ACME account key ([certificate.acme]), kept in the registry's own vault
// so that rotor stays stateless and two machines share one account. The
// registry VM makes a login of every secret of at most
// kMaxLoginSecretLength characters on its first page and logs in with the
// first one listed (engine/model/registry_vm.h), so this secret's value is
// always longer than that and its name sorts after every other name.
inline constexpr char kRoleAcmeAccount[] = "acme-account";
inline constexpr char kAcmeAccountSecretName[] = "zz-rotor-acme-account";

enum class SecretKind { kUser, kCertificate, kOther };

// The tags rotor writes on every version: managed-by = rotor and
// rotor-role = `role` (kRoleUser or kRoleCertificate).
std::map<std::string, std::string> RotorTags(absl::string_view role);

// rotor's own tag wins (rotor-role = user / certificate; another role is
// kOther); without it, the content type: "user credentials" (what the
// PowerShell procedure writes) is a user, "pfx" or "application/x-pkcs12"
// a certificate, anything else kOther.
SecretKind ClassifySecret(const SecretVersion& secret);

// rotor's ACME account key (rotor-role = acme-account): never a login (its
// value is longer than kMaxLoginSecretLength), never undeclared, never
// deleted by a plan.
bool IsAcmeAccount(const SecretVersion& secret);

// Whether the metadata alone says what the secret is (a rotor-role tag, or
// a known content type): such a secret needs no read to be classified.
bool KindIsKnown(const SecretVersion& secret);

}  // namespace rotor

#endif  // ROTOR_ENGINE_MODEL_SECRET_KIND_H_
