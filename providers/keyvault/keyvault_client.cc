#include "providers/keyvault/keyvault_client.h"

#include <algorithm>
#include <atomic>
#include <set>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/status_context.h"
#include "base/status_macros.h"
#include "providers/auth/cloud.h"
#include "providers/http/checked_read.h"
#include "providers/http/checked_write.h"
#include "providers/http/retry.h"
#include "providers/http/url.h"
#include "providers/keyvault/keyvault_codec.h"

namespace rotor::keyvault {
namespace {

// The service's code (innererror first) as the engine's VaultErrorCode.
absl::Status Tag(absl::Status status) {
  std::string code = http::ServiceInnerCodeOf(status);
  if (code.empty()) code = http::ServiceCodeOf(status);
  if (!code.empty() && VaultErrorCode(status).empty()) {
    status = WithVaultErrorCode(std::move(status), code);
  }
  return status;
}

absl::Status ErrorOf(const http::HttpRequest& request, const http::HttpResponse& response) {
  return Tag(http::HttpErrorToStatus(request, response));
}

// "reading secret NAME": which read failed (the error itself starts with
// the method and the redacted URL).
std::string ReadContext(absl::string_view name) { return absl::StrCat("reading secret ", name); }

bool IsHex32OrEmpty(absl::string_view v) {
  if (v.size() > 64) return false;
  for (char c : v) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

absl::Status CheckName(absl::string_view name) {
  if (!IsValidSecretName(name)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "\"", name, "\" is not a valid Key Vault secret name (1-127 letters, digits and '-')"));
  }
  return absl::OkStatus();
}

bool TagsInclude(const std::map<std::string, std::string>& have,
                 const std::map<std::string, std::string>& want) {
  for (const auto& [k, v] : want) {
    auto it = have.find(k);
    if (it == have.end() || it->second != v) return false;
  }
  return true;
}

}  // namespace

bool IsValidSecretName(absl::string_view name) {
  if (name.empty() || name.size() > 127) return false;
  for (char c : name) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-') return false;
  }
  return true;
}

absl::StatusOr<std::unique_ptr<KeyVaultClient>> KeyVaultClient::Create(
    std::shared_ptr<http::HttpSender> sender, KeyVaultOptions options) {
  while (absl::EndsWith(options.base_url, "/")) options.base_url.pop_back();
  auto parts = auth::SplitUrl(options.base_url);
  if (!parts.ok() || (parts->scheme != "https" && parts->scheme != "http") ||
      !parts->path.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("Key Vault URL \"", options.base_url, "\" is not an https:// origin"));
  }
  if (options.api_version.empty()) {
    return absl::InvalidArgumentError("the Key Vault api-version is empty");
  }
  return std::unique_ptr<KeyVaultClient>(new KeyVaultClient(std::move(sender), std::move(options)));
}

KeyVaultClient::KeyVaultClient(std::shared_ptr<http::HttpSender> sender, KeyVaultOptions options)
    : sender_(std::move(sender)), options_(std::move(options)) {
  info_.name = options_.name;
  info_.base_url = options_.base_url;
  info_.resource_id = options_.resource_id;
}

KeyVaultClient::Stats KeyVaultClient::stats() const {
  std::lock_guard<std::mutex> lock(stats_mu_);
  return stats_;
}

void KeyVaultClient::Log(http::LogLevel level, const std::string& line) const {
  if (options_.log) options_.log(level, line);
}

void KeyVaultClient::Sleep(absl::Duration d) const {
  if (d > absl::ZeroDuration()) absl::SleepFor(d * options_.time_scale);
}

void KeyVaultClient::ParallelFor(size_t n, const std::function<void(size_t)>& fn) const {
  const size_t threads =
      std::min<size_t>(n, static_cast<size_t>(std::max(1, options_.parallelism)));
  if (threads <= 1) {
    for (size_t i = 0; i < n; ++i) fn(i);
    return;
  }
  std::atomic<size_t> next{0};
  std::vector<std::thread> pool;
  pool.reserve(threads);
  for (size_t t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      for (size_t i = next++; i < n; i = next++) fn(i);
    });
  }
  for (auto& t : pool) t.join();
}

std::string KeyVaultClient::Url(absl::string_view path) const {
  return absl::StrCat(options_.base_url, path, absl::StrContains(path, "?") ? "&" : "?",
                      "api-version=", http::UrlEncode(options_.api_version));
}

