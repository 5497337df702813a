#include "tests/emulator/keyvault.h"

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <functional>
#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "base/files.h"
#include "base/status_macros.h"
#include "providers/http/url.h"
#include "providers/local/local_vault.h"
#include "tests/emulator/json_internal.h"
#include "tests/emulator/jwt.h"
#include "tests/emulator/util.h"

namespace rotor::emulator {
namespace {

constexpr size_t kMaxPage = 25;
constexpr char kHelpLink[] =
    " For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182";

enum class ApiStyle { k2016, k70, kCurrent };

// Parses the api-version; InvalidArgument with Key Vault's message when it
// is missing or unknown.
absl::StatusOr<ApiStyle> ParseApiVersion(const HttpRequest& request) {
  if (!request.HasQuery("api-version")) {
    return absl::InvalidArgumentError("The api-version query parameter is missing.");
  }
  const std::string v = request.Query("api-version");
  if (v == "2016-10-01") return ApiStyle::k2016;
  absl::string_view rest = v;
  // 7.N with an optional -preview[.N] suffix.
  if (absl::ConsumePrefix(&rest, "7.") && !rest.empty() && absl::ascii_isdigit(rest[0])) {
    const char minor = rest[0];
    rest.remove_prefix(1);
    if (rest.empty() || absl::StartsWith(rest, "-preview")) {
      return minor == '0' ? ApiStyle::k70 : ApiStyle::kCurrent;
    }
  }
  // Date-style versions (2025-07-01, 2025-06-01-preview).
  rest = v;
  if (rest.size() >= 10 && rest[4] == '-' && rest[7] == '-') {
    int y = 0, m = 0, d = 0;
    if (absl::SimpleAtoi(rest.substr(0, 4), &y) && absl::SimpleAtoi(rest.substr(5, 2), &m) &&
        absl::SimpleAtoi(rest.substr(8, 2), &d) && y >= 2025 && m >= 1 && m <= 12 && d >= 1 &&
        d <= 31 && (rest.size() == 10 || absl::StartsWith(rest.substr(10), "-preview"))) {
      return ApiStyle::kCurrent;
    }
  }
  return absl::InvalidArgumentError(
      absl::StrCat("The specified version (", v,
                   ") is not recognized. Consider using the latest supported version (7.6)."));
}

HttpResponse StatusToResponse(const absl::Status& status) {
  const std::string code = VaultErrorCode(status);
  const std::string message(status.message());
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument:
      return KeyVaultError(400, code.empty() ? "BadParameter" : code, message);
    case absl::StatusCode::kNotFound:
      return KeyVaultError(404, code.empty() ? "SecretNotFound" : code,
                           absl::StrCat(message, kHelpLink));
    case absl::StatusCode::kPermissionDenied:
      return KeyVaultError(403, "Forbidden", message, code);
    case absl::StatusCode::kFailedPrecondition:
      return KeyVaultError(409, "Conflict", message, code);
    default:
      return KeyVaultError(500, "InternalServerError", message);
  }
}

// What Key Vault keeps of a version that the local model does not: the
// IntDate attributes nbf and exp, and whether its tags were given as an
// empty object (Key Vault then answers "tags": {}, and leaves "tags" out
// when none were given).
struct TimeAttributes {
  std::optional<int64_t> nbf, exp;
  bool empty_tags = false;
  bool empty() const { return !nbf.has_value() && !exp.has_value() && !empty_tags; }
};

// "nbf" and "exp" members, those that are set (in an answer's attributes
// and in the side store alike).
void WriteIntDates(json::Writer& w, const TimeAttributes& times) {
  if (times.nbf.has_value()) {
    json::Key(w, "nbf");
    w.Int64(*times.nbf);
  }
  if (times.exp.has_value()) {
    json::Key(w, "exp");
    w.Int64(*times.exp);
  }
}

void WriteAttributes(json::Writer& w, const SecretVersion& meta, const TimeAttributes& times,
                     ApiStyle style, int recoverable_days) {
  json::Key(w, "attributes");
  w.StartObject();
  json::Key(w, "enabled");
  w.Bool(meta.enabled);
  WriteIntDates(w, times);
  json::Key(w, "created");
  w.Int64(absl::ToUnixSeconds(meta.created));
  json::Key(w, "updated");
  w.Int64(absl::ToUnixSeconds(meta.updated));
  json::KeyStr(w, "recoveryLevel", meta.recovery_level);
  if (style == ApiStyle::kCurrent) {
    json::Key(w, "recoverableDays");
    w.Int(recoverable_days);
  }
  w.EndObject();
}

// "attributes.nbf" / "attributes.exp" of a set or update body: absent
// (nullopt), null (clear: an engaged nullopt), or integer Unix seconds.
// Anything else is Key Vault's 400 BadParameter.
// "tags" given: whether it is an empty object.
struct TimeAttributeUpdate {
  std::optional<std::optional<int64_t>> nbf, exp;
  std::optional<bool> empty_tags;
};
absl::StatusOr<TimeAttributeUpdate> ParseTimeAttributes(const rapidjson::Value& body) {
  TimeAttributeUpdate update;
  if (const rapidjson::Value* tags = json::Member(body, "tags");
      tags != nullptr && tags->IsObject()) {
    update.empty_tags = tags->ObjectEmpty();
  }
  const rapidjson::Value* attrs = json::Member(body, "attributes");
  if (attrs == nullptr || !attrs->IsObject()) return update;
  for (const char* name : {"nbf", "exp"}) {
    const rapidjson::Value* v = json::Member(*attrs, name);
    if (v == nullptr) continue;
    std::optional<int64_t> value;
    if (v->IsInt64()) {
      value = v->GetInt64();
    } else if (!v->IsNull()) {
      return absl::InvalidArgumentError(absl::StrCat("Invalid value for attributes.", name,
                                                     ": an IntDate is a number of seconds since ",
                                                     "1970-01-01T00:00:00Z."));
    }
    (std::string(name) == "nbf" ? update.nbf : update.exp) = value;
  }
  return update;
}

void WriteTags(json::Writer& w, const std::map<std::string, std::string>& tags, bool empty_tags) {
  if (tags.empty() && !empty_tags) return;
  json::KeyStrMap(w, "tags", tags);
}

struct Renderer {
  std::string base;  // https://host:port
  ApiStyle style;
  int recoverable_days;
  // nbf / exp of a version (the side store).
  std::function<TimeAttributes(const SecretVersion&)> times;

