#include "tests/fakes/fake_vault.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace rotor::fakes {
namespace {

local::VaultModelOptions ModelOptions(const FakeVaultOptions& options) {
  local::VaultModelOptions model;
  model.soft_delete = options.soft_delete;
  return model;
}

}  // namespace

FakeVault::FakeVault(const Clock& clock, FakeVaultOptions options)
    : options_(std::move(options)),
      model_(absl::StrCat("https://", options_.name, ".vault.localhost"), clock,
             ModelOptions(options_)) {
  info_.name = options_.name;
  info_.base_url = model_.base_url();
  info_.resource_id =
      absl::StrCat("/subscriptions/", options_.subscription_id, "/resourceGroups/",
                   options_.resource_group, "/providers/Microsoft.KeyVault/vaults/", options_.name);
}

std::vector<std::string> FakeVault::calls() const {
  std::lock_guard<std::mutex> lock(mu_);
  return calls_;
}

void FakeVault::ClearCalls() {
  std::lock_guard<std::mutex> lock(mu_);
  calls_.clear();
}

int FakeVault::CountCalls(absl::string_view prefix) const {
  std::lock_guard<std::mutex> lock(mu_);
  int n = 0;
  for (const auto& c : calls_) n += absl::StartsWith(c, prefix) ? 1 : 0;
  return n;
}

void FakeVault::FailCall(std::string call, absl::Status error) {
  std::lock_guard<std::mutex> lock(mu_);
  failures_[std::move(call)] = std::move(error);
}

void FakeVault::ClearFailures() {
  std::lock_guard<std::mutex> lock(mu_);
  failures_.clear();
}

absl::Status FakeVault::Record(std::string call) {
  std::lock_guard<std::mutex> lock(mu_);
  auto failure = failures_.find(call);
  calls_.push_back(std::move(call));
  return failure == failures_.end() ? absl::OkStatus() : failure->second;
}

absl::StatusOr<std::vector<SecretVersion>> FakeVault::ListSecrets() {
  if (absl::Status s = Record("list"); !s.ok()) return s;
  std::vector<SecretVersion> listed = model_.List();
  if (options_.list_without_versions) {
    for (auto& s : listed) {
      s.version.clear();
      s.id = absl::StrCat(info_.base_url, "/secrets/", s.name);
    }
  }
  return listed;
}

absl::StatusOr<std::vector<SecretVersion>> FakeVault::ListSecretVersions(absl::string_view name) {
  if (absl::Status s = Record(absl::StrCat("versions ", name)); !s.ok()) return s;
  return model_.ListVersions(name);
}

absl::StatusOr<SecretBundle> FakeVault::GetSecret(absl::string_view name,
                                                  absl::string_view version) {
  std::string call = absl::StrCat("get ", name);
  if (!version.empty()) absl::StrAppend(&call, "/", version);
  if (absl::Status s = Record(std::move(call)); !s.ok()) return s;
  return model_.Get(name, version);
}

absl::StatusOr<SecretVersion> FakeVault::SetSecret(absl::string_view name,
                                                   const SetSecretRequest& request) {
  if (absl::Status s = Record(absl::StrCat("set ", name)); !s.ok()) return s;
  return model_.Set(name, request);
}

absl::StatusOr<SecretVersion> FakeVault::SetVersionEnabled(absl::string_view name,
                                                           absl::string_view version,
                                                           bool enabled) {
  if (absl::Status s = Record(absl::StrCat(enabled ? "enable " : "disable ", name, "/", version));
      !s.ok()) {
    return s;
  }
  return model_.SetEnabled(name, version, enabled);
}

absl::StatusOr<DeletedSecret> FakeVault::DeleteSecret(absl::string_view name) {
  if (absl::Status s = Record(absl::StrCat("delete ", name)); !s.ok()) return s;
  return model_.Delete(name);
}

absl::StatusOr<std::vector<DeletedSecret>> FakeVault::ListDeletedSecrets() {
  if (absl::Status s = Record("list-deleted"); !s.ok()) return s;
  return model_.ListDeleted();
}

absl::StatusOr<SecretVersion> FakeVault::RecoverDeletedSecret(absl::string_view name) {
  if (absl::Status s = Record(absl::StrCat("recover ", name)); !s.ok()) return s;
  return model_.Recover(name);
}

absl::Status FakeVault::PurgeDeletedSecret(absl::string_view name) {
  if (absl::Status s = Record(absl::StrCat("purge ", name)); !s.ok()) return s;
  return model_.Purge(name);
}

}  // namespace rotor::fakes