http::HttpRequest KeyVaultClient::Request(absl::string_view method, absl::string_view path) const {
  http::HttpRequest r;
  r.method = std::string(method);
  r.url = Url(path);
  r.headers.emplace_back("Accept", "application/json");
  r.idempotent = method == "GET";
  r.max_response_bytes = kMaxKeyVaultAnswerBytes;
  return r;
}

absl::StatusOr<http::HttpResponse> KeyVaultClient::Read(
    const std::function<http::HttpRequest()>& make,
    const std::function<absl::Status(const http::HttpResponse&)>& accept) {
  http::CheckedReadOptions options;
  options.max_attempts = options_.max_read_attempts;
  options.backoff.initial_backoff = options_.backoff;
  options.backoff.max_backoff = options_.max_backoff;
  options.sleep = [this](absl::Duration d) { Sleep(d); };
  options.log = options_.log;
  auto response = http::SendCheckedRead(*sender_, make, accept, options);
  if (!response.ok()) return Tag(response.status());
  return response;
}

absl::StatusOr<http::HttpResponse> KeyVaultClient::Send(http::HttpRequest request) {
  auto response = sender_->Send(std::move(request));
  if (!response.ok()) return Tag(response.status());
  return response;
}

absl::StatusOr<http::HttpResponse> KeyVaultClient::SendOk(http::HttpRequest request) {
  http::HttpRequest shape;
  shape.method = request.method;
  shape.url = request.url;
  ASSIGN_OR_RETURN(http::HttpResponse response, Send(std::move(request)));
  if (!response.ok()) return ErrorOf(shape, response);
  return response;
}

std::string KeyVaultClient::NormalizeId(const std::string& id) const {
  auto parsed = ParseSecretId(id);
  if (!parsed.ok() || !auth::SameOrigin(parsed->origin, options_.base_url)) return id;
  return absl::StrCat(options_.base_url, "/", parsed->collection, "/", parsed->name,
                      parsed->version.empty() ? "" : "/", parsed->version);
}

void KeyVaultClient::Normalize(SecretVersion& meta) const { meta.id = NormalizeId(meta.id); }

absl::Status KeyVaultClient::ForEachPage(
    std::string url, const std::string& what,
    const std::function<absl::StatusOr<std::string>(const std::string&)>& consume) {
  std::set<std::string> seen;
  for (int page = 0;; ++page) {
    if (page >= options_.max_pages) {
      return absl::InternalError(absl::StrCat(what, ": more than ", options_.max_pages, " pages"));
    }
    std::optional<std::string> next;
    auto response = Read(
        [&] {
          http::HttpRequest r = http::Get(url);
          r.headers.emplace_back("Accept", "application/json");
          r.max_response_bytes = kMaxKeyVaultAnswerBytes;
          return r;
        },
        [&](const http::HttpResponse& answer) -> absl::Status {
          ASSIGN_OR_RETURN(next, consume(answer.body));
          return absl::OkStatus();
        });
    if (!response.ok()) return WithContext(response.status(), what);
    if (!response->ok()) return WithContext(ErrorOf(http::Get(url), *response), what);
    if (next->empty()) return absl::OkStatus();
    // nextLink is followed verbatim, but only on the vault's own origin: a
    // token is never sent elsewhere.
    if (!auth::SameOrigin(*next, options_.base_url) || !seen.insert(*next).second) {
      return absl::InternalError(absl::StrCat(what, ": refusing nextLink ", http::RedactUrl(*next),
                                              " (another host, or a loop)"));
    }
    url = *std::move(next);
  }
}

absl::StatusOr<SecretBundle> KeyVaultClient::ParseBundleResponse(
    const http::HttpResponse& response) {
  ASSIGN_OR_RETURN(ParsedBundle parsed, ParseSecretBundle(response.body));
  if (!parsed.has_value) return absl::InternalError("the secret answer carries no value");
  SecretBundle bundle;
  bundle.meta = std::move(parsed.meta);
  Normalize(bundle.meta);
  bundle.value = std::move(parsed.value);
  return bundle;
}