  std::string SecretId(const SecretVersion& m, bool with_version) const {
    return with_version ? absl::StrCat(base, "/secrets/", m.name, "/", m.version)
                        : absl::StrCat(base, "/secrets/", m.name);
  }

  // A SecretBundle (value when given) or SecretItem (no version in id).
  void Secret(json::Writer& w, const SecretVersion& m, const rotor::Secret* value,
              bool with_version = true) const {
    w.StartObject();
    if (value != nullptr) json::KeyStr(w, "value", value->Reveal());
    if (!m.content_type.empty()) json::KeyStr(w, "contentType", m.content_type);
    json::KeyStr(w, "id", SecretId(m, with_version));
    const TimeAttributes extra = times(m);
    WriteAttributes(w, m, extra, style, recoverable_days);
    WriteTags(w, m.tags, extra.empty_tags);
    w.EndObject();
  }

  void Deleted(json::Writer& w, const DeletedSecret& d, bool with_version) const {
    w.StartObject();
    if (d.scheduled_purge_date != absl::UnixEpoch()) {
      json::KeyStr(w, "recoveryId", absl::StrCat(base, "/deletedsecrets/", d.latest.name));
      json::Key(w, "deletedDate");
      w.Int64(absl::ToUnixSeconds(d.deleted_date));
      json::Key(w, "scheduledPurgeDate");
      w.Int64(absl::ToUnixSeconds(d.scheduled_purge_date));
    }
    if (!d.latest.content_type.empty()) json::KeyStr(w, "contentType", d.latest.content_type);
    json::KeyStr(w, "id", SecretId(d.latest, with_version));
    const TimeAttributes extra = times(d.latest);
    WriteAttributes(w, d.latest, extra, style, recoverable_days);
    WriteTags(w, d.latest.tags, extra.empty_tags);
    w.EndObject();
  }
};

HttpResponse JsonOk(std::string body) {
  HttpResponse r;
  r.Json(200, std::move(body));
  return r;
}

// A list request's page: at most `max` items after the key `after`.
struct PageRequest {
  size_t max = kMaxPage;
  std::string after;  // "" before the first page
};

absl::StatusOr<PageRequest> ParsePageRequest(const HttpRequest& request) {
  PageRequest page;
  if (request.HasQuery("maxresults")) {
    int n = 0;
    if (!absl::SimpleAtoi(request.Query("maxresults"), &n) || n < 1 || n > 25) {
      return absl::InvalidArgumentError(absl::StrCat("Invalid value for maxresults '",
                                                     request.Query("maxresults"),
                                                     "'. It must be an integer between 1 and 25."));
    }
    page.max = static_cast<size_t>(n);
  }
  if (request.HasQuery("$skiptoken")) {
    auto token = Base64UrlDecode(request.Query("$skiptoken"));
    if (!token.ok() || !absl::StartsWith(*token, "k:")) {
      return absl::InvalidArgumentError("The $skiptoken is not valid.");
    }
    page.after = token->substr(2);
  }
  return page;
}

// The $skiptoken of the page after the one ending with key `last`.
std::string SkipToken(absl::string_view last) { return Base64UrlEncode(absl::StrCat("k:", last)); }

// One page of `keys` (sorted) after the $skiptoken; fills `next` with the
// token of the next page, "" when this is the last.
absl::StatusOr<std::pair<size_t, size_t>> Page(const HttpRequest& request,
                                               const std::vector<std::string>& keys,
                                               std::string* next) {
  ASSIGN_OR_RETURN(PageRequest page, ParsePageRequest(request));
  size_t start = 0;
  if (!page.after.empty()) {
    start = std::upper_bound(keys.begin(), keys.end(), page.after) - keys.begin();
  }
  size_t end = std::min(keys.size(), start + page.max);
  next->clear();
  // Key Vault stops at the page size without looking further: a full page
  // carries a nextLink even when nothing follows (the next page is empty).
  if (end > start && (end < keys.size() || end - start == page.max)) {
    *next = SkipToken(keys[end - 1]);
  }
  return std::make_pair(start, end);
}

std::string NextLink(const std::string& base, const std::string& path, const HttpRequest& request,
                     const std::string& token) {
  std::string link =
      absl::StrCat(base, path, "?api-version=", http::UrlEncode(request.Query("api-version")),
                   "&$skiptoken=", token);
  if (request.HasQuery("maxresults")) {
    absl::StrAppend(&link, "&maxresults=", http::UrlEncode(request.Query("maxresults")));
  }
  return link;
}

// Keys that sort like the model's lists and stay unique: versions are
// listed oldest first, so their key is a zero-padded index.
std::string IndexKey(size_t i) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%08zu", i);
  return buf;
}

