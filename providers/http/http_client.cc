#include "providers/http/http_client.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <thread>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "base/files.h"
#include "base/loopback.h"
#include "base/status_macros.h"
#include "providers/http/url.h"

#ifndef ROTOR_VERSION
#define ROTOR_VERSION "0.0.0"
#endif

namespace rotor::http {

std::string DefaultUserAgent() { return "rotor/" ROTOR_VERSION; }

absl::string_view LogLevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarning:
      return "warning";
    case LogLevel::kError:
      return "error";
  }
  return "?";
}

namespace {

absl::Duration MonoNow() {
  return absl::FromChrono(std::chrono::steady_clock::now().time_since_epoch());
}

// Frees a curl header list after wiping it: it holds Authorization values.
void FreeHeaderList(curl_slist* list) {
  for (curl_slist* item = list; item != nullptr; item = item->next) {
    if (item->data != nullptr) OPENSSL_cleanse(item->data, strlen(item->data));
  }
  curl_slist_free_all(list);
}

absl::Status InitCurlOnce() {
  static const absl::Status* status = [] {
    CURLcode code = curl_global_init(CURL_GLOBAL_DEFAULT);
    return code == CURLE_OK ? new absl::Status()
                            : new absl::Status(absl::InternalError(absl::StrCat(
                                  "libcurl initialisation failed: ", curl_easy_strerror(code))));
  }();
  return *status;
}

std::string ShowDuration(absl::Duration d) {
  if (d < absl::Seconds(1)) {
    return absl::StrFormat("%d ms", absl::ToInt64Milliseconds(d));
  }
  return absl::StrFormat("%.1f s", absl::ToDoubleSeconds(d));
}

bool IsReadMethod(absl::string_view method) { return method == "GET" || method == "HEAD"; }

struct UrlParts {
  std::string scheme;
  std::string host;
  std::string port;
};

absl::StatusOr<UrlParts> ParseUrl(const std::string& url, absl::string_view what) {
  CURLU* handle = curl_url();
  if (handle == nullptr) return absl::ResourceExhaustedError("curl_url");
  UrlParts parts;
  CURLUcode code = curl_url_set(handle, CURLUPART_URL, url.c_str(), 0);
  auto get = [&](CURLUPart part, std::string& out, unsigned flags) {
    char* value = nullptr;
    CURLUcode c = curl_url_get(handle, part, &value, flags);
    if (c == CURLUE_OK) out = value;
    curl_free(value);
    return c;
  };
  if (code == CURLUE_OK) code = get(CURLUPART_SCHEME, parts.scheme, 0);
  if (code == CURLUE_OK) code = get(CURLUPART_HOST, parts.host, 0);
  if (code == CURLUE_OK) code = get(CURLUPART_PORT, parts.port, CURLU_DEFAULT_PORT);
  curl_url_cleanup(handle);
  if (code != CURLUE_OK) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": not a valid absolute URL (", curl_url_strerror(code), ")"));
  }
  parts.scheme = absl::AsciiStrToLower(parts.scheme);
  parts.host = absl::AsciiStrToLower(parts.host);
  return parts;
}

bool IsDirectory(const char* path) {
  struct stat st;
  return ::stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

bool HasLineBreak(absl::string_view s) {
  return s.find_first_of("\r\n") != absl::string_view::npos;
}

bool IsRetryableCurlCode(CURLcode code) {
  switch (code) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
      return true;
    default:
      return false;
  }
}

// Loads every certificate of a PEM text.
absl::StatusOr<std::vector<X509*>> ParseCertificates(absl::string_view pem,
                                                     absl::string_view origin) {
  std::vector<X509*> certs;
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  if (bio == nullptr) return absl::ResourceExhaustedError("BIO_new_mem_buf");
  while (X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr)) {
    certs.push_back(cert);
  }
  ERR_clear_error();  // the loop ends with "no start line"
  BIO_free(bio);
  if (certs.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(origin, ": no PEM certificate found"));
  }
  return certs;
}

}  // namespace

// ---------------------------------------------------------------------------

class HttpClient::Impl {
 public:
  explicit Impl(HttpClientOptions options);
  ~Impl();
  absl::Status Init();

  std::vector<absl::StatusOr<HttpResponse>> SendAll(std::vector<HttpRequest> requests);
  Stats stats() const {
    Stats s;
    s.attempts = attempts_.load();
    s.retries = retries_.load();
    s.throttled = throttled_.load();
    s.transport_errors = transport_errors_.load();
    return s;
  }

 private:
  // The caller's side of a SendAll: results filled by the I/O thread.
  struct Batch {
    std::mutex mu;
    std::condition_variable done;
    size_t remaining = 0;
    std::vector<absl::StatusOr<HttpResponse>> results;
  };

  struct Lane {
    explicit Lane(const RatePolicy& policy) : rate(policy) {}
    RateController rate;
    uint64_t denied_in_pass = 0;
    double logged_rate = 0;
  };