template <typename T>
absl::StatusOr<T> KeyVaultClient::Write(
    const std::string& what, const std::function<http::HttpRequest()>& make,
    const std::function<absl::StatusOr<T>(const http::HttpResponse&)>& parse,
    const std::function<absl::StatusOr<std::optional<T>>()>& landed) {
  std::optional<T> result;
  http::HttpRequest shape;  // the method and URL of the last request, for messages
  http::CheckedWrite write;
  write.what = what;
  write.make = [&] {
    http::HttpRequest request = make();
    shape.method = request.method;
    shape.url = request.url;
    return request;
  };
  write.accept = [&](const http::HttpResponse& response) -> absl::Status {
    absl::StatusOr<T> parsed = parse(response);
    if (!parsed.ok()) return parsed.status();
    result = *std::move(parsed);
    return absl::OkStatus();
  };
  write.error_of = [&](const http::HttpResponse& response) { return ErrorOf(shape, response); };
  write.transport_error = [](const absl::Status& status) { return Tag(status); };
  write.landed = [&]() -> absl::StatusOr<bool> {
    absl::StatusOr<std::optional<T>> found = landed();
    if (!found.ok()) return found.status();
    if (!found->has_value()) return false;
    result = **std::move(found);
    return true;
  };
  http::CheckedWriteOptions options;
  options.max_attempts = options_.max_write_attempts;
  options.backoff.initial_backoff = options_.backoff;
  options.backoff.throttle_backoff = options_.backoff;
  options.backoff.max_backoff = options_.max_backoff;
  options.sleep = [this](absl::Duration d) { Sleep(d); };
  options.log = options_.log;
  http::CheckedWriteStats counts;
  absl::Status status = http::SendCheckedWrite(*sender_, write, options, &counts);
  {
    std::lock_guard<std::mutex> lock(stats_mu_);
    stats_.throttled += counts.throttled;
    stats_.write_checks += counts.checks;
    stats_.landed_without_answer += counts.landed_without_answer;
    stats_.write_retries += counts.retries;
  }
  if (!status.ok()) return status;
  return *std::move(result);
}

// --- lists

absl::StatusOr<std::vector<SecretVersion>> KeyVaultClient::ListSecretVersions(
    absl::string_view name) {
  RETURN_IF_ERROR(CheckName(name));
  std::vector<SecretVersion> out;
  RETURN_IF_ERROR(ForEachPage(Url(absl::StrCat("/secrets/", name, "/versions")),
                              absl::StrCat("listing the versions of secret ", name),
                              [&](const std::string& body) -> absl::StatusOr<std::string> {
                                ASSIGN_OR_RETURN(SecretListPage parsed, ParseSecretList(body));
                                for (auto& v : parsed.items) {
                                  Normalize(v);
                                  out.push_back(std::move(v));
                                }
                                return parsed.next_link;
                              }));
  if (out.empty()) {
    return WithVaultErrorCode(
        absl::NotFoundError(absl::StrCat("secret ", name, " was not found in vault ", info_.name)),
        "SecretNotFound");
  }
  return out;
}

absl::StatusOr<std::vector<SecretVersion>> KeyVaultClient::ListSecrets() {
  // One request per page of 25 and nothing per secret: the list carries no
  // version ids, and the Vault contract lets `version` stay empty (the
  // engine reads the exact version of the secrets it needs with GetSecret).
  std::vector<SecretVersion> out;
  RETURN_IF_ERROR(ForEachPage(Url("/secrets"),
                              absl::StrCat("listing the secrets of vault ", info_.name),
                              [&](const std::string& body) -> absl::StatusOr<std::string> {
                                ASSIGN_OR_RETURN(SecretListPage parsed, ParseSecretList(body));
                                for (auto& v : parsed.items) {
                                  Normalize(v);
                                  out.push_back(std::move(v));
                                }
                                return parsed.next_link;
                              }));
  return out;
}

absl::StatusOr<std::vector<DeletedSecret>> KeyVaultClient::ListDeletedSecrets() {
  std::vector<DeletedSecret> out;
  RETURN_IF_ERROR(ForEachPage(
      Url("/deletedsecrets"), absl::StrCat("listing the deleted secrets of vault ", info_.name),
      [&](const std::string& body) -> absl::StatusOr<std::string> {
        ASSIGN_OR_RETURN(DeletedSecretListPage parsed, ParseDeletedSecretList(body));
        for (auto& d : parsed.items) {
          Normalize(d.latest);
          out.push_back(std::move(d));
        }
        return parsed.next_link;
      }));
  return out;
}

