#include "providers/http/retry.h"

#include <curl/curl.h>

#include <algorithm>
#include <cmath>
#include <mutex>
#include <random>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace rotor::http {

double ProcessUniform() {
  static std::mutex mu;
  static std::mt19937_64 rng{std::random_device{}()};
  std::lock_guard<std::mutex> lock(mu);
  return std::uniform_real_distribution<double>(0.0, 1.0)(rng);
}

bool IsRetryableStatus(int status) {
  switch (status) {
    case 408:
    case 429:
    case 500:
    case 502:
    case 503:
    case 504:
      return true;
  }
  return false;
}

std::optional<absl::Duration> ParseRetryAfter(const HttpHeaders& headers, absl::Time now) {
  for (const char* name : {"x-ms-retry-after-ms", "retry-after-ms"}) {
    if (const std::string* value = headers.Find(name)) {
      int64_t ms = 0;
      if (absl::SimpleAtoi(absl::StripAsciiWhitespace(*value), &ms) && ms >= 0) {
        return absl::Milliseconds(ms);
      }
    }
  }
  const std::string* value = headers.Find("retry-after");
  if (value == nullptr) return std::nullopt;
  absl::string_view text = absl::StripAsciiWhitespace(*value);
  int64_t seconds = 0;
  if (absl::SimpleAtoi(text, &seconds)) {
    if (seconds < 0) return std::nullopt;
    return absl::Seconds(seconds);
  }
  // HTTP-date in any of the three formats RFC 9110 allows.
  std::string date(text);
  time_t when = curl_getdate(date.c_str(), nullptr);
  if (when == -1) return std::nullopt;
  return std::max(absl::ZeroDuration(), absl::FromTimeT(when) - now);
}

absl::Duration BackoffDelay(const RetryPolicy& policy, int retry, bool throttled, double uniform) {
  int exponent = std::clamp(retry - 1, 0, 30);
  double factor = std::ldexp(1.0, exponent);
  if (throttled) {
    absl::Duration base = std::min(policy.max_backoff, policy.throttle_backoff * factor);
    return base * (1.0 + policy.throttle_jitter * uniform);
  }
  absl::Duration cap = std::min(policy.max_backoff, policy.initial_backoff * factor);
  return cap * uniform;
}

bool RetryBudget::TryAcquire() {
  if (tokens_ < 1.0) return false;
  tokens_ -= 1.0;
  return true;
}

void RetryBudget::OnSuccess() { tokens_ = std::min(capacity_, tokens_ + refill_); }

RetryDecision DecideRetry(const RetryPolicy& policy, int attempt, int status,
                          std::optional<absl::Duration> server_delay, RetryBudget& budget,
                          const std::function<double()>& uniform) {
  RetryDecision decision;
  if (attempt >= policy.max_attempts) {
    decision.gave_up_because =
        absl::StrCat(" (gave up after ", attempt, attempt == 1 ? " attempt)" : " attempts)");
    return decision;
  }
  if (server_delay.has_value() && *server_delay > policy.max_retry_after) {
    decision.gave_up_because =
        absl::StrCat(" (the server asked to retry after ", ShowDuration(*server_delay),
                     ", more than the ", ShowDuration(policy.max_retry_after), " allowed)");
    return decision;
  }
  if (!budget.TryAcquire()) {
    decision.gave_up_because = absl::StrCat(
        " (the client's retry budget is exhausted; "
        "not retried after attempt ",
        attempt, ")");
    return decision;
  }
  decision.delay = server_delay.has_value()
                       ? *server_delay
                       : BackoffDelay(policy, attempt, status == 429, uniform());
  return decision;
}

std::string ShowDuration(absl::Duration d) {
  if (d < absl::Seconds(1)) {
    return absl::StrFormat("%d ms", absl::ToInt64Milliseconds(d));
  }
  return absl::StrFormat("%.1f s", absl::ToDoubleSeconds(d));
}

}  // namespace rotor::http