// A read-only engine Vault over one model (what the registry VM reads).
class ModelVault : public Vault {
 public:
  ModelVault(VaultInfo info, local::VaultModel& model) : info_(std::move(info)), model_(model) {}
  const VaultInfo& info() const override { return info_; }
  absl::StatusOr<std::vector<SecretVersion>> ListSecrets() override { return model_.List(); }
  absl::StatusOr<std::vector<SecretVersion>> ListSecretVersions(absl::string_view name) override {
    return model_.ListVersions(name);
  }
  absl::StatusOr<SecretBundle> GetSecret(absl::string_view name,
                                         absl::string_view version) override {
    return model_.Get(name, version);
  }
  absl::StatusOr<SecretVersion> SetSecret(absl::string_view, const SetSecretRequest&) override {
    return ReadOnly();
  }
  absl::StatusOr<SecretVersion> SetVersionEnabled(absl::string_view, absl::string_view,
                                                  bool) override {
    return ReadOnly();
  }
  absl::StatusOr<DeletedSecret> DeleteSecret(absl::string_view) override { return ReadOnly(); }
  absl::StatusOr<std::vector<DeletedSecret>> ListDeletedSecrets() override {
    return model_.ListDeleted();
  }
  absl::StatusOr<SecretVersion> RecoverDeletedSecret(absl::string_view) override {
    return ReadOnly();
  }
  absl::Status PurgeDeletedSecret(absl::string_view) override { return ReadOnly(); }

 private:
  static absl::Status ReadOnly() {
    return absl::UnimplementedError("the provisioning view of a vault is read-only");
  }
  VaultInfo info_;
  local::VaultModel& model_;
};

}  // namespace

bool IsKeyVaultPath(absl::string_view path) {
  std::vector<std::string> seg = PathSegments(path);
  if (seg.empty()) return false;
  const std::string c = absl::AsciiStrToLower(seg[0]);
  return c == "secrets" || c == "deletedsecrets";
}

std::string KeyVaultOperation(const HttpRequest& request) {
  std::vector<std::string> seg = PathSegments(request.path);
  if (seg.empty()) return "Unknown";
  const std::string c = absl::AsciiStrToLower(seg[0]);
  const std::string& m = request.method;
  const size_t n = seg.size();
  const bool trailing_empty = n == 3 && seg[2].empty();
  if (c == "secrets") {
    if (n == 1 || (n == 2 && seg[1].empty())) return m == "GET" ? "GetSecrets" : "Unknown";
    if (n == 2 && absl::AsciiStrToLower(seg[1]) == "restore" && m == "POST") return "RestoreSecret";
    if (n == 2 || trailing_empty) {
      if (m == "PUT" && n == 2) return "SetSecret";
      if (m == "GET") return "GetSecret";
      if (m == "PATCH") return "UpdateSecret";
      if (m == "DELETE" && n == 2) return "DeleteSecret";
      return "Unknown";
    }
    if (n == 3 && absl::AsciiStrToLower(seg[2]) == "versions")
      return m == "GET" ? "GetSecretVersions" : "Unknown";
    if (n == 3 && absl::AsciiStrToLower(seg[2]) == "backup")
      return m == "POST" ? "BackupSecret" : "Unknown";
    if (n == 3) {
      if (m == "GET") return "GetSecret";
      if (m == "PATCH") return "UpdateSecret";
    }
    return "Unknown";
  }
  if (c == "deletedsecrets") {
    if (n == 1 || (n == 2 && seg[1].empty())) {
      return m == "GET" ? "GetDeletedSecrets" : "Unknown";
    }
    if (n == 2) {
      if (m == "GET") return "GetDeletedSecret";
      if (m == "DELETE") return "PurgeDeletedSecret";
    }
    if (n == 3 && absl::AsciiStrToLower(seg[2]) == "recover" && m == "POST")
      return "RecoverDeletedSecret";
  }
  return "Unknown";
}

bool IsKeyVaultWrite(const HttpRequest& request) {
  return KeyVaultOperation(request) == "SetSecret";
}

