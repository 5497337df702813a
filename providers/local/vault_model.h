// VaultModel: an in-memory Key Vault (secrets only) with Key Vault's
// semantics, shared by the embedded local provider (LocalVault, which
// persists it to a file) and the HTTPS emulator of the Key Vault data plane
// (which maps its operations onto REST calls).
//
// Semantics (Key Vault 2016-10-01 / 7.x, see docs/azure-contracts.md §1):
//  - Names match `^[0-9a-zA-Z-]{1,127}$` (else InvalidArgument, Key Vault
//    code "BadParameter"); they are compared case-insensitively and a secret
//    keeps the case it was created with until it is purged.
//  - Set creates a new version (32 lower-case hex characters from
//    RAND_bytes) which becomes the latest; versions are never rewritten, only
//    their attributes (enabled, content type, tags) can be updated.
//    Value at most 25600 bytes of UTF-8, content type at most 255
//    characters, at most 15 tags of at most 256 characters each
//    (InvalidArgument, "BadParameter").
//  - Times come from the injected Clock, truncated to whole seconds as Key
//    Vault's IntDate is.
//  - Get of an absent or deleted secret or version: NotFound, code
//    "SecretNotFound". Get of a disabled version: PermissionDenied, code
//    "SecretDisabled" ("Operation get is not allowed on a disabled secret.").
//  - Delete removes every version. With soft delete (the default) the secret
//    is then "deleted but recoverable" until it is recovered, purged, or its
//    scheduled purge date (deletion + retention, 90 days) passes, after which
//    it is gone; Set on such a name: FailedPrecondition, code
//    "ObjectIsDeletedButRecoverable", with Key Vault's message text. Without
//    soft delete a delete purges at once and deleted-secret operations find
//    nothing (NotFound, "SecretNotFound").
//  - recovery_level: "Recoverable+Purgeable" with soft delete, else
//    "Purgeable".
// Codes are attached with WithVaultErrorCode (engine/model/vault.h). Key Vault
// reports BadParameter and SecretNotFound as error.code, and SecretDisabled
// (Forbidden) and ObjectIsDeletedButRecoverable (Conflict) as
// error.innererror.code. No error message ever contains a secret value.
//
// Lists are sorted by lower-cased name (Key Vault lists in name order), so an
// emulator can page them with a stable skip token.
//
// Thread-safe: every method takes an internal lock.
//
// The store format (ToJson/Restore) is in vault_store_codec.h.
#ifndef ROTOR_PROVIDERS_LOCAL_VAULT_MODEL_H_
#define ROTOR_PROVIDERS_LOCAL_VAULT_MODEL_H_

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "base/clock.h"
#include "engine/model/vault.h"

namespace rotor::local {

struct StoredSecretVersion;
struct StoredSecret;
struct VaultStore;

// Key Vault's codes used by the model besides those in engine/model/vault.h.
inline constexpr char kBadParameter[] = "BadParameter";
inline constexpr char kSecretNotFound[] = "SecretNotFound";

inline constexpr size_t kMaxSecretValueBytes = 25600;
inline constexpr size_t kMaxSecretNameLength = 127;
inline constexpr size_t kMaxContentTypeLength = 255;
inline constexpr size_t kMaxTags = 15;
inline constexpr size_t kMaxTagLength = 256;
inline constexpr int kDefaultRetentionDays = 90;

inline constexpr char kRecoverablePurgeable[] = "Recoverable+Purgeable";
inline constexpr char kPurgeable[] = "Purgeable";

struct VaultModelOptions {
  // Whether a delete keeps the secret recoverable (Key Vault's soft delete).
  bool soft_delete = true;
  // Days between deletion and the scheduled purge (Key Vault: 7..90).
  int retention_days = kDefaultRetentionDays;
};

// The attributes an update may change; absent fields are left unchanged
// (PATCH /secrets/{name}/{version}). The value cannot change.
struct SecretVersionUpdate {
  std::optional<bool> enabled;
  std::optional<std::string> content_type;
  std::optional<std::map<std::string, std::string>> tags;
};

// Checks a secret name against Key Vault's rule; InvalidArgument
// ("BadParameter") otherwise.
absl::Status ValidateSecretName(absl::string_view name);

// A name (or version id) as messages echo it: a very long one is cut to 127
// characters and "...".
std::string ShownSecretName(absl::string_view name);

// A fresh Key Vault version id: 32 lower-case hex characters (16 bytes from
// RAND_bytes).
absl::StatusOr<std::string> NewVersionId();

class VaultModel {
 public:
  // `base_url` ("https://newregkv.vault.rotor.local", no trailing slash)
  // only shapes the ids returned ("{base_url}/secrets/{name}/{version}"); it
  // is not stored, so an emulator may serve a model under any host:port.
  // `clock` must outlive the model.
  VaultModel(std::string base_url, const Clock& clock, VaultModelOptions options = {});
  ~VaultModel();
  VaultModel(const VaultModel&) = delete;
  VaultModel& operator=(const VaultModel&) = delete;