// --- reads

absl::StatusOr<SecretBundle> KeyVaultClient::GetSecret(absl::string_view name,
                                                       absl::string_view version) {
  RETURN_IF_ERROR(CheckName(name));
  if (!IsHex32OrEmpty(version)) {
    return absl::InvalidArgumentError(absl::StrCat("\"", version, "\" is not a secret version"));
  }
  const std::string path = absl::StrCat("/secrets/", name, "/", version);
  const std::string context = ReadContext(name);
  std::optional<SecretBundle> bundle;
  auto response = Read([&] { return Request("GET", path); },
                       [&](const http::HttpResponse& answer) -> absl::Status {
                         ASSIGN_OR_RETURN(bundle, ParseBundleResponse(answer));
                         return absl::OkStatus();
                       });
  if (!response.ok()) return WithContext(response.status(), context);
  if (!response->ok()) return ErrorOf(Request("GET", path), *response);
  return *std::move(bundle);
}

std::vector<absl::StatusOr<SecretBundle>> KeyVaultClient::GetSecrets(
    const std::vector<std::string>& names) {
  std::vector<absl::StatusOr<SecretBundle>> out;
  out.reserve(names.size());
  for (size_t i = 0; i < names.size(); ++i) out.emplace_back(absl::UnknownError("not read"));
  std::vector<http::HttpRequest> requests;
  std::vector<size_t> index;
  for (size_t i = 0; i < names.size(); ++i) {
    if (absl::Status s = CheckName(names[i]); !s.ok()) {
      out[i] = s;
      continue;
    }
    requests.push_back(Request("GET", absl::StrCat("/secrets/", names[i], "/")));
    index.push_back(i);
  }
  if (requests.empty()) return out;
  std::vector<http::HttpRequest> shapes;
  for (const auto& r : requests) {
    http::HttpRequest shape;
    shape.method = r.method;
    shape.url = r.url;
    shapes.push_back(std::move(shape));
  }
  auto responses = sender_->SendAll(std::move(requests));
  for (size_t k = 0; k < responses.size(); ++k) {
    size_t i = index[k];
    if (!responses[k].ok()) {
      out[i] = Tag(responses[k].status());
    } else if (!responses[k]->ok()) {
      out[i] = ErrorOf(shapes[k], *responses[k]);
    } else {
      out[i] = ParseBundleResponse(*responses[k]);
      // An unreadable answer is read again (GetSecret retries it).
      if (!out[i].ok()) {
        Log(http::LogLevel::kInfo,
            absl::StrCat(shapes[k].method, " ", http::RedactUrl(shapes[k].url),
                         ": unreadable answer (", out[i].status().message(), "); reading again"));
        out[i] = GetSecret(names[i]);
      }
    }
  }
  return out;
}

// --- writes

absl::StatusOr<SecretVersion> KeyVaultClient::SetSecret(absl::string_view name,
                                                        const SetSecretRequest& request) {
  RETURN_IF_ERROR(CheckName(name));
  const std::string path = absl::StrCat("/secrets/", name);
  const Secret body = SetSecretBody(request);
  const std::string what = absl::StrCat("writing secret ", name);
  std::function<http::HttpRequest()> make = [&] {
    http::HttpRequest r = Request("PUT", path);
    r.headers.emplace_back("Content-Type", "application/json");
    r.body = body.Clone();
    return r;
  };
  std::function<absl::StatusOr<SecretVersion>(const http::HttpResponse&)> parse =
      [&](const http::HttpResponse& response) -> absl::StatusOr<SecretVersion> {
    ASSIGN_OR_RETURN(ParsedBundle parsed, ParseSecretBundle(response.body));
    Normalize(parsed.meta);
    return std::move(parsed.meta);
  };
  // Did an unanswered PUT land? The latest version holds exactly this value,
  // content type and tags.
  std::function<absl::StatusOr<std::optional<SecretVersion>>()> landed =
      [&]() -> absl::StatusOr<std::optional<SecretVersion>> {
    std::optional<ParsedBundle> read;
    auto response = Read([&] { return Request("GET", absl::StrCat(path, "/")); },
                         [&](const http::HttpResponse& answer) -> absl::Status {
                           ASSIGN_OR_RETURN(read, ParseSecretBundle(answer.body));
                           return absl::OkStatus();
                         });
    if (!response.ok()) return response.status();
    if (response->status == 404) return std::optional<SecretVersion>();
    if (!response->ok()) {
      http::HttpRequest shape = Request("GET", absl::StrCat(path, "/"));
      absl::Status error = ErrorOf(shape, *response);
      if (VaultErrorCode(error) == kSecretDisabled) return std::optional<SecretVersion>();
      return error;
    }
    ParsedBundle& latest = *read;
    const bool same = latest.has_value && latest.value.Equals(request.value) &&
                      latest.meta.content_type == request.content_type &&
                      TagsInclude(latest.meta.tags, request.tags);
    if (!same) return std::optional<SecretVersion>();
    Normalize(latest.meta);
    return std::optional<SecretVersion>(std::move(latest.meta));
  };
  return Write<SecretVersion>(what, make, parse, landed);
}

