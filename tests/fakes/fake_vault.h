// FakeVault: an in-memory Vault for unit tests, with Key Vault's semantics
// (local::VaultModel, the model the embedded provider and the emulator
// share), plus what tests need around it: every call recorded, failures
// injected per operation and name, and lists shaped like Key Vault's (no
// version ids) when asked. It passes the same contract tests as the real
// providers (tests/fakes/vault_contract.h).
#ifndef ROTOR_TESTS_FAKES_FAKE_VAULT_H_
#define ROTOR_TESTS_FAKES_FAKE_VAULT_H_

#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "base/clock.h"
#include "engine/model/vault.h"
#include "providers/local/vault_model.h"

namespace rotor::fakes {

struct FakeVaultOptions {
  std::string name = "kv";
  std::string resource_group = "rg";
  std::string subscription_id = "00000000-0000-0000-0000-000000000000";
  // Key Vault's list carries no version ids: ListSecrets then returns an
  // empty `version` and an unversioned `id`, as the Key Vault client does.
  bool list_without_versions = false;
  bool soft_delete = true;
};

class FakeVault : public Vault {
 public:
  // `clock` must outlive the vault.
  explicit FakeVault(const Clock& clock, FakeVaultOptions options = {});

  // One call as made: "list", "versions NAME", "get NAME[/VERSION]",
  // "set NAME", "enable NAME/VERSION" or "disable ...", "delete NAME",
  // "list-deleted", "recover NAME", "purge NAME".
  std::vector<std::string> calls() const;
  void ClearCalls();
  // The calls whose text starts with `prefix` ("set ", "get ", ...).
  int CountCalls(absl::string_view prefix) const;

  // Makes every call whose text (see calls()) equals `call` fail with
  // `error`, until cleared. The call is recorded, and nothing changes.
  void FailCall(std::string call, absl::Status error);
  void ClearFailures();

  // Direct access for setting up a test (not recorded).
  local::VaultModel& model() { return model_; }

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

 private:
  // Records `call`; the injected failure for it, or OK.
  absl::Status Record(std::string call);

  FakeVaultOptions options_;
  VaultInfo info_;
  local::VaultModel model_;
  mutable std::mutex mu_;
  std::vector<std::string> calls_;
  std::map<std::string, absl::Status> failures_;
};

}  // namespace rotor::fakes

#endif  // ROTOR_TESTS_FAKES_FAKE_VAULT_H_