  struct Job {
    HttpRequest request;
    std::string redacted_url;
    std::string lane_key;
    Lane* lane = nullptr;
    uint64_t seq = 0;
    // A member of a SendAll of several requests: it waits behind every
    // request sent alone (see Enqueue).
    bool bulk = false;
    Batch* batch = nullptr;
    size_t index = 0;
    int attempts = 0;
    absl::Duration ready_at;
    // The attempt in flight.
    CURL* easy = nullptr;
    curl_slist* header_list = nullptr;
    bool probe = false;
    absl::Duration started;
    HttpHeaders response_headers;
    std::string response_body;
    std::vector<std::string> peer_certificates_pem;
    bool too_large = false;
    size_t max_body = 0;
    char error[CURL_ERROR_SIZE] = {};

    ~Job() { WipeString(response_body); }
  };

  static size_t OnHeader(char* data, size_t size, size_t count, void* user);
  static size_t OnBody(char* data, size_t size, size_t count, void* user);
  static CURLcode OnSslContext(CURL* easy, void* ssl_ctx, void* user);

  absl::Status Validate(const HttpRequest& request, UrlParts* parts) const;
  void Run();
  void TakeIncoming();
  absl::Duration StartReady(absl::Duration now);
  absl::Status StartAttempt(Job& job, absl::Duration now, bool probe);
  void OnDone(CURL* easy, CURLcode code);
  void OnTransportFailure(std::unique_ptr<Job> job, CURLcode code, long verify_result,
                          absl::Duration now);
  void OnResponse(std::unique_ptr<Job> job, int status, absl::Duration now);
  void Retry(std::unique_ptr<Job> job, absl::Duration now, int status,
             std::optional<absl::Duration> server_delay,
             const std::function<absl::Status(absl::string_view)>& error);
  void Finish(std::unique_ptr<Job> job, absl::StatusOr<HttpResponse> result);
  void Enqueue(std::unique_ptr<Job> job);
  void CancelAll();
  absl::Status TransportError(const Job& job, CURLcode code, long verify_result) const;
  Lane* LaneFor(const std::string& key);
  void ReadProxyEnvironment();
  void Log(LogLevel level, absl::string_view message) const {
    if (options_.log) options_.log(level, message);
  }
  void LogRequest(const Job& job) const;

  HttpClientOptions options_;
  const Clock* clock_;
  std::string user_agent_;
  std::vector<X509*> extra_trust_;
  std::string trust_pem_;          // only when !trust_system_store
  bool system_bundle_ = false;     // libcurl has a default CA bundle file
  bool system_directory_ = false;  // ... and a CA directory that exists
  // The proxy settings of the environment, read once (ReadProxyEnvironment).
  std::string https_proxy_;
  std::string http_proxy_;
  std::string no_proxy_;

  CURLM* multi_ = nullptr;
  std::thread thread_;

  std::mutex mu_;  // guards incoming_ and stopping_
  std::vector<std::unique_ptr<Job>> incoming_;
  bool stopping_ = false;
  std::atomic<uint64_t> next_seq_{0};

  // I/O thread only.
  std::vector<std::unique_ptr<Job>> waiting_;  // sorted by (bulk, seq)
  std::vector<std::unique_ptr<Job>> active_;
  std::map<std::string, std::unique_ptr<Lane>> lanes_;
  uint64_t pass_ = 0;
  std::mt19937_64 rng_;
  RetryBudget budget_;

  std::atomic<int64_t> attempts_{0}, retries_{0}, throttled_{0}, transport_errors_{0};
};

HttpClient::Impl::Impl(HttpClientOptions options)
    : options_(std::move(options)),
      clock_(options_.clock != nullptr ? options_.clock : &RealClock::Get()),
      user_agent_(options_.user_agent.empty() ? DefaultUserAgent() : options_.user_agent),
      rng_(options_.random_seed != 0 ? options_.random_seed : std::random_device()()),
      budget_(options_.retry.budget, options_.retry.budget_refill) {
  if (options_.parallelism < 1) options_.parallelism = 1;
  if (options_.retry.max_attempts < 1) options_.retry.max_attempts = 1;
  // Throttle pauses are scheduled waits like backoffs: scale them too.
  options_.rate.probe_interval *= options_.time_scale;
}

absl::Status HttpClient::Impl::Init() {
  RETURN_IF_ERROR(InitCurlOnce());
  std::string pem;
  if (!options_.ca_bundle_path.empty()) {
    absl::StatusOr<std::string> file = ReadFile(options_.ca_bundle_path);
    if (!file.ok()) {
      return absl::Status(file.status().code(),
                          absl::StrCat("CA bundle: ", file.status().message()));
    }
    ASSIGN_OR_RETURN(std::vector<X509*> certs, ParseCertificates(*file, options_.ca_bundle_path));
    extra_trust_.insert(extra_trust_.end(), certs.begin(), certs.end());
    absl::StrAppend(&pem, *file, "\n");
  }
  if (!options_.ca_bundle_pem.empty()) {
    ASSIGN_OR_RETURN(std::vector<X509*> certs,
                     ParseCertificates(options_.ca_bundle_pem, "ca_bundle_pem"));
    extra_trust_.insert(extra_trust_.end(), certs.begin(), certs.end());
    absl::StrAppend(&pem, options_.ca_bundle_pem, "\n");
  }
  if (!options_.trust_system_store) {
    if (pem.empty()) {
      return absl::InvalidArgumentError(
          "trust_system_store is false but no CA bundle is configured: no "
          "server could be trusted");
    }
    trust_pem_ = std::move(pem);
  }
  const curl_version_info_data* info = curl_version_info(CURLVERSION_NOW);
  system_bundle_ = info != nullptr && info->cainfo != nullptr;
  system_directory_ = info != nullptr && info->capath != nullptr && IsDirectory(info->capath);
  ReadProxyEnvironment();
  multi_ = curl_multi_init();
  if (multi_ == nullptr) return absl::InternalError("curl_multi_init failed");
  // Keep an idle connection per possible concurrent transfer.
  curl_multi_setopt(multi_, CURLMOPT_MAXCONNECTS, static_cast<long>(options_.parallelism + 4));
  thread_ = std::thread([this] { Run(); });
  return absl::OkStatus();
}