  std::string base_url() const;
  void set_base_url(std::string base_url);
  bool soft_delete() const;
  int retention_days() const;
  // "Recoverable+Purgeable" or "Purgeable".
  std::string recovery_level() const;

  // SetSecret: a new version, enabled unless `enabled` is false (Key Vault's
  // SecretSetParameters.attributes.enabled).
  absl::StatusOr<SecretVersion> Set(absl::string_view name, const SetSecretRequest& request,
                                    bool enabled = true);
  // GetSecret: `version` empty means the latest.
  absl::StatusOr<SecretBundle> Get(absl::string_view name, absl::string_view version = "") const;
  // Metadata of one version (latest when `version` is empty) whether enabled
  // or not, without the value (what list and update responses carry).
  absl::StatusOr<SecretVersion> GetMetadata(absl::string_view name,
                                            absl::string_view version = "") const;
  // GetSecrets: the latest version of every non-deleted secret, name order.
  std::vector<SecretVersion> List() const;
  // One page of List(): at most `max` of them whose lower-cased name sorts
  // after `after` ("": from the first); `more` (when not null) tells whether
  // others follow. Costs the page, not the vault (an emulator pages a large
  // vault with it).
  std::vector<SecretVersion> ListPage(absl::string_view after, size_t max, bool* more) const;
  // GetSecretVersions: every version of `name`, oldest first.
  absl::StatusOr<std::vector<SecretVersion>> ListVersions(absl::string_view name) const;
  // UpdateSecret on one version (`version` must be given, as Key Vault
  // requires; empty means the latest for convenience).
  absl::StatusOr<SecretVersion> Update(absl::string_view name, absl::string_view version,
                                       const SecretVersionUpdate& update);
  absl::StatusOr<SecretVersion> SetEnabled(absl::string_view name, absl::string_view version,
                                           bool enabled);
  // DeleteSecret: every version. Without soft delete the secret is purged at
  // once and the returned DeletedSecret has no scheduled purge date
  // (UnixEpoch).
  absl::StatusOr<DeletedSecret> Delete(absl::string_view name);
  absl::StatusOr<DeletedSecret> GetDeleted(absl::string_view name) const;
  std::vector<DeletedSecret> ListDeleted() const;
  // RecoverDeletedSecret: the latest version, all versions restored.
  absl::StatusOr<SecretVersion> Recover(absl::string_view name);
  // PurgeDeletedSecret.
  absl::Status Purge(absl::string_view name);

  // Bumped by every successful mutation; persisted. Handy to tell whether
  // anything changed.
  uint64_t generation() const;
  // Number of secrets (deleted or not) and versions held, for tests.
  size_t secret_count() const;

  // The whole vault, values included, as JSON text (vault_store_codec.h;
  // deleted secrets past their purge date are left out). This text IS the
  // vault store, hence a Secret: keep it private (0600).
  Secret ToJson() const;
  // Replaces the whole content (and the soft-delete options) with a
  // ToJson() text. On error the model is left unchanged. Error messages
  // never quote the text.
  absl::Status Restore(absl::string_view json);

 private:
  // The in-memory state is the store's plain data (vault_store_codec.h).
  using Version = StoredSecretVersion;
  using Record = StoredSecret;
  using State = VaultStore;

  const Record* FindLive(const std::string& key) const;
  SecretVersion Meta(const Record& record, const Version& version) const;
  DeletedSecret DeletedMeta(const Record& record) const;
  bool Expired(const Record& record) const;
  void DropExpired();
  absl::Time Now() const;

  std::string base_url_;
  const Clock& clock_;
  mutable std::mutex mu_;
  std::unique_ptr<State> state_;
};

}  // namespace rotor::local

#endif  // ROTOR_PROVIDERS_LOCAL_VAULT_MODEL_H_
