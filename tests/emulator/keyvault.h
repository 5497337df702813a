// The Key Vault secrets data plane over the local provider's VaultModel, one
// model per vault, persisted in {state}/vaults/{name}.json (LocalVault's
// file and format): after every change before its answer leaves, or, with a
// persist interval (--persist-interval), at most once per interval off the
// request path and when the service is destroyed (the emulator stops).
//
// Requests reach Handle() already authenticated and throttled; it maps
// paths onto the model and renders Key Vault's JSON for the request's
// api-version (2016-10-01, 7.0 ... 7.6 with -preview suffixes, date-style
// versions such as 2025-07-01; recoverableDays from 7.1 on). Ids and
// nextLinks use the request's own https://host:port. Paging: maxresults
// 1..25 (default 25), $skiptoken opaque; a full page always carries a
// nextLink (as Key Vault's do: it stops at the page size without looking
// further), so a list that ends on a full page ends with an empty page.
//
// Secret attributes `nbf` and `exp` (Unix seconds), and whether a
// version's tags were given as an empty object (Key Vault then answers
// "tags": {}), are not part of the local provider's model: they are kept
// here, per vault, secret and version, in
// {state}/emulator/attributes/{vault}.json, and rendered where Key Vault
// puts them (nbf and exp after `enabled`) in every bundle and list item.
//
// With a replication delay (--replication-delay), soft delete and recover
// complete as Key Vault's do, after a while: for that long after a DELETE
// the deleted secret is not found (GET /deletedsecrets/{name} 404, left out
// of the deleted list) and the name cannot be set (409 Conflict /
// ObjectIsBeingDeleted; recover and purge are accepted); after a recover
// the secret is not found
// (GET and PATCH 404) and cannot be set or deleted (409 Conflict /
// ObjectIsBeingRecovered).
#ifndef ROTOR_TESTS_EMULATOR_KEYVAULT_H_
#define ROTOR_TESTS_EMULATOR_KEYVAULT_H_

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "base/clock.h"
#include "engine/model/vault.h"
#include "providers/local/vault_model.h"
#include "tests/emulator/http_types.h"

namespace rotor::emulator {

// Key Vault's operation names, for stats and throttling.
std::string KeyVaultOperation(const HttpRequest& request);
// Secret creations and new versions (the --write-throttle class).
bool IsKeyVaultWrite(const HttpRequest& request);
// Whether the path belongs to the Key Vault data plane.
bool IsKeyVaultPath(absl::string_view path);

// A Key Vault error response ({"error":{"code","message","innererror"}}).
HttpResponse KeyVaultError(int status, absl::string_view code, absl::string_view message,
                           absl::string_view inner_code = "");

class KeyVaultService {
 public:
  static absl::StatusOr<std::unique_ptr<KeyVaultService>> Open(
      const std::string& state_dir, const std::vector<std::string>& vaults,
      local::VaultModelOptions model_options, const Clock& clock = RealClock::Get(),
      absl::Duration persist_interval = absl::ZeroDuration());
  ~KeyVaultService();

  // Display names; the first is the vault of bare-address requests (the
  // first --vault, else the first stored one by name).
  std::vector<std::string> Names() const;
  // The stored case of `name` when it exists, else "".
  std::string Find(absl::string_view name) const;

  HttpResponse Handle(absl::string_view vault, const HttpRequest& request,
                      const std::string& base_url);

  // How long deletes and recovers take to be seen (default none).
  void set_replication_delay(absl::Duration delay) { replication_delay_ = delay; }

  // An engine Vault view of one vault (what the registry VM reads).
  std::unique_ptr<Vault> VaultView(absl::string_view vault);

 private:
  struct Entry;
  KeyVaultService(std::string state_dir, const Clock& clock);
  Entry* Get(absl::string_view vault) const;
  absl::Status Persist(Entry& entry);
  // Writes the entry's nbf/exp side store.
  absl::Status PersistAttributes(Entry& entry);
  // A change to `entry` is written by the persister thread (PersistLoop).
  void MarkDirty(Entry& entry);
  void PersistLoop();

  std::string state_dir_;
  const Clock& clock_;
  std::vector<std::string> order_;
  std::map<std::string, std::unique_ptr<Entry>> vaults_;  // lower-cased name

  // Write-behind: a vault file holds the whole vault, so writing it after
  // every change costs the vault's size per write (quadratic over a batch
  // of writes, which a benchmark would measure instead of the client).
  // With a persist interval, changed vaults are written at most once per
  // interval, off the request path, and at destruction (a clean stop).
  absl::Duration persist_interval_;
  absl::Duration replication_delay_ = absl::ZeroDuration();
  std::mutex dirty_mu_;
  std::condition_variable dirty_cv_;
  std::set<Entry*> dirty_;
  bool stopping_ = false;
  std::thread persister_;
};

}  // namespace rotor::emulator

#endif  // ROTOR_TESTS_EMULATOR_KEYVAULT_H_