// libcurl reads the proxy variables itself on every transfer it is not
// given a proxy for (six getenv calls, each a scan of the whole environment:
// with thousands of variables, as a config with one { env = ... } password
// per user has, that is most of the I/O thread's time). They are read once
// here with libcurl's rules and passed to each transfer: no_proxy or
// NO_PROXY; for https, https_proxy then HTTPS_PROXY; for http, http_proxy
// only (never HTTP_PROXY, which CGI programs can be fed); then all_proxy,
// ALL_PROXY.
void HttpClient::Impl::ReadProxyEnvironment() {
  auto get = [](std::initializer_list<const char*> names) -> std::string {
    for (const char* name : names) {
      if (const char* value = std::getenv(name)) return value;
    }
    return "";
  };
  no_proxy_ = get({"no_proxy", "NO_PROXY"});
  https_proxy_ = get({"https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"});
  http_proxy_ = get({"http_proxy", "all_proxy", "ALL_PROXY"});
}

HttpClient::Impl::~Impl() {
  if (thread_.joinable()) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
    }
    curl_multi_wakeup(multi_);
    thread_.join();
  }
  if (multi_ != nullptr) curl_multi_cleanup(multi_);
  for (X509* cert : extra_trust_) X509_free(cert);
}

absl::Status HttpClient::Impl::Validate(const HttpRequest& request, UrlParts* parts) const {
  std::string what = absl::StrCat(request.method.empty() ? "(no method)" : request.method, " ",
                                  RedactUrl(request.url));
  if (request.method.empty() ||
      request.method.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ") != std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": the method must be upper-case letters"));
  }
  ASSIGN_OR_RETURN(*parts, ParseUrl(request.url, what));
  const bool instance_metadata =
      options_.allow_instance_metadata && parts->host == "169.254.169.254";
  if (parts->scheme == "http") {
    if (instance_metadata) {
      // IMDS: plain http on its link-local address, by design.
    } else if (!IsLoopbackHost(parts->host)) {
      return absl::InvalidArgumentError(
          absl::StrCat(what,
                       ": plain http:// is refused; use https:// (http is accepted "
                       "only for a loopback host with allow_insecure_loopback)"));
    } else if (!options_.allow_insecure_loopback) {
      return absl::InvalidArgumentError(
          absl::StrCat(what,
                       ": plain http:// is refused; use https:// (for a loopback "
                       "test server set allow_insecure_loopback)"));
    }
  } else if (parts->scheme != "https") {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": unsupported scheme '", parts->scheme, "', only https:// is allowed"));
  }
  for (const auto& [name, value] : request.headers) {
    if (name.empty() || HasLineBreak(name) || HasLineBreak(value) ||
        name.find(':') != std::string::npos) {
      return absl::InvalidArgumentError(absl::StrCat(what, ": invalid header name or value ('",
                                                     HasLineBreak(name) ? "(line break)" : name,
                                                     "')"));
    }
  }
  return absl::OkStatus();
}

std::vector<absl::StatusOr<HttpResponse>> HttpClient::Impl::SendAll(
    std::vector<HttpRequest> requests) {
  Batch batch;
  batch.results.reserve(requests.size());
  for (size_t i = 0; i < requests.size(); ++i) {
    batch.results.emplace_back(absl::UnknownError("not run"));
  }
  std::vector<std::unique_ptr<Job>> jobs;
  for (size_t i = 0; i < requests.size(); ++i) {
    UrlParts parts;
    absl::Status valid = Validate(requests[i], &parts);
    if (!valid.ok()) {
      batch.results[i] = valid;
      continue;
    }
    auto job = std::make_unique<Job>();
    job->redacted_url = RedactUrl(requests[i].url);
    job->lane_key = absl::StrCat(parts.host, ":", parts.port,
                                 IsReadMethod(requests[i].method) ? " reads" : " writes");
    job->request = std::move(requests[i]);
    job->batch = &batch;
    job->bulk = requests.size() > 1;
    job->index = i;
    job->max_body = options_.max_response_bytes;
    jobs.push_back(std::move(job));
  }
  if (jobs.empty()) return std::move(batch.results);
  batch.remaining = jobs.size();
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& job : jobs) {
      job->seq = next_seq_++;
      incoming_.push_back(std::move(job));
    }
  }
  curl_multi_wakeup(multi_);
  std::unique_lock<std::mutex> lock(batch.mu);
  batch.done.wait(lock, [&] { return batch.remaining == 0; });
  return std::move(batch.results);
}

// --- I/O thread ------------------------------------------------------------

