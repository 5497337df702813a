#include "providers/local/local_vault.h"

#include <sys/stat.h>

#include <cerrno>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "base/files.h"
#include "base/status_macros.h"
#include "providers/local/local_files.h"

namespace rotor::local {

std::string LocalVault::StorePath(absl::string_view state_dir, absl::string_view name) {
  return absl::StrCat(state_dir, "/vaults/", absl::AsciiStrToLower(name), ".json");
}

std::string LocalVault::BaseUrl(absl::string_view name) {
  return absl::StrCat("https://", absl::AsciiStrToLower(name), ".", kLocalVaultDnsSuffix);
}

std::string LocalVault::ResourceId(absl::string_view subscription_id,
                                   absl::string_view resource_group, absl::string_view name) {
  return absl::StrCat("/subscriptions/", subscription_id, "/resourceGroups/", resource_group,
                      "/providers/Microsoft.KeyVault/vaults/", name);
}

LocalVault::LocalVault(const LocalVaultOptions& options, const Clock& clock)
    : path_(StorePath(options.state_dir, options.name)),
      model_(BaseUrl(options.name), clock, options.model) {
  info_.name = options.name;
  info_.base_url = BaseUrl(options.name);
  info_.resource_id = ResourceId(options.subscription_id, options.resource_group, options.name);
}

absl::StatusOr<std::unique_ptr<LocalVault>> LocalVault::Open(const LocalVaultOptions& options) {
  if (options.state_dir.empty()) {
    return absl::InvalidArgumentError("local vault: state_dir is empty");
  }
  bool name_ok = !options.name.empty() && options.name.size() <= 127;
  for (char c : options.name) {
    if (!(absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-')) name_ok = false;
  }
  if (!name_ok) {
    return absl::InvalidArgumentError(
        absl::StrCat("local vault: invalid vault name \"", options.name.substr(0, 130),
                     "\" (1 to 127 characters of 0-9, a-z, A-Z and -)"));
  }
  if (options.resource_group.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("local vault ", options.name, ": resource_group is empty"));
  }
  const Clock& clock = options.clock != nullptr ? *options.clock : RealClock::Get();
  std::unique_ptr<LocalVault> vault(new LocalVault(options, clock));
  RETURN_IF_ERROR(EnsureStateSubdir(options.state_dir, "vaults"));
  std::lock_guard<std::mutex> lock(vault->mu_);
  if (PathExists(vault->path_)) {
    RETURN_IF_ERROR(vault->RefreshLocked());
  } else {
    RETURN_IF_ERROR(vault->PersistLocked());
  }
  return vault;
}

LocalVault::FileStamp LocalVault::Stamp(const std::string& path) {
  FileStamp stamp;
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return stamp;
  stamp.present = true;
  stamp.dev = st.st_dev;
  stamp.ino = st.st_ino;
  stamp.size = st.st_size;
  stamp.mtime_ns = static_cast<long long>(st.st_mtim.tv_sec) * 1000000000LL + st.st_mtim.tv_nsec;
  return stamp;
}

absl::Status LocalVault::RefreshLocked() {
  FileStamp now = Stamp(path_);
  if (now.present && now == stamp_) return absl::OkStatus();
  if (!now.present) {
    // The store vanished (someone removed the state folder): refuse to serve
    // or rewrite stale secrets.
    return absl::NotFoundError(
        absl::StrCat("local vault store ", path_, " has disappeared; reopen the vault"));
  }
  auto text = ReadFile(path_);
  if (!text.ok()) return text.status();
  Secret contents(std::move(*text));
  absl::Status status = model_.Restore(contents.Reveal());
  if (!status.ok()) {
    return absl::Status(status.code(), absl::StrCat(path_, ": ", status.message()));
  }
  persisted_ = std::move(contents);
  stamp_ = now;
  return absl::OkStatus();
}

absl::Status LocalVault::PersistLocked() {
  Secret text = model_.ToJson();
  absl::Status status = WriteFileAtomic(path_, text.Reveal(), 0600);
  if (!status.ok()) {
    if (!persisted_.empty()) {
      // Undo the in-memory mutation: memory must match the file.
      (void)model_.Restore(persisted_.Reveal());
    }
    return status;
  }
  persisted_ = std::move(text);
  stamp_ = Stamp(path_);
  return absl::OkStatus();
}

template <typename T, typename F>
absl::StatusOr<T> LocalVault::Mutate(F&& f) {
  std::lock_guard<std::mutex> lock(mu_);
  RETURN_IF_ERROR(RefreshLocked());
  absl::StatusOr<T> result = f();
  if (!result.ok()) return result;
  RETURN_IF_ERROR(PersistLocked());
  return result;
}

absl::StatusOr<std::vector<SecretVersion>> LocalVault::ListSecrets() {
  std::lock_guard<std::mutex> lock(mu_);
  RETURN_IF_ERROR(RefreshLocked());
  return model_.List();
}

absl::StatusOr<std::vector<SecretVersion>> LocalVault::ListSecretVersions(absl::string_view name) {
  std::lock_guard<std::mutex> lock(mu_);
  RETURN_IF_ERROR(RefreshLocked());
  return model_.ListVersions(name);
}

absl::StatusOr<SecretBundle> LocalVault::GetSecret(absl::string_view name,
                                                   absl::string_view version) {
  std::lock_guard<std::mutex> lock(mu_);
  RETURN_IF_ERROR(RefreshLocked());
  return model_.Get(name, version);
}

absl::StatusOr<SecretVersion> LocalVault::SetSecret(absl::string_view name,
                                                    const SetSecretRequest& request) {
  return Mutate<SecretVersion>([&] { return model_.Set(name, request); });
}

absl::StatusOr<SecretVersion> LocalVault::SetVersionEnabled(absl::string_view name,
                                                            absl::string_view version,
                                                            bool enabled) {
  return Mutate<SecretVersion>([&] { return model_.SetEnabled(name, version, enabled); });
}

absl::StatusOr<DeletedSecret> LocalVault::DeleteSecret(absl::string_view name) {
  return Mutate<DeletedSecret>([&] { return model_.Delete(name); });
}

absl::StatusOr<std::vector<DeletedSecret>> LocalVault::ListDeletedSecrets() {
  std::lock_guard<std::mutex> lock(mu_);
  RETURN_IF_ERROR(RefreshLocked());
  return model_.ListDeleted();
}

absl::StatusOr<DeletedSecret> LocalVault::GetDeletedSecret(absl::string_view name) {
  std::lock_guard<std::mutex> lock(mu_);
  RETURN_IF_ERROR(RefreshLocked());
  return model_.GetDeleted(name);
}

absl::StatusOr<SecretVersion> LocalVault::RecoverDeletedSecret(absl::string_view name) {
  return Mutate<SecretVersion>([&] { return model_.Recover(name); });
}

absl::Status LocalVault::PurgeDeletedSecret(absl::string_view name) {
  return Mutate<bool>([&]() -> absl::StatusOr<bool> {
           RETURN_IF_ERROR(model_.Purge(name));
           return true;
         })
      .status();
}

absl::StatusOr<uint64_t> LocalVault::generation() {
  std::lock_guard<std::mutex> lock(mu_);
  RETURN_IF_ERROR(RefreshLocked());
  return model_.generation();
}

}  // namespace rotor::local