HttpResponse KeyVaultError(int status, absl::string_view code, absl::string_view message,
                           absl::string_view inner_code) {
  rapidjson::StringBuffer b;
  json::Writer w(b);
  w.StartObject();
  json::Key(w, "error");
  w.StartObject();
  json::KeyStr(w, "code", code);
  json::KeyStr(w, "message", message);
  if (!inner_code.empty()) {
    json::Key(w, "innererror");
    w.StartObject();
    json::KeyStr(w, "code", inner_code);
    w.EndObject();
  }
  w.EndObject();
  w.EndObject();
  HttpResponse r;
  r.Json(status, json::Text(b));
  return r;
}

// --- KeyVaultService -------------------------------------------------------------

// What a replication delay still hides after a delete or a recover.
enum class Replication { kDeleting, kRecovering };

struct KeyVaultService::Entry {
  std::string name;
  std::unique_ptr<local::VaultModel> model;
  std::mutex persist_mu;
  uint64_t persisted_generation = 0;
  std::string path;
  // The nbf/exp side store: "lower(name)/version" -> attributes, and its
  // file.
  std::mutex attrs_mu;
  std::map<std::string, TimeAttributes> attrs;
  std::string attrs_path;
  // Lower-cased secret name -> the delete or recover still under way, and
  // until when (--replication-delay).
  std::mutex pending_mu;
  std::map<std::string, std::pair<Replication, absl::Time>> pending;

  static std::string AttrKey(absl::string_view secret, absl::string_view version) {
    return absl::StrCat(absl::AsciiStrToLower(secret), "/", absl::AsciiStrToLower(version));
  }
  TimeAttributes Times(const SecretVersion& m) {
    std::lock_guard<std::mutex> lock(attrs_mu);
    auto it = attrs.find(AttrKey(m.name, m.version));
    return it == attrs.end() ? TimeAttributes{} : it->second;
  }
  // Applies `update` to one version; true when something changed.
  bool UpdateTimes(absl::string_view secret, absl::string_view version,
                   const TimeAttributeUpdate& update) {
    std::lock_guard<std::mutex> lock(attrs_mu);
    const std::string key = AttrKey(secret, version);
    TimeAttributes before;
    if (auto it = attrs.find(key); it != attrs.end()) before = it->second;
    TimeAttributes after = before;
    if (update.nbf.has_value()) after.nbf = *update.nbf;
    if (update.exp.has_value()) after.exp = *update.exp;
    if (update.empty_tags.has_value()) after.empty_tags = *update.empty_tags;
    if (after.nbf == before.nbf && after.exp == before.exp &&
        after.empty_tags == before.empty_tags) {
      return false;
    }
    if (after.empty()) {
      attrs.erase(key);
    } else {
      attrs[key] = after;
    }
    return true;
  }
  // Forgets every version of `secret` (purged); true when something changed.
  bool ForgetTimes(absl::string_view secret) {
    std::lock_guard<std::mutex> lock(attrs_mu);
    const std::string prefix = absl::StrCat(absl::AsciiStrToLower(secret), "/");
    return std::erase_if(attrs,
                         [&](const auto& kv) { return absl::StartsWith(kv.first, prefix); }) > 0;
  }
  std::string TimesJson() {
    std::lock_guard<std::mutex> lock(attrs_mu);
    rapidjson::StringBuffer b;
    json::Writer w(b);
    w.StartObject();
    json::Key(w, "format_version");
    w.Int(1);
    json::KeyStr(w, "vault", name);
    json::Key(w, "versions");
    w.StartObject();
    for (const auto& [key, t] : attrs) {
      json::Key(w, key);
      w.StartObject();
      WriteIntDates(w, t);
      if (t.empty_tags) {
        json::Key(w, "empty_tags");
        w.Bool(true);
      }
      w.EndObject();
    }
    w.EndObject();
    w.EndObject();
    return json::Text(b);
  }
  absl::Status LoadTimes() {
    if (!PathExists(attrs_path)) return absl::OkStatus();
    ASSIGN_OR_RETURN(std::string text, ReadFile(attrs_path));
    rapidjson::Document doc;
    doc.Parse(text.data(), text.size());
    const rapidjson::Value* versions =
        doc.HasParseError() ? nullptr : json::Member(doc, "versions");
    if (versions == nullptr || !versions->IsObject()) {
      return absl::DataLossError(absl::StrCat(attrs_path, ": not an attribute store"));
    }
    std::lock_guard<std::mutex> lock(attrs_mu);
    for (const auto& m : versions->GetObject()) {
      TimeAttributes t;
      if (const auto* v = json::Member(m.value, "nbf"); v != nullptr && v->IsInt64()) {
        t.nbf = v->GetInt64();
      }
      if (const auto* v = json::Member(m.value, "exp"); v != nullptr && v->IsInt64()) {
        t.exp = v->GetInt64();
      }
      if (const auto* v = json::Member(m.value, "empty_tags"); v != nullptr && v->IsBool()) {
        t.empty_tags = v->GetBool();
      }
      if (!t.empty()) attrs[m.name.GetString()] = t;
    }
    return absl::OkStatus();
  }