void HttpClient::Impl::Run() {
  while (true) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) break;
    }
    TakeIncoming();
    absl::Duration now = MonoNow();
    absl::Duration next_timer = StartReady(now);
    int running = 0;
    curl_multi_perform(multi_, &running);
    bool progressed = false;
    int queued = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi_, &queued)) {
      if (msg->msg == CURLMSG_DONE) {
        OnDone(msg->easy_handle, msg->data.result);
        progressed = true;
      }
    }
    if (progressed) continue;  // start what the finished ones made room for
    int timeout_ms = 1000;
    if (next_timer != absl::InfiniteDuration()) {
      absl::Duration wait = next_timer - MonoNow();
      timeout_ms = static_cast<int>(std::clamp<int64_t>(
          absl::ToInt64Milliseconds(absl::Ceil(wait, absl::Milliseconds(1))), 0, 1000));
    }
    curl_multi_poll(multi_, nullptr, 0, timeout_ms, nullptr);
  }
  CancelAll();
}

void HttpClient::Impl::TakeIncoming() {
  std::vector<std::unique_ptr<Job>> incoming;
  {
    std::lock_guard<std::mutex> lock(mu_);
    incoming.swap(incoming_);
  }
  for (auto& job : incoming) {
    job->lane = LaneFor(job->lane_key);
    job->ready_at = absl::ZeroDuration();
    Enqueue(std::move(job));
  }
}

HttpClient::Impl::Lane* HttpClient::Impl::LaneFor(const std::string& key) {
  auto& lane = lanes_[key];
  if (lane == nullptr) lane = std::make_unique<Lane>(options_.rate);
  return lane.get();
}

// Requests start in order of arrival, except that one sent alone goes ahead
// of the queued members of a bulk SendAll: a lone request is usually a link
// of a chain (the next page of a list, a token, a deployment's status) that
// would otherwise wait for the whole batch, e.g. a list of 40 pages behind
// 1000 reads, while the batch only gives up the slots those few requests use.
void HttpClient::Impl::Enqueue(std::unique_ptr<Job> job) {
  auto it = std::lower_bound(waiting_.begin(), waiting_.end(), job.get(),
                             [](const std::unique_ptr<Job>& j, const Job* key) {
                               return std::make_pair(j->bulk, j->seq) <
                                      std::make_pair(key->bulk, key->seq);
                             });
  waiting_.insert(it, std::move(job));
}

absl::Duration HttpClient::Impl::StartReady(absl::Duration now) {
  absl::Duration next = absl::InfiniteDuration();
  ++pass_;
  for (size_t i = 0; i < waiting_.size();) {
    if (static_cast<int>(active_.size()) >= options_.parallelism) break;
    Job& job = *waiting_[i];
    if (job.ready_at > now) {
      next = std::min(next, job.ready_at);
      ++i;
      continue;
    }
    Lane* lane = job.lane;
    if (lane->denied_in_pass == pass_) {
      ++i;
      continue;
    }
    RateController::Decision d = lane->rate.TryStart(now);
    if (!d.start) {
      lane->denied_in_pass = pass_;
      next = std::min(next, d.retry_at);
      ++i;
      continue;
    }
    // A probe of a throttled host goes to a request that has not been tried
    // yet, so the probing does not use up one request's attempts.
    size_t pick = i;
    if (d.probe && job.attempts > 0) {
      for (size_t k = i + 1; k < waiting_.size(); ++k) {
        const Job& other = *waiting_[k];
        if (other.lane == lane && other.attempts == 0 && other.ready_at <= now) {
          pick = k;
          break;
        }
      }
    }
    std::unique_ptr<Job> picked = std::move(waiting_[pick]);
    waiting_.erase(waiting_.begin() + static_cast<ptrdiff_t>(pick));
    absl::Status started = StartAttempt(*picked, now, d.probe);
    if (!started.ok()) {
      Finish(std::move(picked), started);
      continue;
    }
    active_.push_back(std::move(picked));
  }
  return next;
}