std::vector<absl::StatusOr<SecretVersion>> KeyVaultClient::SetSecrets(
    const std::vector<std::pair<std::string, const SetSecretRequest*>>& writes) {
  std::vector<absl::StatusOr<SecretVersion>> out(writes.size(), absl::UnknownError(""));
  ParallelFor(writes.size(),
              [&](size_t i) { out[i] = SetSecret(writes[i].first, *writes[i].second); });
  return out;
}

absl::StatusOr<SecretVersion> KeyVaultClient::SetVersionEnabled(absl::string_view name,
                                                                absl::string_view version,
                                                                bool enabled) {
  RETURN_IF_ERROR(CheckName(name));
  if (version.empty() || !IsHex32OrEmpty(version)) {
    return absl::InvalidArgumentError(absl::StrCat("\"", version, "\" is not a secret version"));
  }
  auto make = [&] {
    http::HttpRequest r = Request("PATCH", absl::StrCat("/secrets/", name, "/", version));
    r.headers.emplace_back("Content-Type", "application/json");
    r.body = Secret(UpdateEnabledBody(enabled));
    // Setting an attribute to a value twice is harmless: an unreadable
    // answer is settled by sending it again.
    r.idempotent = true;
    return r;
  };
  std::optional<ParsedBundle> parsed;
  auto response = Read(make, [&](const http::HttpResponse& answer) -> absl::Status {
    ASSIGN_OR_RETURN(parsed, ParseSecretBundle(answer.body));
    return absl::OkStatus();
  });
  if (!response.ok()) return response.status();
  if (!response->ok()) return ErrorOf(make(), *response);
  Normalize(parsed->meta);
  return std::move(parsed->meta);
}

absl::StatusOr<DeletedSecret> KeyVaultClient::DeleteSecret(absl::string_view name) {
  RETURN_IF_ERROR(CheckName(name));
  const std::string path = absl::StrCat("/secrets/", name);
  std::function<http::HttpRequest()> make = [&] { return Request("DELETE", path); };
  std::function<absl::StatusOr<DeletedSecret>(const http::HttpResponse&)> parse =
      [&](const http::HttpResponse& response) -> absl::StatusOr<DeletedSecret> {
    ASSIGN_OR_RETURN(DeletedSecret d, ParseDeletedSecret(response.body));
    Normalize(d.latest);
    return d;
  };
  std::function<absl::StatusOr<std::optional<DeletedSecret>>()> landed =
      [&]() -> absl::StatusOr<std::optional<DeletedSecret>> {
    std::optional<SecretListPage> page;
    auto live = Read([&] { return Request("GET", absl::StrCat(path, "/versions")); },
                     [&](const http::HttpResponse& answer) -> absl::Status {
                       ASSIGN_OR_RETURN(page, ParseSecretList(answer.body));
                       return absl::OkStatus();
                     });
    if (!live.ok()) return live.status();
    if (live->status != 404) {
      if (!live->ok()) return ErrorOf(Request("GET", path), *live);
      if (!page->items.empty() || !page->next_link.empty()) return std::optional<DeletedSecret>();
    }
    // Gone: read what the soft delete kept, if the vault has it.
    std::optional<DeletedSecret> kept;
    auto deleted = Read([&] { return Request("GET", absl::StrCat("/deletedsecrets/", name)); },
                        [&](const http::HttpResponse& answer) -> absl::Status {
                          ASSIGN_OR_RETURN(kept, ParseDeletedSecret(answer.body));
                          return absl::OkStatus();
                        });
    if (deleted.ok() && deleted->ok()) {
      Normalize(kept->latest);
      return std::optional<DeletedSecret>(*std::move(kept));
    }
    DeletedSecret d;
    d.latest.name = std::string(name);
    return std::optional<DeletedSecret>(std::move(d));
  };
  return Write<DeletedSecret>(absl::StrCat("deleting secret ", name), make, parse, landed);
}

