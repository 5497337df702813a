// HttpClient: rotor's one way to talk HTTPS (Key Vault, ARM, token
// endpoints, metadata discovery).
//
// One libcurl multi handle serves every request of a client, so connections
// are kept alive and reused, and many requests are in flight at once (up to
// `parallelism`). A dedicated I/O thread drives the transfers; Send and
// SendAll may be called from any number of threads and block until their
// requests are done. Requests start in order of arrival, but a request sent
// alone goes ahead of the queued members of a SendAll of several, so a
// chain of single requests (list pages, tokens) does not wait for a batch.
//
// Security defaults that cannot be turned off: TLS peer and host name
// verification, HTTPS only (plain http:// is accepted only for a loopback
// host and only with `allow_insecure_loopback`, or for the instance metadata
// service with `allow_instance_metadata`), no redirects followed, no
// credentials in logs or error messages (URLs go through RedactUrl, bodies
// and credential-bearing headers are never logged). Proxies come from the
// usual environment variables (https_proxy, HTTPS_PROXY, http_proxy,
// all_proxy, no_proxy), read with libcurl's rules when the client is
// created.
//
// Retries (RetryPolicy) and pacing per host (RatePolicy, RateController)
// happen inside the client: a request waiting for its backoff or for its
// host's rate does not hold a connection slot.
#ifndef ROTOR_PROVIDERS_HTTP_HTTP_CLIENT_H_
#define ROTOR_PROVIDERS_HTTP_HTTP_CLIENT_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "base/clock.h"
#include "providers/http/http_message.h"
#include "providers/http/rate_controller.h"
#include "providers/http/retry.h"

namespace rotor::http {

enum class LogLevel { kDebug, kInfo, kWarning, kError };
absl::string_view LogLevelName(LogLevel level);  // "debug", "info", ...

// Receives the client's log lines, from the client's I/O thread, one at a
// time. It must not call back into the client.
//   debug:   every attempt and every answer (method, redacted URL, status,
//            duration, attempt; header values of Authorization and other
//            credential headers and all bodies shown as "(redacted)")
//   info:    retries and their reason; a host's pacing rate changes
//   warning: a host answering 429 (throttling)
using LogSink = std::function<void(LogLevel level, absl::string_view message)>;

// One retry decision, for observers (tests, progress reporting).
struct RetryEvent {
  std::string method;
  std::string url;            // redacted
  int attempt = 0;            // the attempt that failed, 1 = the first
  int status = 0;             // its HTTP status; 0 for a transport failure
  absl::Duration delay;       // wait before the next attempt (before time_scale)
  bool server_delay = false;  // the delay came from Retry-After
};

struct HttpClientOptions {
  // Requests in flight at once, over all hosts. Default 16.
  int parallelism = 16;
  // Per attempt: TCP+TLS connect, and the whole transfer.
  absl::Duration connect_timeout = absl::Seconds(10);
  absl::Duration request_timeout = absl::Seconds(60);

  // Extra trust anchors (PEM, one or more certificates): a file and/or
  // in-memory text, e.g. an Azure Stack Hub root CA or the emulator's CA.
  // They are trusted IN ADDITION to the system store (so one client reaches
  // both a stamp with an enterprise CA and login.microsoftonline.com),
  // unless trust_system_store is false, in which case only they are trusted.
  std::string ca_bundle_path;
  std::string ca_bundle_pem;
  bool trust_system_store = true;

  // Accept http:// for loopback hosts (localhost, *.localhost, 127.0.0.0/8,
  // [::1]). Never for any other host.
  bool allow_insecure_loopback = false;
  // Accept http://169.254.169.254 (the Azure instance metadata service, which
  // serves managed identity tokens only over http on that link-local
  // address). Never any other non-loopback host.
  bool allow_instance_metadata = false;

  // Default "rotor/<version>".
  std::string user_agent;
  // A larger response body fails the request (ResourceExhausted), unless
  // the request sets its own HttpRequest::max_response_bytes.
  size_t max_response_bytes = 64 << 20;

  RetryPolicy retry;
  RatePolicy rate;

  // "Now" for HTTP-date Retry-After values. Default: the real clock.
  const Clock* clock = nullptr;
  // Multiplies every wait the client schedules (retry backoff, Retry-After,
  // throttle pauses) but not timeouts or pacing rates. 1 in production;
  // tests use e.g. 0.001 so a 16 s backoff takes 16 ms. Logged and reported
  // delays are the unscaled ones.
  double time_scale = 1.0;
  // Seed of the jitter; 0 = random.
  uint64_t random_seed = 0;

  LogSink log;
  // Called (from the I/O thread) for every retry scheduled.
  std::function<void(const RetryEvent&)> on_retry;
};

// The interface the upper layers depend on, so a layer can wrap another
// (e.g. one that adds a bearer token).
class HttpSender {
 public:
  virtual ~HttpSender() = default;
  // One request. A response with any HTTP status is a value; an error means
  // no usable response: the request was invalid (InvalidArgument), the
  // transport failed (Unavailable, with libcurl's description), the server's
  // certificate was rejected (FailedPrecondition: not trusted, expired, or
  // not for this host name), or retries were exhausted (the status of the
  // last answer, see HttpErrorToStatus). Every error message starts with
  // the method and the redacted URL.
  virtual absl::StatusOr<HttpResponse> Send(HttpRequest request) = 0;
  // Runs the requests concurrently; results in request order.
  virtual std::vector<absl::StatusOr<HttpResponse>> SendAll(std::vector<HttpRequest> requests) = 0;
};

class HttpClient : public HttpSender {
 public:
  // Fails when a CA bundle cannot be read or holds no certificate, or
  // libcurl cannot be initialised.
  static absl::StatusOr<std::unique_ptr<HttpClient>> Create(HttpClientOptions options = {});
  // Waits for the I/O thread; requests still queued fail with Cancelled.
  ~HttpClient() override;
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  absl::StatusOr<HttpResponse> Send(HttpRequest request) override;
  std::vector<absl::StatusOr<HttpResponse>> SendAll(std::vector<HttpRequest> requests) override;

  // Counters since creation.
  struct Stats {
    int64_t attempts = 0;  // requests put on the wire, retries included
    int64_t retries = 0;
    int64_t throttled = 0;  // 429 answers
    int64_t transport_errors = 0;
  };
  Stats stats() const;

 private:
  class Impl;
  explicit HttpClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// "rotor/<version>".
std::string DefaultUserAgent();

}  // namespace rotor::http

#endif  // ROTOR_PROVIDERS_HTTP_HTTP_CLIENT_H_