absl::Status HttpClient::Impl::StartAttempt(Job& job, absl::Duration now, bool probe) {
  CURL* easy = curl_easy_init();
  if (easy == nullptr) return absl::ResourceExhaustedError("curl_easy_init");
  const HttpRequest& req = job.request;
  job.response_headers.clear();
  WipeString(job.response_body);
  job.too_large = false;
  job.error[0] = '\0';

  CURLcode rc = CURLE_OK;
  auto set = [&](CURLoption option, auto value) {
    if (rc == CURLE_OK) rc = curl_easy_setopt(easy, option, value);
  };
  set(CURLOPT_URL, req.url.c_str());
  set(CURLOPT_PRIVATE, static_cast<void*>(&job));
  set(CURLOPT_NOSIGNAL, 1L);
  set(CURLOPT_ERRORBUFFER, job.error);
  set(CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_1_1));
  set(CURLOPT_PROTOCOLS_STR, "http,https");
  // The environment's proxy (ReadProxyEnvironment); "" means none.
  const bool https = absl::StartsWithIgnoreCase(req.url, "https:");
  set(CURLOPT_PROXY, (https ? https_proxy_ : http_proxy_).c_str());
  set(CURLOPT_NOPROXY, no_proxy_.c_str());
  set(CURLOPT_FOLLOWLOCATION, 0L);
  set(CURLOPT_SSL_VERIFYPEER, 1L);
  set(CURLOPT_SSL_VERIFYHOST, 2L);
  set(CURLOPT_USERAGENT, user_agent_.c_str());
  set(CURLOPT_CONNECTTIMEOUT_MS,
      static_cast<long>(absl::ToInt64Milliseconds(options_.connect_timeout)));
  set(CURLOPT_TIMEOUT_MS, static_cast<long>(absl::ToInt64Milliseconds(options_.request_timeout)));
  set(CURLOPT_HEADERFUNCTION, &Impl::OnHeader);
  set(CURLOPT_HEADERDATA, static_cast<void*>(&job));
  set(CURLOPT_WRITEFUNCTION, &Impl::OnBody);
  set(CURLOPT_WRITEDATA, static_cast<void*>(&job));
  if (!trust_pem_.empty()) {
    // Only the configured CAs: replace the default bundle and directory.
    curl_blob blob{trust_pem_.data(), trust_pem_.size(), CURL_BLOB_NOCOPY};
    set(CURLOPT_CAINFO_BLOB, &blob);
    set(CURLOPT_CAPATH, static_cast<char*>(nullptr));
  } else {
    // The system store. When libcurl has a CA directory (Debian's:
    // /etc/ssl/certs, hashed links to the same certificates as its bundle
    // file) it alone is used: OpenSSL then loads an issuer from it only when
    // a chain needs one, where the bundle file costs a parse of ~140
    // certificates (about 250 million instructions, tens of milliseconds on
    // the I/O thread) before the first handshake. Without a directory, the
    // bundle file, which libcurl parses once and caches in the multi handle.
    if (system_directory_) {
      set(CURLOPT_CAINFO, static_cast<char*>(nullptr));
    } else if (system_bundle_) {
      set(CURLOPT_CAPATH, static_cast<char*>(nullptr));
    }
    if (!extra_trust_.empty()) {
      // Plus the configured CAs, added to the (cached) store of each
      // connection's TLS context.
      set(CURLOPT_SSL_CTX_FUNCTION, &Impl::OnSslContext);
      set(CURLOPT_SSL_CTX_DATA, static_cast<void*>(this));
    }
  }
  // Servers close idle keep-alive connections, often after 5 s (Apache's and
  // cpp-httplib's default), and a request written into one that is closing
  // fails with a broken pipe that libcurl does not resend. Pauses of that
  // length are what throttling makes (Retry-After, the probe after a 429),
  // so a connection idle for 4 s is not reused: otherwise the probe that
  // ends a pause fails, the lane waits another probe interval, and every
  // slot's first request after it fails too.
  set(CURLOPT_MAXAGE_CONN, 4L);
  // libcurl resends a request on its own when a reused connection turns out
  // to be closed; a non-idempotent request must never be sent twice.
  if (!req.idempotent) set(CURLOPT_FRESH_CONNECT, 1L);
  if (req.capture_peer_certificates) {
    set(CURLOPT_CERTINFO, 1L);
    set(CURLOPT_FRESH_CONNECT, 1L);
  }

  bool has_body =
      !req.body.empty() || req.method == "POST" || req.method == "PUT" || req.method == "PATCH";
  if (req.method == "GET" && !has_body) {
    set(CURLOPT_HTTPGET, 1L);
  } else if (req.method == "HEAD") {
    set(CURLOPT_NOBODY, 1L);
  } else {
    set(CURLOPT_CUSTOMREQUEST, req.method.c_str());
  }
  if (has_body) {
    // No copy: the body stays in the request's Secret until the job ends.
    set(CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
    set(CURLOPT_POSTFIELDS, req.body.Reveal().data());
  }
  curl_slist* list = nullptr;
  bool has_content_type = false;
  for (const auto& [name, value] : req.headers) {
    if (absl::EqualsIgnoreCase(name, "Content-Type")) has_content_type = true;
    std::string line = value.empty() ? absl::StrCat(name, ";") : absl::StrCat(name, ": ", value);
    list = curl_slist_append(list, line.c_str());
    WipeString(line);
  }
  // No form content type unless asked for, and no 100-continue round trip.
  if (has_body && !has_content_type) list = curl_slist_append(list, "Content-Type:");
  list = curl_slist_append(list, "Expect:");
  job.header_list = list;
  set(CURLOPT_HTTPHEADER, list);

  if (rc != CURLE_OK) {
    FreeHeaderList(list);
    job.header_list = nullptr;
    curl_easy_cleanup(easy);
    return absl::InternalError(
        absl::StrCat(req.method, " ", job.redacted_url,
                     ": cannot set up the transfer: ", curl_easy_strerror(rc)));
  }
  CURLMcode mc = curl_multi_add_handle(multi_, easy);
  if (mc != CURLM_OK) {
    FreeHeaderList(list);
    job.header_list = nullptr;
    curl_easy_cleanup(easy);
    return absl::InternalError(
        absl::StrCat(req.method, " ", job.redacted_url, ": ", curl_multi_strerror(mc)));
  }
  job.easy = easy;
  job.probe = probe;
  job.started = now;
  ++job.attempts;
  ++attempts_;
  job.lane->rate.OnStart(now, probe);
  LogRequest(job);
  return absl::OkStatus();
}

