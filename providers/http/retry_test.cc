#include "providers/http/retry.h"

#include <doctest/doctest.h>

namespace rotor::http {
namespace {

const absl::Time kNow = absl::FromUnixSeconds(1700000000);  // 2023-11-14 22:13:20 UTC

TEST_CASE("IsRetryableStatus") {
  for (int s : {408, 429, 500, 502, 503, 504}) CHECK(IsRetryableStatus(s));
  for (int s : {200, 201, 400, 401, 403, 404, 409, 501}) {
    CHECK_FALSE(IsRetryableStatus(s));
  }
}

TEST_CASE("ParseRetryAfter: seconds, HTTP-date, milliseconds") {
  CHECK(ParseRetryAfter({{"Retry-After", "7"}}, kNow) == absl::Seconds(7));
  CHECK(ParseRetryAfter({{"retry-after", " 0 "}}, kNow) == absl::ZeroDuration());
  CHECK(ParseRetryAfter({{"Retry-After", "Tue, 14 Nov 2023 22:13:30 GMT"}}, kNow) ==
        absl::Seconds(10));
  // RFC 850 and asctime forms.
  CHECK(ParseRetryAfter({{"Retry-After", "Tuesday, 14-Nov-23 22:13:25 GMT"}}, kNow) ==
        absl::Seconds(5));
  CHECK(ParseRetryAfter({{"Retry-After", "Tue Nov 14 22:13:24 2023"}}, kNow) == absl::Seconds(4));
  // In the past: no wait.
  CHECK(ParseRetryAfter({{"Retry-After", "Tue, 14 Nov 2023 22:00:00 GMT"}}, kNow) ==
        absl::ZeroDuration());
  CHECK(ParseRetryAfter({{"x-ms-retry-after-ms", "1500"}, {"Retry-After", "9"}}, kNow) ==
        absl::Milliseconds(1500));
  CHECK(ParseRetryAfter({{"retry-after-ms", "250"}}, kNow) == absl::Milliseconds(250));
  CHECK_FALSE(ParseRetryAfter({}, kNow).has_value());
  CHECK_FALSE(ParseRetryAfter({{"Retry-After", "soon"}}, kNow).has_value());
  CHECK_FALSE(ParseRetryAfter({{"Retry-After", "-3"}}, kNow).has_value());
}

TEST_CASE("BackoffDelay: Key Vault's schedule for a bare 429") {
  RetryPolicy policy;
  for (int retry = 1; retry <= 5; ++retry) {
    absl::Duration base = absl::Seconds(1 << (retry - 1));  // 1 2 4 8 16
    CHECK(BackoffDelay(policy, retry, true, 0.0) == base);
    CHECK(BackoffDelay(policy, retry, true, 0.999) <= base * 1.2);
    CHECK(BackoffDelay(policy, retry, true, 0.5) == base * 1.1);
  }
  // Capped.
  CHECK(BackoffDelay(policy, 10, true, 0.0) == policy.max_backoff);
}

TEST_CASE("BackoffDelay: full jitter otherwise") {
  RetryPolicy policy;
  CHECK(BackoffDelay(policy, 1, false, 0.0) == absl::ZeroDuration());
  CHECK(BackoffDelay(policy, 1, false, 0.5) == absl::Milliseconds(500));
  CHECK(BackoffDelay(policy, 3, false, 0.5) == absl::Seconds(2));
  CHECK(BackoffDelay(policy, 20, false, 0.5) == policy.max_backoff / 2);
}

TEST_CASE("RetryBudget") {
  RetryBudget budget(2, 0.5);
  CHECK(budget.TryAcquire());
  CHECK(budget.TryAcquire());
  CHECK_FALSE(budget.TryAcquire());
  budget.OnSuccess();
  CHECK_FALSE(budget.TryAcquire());
  budget.OnSuccess();
  CHECK(budget.TryAcquire());
  for (int i = 0; i < 100; ++i) budget.OnSuccess();
  CHECK(budget.tokens() == 2);
}

}  // namespace
}  // namespace rotor::http
