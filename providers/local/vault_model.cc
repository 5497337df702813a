#include "providers/local/vault_model.h"

#include <openssl/rand.h>

#include <algorithm>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "providers/local/vault_store_codec.h"

namespace rotor::local {

namespace {

std::string Key(absl::string_view name) { return absl::AsciiStrToLower(name); }

absl::Status BadParameter(std::string message) {
  return WithVaultErrorCode(absl::InvalidArgumentError(std::move(message)), kBadParameter);
}

absl::Status SecretNotFound(absl::string_view name, absl::string_view version = "") {
  std::string id = version.empty()
                       ? ShownSecretName(name)
                       : absl::StrCat(ShownSecretName(name), "/", ShownSecretName(version));
  return WithVaultErrorCode(absl::NotFoundError(absl::StrCat(
                                "A secret with (name/id) ", id,
                                " was not found in this key vault. If you recently deleted this "
                                "secret you "
                                "may be able to recover it using the correct recovery command.")),
                            kSecretNotFound);
}

absl::Status DeletedSecretNotFound(absl::string_view name) {
  return WithVaultErrorCode(
      absl::NotFoundError(absl::StrCat("Deleted secret ", ShownSecretName(name),
                                       " was not found in this key vault.")),
      kSecretNotFound);
}

bool IsValidUtf8(absl::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t extra;
    uint32_t cp;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      extra = 1;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      extra = 2;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      extra = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + extra >= s.size()) return false;
    for (size_t k = 1; k <= extra; ++k) {
      unsigned char cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    // Overlong forms, surrogates and values beyond U+10FFFF.
    if ((extra == 1 && cp < 0x80) || (extra == 2 && cp < 0x800) ||
        (extra == 3 && (cp < 0x10000 || cp > 0x10FFFF)) || (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    i += extra + 1;
  }
  return true;
}

absl::Status ValidateContentTypeAndTags(const std::string& content_type,
                                        const std::map<std::string, std::string>& tags) {
  if (content_type.size() > kMaxContentTypeLength) {
    return BadParameter(absl::StrCat("The content type is ", content_type.size(),
                                     " characters long; the limit is ", kMaxContentTypeLength,
                                     "."));
  }
  if (!IsValidUtf8(content_type)) return BadParameter("The content type is not valid UTF-8.");
  if (tags.size() > kMaxTags) {
    return BadParameter(
        absl::StrCat("A secret version has ", tags.size(), " tags; the limit is ", kMaxTags, "."));
  }
  for (const auto& [name, value] : tags) {
    if (name.empty() || name.size() > kMaxTagLength || value.size() > kMaxTagLength) {
      return BadParameter(absl::StrCat("Tag names must be 1 to ", kMaxTagLength,
                                       " characters and tag values at most ", kMaxTagLength,
                                       " characters (tag '", name.substr(0, kMaxTagLength), "')."));
    }
    if (!IsValidUtf8(name) || !IsValidUtf8(value)) {
      return BadParameter("A tag name or value is not valid UTF-8.");
    }
  }
  return absl::OkStatus();
}

absl::Time TruncateToSeconds(absl::Time t) { return absl::FromUnixSeconds(absl::ToUnixSeconds(t)); }

}  // namespace

std::string ShownSecretName(absl::string_view name) {
  if (name.size() <= kMaxSecretNameLength + 3) return std::string(name);
  return absl::StrCat(name.substr(0, kMaxSecretNameLength), "...");
}

absl::Status ValidateSecretName(absl::string_view name) {
  bool ok = !name.empty() && name.size() <= kMaxSecretNameLength;
  for (char c : name) {
    if (!(absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-')) ok = false;
  }
  if (ok) return absl::OkStatus();
  return BadParameter(
      absl::StrCat("The request URI contains an invalid name: ", ShownSecretName(name),
                   " (secret names are 1 to 127 characters of 0-9, a-z, A-Z and -)"));
}

absl::StatusOr<std::string> NewVersionId() {
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof bytes) != 1) {
    return absl::InternalError("RAND_bytes failed to make a secret version id");
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(32);
  for (unsigned char b : bytes) {
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 0xF]);
  }
  return out;
}

VaultModel::VaultModel(std::string base_url, const Clock& clock, VaultModelOptions options)
    : base_url_(std::move(base_url)), clock_(clock), state_(std::make_unique<State>()) {
  state_->options = options;
}

VaultModel::~VaultModel() = default;

std::string VaultModel::base_url() const {
  std::lock_guard<std::mutex> lock(mu_);
  return base_url_;
}

void VaultModel::set_base_url(std::string base_url) {
  std::lock_guard<std::mutex> lock(mu_);
  base_url_ = std::move(base_url);
}

bool VaultModel::soft_delete() const {
  std::lock_guard<std::mutex> lock(mu_);
  return state_->options.soft_delete;
}

int VaultModel::retention_days() const {
  std::lock_guard<std::mutex> lock(mu_);
  return state_->options.retention_days;
}

std::string VaultModel::recovery_level() const {
  std::lock_guard<std::mutex> lock(mu_);
  return state_->options.soft_delete ? kRecoverablePurgeable : kPurgeable;
}

uint64_t VaultModel::generation() const {
  std::lock_guard<std::mutex> lock(mu_);
  return state_->generation;
}

size_t VaultModel::secret_count() const {
  std::lock_guard<std::mutex> lock(mu_);
  size_t n = 0;
  for (const auto& [key, record] : state_->secrets) {
    if (!Expired(record)) ++n;
  }
  return n;
}

absl::Time VaultModel::Now() const { return TruncateToSeconds(clock_.Now()); }

bool VaultModel::Expired(const Record& record) const {
  return record.deleted && state_->options.soft_delete &&
         record.scheduled_purge_date <= clock_.Now();
}

void VaultModel::DropExpired() {
  for (auto it = state_->secrets.begin(); it != state_->secrets.end();) {
    if (Expired(it->second)) {
      it = state_->secrets.erase(it);
    } else {
      ++it;
    }
  }
}

const VaultModel::Record* VaultModel::FindLive(const std::string& key) const {
  auto it = state_->secrets.find(key);
  if (it == state_->secrets.end() || it->second.deleted) return nullptr;
  return &it->second;
}

SecretVersion VaultModel::Meta(const Record& record, const Version& version) const {
  SecretVersion meta;
  meta.name = record.name;
  meta.version = version.version;
  meta.id = absl::StrCat(base_url_, "/secrets/", record.name, "/", version.version);
  meta.content_type = version.content_type;
  meta.tags = version.tags;
  meta.enabled = version.enabled;
  meta.created = version.created;
  meta.updated = version.updated;
  meta.recovery_level = state_->options.soft_delete ? kRecoverablePurgeable : kPurgeable;
  return meta;
}

DeletedSecret VaultModel::DeletedMeta(const Record& record) const {
  DeletedSecret deleted;
  deleted.latest = Meta(record, record.versions.back());
  deleted.deleted_date = record.deleted_date;
  deleted.scheduled_purge_date = record.scheduled_purge_date;
  return deleted;
}

absl::StatusOr<SecretVersion> VaultModel::Set(absl::string_view name,
                                              const SetSecretRequest& request, bool enabled) {
  RETURN_IF_ERROR(ValidateSecretName(name));
  if (request.value.size() > kMaxSecretValueBytes) {
    return BadParameter(absl::StrCat("The secret value is ", request.value.size(),
                                     " bytes long; the limit is ", kMaxSecretValueBytes,
                                     " bytes."));
  }
  if (!IsValidUtf8(request.value.Reveal())) {
    return BadParameter("The secret value is not valid UTF-8.");
  }
  RETURN_IF_ERROR(ValidateContentTypeAndTags(request.content_type, request.tags));
  ASSIGN_OR_RETURN(std::string version_id, NewVersionId());

  std::lock_guard<std::mutex> lock(mu_);
  DropExpired();
  const std::string key = Key(name);
  auto it = state_->secrets.find(key);
  if (it != state_->secrets.end() && it->second.deleted) {
    return WithVaultErrorCode(
        absl::FailedPreconditionError(absl::StrCat("Secret ", it->second.name,
                                                   " is currently in a deleted but recoverable "
                                                   "state, and its name cannot be "
                                                   "reused; in this state, the secret can only "
                                                   "be recovered or purged.")),
        kObjectIsDeletedButRecoverable);
  }
  if (it == state_->secrets.end()) {
    Record record;
    record.name = std::string(name);
    it = state_->secrets.emplace(key, std::move(record)).first;
  }
  Version version;
  version.version = std::move(version_id);
  version.value = request.value.Clone();
  version.content_type = request.content_type;
  version.tags = request.tags;
  version.enabled = enabled;
  version.created = version.updated = Now();
  it->second.versions.push_back(std::move(version));
  ++state_->generation;
  return Meta(it->second, it->second.versions.back());
}

absl::StatusOr<SecretBundle> VaultModel::Get(absl::string_view name,
                                             absl::string_view version) const {
  RETURN_IF_ERROR(ValidateSecretName(name));
  std::lock_guard<std::mutex> lock(mu_);
  const Record* record = FindLive(Key(name));
  if (record == nullptr) return SecretNotFound(name, version);
  const Version* found = nullptr;
  if (version.empty()) {
    found = &record->versions.back();
  } else {
    for (const auto& v : record->versions) {
      if (v.version == absl::AsciiStrToLower(version)) found = &v;
    }
  }
  if (found == nullptr) return SecretNotFound(name, version);
  if (!found->enabled) {
    return WithVaultErrorCode(
        absl::PermissionDeniedError("Operation get is not allowed on a disabled secret."),
        kSecretDisabled);
  }
  SecretBundle bundle;
  bundle.meta = Meta(*record, *found);
  bundle.value = found->value.Clone();
  return bundle;
}

absl::StatusOr<SecretVersion> VaultModel::GetMetadata(absl::string_view name,
                                                      absl::string_view version) const {
  RETURN_IF_ERROR(ValidateSecretName(name));
  std::lock_guard<std::mutex> lock(mu_);
  const Record* record = FindLive(Key(name));
  if (record == nullptr) return SecretNotFound(name, version);
  if (version.empty()) return Meta(*record, record->versions.back());
  for (const auto& v : record->versions) {
    if (v.version == absl::AsciiStrToLower(version)) return Meta(*record, v);
  }
  return SecretNotFound(name, version);
}

std::vector<SecretVersion> VaultModel::List() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<SecretVersion> out;
  for (const auto& [key, record] : state_->secrets) {
    if (!record.deleted) out.push_back(Meta(record, record.versions.back()));
  }
  return out;
}