void HttpClient::Impl::LogRequest(const Job& job) const {
  if (!options_.log) return;
  const HttpRequest& req = job.request;
  std::vector<std::string> headers;
  for (const auto& [name, value] : req.headers) {
    headers.push_back(absl::StrCat(name, ": ", IsSensitiveName(name) ? "(redacted)" : value));
  }
  std::string line =
      absl::StrCat("> ", req.method, " ", job.redacted_url, " (attempt ", job.attempts, "/",
                   options_.retry.max_attempts, job.probe ? ", probe" : "", ")");
  if (!headers.empty()) {
    absl::StrAppend(&line, " [", absl::StrJoin(headers, ", "), "]");
  }
  if (!req.body.empty()) {
    absl::StrAppend(&line, " body: (", req.body.size(), " bytes, redacted)");
  }
  Log(LogLevel::kDebug, line);
}

size_t HttpClient::Impl::OnHeader(char* data, size_t size, size_t count, void* user) {
  Job& job = *static_cast<Job*>(user);
  size_t n = size * count;
  absl::string_view line(data, n);
  if (absl::StartsWith(line, "HTTP/")) {
    // A new response head (after 100 Continue or a proxy's CONNECT answer).
    job.response_headers.clear();
    return n;
  }
  size_t colon = line.find(':');
  if (colon == absl::string_view::npos) return n;
  job.response_headers.emplace_back(
      std::string(absl::StripAsciiWhitespace(line.substr(0, colon))),
      std::string(absl::StripAsciiWhitespace(line.substr(colon + 1))));
  return n;
}

size_t HttpClient::Impl::OnBody(char* data, size_t size, size_t count, void* user) {
  Job& job = *static_cast<Job*>(user);
  size_t n = size * count;
  std::string& body = job.response_body;
  if (body.size() + n > job.max_body) {
    job.too_large = true;
    return 0;  // aborts the transfer with CURLE_WRITE_ERROR
  }
  if (body.capacity() < body.size() + n) {
    // Grow by hand so the old buffer is wiped rather than just freed.
    std::string bigger;
    bigger.reserve(std::max({body.capacity() * 2, body.size() + n, static_cast<size_t>(4096)}));
    bigger.append(body);
    WipeString(body);
    body.swap(bigger);
  }
  body.append(data, n);
  return n;
}

CURLcode HttpClient::Impl::OnSslContext(CURL*, void* ssl_ctx, void* user) {
  Impl& impl = *static_cast<Impl*>(user);
  X509_STORE* store = SSL_CTX_get_cert_store(static_cast<SSL_CTX*>(ssl_ctx));
  for (X509* cert : impl.extra_trust_) {
    X509_STORE_add_cert(store, cert);  // a duplicate is not an error
  }
  ERR_clear_error();
  return CURLE_OK;
}

void HttpClient::Impl::OnDone(CURL* easy, CURLcode code) {
  void* priv = nullptr;
  curl_easy_getinfo(easy, CURLINFO_PRIVATE, &priv);
  auto it =
      std::find_if(active_.begin(), active_.end(), [&](const auto& j) { return j.get() == priv; });
  if (it == active_.end()) return;  // cannot happen
  std::unique_ptr<Job> job = std::move(*it);
  active_.erase(it);
  long status = 0;
  long verify_result = 0;
  curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_getinfo(easy, CURLINFO_SSL_VERIFYRESULT, &verify_result);
  if (job->request.capture_peer_certificates) {
    job->peer_certificates_pem.clear();
    curl_certinfo* info = nullptr;
    if (curl_easy_getinfo(easy, CURLINFO_CERTINFO, &info) == CURLE_OK && info != nullptr) {
      for (int i = 0; i < info->num_of_certs; ++i) {
        for (curl_slist* field = info->certinfo[i]; field != nullptr; field = field->next) {
          absl::string_view entry(field->data);
          if (absl::StartsWith(entry, "Cert:")) {
            job->peer_certificates_pem.emplace_back(entry.substr(5));
          }
        }
      }
    }
  }
  curl_multi_remove_handle(multi_, easy);
  curl_easy_cleanup(easy);
  job->easy = nullptr;
  FreeHeaderList(job->header_list);
  job->header_list = nullptr;
  absl::Duration now = MonoNow();
  if (code != CURLE_OK) {
    OnTransportFailure(std::move(job), code, verify_result, now);
  } else {
    OnResponse(std::move(job), static_cast<int>(status), now);
  }
}