  // The delete or recover of `secret` still under way, if any.
  std::optional<Replication> Pending(absl::string_view secret, absl::Time now) {
    std::lock_guard<std::mutex> lock(pending_mu);
    auto it = pending.find(absl::AsciiStrToLower(secret));
    if (it == pending.end()) return std::nullopt;
    if (now >= it->second.second) {
      pending.erase(it);
      return std::nullopt;
    }
    return it->second.first;
  }
  void StartPending(absl::string_view secret, Replication what, absl::Time until) {
    std::lock_guard<std::mutex> lock(pending_mu);
    pending[absl::AsciiStrToLower(secret)] = {what, until};
  }
};

KeyVaultService::KeyVaultService(std::string state_dir, const Clock& clock)
    : state_dir_(std::move(state_dir)), clock_(clock) {}
KeyVaultService::~KeyVaultService() {
  if (persister_.joinable()) {
    {
      std::lock_guard<std::mutex> lock(dirty_mu_);
      stopping_ = true;
    }
    dirty_cv_.notify_all();
    persister_.join();
  }
  // What the write-behind has not written yet (nothing when persisting
  // synchronously).
  for (Entry* entry : dirty_) {
    if (absl::Status s = Persist(*entry); !s.ok()) {
      std::fprintf(stderr, "rotor-emulator: persisting vault %s failed: %s\n", entry->name.c_str(),
                   std::string(s.message()).c_str());
    }
  }
}

void KeyVaultService::MarkDirty(Entry& entry) {
  {
    std::lock_guard<std::mutex> lock(dirty_mu_);
    dirty_.insert(&entry);
  }
  dirty_cv_.notify_all();
}

void KeyVaultService::PersistLoop() {
  std::unique_lock<std::mutex> lock(dirty_mu_);
  while (!stopping_) {
    dirty_cv_.wait(lock, [&] { return stopping_ || !dirty_.empty(); });
    if (stopping_) break;
    // Let a burst of writes gather, then write each changed vault once.
    dirty_cv_.wait_for(lock, absl::ToChronoMilliseconds(persist_interval_),
                       [&] { return stopping_; });
    std::set<Entry*> dirty;
    dirty.swap(dirty_);
    lock.unlock();
    for (Entry* entry : dirty) {
      if (absl::Status s = Persist(*entry); !s.ok()) {
        std::fprintf(stderr, "rotor-emulator: persisting vault %s failed: %s\n",
                     entry->name.c_str(), std::string(s.message()).c_str());
      }
    }
    lock.lock();
  }
}

absl::StatusOr<std::unique_ptr<KeyVaultService>> KeyVaultService::Open(
    const std::string& state_dir, const std::vector<std::string>& vaults,
    local::VaultModelOptions model_options, const Clock& clock, absl::Duration persist_interval) {
  std::unique_ptr<KeyVaultService> service(new KeyVaultService(state_dir, clock));
  service->persist_interval_ = persist_interval;
  const std::string dir = absl::StrCat(state_dir, "/vaults");
  RETURN_IF_ERROR(MakeDirs(dir));
  ::chmod(dir.c_str(), 0700);  // the vault files hold secret values

  auto add = [&](const std::string& name, bool create) -> absl::Status {
    RETURN_IF_ERROR(
        local::ValidateSecretName(name).ok()
            ? absl::OkStatus()
            : absl::InvalidArgumentError(absl::StrCat("invalid vault name \"", name,
                                                      "\": 1 to 127 letters, digits and '-'")));
    const std::string key = absl::AsciiStrToLower(name);
    if (service->vaults_.count(key) > 0) return absl::OkStatus();
    auto entry = std::make_unique<Entry>();
    entry->name = name;
    entry->path = local::LocalVault::StorePath(state_dir, name);
    entry->attrs_path = absl::StrCat(state_dir, "/emulator/attributes/", key, ".json");
    RETURN_IF_ERROR(entry->LoadTimes());
    entry->model = std::make_unique<local::VaultModel>(
        absl::StrCat("https://", key, ".vault.localhost"), clock, model_options);
    if (PathExists(entry->path)) {
      ASSIGN_OR_RETURN(std::string text, ReadFile(entry->path));
      absl::Status restored = entry->model->Restore(text);
      std::fill(text.begin(), text.end(), '\0');
      if (!restored.ok()) {
        return absl::Status(restored.code(), absl::StrCat(entry->path, ": ", restored.message()));
      }
      entry->persisted_generation = entry->model->generation();
    } else if (create) {
      RETURN_IF_ERROR(service->Persist(*entry));
    } else {
      return absl::OkStatus();
    }
    service->order_.push_back(name);
    service->vaults_[key] = std::move(entry);
    return absl::OkStatus();
  };

  for (const auto& name : vaults) RETURN_IF_ERROR(add(name, true));
  // Vaults kept from earlier runs.
  std::vector<std::string> stored;
  if (DIR* d = ::opendir(dir.c_str())) {
    while (dirent* e = ::readdir(d)) {
      absl::string_view file = e->d_name;
      if (absl::ConsumeSuffix(&file, ".json") && !file.empty() && file[0] != '.') {
        stored.emplace_back(file);
      }
    }
    ::closedir(d);
  }
  std::sort(stored.begin(), stored.end());
  for (const auto& name : stored) {
    if (local::ValidateSecretName(name).ok()) RETURN_IF_ERROR(add(name, false));
  }
  if (persist_interval > absl::ZeroDuration()) {
    KeyVaultService* raw = service.get();
    service->persister_ = std::thread([raw] { raw->PersistLoop(); });
  }
  return service;
}