std::vector<SecretVersion> VaultModel::ListPage(absl::string_view after, size_t max,
                                                bool* more) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<SecretVersion> out;
  auto it =
      after.empty() ? state_->secrets.begin() : state_->secrets.upper_bound(std::string(after));
  for (; it != state_->secrets.end(); ++it) {
    if (it->second.deleted) continue;
    if (out.size() == max) break;
    out.push_back(Meta(it->second, it->second.versions.back()));
  }
  if (more != nullptr) {
    for (; it != state_->secrets.end() && it->second.deleted; ++it) {
    }
    *more = it != state_->secrets.end();
  }
  return out;
}

absl::StatusOr<std::vector<SecretVersion>> VaultModel::ListVersions(absl::string_view name) const {
  RETURN_IF_ERROR(ValidateSecretName(name));
  std::lock_guard<std::mutex> lock(mu_);
  const Record* record = FindLive(Key(name));
  if (record == nullptr) return SecretNotFound(name);
  std::vector<SecretVersion> out;
  for (const auto& v : record->versions) out.push_back(Meta(*record, v));
  return out;
}

absl::StatusOr<SecretVersion> VaultModel::Update(absl::string_view name, absl::string_view version,
                                                 const SecretVersionUpdate& update) {
  RETURN_IF_ERROR(ValidateSecretName(name));
  if (update.content_type.has_value() || update.tags.has_value()) {
    RETURN_IF_ERROR(
        ValidateContentTypeAndTags(update.content_type.value_or(""),
                                   update.tags.value_or(std::map<std::string, std::string>{})));
  }
  std::lock_guard<std::mutex> lock(mu_);
  DropExpired();
  auto it = state_->secrets.find(Key(name));
  if (it == state_->secrets.end() || it->second.deleted) return SecretNotFound(name, version);
  Record& record = it->second;
  Version* found = nullptr;
  if (version.empty()) {
    found = &record.versions.back();
  } else {
    for (auto& v : record.versions) {
      if (v.version == absl::AsciiStrToLower(version)) found = &v;
    }
  }
  if (found == nullptr) return SecretNotFound(name, version);
  if (update.enabled.has_value()) found->enabled = *update.enabled;
  if (update.content_type.has_value()) found->content_type = *update.content_type;
  if (update.tags.has_value()) found->tags = *update.tags;
  found->updated = Now();
  ++state_->generation;
  return Meta(record, *found);
}