absl::Status HttpClient::Impl::TransportError(const Job& job, CURLcode code,
                                              long verify_result) const {
  std::string detail = job.error[0] != '\0' ? std::string(job.error) : curl_easy_strerror(code);
  std::string prefix = absl::StrCat(job.request.method, " ", job.redacted_url, ": ");
  switch (code) {
    case CURLE_PEER_FAILED_VERIFICATION: {
      std::string why;
      // libcurl checks the host name itself once the chain is good, and
      // reports a mismatch only in its message.
      bool host_mismatch = absl::StrContains(detail, "subject name") ||
                           absl::StrContains(detail, "target host name");
      if (host_mismatch) verify_result = X509_V_ERR_HOSTNAME_MISMATCH;
      switch (verify_result) {
        case X509_V_ERR_CERT_HAS_EXPIRED:
          why = "the server certificate has expired";
          break;
        case X509_V_ERR_CERT_NOT_YET_VALID:
          why = "the server certificate is not valid yet";
          break;
        case X509_V_ERR_HOSTNAME_MISMATCH:
        case X509_V_ERR_IP_ADDRESS_MISMATCH:
          why = "the server certificate is not issued for this host name";
          break;
        case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
        case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
        case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
        case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
        case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
        case X509_V_ERR_CERT_UNTRUSTED:
          why =
              "the server certificate is not trusted (its issuer is not in "
              "the trust store; configure the CA with ca_bundle)";
          break;
        default:
          why = absl::StrCat("the server certificate was rejected (",
                             X509_verify_cert_error_string(verify_result), ")");
      }
      return absl::FailedPreconditionError(absl::StrCat(prefix, "TLS: ", why, " [", detail, "]"));
    }
    case CURLE_SSL_CACERT_BADFILE:
      return absl::FailedPreconditionError(
          absl::StrCat(prefix, "TLS: cannot load the trust store [", detail, "]"));
    case CURLE_WRITE_ERROR:
      if (job.too_large) {
        return absl::ResourceExhaustedError(
            absl::StrCat(prefix, "the response is larger than max_response_bytes (",
                         options_.max_response_bytes, ")"));
      }
      break;
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
      return absl::InvalidArgumentError(absl::StrCat(prefix, detail));
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
      return absl::UnavailableError(
          absl::StrCat(prefix, "cannot resolve the host name [", detail, "]"));
    case CURLE_COULDNT_CONNECT:
      return absl::UnavailableError(absl::StrCat(prefix, "cannot connect [", detail, "]"));
    case CURLE_OPERATION_TIMEDOUT:
      return absl::UnavailableError(absl::StrCat(prefix, "timed out [", detail, "]"));
    case CURLE_SSL_CONNECT_ERROR:
      return absl::UnavailableError(absl::StrCat(prefix, "TLS handshake failed [", detail, "]"));
    case CURLE_GOT_NOTHING:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_PARTIAL_FILE:
      return absl::UnavailableError(
          absl::StrCat(prefix, "the connection was closed or reset [", detail, "]"));
    default:
      break;
  }
  return absl::UnavailableError(absl::StrCat(prefix, detail));
}

void HttpClient::Impl::OnTransportFailure(std::unique_ptr<Job> job, CURLcode code,
                                          long verify_result, absl::Duration now) {
  ++transport_errors_;
  job->lane->rate.OnFailed(now, job->probe);
  absl::Status error = TransportError(*job, code, verify_result);
  Log(LogLevel::kDebug, absl::StrCat("< ", job->request.method, " ", job->redacted_url,
                                     " failed after ", ShowDuration(now - job->started),
                                     " (attempt ", job->attempts, "): ", error.message()));
  if (!job->request.idempotent || !IsRetryableCurlCode(code)) {
    Finish(std::move(job), error);
    return;
  }
  Retry(std::move(job), now, 0, std::nullopt, [&](absl::string_view suffix) {
    return absl::Status(error.code(), absl::StrCat(error.message(), suffix));
  });
}

void HttpClient::Impl::OnResponse(std::unique_ptr<Job> job, int status, absl::Duration now) {
  // OnBody grows the body in steps of at least 4 KiB, and the headers'
  // vector doubles; a SendAll of 5000 secret reads (about 400 bytes and 17
  // headers each) holds every answer until the last one, so the slack would
  // be 23 MiB of a plan's peak memory. Keep both at their size (the old
  // body buffer wiped, as OnBody does).
  std::string& body = job->response_body;
  if (body.capacity() - body.size() > 256) {
    std::string fitted(body);
    WipeString(body);
    body.swap(fitted);
  }
  job->response_headers.shrink_to_fit();
  HttpResponse response(status, std::move(job->response_headers), std::move(job->response_body));
  response.peer_certificates_pem = std::move(job->peer_certificates_pem);
  job->response_headers = HttpHeaders();
  std::optional<absl::Duration> server_delay;
  if (IsRetryableStatus(status)) {
    server_delay = ParseRetryAfter(response.headers, clock_->Now());
  }
  Lane& lane = *job->lane;
  if (status == 429) {
    ++throttled_;
    bool was_throttled = lane.rate.throttled();
    std::optional<absl::Duration> pause;
    if (server_delay.has_value()) {
      // A request asked to wait longer than max_retry_after fails; the host
      // is not blocked beyond that either.
      pause = std::min(*server_delay, options_.retry.max_retry_after) * options_.time_scale;
    }
    lane.rate.OnThrottled(now, job->probe, pause);
    if (!was_throttled) {
      Log(LogLevel::kWarning,
          absl::StrCat("throttled by ", job->lane_key, " (429 on ", job->request.method, " ",
                       job->redacted_url, "): pausing requests to this host"));
    }
  } else {
    lane.rate.OnProcessed(now, job->probe);
    if (lane.rate.rate() != lane.logged_rate && !lane.rate.throttled() && job->probe) {
      lane.logged_rate = lane.rate.rate();
      Log(LogLevel::kInfo, absl::StrFormat("%s accepts requests again: pacing at %.1f "
                                           "requests/s",
                                           job->lane_key, lane.logged_rate));
    }
  }
  if (options_.log) {
    absl::string_view reason = ReasonPhrase(status);
    std::string line =
        absl::StrCat("< ", status, reason.empty() ? "" : " ", reason, " ", job->request.method, " ",
                     job->redacted_url, " (", ShowDuration(now - job->started), ", attempt ",
                     job->attempts, ")");
    if (!response.body.empty()) {
      absl::StrAppend(&line, " body: (", response.body.size(), " bytes, redacted)");
    }
    Log(LogLevel::kDebug, line);
  }
  if (!IsRetryableStatus(status) || !job->request.idempotent) {
    if (job->attempts == 1) budget_.OnSuccess();
    Finish(std::move(job), std::move(response));
    return;
  }
  const std::string method = job->request.method;
  const std::string url = job->request.url;
  Retry(std::move(job), now, status, server_delay,
        [&](absl::string_view suffix) { return HttpErrorToStatus(method, url, response, suffix); });
}