std::vector<std::string> KeyVaultService::Names() const { return order_; }

std::string KeyVaultService::Find(absl::string_view name) const {
  Entry* e = Get(name);
  return e == nullptr ? std::string() : e->name;
}

KeyVaultService::Entry* KeyVaultService::Get(absl::string_view vault) const {
  auto it = vaults_.find(absl::AsciiStrToLower(vault));
  return it == vaults_.end() ? nullptr : it->second.get();
}

absl::Status KeyVaultService::PersistAttributes(Entry& entry) {
  const std::string dir = absl::StrCat(state_dir_, "/emulator/attributes");
  RETURN_IF_ERROR(MakeDirs(dir));
  return WriteFileAtomic(entry.attrs_path, entry.TimesJson(), 0600);
}

absl::Status KeyVaultService::Persist(Entry& entry) {
  std::lock_guard<std::mutex> lock(entry.persist_mu);
  const uint64_t generation = entry.model->generation();
  if (generation <= entry.persisted_generation && PathExists(entry.path)) {
    return absl::OkStatus();
  }
  Secret text = entry.model->ToJson();
  RETURN_IF_ERROR(WriteFileAtomic(entry.path, text.Reveal(), 0600));
  entry.persisted_generation = generation;
  return absl::OkStatus();
}

std::unique_ptr<Vault> KeyVaultService::VaultView(absl::string_view vault) {
  Entry* e = Get(vault);
  if (e == nullptr) return nullptr;
  VaultInfo info;
  info.name = e->name;
  info.base_url = e->model->base_url();
  return std::make_unique<ModelVault>(std::move(info), *e->model);
}