absl::StatusOr<SecretVersion> VaultModel::SetEnabled(absl::string_view name,
                                                     absl::string_view version, bool enabled) {
  SecretVersionUpdate update;
  update.enabled = enabled;
  return Update(name, version, update);
}

absl::StatusOr<DeletedSecret> VaultModel::Delete(absl::string_view name) {
  RETURN_IF_ERROR(ValidateSecretName(name));
  std::lock_guard<std::mutex> lock(mu_);
  DropExpired();
  auto it = state_->secrets.find(Key(name));
  if (it == state_->secrets.end() || it->second.deleted) return SecretNotFound(name);
  Record& record = it->second;
  ++state_->generation;
  if (!state_->options.soft_delete) {
    DeletedSecret deleted = DeletedMeta(record);
    deleted.deleted_date = Now();
    state_->secrets.erase(it);
    return deleted;
  }
  record.deleted = true;
  record.deleted_date = Now();
  record.scheduled_purge_date =
      record.deleted_date + absl::Hours(24) * state_->options.retention_days;
  return DeletedMeta(record);
}

absl::StatusOr<DeletedSecret> VaultModel::GetDeleted(absl::string_view name) const {
  RETURN_IF_ERROR(ValidateSecretName(name));
  std::lock_guard<std::mutex> lock(mu_);
  auto it = state_->secrets.find(Key(name));
  if (it == state_->secrets.end() || !it->second.deleted || Expired(it->second)) {
    return DeletedSecretNotFound(name);
  }
  return DeletedMeta(it->second);
}

