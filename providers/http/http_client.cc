#include "providers/http/http_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "base/status_macros.h"
#include "providers/http/curl_errors.h"
#include "providers/http/curl_transfer.h"
#include "providers/http/request_policy.h"
#include "providers/http/trust_store.h"
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

bool IsReadMethod(absl::string_view method) { return method == "GET" || method == "HEAD"; }

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
    // Waiting out a 429: released (ready at once) when its lane accepts
    // requests again, and then a 429 on that early attempt does not count
    // against max_attempts (the lane, not the request, overshot).
    bool throttle_wait = false;
    bool released = false;
    // The attempt in flight, or the last one's answer.
    CurlTransfer transfer;
    bool probe = false;
    absl::Duration started;
  };

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
  void ReleaseThrottled(Lane& lane, absl::Duration now);
  void Enqueue(std::unique_ptr<Job> job);
  void CancelAll();
  absl::Status TransportError(const Job& job, CURLcode code, long verify_result) const;
  Lane* LaneFor(const std::string& key);
  void Log(LogLevel level, absl::string_view message) const {
    if (options_.log) options_.log(level, message);
  }
  void LogRequest(const Job& job) const;

  HttpClientOptions options_;
  const Clock* clock_;
  RequestPolicy policy_;
  TrustStore trust_;
  TransferSettings transfer_settings_;  // points to trust_

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
      policy_{options_.allow_insecure_loopback, options_.allow_instance_metadata},
      rng_(options_.random_seed != 0 ? options_.random_seed : std::random_device()()),
      budget_(options_.retry.budget, options_.retry.budget_refill) {
  if (options_.parallelism < 1) options_.parallelism = 1;
  if (options_.retry.max_attempts < 1) options_.retry.max_attempts = 1;
  // Throttle pauses are scheduled waits like backoffs: scale them too.
  options_.rate.probe_interval *= options_.time_scale;
  transfer_settings_.user_agent =
      options_.user_agent.empty() ? DefaultUserAgent() : options_.user_agent;
  transfer_settings_.connect_timeout = options_.connect_timeout;
  transfer_settings_.request_timeout = options_.request_timeout;
  transfer_settings_.max_response_bytes = options_.max_response_bytes;
  transfer_settings_.trust = &trust_;
}

