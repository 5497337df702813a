// The vault store: the JSON text VaultModel::ToJson writes and
// VaultModel::Restore reads (LocalVault keeps it in
// {state_dir}/vaults/{name}.json, mode 0600). The model (vault_model.h)
// holds the rules; this file holds the format. RapidJSON stays in
// vault_store_codec.cc.
//
// Store format, times in Unix seconds, versions oldest first (the last one
// is the latest), secrets in name order:
//   {"format_version": 1, "kind": "rotor-local-vault",
//    "soft_delete": true, "retention_days": 90, "generation": 7,
//    "secrets": [
//      {"name": "admin",
//       "deleted": {"deleted_date": 1700000000,            (only when deleted)
//                   "scheduled_purge_date": 1707776000},
//       "versions": [
//         {"version": "<32 hex>", "value": "...", "content_type": "...",
//          "tags": {"managed-by": "rotor"}, "enabled": true,
//          "created": 1700000000, "updated": 1700000000}]}]}
//
// Reading: "format_version" must be 1 (another number: FailedPrecondition);
// "kind", "soft_delete", "retention_days", "generation", and a version's
// "content_type", "tags" and "enabled" may be absent (defaults: the
// VaultModelOptions defaults, 0, "", none, true); unknown members are
// ignored. Names must pass ValidateSecretName and be unique ignoring case,
// version ids are 32 lower-case hex characters, every secret has at least
// one version. Any other fault is DataLoss ("vault store: ..."); no message
// quotes a value.
#ifndef ROTOR_PROVIDERS_LOCAL_VAULT_STORE_CODEC_H_
#define ROTOR_PROVIDERS_LOCAL_VAULT_STORE_CODEC_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "base/secret.h"
#include "providers/local/vault_model.h"

namespace rotor::local {

inline constexpr int kVaultStoreFormatVersion = 1;
inline constexpr char kVaultStoreKind[] = "rotor-local-vault";

// One version of a secret, as stored and as VaultModel holds it.
struct StoredSecretVersion {
  std::string version;  // 32 lower-case hex characters
  Secret value;
  std::string content_type;
  std::map<std::string, std::string> tags;
  bool enabled = true;
  absl::Time created = absl::UnixEpoch();
  absl::Time updated = absl::UnixEpoch();
};

// One secret with all its versions.
struct StoredSecret {
  std::string name;                           // as created
  std::vector<StoredSecretVersion> versions;  // oldest first; back() is the latest
  bool deleted = false;
  absl::Time deleted_date = absl::UnixEpoch();
  absl::Time scheduled_purge_date = absl::UnixEpoch();
};

// The whole store: VaultModel's state.
struct VaultStore {
  VaultModelOptions options;  // soft_delete, retention_days
  uint64_t generation = 0;
  std::map<std::string, StoredSecret> secrets;  // key: lower-cased name
};

// The store as JSON text (pretty, two-space indent), every secret of
// `store` in key order except those `skip` returns true for. The text holds
// the values, hence a Secret; the writer's buffer is wiped.
Secret EncodeVaultStore(const VaultStore& store, absl::FunctionRef<bool(const StoredSecret&)> skip);

// Reads a store text (see above). Every string the parse held is wiped
// before returning.
absl::StatusOr<VaultStore> DecodeVaultStore(absl::string_view json);

}  // namespace rotor::local

#endif  // ROTOR_PROVIDERS_LOCAL_VAULT_STORE_CODEC_H_
