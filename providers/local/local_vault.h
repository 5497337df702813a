// LocalVault: the embedded provider's Key Vault, a VaultModel persisted in
// one file so rotor can be tried without Azure (cloud.kind = "local").
//
//  - Store: {state_dir}/vaults/{name}.json ({name} lower-cased, as vault
//    names are case-insensitive), mode 0600 in folders of mode 0700; format
//    in vault_store_codec.h. It holds the secret values: it IS the vault.
//  - Every successful mutation rewrites the file atomically
//    (WriteFileAtomic); if the write fails the mutation is undone in memory
//    and the write error is returned, so memory and disk never disagree.
//  - Before each operation the file is reloaded if another LocalVault (in
//    this or another process) changed it since the last load or write, so
//    several instances over one state folder stay coherent. Concurrent
//    writers from two processes are not serialised (last writer wins per
//    operation); rotor's own command lock is expected to prevent that.
//  - VaultInfo: base_url "https://{name}.vault.rotor.local" (not resolvable
//    and never contacted: it only shapes ids the way Key Vault does, so
//    "{base_url}/secrets/{name}/{version}" URLs passed as deployment
//    parameters parse back), resource_id "/subscriptions/{sub}/resourceGroups/
//    {rg}/providers/Microsoft.KeyVault/vaults/{name}".
#ifndef ROTOR_PROVIDERS_LOCAL_LOCAL_VAULT_H_
#define ROTOR_PROVIDERS_LOCAL_LOCAL_VAULT_H_

#include <sys/types.h>

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "base/clock.h"
#include "engine/model/vault.h"
#include "providers/local/vault_model.h"

namespace rotor::local {

// The subscription id local resources report.
inline constexpr char kLocalSubscriptionId[] = "00000000-0000-0000-0000-000000000000";
// DNS suffix of local vault URLs: https://{name}.vault.rotor.local
inline constexpr char kLocalVaultDnsSuffix[] = "vault.rotor.local";

struct LocalVaultOptions {
  std::string state_dir;       // absolute; created (0700) when missing
  std::string name;            // vault name, 1-127 of 0-9a-zA-Z-
  std::string resource_group;  // for resource_id
  std::string subscription_id = kLocalSubscriptionId;
  const Clock* clock = nullptr;  // nullptr: RealClock; must outlive the vault
  // Only used when the store is created; an existing store keeps its own.
  VaultModelOptions model;
};

class LocalVault : public Vault {
 public:
  // Opens {state_dir}/vaults/{name}.json, creating an empty vault (and the
  // file) when absent.
  static absl::StatusOr<std::unique_ptr<LocalVault>> Open(const LocalVaultOptions& options);

  static std::string StorePath(absl::string_view state_dir, absl::string_view name);
  static std::string BaseUrl(absl::string_view name);
  static std::string ResourceId(absl::string_view subscription_id, absl::string_view resource_group,
                                absl::string_view name);

  const VaultInfo& info() const override { return info_; }
  absl::StatusOr<std::vector<SecretVersion>> ListSecrets() override;
  absl::StatusOr<std::vector<SecretVersion>> ListSecretVersions(absl::string_view name) override;
  absl::StatusOr<SecretBundle> GetSecret(absl::string_view name,
                                         absl::string_view version = "") override;
  absl::StatusOr<SecretVersion> SetSecret(absl::string_view name,
                                          const SetSecretRequest& request) override;
  absl::StatusOr<SecretVersion> SetVersionEnabled(absl::string_view name, absl::string_view version,
                                                  bool enabled) override;
  absl::StatusOr<DeletedSecret> DeleteSecret(absl::string_view name) override;
  absl::StatusOr<std::vector<DeletedSecret>> ListDeletedSecrets() override;
  absl::StatusOr<SecretVersion> RecoverDeletedSecret(absl::string_view name) override;
  absl::Status PurgeDeletedSecret(absl::string_view name) override;

  // Beyond the interface (the emulator-shaped operations).
  absl::StatusOr<DeletedSecret> GetDeletedSecret(absl::string_view name);

  const std::string& path() const { return path_; }
  // The model's generation after reloading any outside change.
  absl::StatusOr<uint64_t> generation();

 private:
  LocalVault(const LocalVaultOptions& options, const Clock& clock);

  struct FileStamp {
    bool present = false;
    dev_t dev = 0;
    ino_t ino = 0;
    off_t size = 0;
    long long mtime_ns = 0;
    bool operator==(const FileStamp&) const = default;
  };
  static FileStamp Stamp(const std::string& path);

  // Reloads the store if the file changed behind our back. Needs mu_.
  absl::Status RefreshLocked();
  // Writes the model; on failure restores the last persisted state. Needs mu_.
  absl::Status PersistLocked();

  // Runs a mutation under the lock, persisting it when it succeeded.
  template <typename T, typename F>
  absl::StatusOr<T> Mutate(F&& f);

  VaultInfo info_;
  std::string path_;
  VaultModel model_;
  std::mutex mu_;
  FileStamp stamp_;
  Secret persisted_;  // the last text written or read
};

}  // namespace rotor::local

#endif  // ROTOR_PROVIDERS_LOCAL_LOCAL_VAULT_H_