absl::Status HttpClient::Impl::Init() {
  RETURN_IF_ERROR(InitCurlOnce());
  ASSIGN_OR_RETURN(trust_, TrustStore::Load(options_.ca_bundle_path, options_.ca_bundle_pem,
                                            options_.trust_system_store));
  transfer_settings_.proxy = ProxySettings::FromEnvironment();
  multi_ = curl_multi_init();
  if (multi_ == nullptr) return absl::InternalError("curl_multi_init failed");
  // Keep an idle connection per possible concurrent transfer.
  curl_multi_setopt(multi_, CURLMOPT_MAXCONNECTS, static_cast<long>(options_.parallelism + 4));
  thread_ = std::thread([this] { Run(); });
  return absl::OkStatus();
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
    absl::StatusOr<RequestTarget> target = CheckRequest(requests[i], policy_);
    if (!target.ok()) {
      batch.results[i] = target.status();
      continue;
    }
    auto job = std::make_unique<Job>();
    job->redacted_url = RedactUrl(requests[i].url);
    job->lane_key = absl::StrCat(target->host, ":", target->port,
                                 IsReadMethod(requests[i].method) ? " reads" : " writes");
    job->request = std::move(requests[i]);
    job->batch = &batch;
    job->bulk = requests.size() > 1;
    job->index = i;
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
  RETURN_IF_ERROR(job.transfer.Prepare(job.request, job.redacted_url, transfer_settings_));
  CURLMcode mc = curl_multi_add_handle(multi_, job.transfer.easy_handle());
  if (mc != CURLM_OK) {
    job.transfer.Release();
    return absl::InternalError(
        absl::StrCat(job.request.method, " ", job.redacted_url, ": ", curl_multi_strerror(mc)));
  }
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

void HttpClient::Impl::OnDone(CURL* easy, CURLcode code) {
  // CURLINFO_PRIVATE is the job's CurlTransfer (CurlTransfer::Prepare).
  void* priv = nullptr;
  curl_easy_getinfo(easy, CURLINFO_PRIVATE, &priv);
  auto it = std::find_if(active_.begin(), active_.end(),
                         [&](const auto& j) { return &j->transfer == priv; });
  if (it == active_.end()) return;  // cannot happen
  std::unique_ptr<Job> job = std::move(*it);
  active_.erase(it);
  long status = 0;
  long verify_result = 0;
  curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_getinfo(easy, CURLINFO_SSL_VERIFYRESULT, &verify_result);
  if (job->request.capture_peer_certificates) job->transfer.CapturePeerCertificates();
  curl_multi_remove_handle(multi_, easy);
  job->transfer.Release();
  absl::Duration now = MonoNow();
  if (code != CURLE_OK) {
    OnTransportFailure(std::move(job), code, verify_result, now);
  } else {
    OnResponse(std::move(job), static_cast<int>(status), now);
  }
}

absl::Status HttpClient::Impl::TransportError(const Job& job, CURLcode code,
                                              long verify_result) const {
  TransportFailure failure;
  failure.curl_code = code;
  failure.verify_result = verify_result;
  failure.error_buffer = job.transfer.error_buffer();
  failure.response_too_large = job.transfer.response_too_large();
  return TransportFailureToStatus(job.request.method, job.redacted_url, failure,
                                  job.request.max_response_bytes > 0
                                      ? job.request.max_response_bytes
                                      : options_.max_response_bytes);
}

void HttpClient::Impl::OnTransportFailure(std::unique_ptr<Job> job, CURLcode code,
                                          long verify_result, absl::Duration now) {
  ++transport_errors_;
  job->lane->rate.OnFailed(now, job->probe);
  absl::Status error = TransportError(*job, code, verify_result);
  Log(LogLevel::kDebug, absl::StrCat("< ", job->request.method, " ", job->redacted_url,
                                     " failed after ", ShowDuration(now - job->started),
                                     " (attempt ", job->attempts, "): ", error.message()));
  if (!job->request.idempotent || !IsRetryableTransportFailure(code)) {
    Finish(std::move(job), error);
    return;
  }
  Retry(std::move(job), now, 0, std::nullopt, [&](absl::string_view suffix) {
    return absl::Status(error.code(), absl::StrCat(error.message(), suffix));
  });
}

void HttpClient::Impl::OnResponse(std::unique_ptr<Job> job, int status, absl::Duration now) {
  HttpResponse response = job->transfer.TakeResponse(status);
  std::optional<absl::Duration> server_delay;
  if (IsRetryableStatus(status)) {
    server_delay = ParseRetryAfter(response.headers, clock_->Now());
  }
  Lane& lane = *job->lane;
  if (status == 429) {
    ++throttled_;
    if (job->released) --job->attempts;
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
    const bool was_throttled = lane.rate.throttled();
    lane.rate.OnProcessed(now, job->probe);
    if (was_throttled && !lane.rate.throttled()) ReleaseThrottled(lane, now);
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
  // A 429 was not processed (Key Vault and ARM say so), so it is sent again
  // whatever the method unless the request cannot be replayed; other
  // retryable answers only for idempotent ones.
  const bool resend = status == 429 ? job->request.resend_throttled : job->request.idempotent;
  if (!IsRetryableStatus(status) || !resend) {
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
  RetryDecision decision =
      DecideRetry(policy, job->attempts, status, server_delay, budget_,
                  [this] { return std::uniform_real_distribution<double>(0, 1)(rng_); });
  if (!decision.delay.has_value()) {
    // Made before `job` is moved into Finish: in Finish(std::move(job),
    // error(...)) the parameter may be move-constructed first (clang does),
    // leaving job null (UBSan) should error() ever read through it.
    absl::Status gave_up = error(decision.gave_up_because);
    Finish(std::move(job), std::move(gave_up));
    return;
  }
  const absl::Duration delay = *decision.delay;
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
  job->throttle_wait = status == 429;
  job->released = false;
  Enqueue(std::move(job));
}

// A Retry-After has a granularity of whole seconds, and the throttle
// schedule of BackoffDelay grows to 16 s, while the lane's probe learns when
// the host accepts requests again: from then on the lane paces them, and
// waiting longer only adds a tail to the run (a whole window, when the
// host's window is one second).
void HttpClient::Impl::ReleaseThrottled(Lane& lane, absl::Duration now) {
  for (auto& waiting : waiting_) {
    Job& job = *waiting;
    if (job.lane != &lane || !job.throttle_wait || job.ready_at <= now) continue;
    job.ready_at = now;
    job.released = true;
  }
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
    curl_multi_remove_handle(multi_, job->transfer.easy_handle());
    job->transfer.Release();
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
