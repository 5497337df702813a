// Vault: the engine's view of one Key Vault (secrets only).
//
// Implemented by the embedded local provider (providers/local), the Key Vault
// HTTP client (providers/keyvault) and test fakes; all follow Key Vault's
// semantics, which this header states as the contract:
//  - Names are compared case-insensitively; the stored case is returned.
//  - A write (SetSecret) creates a new version with a fresh 32-hex id and
//    makes it the latest; versions are never rewritten, only their
//    attributes (enabled) can change.
//  - Tags and content type belong to each version.
//  - Deleting a secret deletes all its versions. On a soft-delete vault the
//    name is then "deleted but recoverable": SetSecret on it fails with
//    FailedPrecondition and VaultErrorCode() == kObjectIsDeletedButRecoverable
//    until it is recovered or purged.
//  - Absent secrets give NotFound; a disabled version gives PermissionDenied
//    on GetSecret; throttling gives Unavailable.
// Implementations are called from several threads at once (a refresh lists
// while it reads).
#ifndef ROTOR_ENGINE_MODEL_VAULT_H_
#define ROTOR_ENGINE_MODEL_VAULT_H_

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "base/secret.h"

namespace rotor {

// Every secret rotor writes carries this tag (on the version it writes).
inline constexpr char kManagedByTag[] = "managed-by";
inline constexpr char kManagedByValue[] = "rotor";
// Content type of registry user secrets, as the PowerShell procedure writes.
inline constexpr char kUserContentType[] = "user credentials";

// Key Vault error codes the engine acts on (innererror.code or error.code),
// attached to statuses as a payload; see VaultErrorCode().
inline constexpr char kObjectIsDeletedButRecoverable[] = "ObjectIsDeletedButRecoverable";
inline constexpr char kObjectIsBeingRecovered[] = "ObjectIsBeingRecovered";
inline constexpr char kSecretDisabled[] = "SecretDisabled";

// Attaches / reads the service's error code on a status.
absl::Status WithVaultErrorCode(absl::Status status, absl::string_view code);
std::string VaultErrorCode(const absl::Status& status);

struct VaultInfo {
  std::string name;      // "newregkv"
  std::string base_url;  // "https://newregkv.vault.local.azurestack.external"
  std::string
      resource_id;  // "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.KeyVault/vaults/{name}"
};

// Metadata of one version of a secret (never its value).
struct SecretVersion {
  std::string name;  // as stored
  // 32 lower-case hex characters. Empty in a ListSecrets answer whose
  // provider's list does not carry versions (Key Vault's does not).
  std::string version;
  // "{base_url}/secrets/{name}/{version}"; "{base_url}/secrets/{name}" when
  // `version` is empty.
  std::string id;
  std::string content_type;
  std::map<std::string, std::string> tags;
  bool enabled = true;
  absl::Time created = absl::UnixEpoch();
  absl::Time updated = absl::UnixEpoch();
  std::string recovery_level;  // "Recoverable+Purgeable", "Purgeable", ...

  bool ManagedByRotor() const;
};

struct SecretBundle {
  SecretVersion meta;
  Secret value;
};

struct DeletedSecret {
  SecretVersion latest;  // the version that was latest when deleted
  absl::Time deleted_date = absl::UnixEpoch();
  absl::Time scheduled_purge_date = absl::UnixEpoch();
};

struct SetSecretRequest {
  Secret value;
  std::string content_type;
  std::map<std::string, std::string> tags;
};

class Vault {
 public:
  virtual ~Vault() = default;

  virtual const VaultInfo& info() const = 0;

  // The latest version of every secret that is not deleted, all pages;
  // values are not read. What a list answer carries: name, enabled,
  // created, updated, content type and tags of the latest version. Its
  // `version` (and the versioned `id`) only when the provider's list has
  // them: Key Vault's list does not, and learning them would cost a request
  // per secret, so its client leaves `version` empty; a GetSecret of the
  // secret gives the exact one.
  virtual absl::StatusOr<std::vector<SecretVersion>> ListSecrets() = 0;
  // Every version of `name`, any order. NotFound when the secret is absent.
  virtual absl::StatusOr<std::vector<SecretVersion>> ListSecretVersions(absl::string_view name) = 0;
  // One version (`version` empty: the latest), with its value.
  virtual absl::StatusOr<SecretBundle> GetSecret(absl::string_view name,
                                                 absl::string_view version = "") = 0;
  // The latest values of `names`, in order; providers that can read
  // concurrently override this (the default reads one by one).
  virtual std::vector<absl::StatusOr<SecretBundle>> GetSecrets(
      const std::vector<std::string>& names);
  // Writes a new version and returns its metadata.
  virtual absl::StatusOr<SecretVersion> SetSecret(absl::string_view name,
                                                  const SetSecretRequest& request) = 0;
  // Several writes, concurrently where the provider can; results in order.
  virtual std::vector<absl::StatusOr<SecretVersion>> SetSecrets(
      const std::vector<std::pair<std::string, const SetSecretRequest*>>& writes);
  // Enables or disables one version.
  virtual absl::StatusOr<SecretVersion> SetVersionEnabled(absl::string_view name,
                                                          absl::string_view version,
                                                          bool enabled) = 0;
  // Deletes every version of `name` (soft delete where the vault has it).
  virtual absl::StatusOr<DeletedSecret> DeleteSecret(absl::string_view name) = 0;
  virtual absl::StatusOr<std::vector<DeletedSecret>> ListDeletedSecrets() = 0;
  // Brings a soft-deleted secret back; returns its latest version.
  virtual absl::StatusOr<SecretVersion> RecoverDeletedSecret(absl::string_view name) = 0;
  virtual absl::Status PurgeDeletedSecret(absl::string_view name) = 0;
};

}  // namespace rotor

#endif  // ROTOR_ENGINE_MODEL_VAULT_H_