HttpResponse KeyVaultService::Handle(absl::string_view vault, const HttpRequest& request,
                                     const std::string& base_url) {
  Entry* entry = Get(vault);
  if (entry == nullptr) {
    return KeyVaultError(404, "VaultNotFound",
                         absl::StrCat("The vault '", vault, "' does not exist."));
  }
  auto style = ParseApiVersion(request);
  if (!style.ok()) return KeyVaultError(400, "BadParameter", style.status().message());
  local::VaultModel& model = *entry->model;
  const Renderer render{base_url, *style, model.soft_delete() ? model.retention_days() : 0,
                        [entry](const SecretVersion& m) { return entry->Times(m); }};
  const std::string op = KeyVaultOperation(request);
  const std::vector<std::string> seg = PathSegments(request.path);
  const std::string name = seg.size() > 1 ? seg[1] : "";
  const std::string version = seg.size() > 2 && op != "GetSecretVersions" ? seg[2] : std::string();

  // Synchronously (the store file is current when the answer leaves), or
  // write-behind with --persist-interval.
  auto persist = [&]() -> absl::Status {
    if (persist_interval_ > absl::ZeroDuration()) {
      MarkDirty(*entry);
      return absl::OkStatus();
    }
    absl::Status s = Persist(*entry);
    if (!s.ok()) {
      std::fprintf(stderr, "rotor-emulator: persisting vault %s failed: %s\n", entry->name.c_str(),
                   std::string(s.message()).c_str());
    }
    return s;
  };
  auto persist_failed = [&](const absl::Status& s) {
    return KeyVaultError(500, "InternalServerError",
                         absl::StrCat("The vault could not be saved: ", s.message()));
  };

  auto persist_times = [&]() {
    if (absl::Status s = PersistAttributes(*entry); !s.ok()) {
      std::fprintf(stderr, "rotor-emulator: persisting the attributes of vault %s failed: %s\n",
                   entry->name.c_str(), std::string(s.message()).c_str());
    }
  };

  // A delete or recover still replicating (--replication-delay).
  const absl::Time now = clock_.Now();
  const std::optional<Replication> pending =
      name.empty() || op == "GetSecrets" || op == "GetDeletedSecrets" ? std::nullopt
                                                                      : entry->Pending(name, now);
  auto being_deleted = [&]() {
    return KeyVaultError(409, "Conflict",
                         absl::StrCat("Secret ", local::ShownSecretName(name),
                                      " is currently being deleted and cannot be re-created; "
                                      "retry later."),
                         "ObjectIsBeingDeleted");
  };
  auto being_recovered = [&]() {
    return KeyVaultError(409, "Conflict",
                         absl::StrCat("Secret ", local::ShownSecretName(name),
                                      " is currently being recovered and cannot be re-created; "
                                      "retry later."),
                         "ObjectIsBeingRecovered");
  };
  if (pending == Replication::kDeleting) {
    // Recover and purge are accepted at once (the recorded SDKs recover
    // right after a delete); only a new secret under the name must wait.
    if (op == "SetSecret") return being_deleted();
    if (op == "GetDeletedSecret") {
      return KeyVaultError(
          404, "SecretNotFound",
          absl::StrCat("Deleted Secret not found: ", local::ShownSecretName(name)));
    }
  } else if (pending == Replication::kRecovering) {
    if (op == "SetSecret" || op == "DeleteSecret") return being_recovered();
    if (op == "GetSecret" || op == "UpdateSecret") {
      return StatusToResponse(WithVaultErrorCode(
          absl::NotFoundError(absl::StrCat("A secret with (name/id) ", local::ShownSecretName(name),
                                           " was not found in this key vault.")),
          local::kSecretNotFound));
    }
  }
  auto start_pending = [&](Replication what) {
    if (replication_delay_ > absl::ZeroDuration()) {
      entry->StartPending(name, what, now + replication_delay_);
    }
  };

  rapidjson::StringBuffer b;
  json::Writer w(b);

  if (op == "SetSecret") {
    if (auto valid = local::ValidateSecretName(name); !valid.ok()) {
      return KeyVaultError(400, "BadParameter",
                           absl::StrCat("The request URI contains an invalid name: ", name));
    }
    rapidjson::Document doc;
    doc.Parse(request.body.data(), request.body.size());
    if (doc.HasParseError() || !doc.IsObject()) {
      return KeyVaultError(400, "BadParameter", "The request body is not a valid JSON object.");
    }
    SetSecretRequest set;
    const auto* value = json::Member(doc, "value");
    if (value == nullptr || !value->IsString()) {
      return KeyVaultError(400, "BadParameter",
                           "Property 'value' is required and must be a string.");
    }
    set.value = rotor::Secret(std::string(value->GetString(), value->GetStringLength()));
    if (const auto* ct = json::Member(doc, "contentType"); ct != nullptr && !ct->IsNull()) {
      if (!ct->IsString())
        return KeyVaultError(400, "BadParameter", "contentType must be a string.");
      set.content_type = ct->GetString();
    }
    if (const auto* tags = json::Member(doc, "tags"); tags != nullptr && !tags->IsNull()) {
      if (!tags->IsObject()) return KeyVaultError(400, "BadParameter", "tags must be an object.");
      for (const auto& m : tags->GetObject()) {
        if (!m.value.IsString()) {
          return KeyVaultError(400, "BadParameter", "Tag values must be strings.");
        }
        set.tags[m.name.GetString()] = m.value.GetString();
      }
    }
    bool enabled = true;
    const rapidjson::Value* attrs = json::Member(doc, "attributes");
    if (attrs != nullptr && attrs->IsObject()) {
      if (const auto* en = json::Member(*attrs, "enabled"); en != nullptr && en->IsBool()) {
        enabled = en->GetBool();
      }
    }
    auto times = ParseTimeAttributes(doc);
    if (!times.ok()) return KeyVaultError(400, "BadParameter", times.status().message());
    // Wipe the parsed copy of the value.
    if (value->IsString()) {
      std::fill(const_cast<char*>(value->GetString()),
                const_cast<char*>(value->GetString()) + value->GetStringLength(), '\0');
    }
    auto meta = model.Set(name, set, enabled);
    if (!meta.ok()) return StatusToResponse(meta.status());
    if (entry->UpdateTimes(meta->name, meta->version, *times)) persist_times();
    if (auto s = persist(); !s.ok()) return persist_failed(s);
    render.Secret(w, *meta, &set.value);
    return JsonOk(json::Text(b));
  }

  if (op == "GetSecret") {
    auto bundle = model.Get(name, version);
    if (!bundle.ok()) return StatusToResponse(bundle.status());
    render.Secret(w, bundle->meta, &bundle->value);
    return JsonOk(json::Text(b));
  }

  if (op == "UpdateSecret") {
    rapidjson::Document doc;
    doc.Parse(request.body.data(), request.body.size());
    if (doc.HasParseError() || !doc.IsObject()) {
      return KeyVaultError(400, "BadParameter", "The request body is not a valid JSON object.");
    }
    local::SecretVersionUpdate update;
    if (const auto* ct = json::Member(doc, "contentType"); ct != nullptr && ct->IsString()) {
      update.content_type = std::string(ct->GetString());
    }
    const rapidjson::Value* attrs = json::Member(doc, "attributes");
    if (attrs != nullptr && attrs->IsObject()) {
      if (const auto* en = json::Member(*attrs, "enabled"); en != nullptr && en->IsBool()) {
        update.enabled = en->GetBool();
      }
    }
    auto times = ParseTimeAttributes(doc);
    if (!times.ok()) return KeyVaultError(400, "BadParameter", times.status().message());
    if (const auto* tags = json::Member(doc, "tags"); tags != nullptr && tags->IsObject()) {
      std::map<std::string, std::string> t;
      for (const auto& m : tags->GetObject()) {
        if (!m.value.IsString()) {
          return KeyVaultError(400, "BadParameter", "Tag values must be strings.");
        }
        t[m.name.GetString()] = m.value.GetString();
      }
      update.tags = std::move(t);
    }
    auto meta = model.Update(name, version, update);
    if (!meta.ok()) return StatusToResponse(meta.status());
    if (entry->UpdateTimes(meta->name, meta->version, *times)) persist_times();
    if (auto s = persist(); !s.ok()) return persist_failed(s);
    render.Secret(w, *meta, nullptr);
    return JsonOk(json::Text(b));
  }

  if (op == "DeleteSecret") {
    auto deleted = model.Delete(name);
    if (!deleted.ok()) return StatusToResponse(deleted.status());
    if (auto s = persist(); !s.ok()) return persist_failed(s);
    if (model.soft_delete()) {
      start_pending(Replication::kDeleting);
    }
    render.Deleted(w, *deleted, true);
    // Without soft delete the secret is gone: so are its attributes.
    if (!model.soft_delete() && entry->ForgetTimes(name)) persist_times();
    return JsonOk(json::Text(b));
  }

  if (op == "GetSecrets" || op == "GetSecretVersions" || op == "GetDeletedSecrets") {
    std::vector<std::string> keys;
    std::vector<SecretVersion> items;
    std::vector<DeletedSecret> deleted;
    std::string path;
    std::string next;
    std::pair<size_t, size_t> range;
    if (op == "GetSecrets") {
      // Paged in the model: a page costs its 25 secrets, not the vault.
      auto request_page = ParsePageRequest(request);
      if (!request_page.ok()) {
        return KeyVaultError(400, "BadParameter", request_page.status().message());
      }
      bool more = false;
      items = model.ListPage(request_page->after, request_page->max, &more);
      range = {0, items.size()};
      // A full page carries a nextLink whether or not more follow.
      if ((more || items.size() == request_page->max) && !items.empty()) {
        next = SkipToken(absl::AsciiStrToLower(items.back().name));
      }
      path = "/secrets";
    } else if (op == "GetSecretVersions") {
      auto versions = model.ListVersions(name);
      if (versions.ok()) items = *std::move(versions);
      for (size_t i = 0; i < items.size(); ++i) keys.push_back(IndexKey(i));
      path = absl::StrCat("/secrets/", seg[1], "/versions");
    } else {
      if (!model.soft_delete()) {
        return KeyVaultError(400, "BadParameter",
                             "Operation \"list deleted secrets\" is not allowed because the "
                             "vault does not have soft delete enabled.");
      }
      deleted = model.ListDeleted();
      // Deletes still replicating are not listed yet.
      std::erase_if(deleted, [&](const DeletedSecret& d) {
        return entry->Pending(d.latest.name, now) == Replication::kDeleting;
      });
      for (const auto& d : deleted) keys.push_back(absl::AsciiStrToLower(d.latest.name));
      path = "/deletedsecrets";
    }
    if (op != "GetSecrets") {
      auto page = Page(request, keys, &next);
      if (!page.ok()) return KeyVaultError(400, "BadParameter", page.status().message());
      range = *page;
    }
    w.StartObject();
    json::Key(w, "value");
    w.StartArray();
    for (size_t i = range.first; i < range.second; ++i) {
      if (op == "GetDeletedSecrets") {
        render.Deleted(w, deleted[i], false);
      } else {
        render.Secret(w, items[i], nullptr, op == "GetSecretVersions");
      }
    }
    w.EndArray();
    json::Key(w, "nextLink");
    if (next.empty()) {
      w.Null();
    } else {
      json::Str(w, NextLink(base_url, path, request, next));
    }
    w.EndObject();
    return JsonOk(json::Text(b));
  }

  if (op == "GetDeletedSecret") {
    auto deleted = model.GetDeleted(name);
    if (!deleted.ok()) return StatusToResponse(deleted.status());
    render.Deleted(w, *deleted, true);
    return JsonOk(json::Text(b));
  }

  if (op == "RecoverDeletedSecret") {
    auto meta = model.Recover(name);
    if (!meta.ok()) return StatusToResponse(meta.status());
    if (auto s = persist(); !s.ok()) return persist_failed(s);
    start_pending(Replication::kRecovering);
    render.Secret(w, *meta, nullptr);
    return JsonOk(json::Text(b));
  }

  if (op == "PurgeDeletedSecret") {
    absl::Status purged = model.Purge(name);
    if (!purged.ok()) return StatusToResponse(purged);
    if (auto s = persist(); !s.ok()) return persist_failed(s);
    if (entry->ForgetTimes(name)) persist_times();
    HttpResponse r;
    r.status = 204;
    return r;
  }

  if (op == "BackupSecret" || op == "RestoreSecret") {
    return KeyVaultError(501, "NotImplemented",
                         "The emulator does not implement secret backup and restore.");
  }
  return KeyVaultError(
      405, "BadParameter",
      absl::StrCat("The method ", request.method, " is not allowed on ", request.path, "."));
}

}  // namespace rotor::emulator
