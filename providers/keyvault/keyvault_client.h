// KeyVaultClient: the engine's Vault over Key Vault's secrets data plane
// (docs/azure-contracts.md §1), at the profile's api-version (2016-10-01 on Azure
// Stack Hub, 7.x on Azure).
//
// Requests go through an HttpSender that adds bearer tokens (auth's
// BearerSender in challenge mode). Behaviour beyond the Vault contract:
//  - Lists follow every nextLink verbatim (absolute, its own api-version,
//    empty pages included) but only on the vault's own origin: a nextLink
//    to another host is refused rather than sent a token.
//  - ListSecrets is one request per page of 25: Key Vault's list carries no
//    version ids, so the listed SecretVersions have an empty `version` and
//    an unversioned `id` (as engine/model/vault.h allows); GetSecret gives the
//    exact version of a secret.
//  - GetSecrets and SetSecrets run concurrently (`parallelism` at once; the
//    HTTP client paces and retries underneath).
//  - Writes that are not idempotent (SetSecret's PUT, delete, recover,
//    purge) are never retried blindly: after a transport failure, 408 or
//    5xx the client first reads whether the write landed (for SetSecret:
//    the latest version's value, compared in constant time, content type
//    and tags) and only sends again if it did not, so a retry never writes a
//    version twice. A 429 is retried after Retry-After, or 1, 2, 4, 8, 16 s.
//  - A read whose 2xx answer cannot be read (truncated or garbled JSON, a
//    known field of the wrong type) is sent again (http::SendCheckedRead);
//    after max_read_attempts the error names the field and the URL. A
//    write's unreadable answer is an unknown outcome, settled by reading
//    back (http::SendCheckedWrite). An answer larger than
//    kMaxKeyVaultAnswerBytes fails the request.
//  - Errors: HTTP statuses map as http::HttpErrorToStatus says, and carry
//    the service's code as VaultErrorCode (innererror.code first):
//    SecretNotFound -> NotFound, SecretDisabled -> PermissionDenied,
//    ObjectIsDeletedButRecoverable / ObjectIsBeingRecovered ->
//    FailedPrecondition, Throttled -> Unavailable.
#ifndef ROTOR_PROVIDERS_KEYVAULT_KEYVAULT_CLIENT_H_
#define ROTOR_PROVIDERS_KEYVAULT_KEYVAULT_CLIENT_H_

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "base/clock.h"
#include "engine/model/vault.h"
#include "providers/http/http_client.h"

namespace rotor::keyvault {

// The most a Key Vault answer may hold. A secret value is at most 25 KB,
// and a list page at most 25 items (the secrets list's maxresults) of an id
// and at most 15 tags of 512 + 256 characters each: under 2 MB even with
// every character \u-escaped. 4 MiB leaves room; a larger answer is not
// Key Vault's.
inline constexpr size_t kMaxKeyVaultAnswerBytes = 4 << 20;

struct KeyVaultOptions {
  std::string name;         // vault name
  std::string base_url;     // "https://newregkv.vault.local.azurestack.external"
  std::string resource_id;  // ARM id of the vault, for VaultInfo
  std::string api_version = "2016-10-01";
  // Concurrent operations in GetSecrets / SetSecrets.
  int parallelism = 16;
  // Attempts of a non-idempotent write (the first included).
  int max_write_attempts = 6;
  // Sends of a read whose answer cannot be read (the first included).
  int max_read_attempts = 4;
  // First wait after a 429 without Retry-After (doubles: 1, 2, 4, 8, 16 s)
  // and after a failed write (exponential, jittered).
  absl::Duration backoff = absl::Seconds(1);
  absl::Duration max_backoff = absl::Seconds(30);
  // Multiplies every wait (tests use 0.001).
  double time_scale = 1.0;
  // Bounds on list paging (a loop guard).
  int max_pages = 10000;
  const Clock* clock = nullptr;
  http::LogSink log;
};

class KeyVaultClient : public Vault {
 public:
  // InvalidArgument when base_url is not an https:// origin.
  static absl::StatusOr<std::unique_ptr<KeyVaultClient>> Create(
      std::shared_ptr<http::HttpSender> sender, KeyVaultOptions options);