void HttpClient::Impl::Retry(std::unique_ptr<Job> job, absl::Duration now, int status,
                             std::optional<absl::Duration> server_delay,
                             const std::function<absl::Status(absl::string_view)>& error) {
  const RetryPolicy& policy = options_.retry;
  // Each error is made before `job` is moved into Finish: in
  // Finish(std::move(job), error(... job->attempts ...)) the parameter may
  // be move-constructed first (clang does), leaving job null (UBSan).
  if (job->attempts >= policy.max_attempts) {
    absl::Status gave_up = error(absl::StrCat(" (gave up after ", job->attempts,
                                              job->attempts == 1 ? " attempt)" : " attempts)"));
    Finish(std::move(job), std::move(gave_up));
    return;
  }
  if (server_delay.has_value() && *server_delay > policy.max_retry_after) {
    Finish(std::move(job), error(absl::StrCat(" (the server asked to retry after ",
                                              ShowDuration(*server_delay), ", more than the ",
                                              ShowDuration(policy.max_retry_after), " allowed)")));
    return;
  }
  if (!budget_.TryAcquire()) {
    absl::Status exhausted =
        error(absl::StrCat(" (the client's retry budget is exhausted; "
                           "not retried after attempt ",
                           job->attempts, ")"));
    Finish(std::move(job), std::move(exhausted));
    return;
  }
  absl::Duration delay = server_delay.has_value()
                             ? *server_delay
                             : BackoffDelay(policy, job->attempts, status == 429,
                                            std::uniform_real_distribution<double>(0, 1)(rng_));
  ++retries_;
  if (options_.on_retry) {
    RetryEvent event;
    event.method = job->request.method;
    event.url = job->redacted_url;
    event.attempt = job->attempts;
    event.status = status;
    event.delay = delay;
    event.server_delay = server_delay.has_value();
    options_.on_retry(event);
  }
  Log(LogLevel::kInfo, absl::StrCat("retrying ", job->request.method, " ", job->redacted_url,
                                    " in ", ShowDuration(delay), " after ",
                                    status == 0 ? std::string("a transport failure")
                                                : absl::StrCat(status, " ", ReasonPhrase(status)),
                                    server_delay.has_value() ? " (Retry-After)" : "", " (attempt ",
                                    job->attempts + 1, "/", policy.max_attempts, ")"));
  job->ready_at = now + delay * options_.time_scale;
  Enqueue(std::move(job));
}

void HttpClient::Impl::Finish(std::unique_ptr<Job> job, absl::StatusOr<HttpResponse> result) {
  Batch& batch = *job->batch;
  std::lock_guard<std::mutex> lock(batch.mu);
  batch.results[job->index] = std::move(result);
  if (--batch.remaining == 0) batch.done.notify_all();
}

void HttpClient::Impl::CancelAll() {
  TakeIncoming();
  for (auto& job : active_) {
    curl_multi_remove_handle(multi_, job->easy);
    curl_easy_cleanup(job->easy);
    FreeHeaderList(job->header_list);
    job->header_list = nullptr;
    waiting_.push_back(std::move(job));
  }
  active_.clear();
  for (auto& job : waiting_) {
    std::string message = absl::StrCat(job->request.method, " ", job->redacted_url,
                                       ": the HTTP client was shut down");
    Finish(std::move(job), absl::CancelledError(message));
  }
  waiting_.clear();
}

// ---------------------------------------------------------------------------

HttpClient::HttpClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HttpClient::~HttpClient() = default;

absl::StatusOr<std::unique_ptr<HttpClient>> HttpClient::Create(HttpClientOptions options) {
  auto impl = std::make_unique<Impl>(std::move(options));
  RETURN_IF_ERROR(impl->Init());
  return std::unique_ptr<HttpClient>(new HttpClient(std::move(impl)));
}

absl::StatusOr<HttpResponse> HttpClient::Send(HttpRequest request) {
  std::vector<HttpRequest> one;
  one.push_back(std::move(request));
  return std::move(impl_->SendAll(std::move(one))[0]);
}

std::vector<absl::StatusOr<HttpResponse>> HttpClient::SendAll(std::vector<HttpRequest> requests) {
  return impl_->SendAll(std::move(requests));
}

HttpClient::Stats HttpClient::stats() const { return impl_->stats(); }

}  // namespace rotor::http
