// Where the ACME account key lives between runs. rotor keeps no state of its
// own, so the key is kept in the registry's own vault (VaultAccountKeyStore):
// two machines running rotor share one ACME account, and losing the
// machine loses nothing.
//
// The stored value is a JSON envelope, content type kAcmeAccountContentType:
//   {"kind":"rotor-acme-account","directory":"https://acme.../directory",
//    "key":"-----BEGIN PRIVATE KEY-----\n..."}
// always longer than kMaxLoginSecretLength: the registry VM turns every
// secret of at most that many characters into a login
// (engine/model/registry_vm.h), and an account key must never be one.
#ifndef ROTOR_PROVIDERS_ACME_ACCOUNT_KEY_STORE_H_
#define ROTOR_PROVIDERS_ACME_ACCOUNT_KEY_STORE_H_

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "base/secret.h"
#include "engine/model/vault.h"

namespace rotor::acme {

inline constexpr char kAcmeAccountContentType[] = "application/x-rotor-acme-account+json";
inline constexpr char kAcmeAccountEnvelopeKind[] = "rotor-acme-account";

class AccountKeyStore {
 public:
  virtual ~AccountKeyStore() = default;
  // The key's PEM, or nullopt when none was saved yet.
  virtual absl::StatusOr<std::optional<Secret>> Load() = 0;
  virtual absl::Status Save(const Secret& pem) = 0;
};

// The envelope around `key_pem` (see above); a Secret, since it holds the
// key. FailedPrecondition when it would not be longer than
// kMaxLoginSecretLength (a key that short is no P-256 key anyway).
absl::StatusOr<Secret> AccountEnvelope(absl::string_view directory_url, const Secret& key_pem);
// The key inside an envelope; InvalidArgument (never quoting the value)
// when `envelope` is not one.
absl::StatusOr<Secret> KeyOfAccountEnvelope(const Secret& envelope);

// The key in `vault` under kAcmeAccountSecretName, tagged
// RotorTags(kRoleAcmeAccount). A disabled secret is an error (rotor never
// disables, so someone meant it), not "no key": a new account would be
// made over it.
class VaultAccountKeyStore : public AccountKeyStore {
 public:
  // `vault` must outlive the store; `directory_url` is recorded beside the
  // key, for people reading the vault.
  VaultAccountKeyStore(Vault& vault, std::string directory_url)
      : vault_(vault), directory_url_(std::move(directory_url)) {}
  absl::StatusOr<std::optional<Secret>> Load() override;
  absl::Status Save(const Secret& pem) override;

 private:
  Vault& vault_;
  std::string directory_url_;
};

}  // namespace rotor::acme

#endif  // ROTOR_PROVIDERS_ACME_ACCOUNT_KEY_STORE_H_
