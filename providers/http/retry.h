// Retry decisions of the HTTP client, as pure functions so they are tested
// without a network: which answers are retried, how long to wait (the
// server's Retry-After, Key Vault's 1-2-4-8-16 s schedule for a bare 429,
// exponential backoff with full jitter otherwise) and the client-wide retry
// budget that stops a storm of failures from multiplying the load. The
// client asks DecideRetry after each retryable failure and does what it
// says.
#ifndef ROTOR_PROVIDERS_HTTP_RETRY_H_
#define ROTOR_PROVIDERS_HTTP_RETRY_H_

#include <functional>
#include <optional>
#include <string>

#include "absl/time/time.h"
#include "providers/http/http_message.h"

namespace rotor::http {

struct RetryPolicy {
  // Attempts per request, the first one included (1 = never retry). The
  // default lets a throttled request wait 1+2+4+8+16 s as Key Vault asks.
  int max_attempts = 6;
  // Exponential backoff with full jitter for 5xx, 408 and connection errors:
  // retry n waits uniform(0, min(max_backoff, initial_backoff * 2^(n-1))).
  absl::Duration initial_backoff = absl::Seconds(1);
  absl::Duration max_backoff = absl::Seconds(30);
  // A 429 without Retry-After waits throttle_backoff * 2^(n-1) (1, 2, 4, 8,
  // 16 s), stretched by up to `throttle_jitter` (0.2 = +0..20%) so throttled
  // clients do not return in lockstep. Capped at max_backoff.
  absl::Duration throttle_backoff = absl::Seconds(1);
  double throttle_jitter = 0.2;
  // A server asking for a longer Retry-After than this is not retried: the
  // request fails with the server's answer instead of blocking for minutes.
  absl::Duration max_retry_after = absl::Seconds(120);
  // Client-wide retry budget (a token bucket shared by every request): each
  // retry takes one token, each request that completes without needing a
  // retry gives back `budget_refill`. With the defaults a burst of 100
  // retries is allowed, and in steady state at most one retry per ten
  // successful requests; beyond that failures are returned at once.
  double budget = 100;
  double budget_refill = 0.1;
};

// 408, 429, 500, 502, 503, 504.
bool IsRetryableStatus(int status);

// The wait a server asked for: `x-ms-retry-after-ms` or `retry-after-ms`
// (milliseconds), else `Retry-After` as delta-seconds or an HTTP-date
// (relative to `now`; a date in the past means 0). nullopt when absent or
// unparseable.
std::optional<absl::Duration> ParseRetryAfter(const HttpHeaders& headers, absl::Time now);

// The wait before retry number `retry` (1 = the first retry) when the server
// named none. `throttled` selects the 429 schedule. `uniform` is a random
// number in [0, 1) supplied by the caller (seeded in tests).
absl::Duration BackoffDelay(const RetryPolicy& policy, int retry, bool throttled, double uniform);

// The client-wide budget described in RetryPolicy. Not thread-safe: the
// client's I/O thread owns it.
class RetryBudget {
 public:
  RetryBudget(double capacity, double refill)
      : capacity_(capacity), refill_(refill), tokens_(capacity) {}
  // Takes a token for one retry; false when the budget is spent.
  bool TryAcquire();
  // A request finished without needing a retry.
  void OnSuccess();
  double tokens() const { return tokens_; }

 private:
  double capacity_;
  double refill_;
  double tokens_;
};

// What follows a retryable failure (IsRetryableStatus, or a transport
// failure) of an idempotent request.
struct RetryDecision {
  // Send the request again after this wait (before the client's
  // time_scale); unset: give up.
  std::optional<absl::Duration> delay;
  // When giving up, why, as a suffix for the last attempt's error:
  // " (gave up after 6 attempts)".
  std::string gave_up_because;
};

// `attempt` is the attempt that failed (1 = the first); `status` its HTTP
// status, 0 for a transport failure (429 selects the throttle schedule);
// `server_delay` the wait the server asked for (ParseRetryAfter). Checked
// in this order: the attempts are used up; the server asked for longer
// than max_retry_after; the budget is spent (otherwise one token is taken).
// The wait is the server's, else BackoffDelay with `uniform()`, which is
// called only then.
RetryDecision DecideRetry(const RetryPolicy& policy, int attempt, int status,
                          std::optional<absl::Duration> server_delay, RetryBudget& budget,
                          const std::function<double()>& uniform);

// A uniform random number in [0, 1) from a process-wide generator (seeded
// from std::random_device), for jitter when the caller supplies none.
double ProcessUniform();

// A wait or a duration as the HTTP layer writes it in messages and logs:
// "250 ms" below a second, "1.5 s" from there.
std::string ShowDuration(absl::Duration d);

}  // namespace rotor::http

#endif  // ROTOR_PROVIDERS_HTTP_RETRY_H_