  const VaultInfo& info() const override { return info_; }
  absl::StatusOr<std::vector<SecretVersion>> ListSecrets() override;
  absl::StatusOr<std::vector<SecretVersion>> ListSecretVersions(absl::string_view name) override;
  absl::StatusOr<SecretBundle> GetSecret(absl::string_view name,
                                         absl::string_view version = "") override;
  std::vector<absl::StatusOr<SecretBundle>> GetSecrets(
      const std::vector<std::string>& names) override;
  absl::StatusOr<SecretVersion> SetSecret(absl::string_view name,
                                          const SetSecretRequest& request) override;
  std::vector<absl::StatusOr<SecretVersion>> SetSecrets(
      const std::vector<std::pair<std::string, const SetSecretRequest*>>& writes) override;
  absl::StatusOr<SecretVersion> SetVersionEnabled(absl::string_view name, absl::string_view version,
                                                  bool enabled) override;
  absl::StatusOr<DeletedSecret> DeleteSecret(absl::string_view name) override;
  absl::StatusOr<std::vector<DeletedSecret>> ListDeletedSecrets() override;
  // Beyond the Vault interface: one soft-deleted secret (GET
  // /deletedsecrets/{name}); NotFound when it is not deleted.
  absl::StatusOr<DeletedSecret> GetDeletedSecret(absl::string_view name);
  absl::StatusOr<SecretVersion> RecoverDeletedSecret(absl::string_view name) override;
  absl::Status PurgeDeletedSecret(absl::string_view name) override;

  struct Stats {
    int64_t write_checks = 0;  // reads made to see whether a write landed
    int64_t landed_without_answer = 0;
    int64_t write_retries = 0;
    int64_t throttled = 0;
  };
  Stats stats() const;

 private:
  KeyVaultClient(std::shared_ptr<http::HttpSender> sender, KeyVaultOptions options);

  std::string Url(absl::string_view path) const;
  http::HttpRequest Request(absl::string_view method, absl::string_view path) const;
  absl::StatusOr<http::HttpResponse> Send(http::HttpRequest request);
  // The response of a request, or its error as a tagged status.
  absl::StatusOr<http::HttpResponse> SendOk(http::HttpRequest request);
  // Follows a list from `url` to its end: `consume` takes each page's body
  // and returns the page's nextLink ("" at the end). `what` names the list
  // in errors.
  absl::Status ForEachPage(
      std::string url, const std::string& what,
      const std::function<absl::StatusOr<std::string>(const std::string&)>& consume);
  std::string NormalizeId(const std::string& id) const;
  void Normalize(SecretVersion& meta) const;
  absl::StatusOr<SecretBundle> ParseBundleResponse(const http::HttpResponse& response);
  // A read (http::SendCheckedRead): make() is sent until `accept` takes its
  // 2xx answer. A non-2xx answer is returned as it is; a transport error
  // is tagged.
  absl::StatusOr<http::HttpResponse> Read(
      const std::function<http::HttpRequest()>& make,
      const std::function<absl::Status(const http::HttpResponse&)>& accept);

  // Sends a write that must not be repeated blindly (see the header
  // comment): `make` builds each attempt, `parse` reads a 2xx answer, and
  // `landed` reports whether an unanswered attempt took effect (a value
  // when it did, nullopt when it did not). Defined in the .cc only.
  template <typename T>
  absl::StatusOr<T> Write(const std::string& what, const std::function<http::HttpRequest()>& make,
                          const std::function<absl::StatusOr<T>(const http::HttpResponse&)>& parse,
                          const std::function<absl::StatusOr<std::optional<T>>()>& landed);
  void Sleep(absl::Duration d) const;
  void Log(http::LogLevel level, const std::string& line) const;
  // Runs fn(0..n-1) on up to `parallelism` threads.
  void ParallelFor(size_t n, const std::function<void(size_t)>& fn) const;

  std::shared_ptr<http::HttpSender> sender_;
  KeyVaultOptions options_;
  VaultInfo info_;
  mutable std::mutex stats_mu_;
  Stats stats_;
};

// Whether a secret name can go into a URL path (1-127 of 0-9 a-z A-Z -).
bool IsValidSecretName(absl::string_view name);

}  // namespace rotor::keyvault

#endif  // ROTOR_PROVIDERS_KEYVAULT_KEYVAULT_CLIENT_H_