absl::StatusOr<DeletedSecret> KeyVaultClient::GetDeletedSecret(absl::string_view name) {
  RETURN_IF_ERROR(CheckName(name));
  const std::string path = absl::StrCat("/deletedsecrets/", name);
  std::optional<DeletedSecret> d;
  ASSIGN_OR_RETURN(http::HttpResponse response,
                   Read([&] { return Request("GET", path); },
                        [&](const http::HttpResponse& answer) -> absl::Status {
                          ASSIGN_OR_RETURN(d, ParseDeletedSecret(answer.body));
                          return absl::OkStatus();
                        }));
  if (!response.ok()) return ErrorOf(Request("GET", path), response);
  Normalize(d->latest);
  return *std::move(d);
}

absl::StatusOr<SecretVersion> KeyVaultClient::RecoverDeletedSecret(absl::string_view name) {
  RETURN_IF_ERROR(CheckName(name));
  const std::string path = absl::StrCat("/deletedsecrets/", name);
  std::function<http::HttpRequest()> make = [&] {
    http::HttpRequest r = Request("POST", absl::StrCat(path, "/recover"));
    return r;
  };
  std::function<absl::StatusOr<SecretVersion>(const http::HttpResponse&)> parse =
      [&](const http::HttpResponse& response) -> absl::StatusOr<SecretVersion> {
    ASSIGN_OR_RETURN(ParsedBundle parsed, ParseSecretBundle(response.body));
    Normalize(parsed.meta);
    return std::move(parsed.meta);
  };
  std::function<absl::StatusOr<std::optional<SecretVersion>>()> landed =
      [&]() -> absl::StatusOr<std::optional<SecretVersion>> {
    auto deleted = Send(Request("GET", path));
    if (!deleted.ok()) return deleted.status();
    if (deleted->status != 404) {
      if (!deleted->ok()) return ErrorOf(Request("GET", path), *deleted);
      return std::optional<SecretVersion>();  // still deleted
    }
    // No longer deleted: recovered (Key Vault may take a moment to serve it).
    for (int i = 0; i < 10; ++i) {
      auto versions = ListSecretVersions(name);
      if (versions.ok()) {
        const SecretVersion* latest = &versions->front();
        for (const auto& v : *versions) {
          if (v.created > latest->created) latest = &v;
        }
        return std::optional<SecretVersion>(*latest);
      }
      if (versions.status().code() != absl::StatusCode::kNotFound) return versions.status();
      Sleep(absl::Seconds(1));
    }
    return absl::NotFoundError(
        absl::StrCat("secret ", name, " left the deleted secrets but is not readable"));
  };
  return Write<SecretVersion>(absl::StrCat("recovering secret ", name), make, parse, landed);
}

absl::Status KeyVaultClient::PurgeDeletedSecret(absl::string_view name) {
  RETURN_IF_ERROR(CheckName(name));
  const std::string path = absl::StrCat("/deletedsecrets/", name);
  std::function<http::HttpRequest()> make = [&] { return Request("DELETE", path); };
  std::function<absl::StatusOr<bool>(const http::HttpResponse&)> parse =
      [](const http::HttpResponse&) -> absl::StatusOr<bool> { return true; };
  std::function<absl::StatusOr<std::optional<bool>>()> landed =
      [&]() -> absl::StatusOr<std::optional<bool>> {
    auto deleted = Send(Request("GET", path));
    if (!deleted.ok()) return deleted.status();
    if (deleted->status == 404) return std::optional<bool>(true);
    if (!deleted->ok()) return ErrorOf(Request("GET", path), *deleted);
    return std::optional<bool>();
  };
  return Write<bool>(absl::StrCat("purging deleted secret ", name), make, parse, landed).status();
}

}  // namespace rotor::keyvault