std::vector<DeletedSecret> VaultModel::ListDeleted() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<DeletedSecret> out;
  for (const auto& [key, record] : state_->secrets) {
    if (record.deleted && !Expired(record)) out.push_back(DeletedMeta(record));
  }
  return out;
}

absl::StatusOr<SecretVersion> VaultModel::Recover(absl::string_view name) {
  RETURN_IF_ERROR(ValidateSecretName(name));
  std::lock_guard<std::mutex> lock(mu_);
  DropExpired();
  auto it = state_->secrets.find(Key(name));
  if (it == state_->secrets.end() || !it->second.deleted) return DeletedSecretNotFound(name);
  Record& record = it->second;
  record.deleted = false;
  record.deleted_date = record.scheduled_purge_date = absl::UnixEpoch();
  ++state_->generation;
  return Meta(record, record.versions.back());
}

absl::Status VaultModel::Purge(absl::string_view name) {
  RETURN_IF_ERROR(ValidateSecretName(name));
  std::lock_guard<std::mutex> lock(mu_);
  DropExpired();
  auto it = state_->secrets.find(Key(name));
  if (it == state_->secrets.end() || !it->second.deleted) return DeletedSecretNotFound(name);
  state_->secrets.erase(it);
  ++state_->generation;
  return absl::OkStatus();
}

// --- JSON store (vault_store_codec.h) ---------------------------------------

Secret VaultModel::ToJson() const {
  std::lock_guard<std::mutex> lock(mu_);
  return EncodeVaultStore(*state_, [this](const Record& record) { return Expired(record); });
}

absl::Status VaultModel::Restore(absl::string_view json) {
  ASSIGN_OR_RETURN(VaultStore store, DecodeVaultStore(json));
  auto state = std::make_unique<State>(std::move(store));
  std::lock_guard<std::mutex> lock(mu_);
  state_ = std::move(state);
  return absl::OkStatus();
}

}  // namespace rotor::local
