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

TEST_CASE("DecideRetry: the server's wait, else the backoff schedule") {
  RetryPolicy policy;
  RetryBudget budget(10, 0);
  int draws = 0;
  auto uniform = [&] {
    ++draws;
    return 0.5;
  };
  RetryDecision d = DecideRetry(policy, 1, 503, absl::Seconds(3), budget, uniform);
  CHECK(d.delay == absl::Seconds(3));
  CHECK(draws == 0);  // no random number spent on the server's wait
  d = DecideRetry(policy, 2, 503, std::nullopt, budget, uniform);
  CHECK(d.delay == BackoffDelay(policy, 2, false, 0.5));
  d = DecideRetry(policy, 2, 429, std::nullopt, budget, uniform);
  CHECK(d.delay == BackoffDelay(policy, 2, true, 0.5));
  d = DecideRetry(policy, 1, 0, std::nullopt, budget, uniform);  // a transport failure
  CHECK(d.delay == BackoffDelay(policy, 1, false, 0.5));
  CHECK(draws == 3);
  CHECK(budget.tokens() == 6);
}

TEST_CASE("DecideRetry: giving up says why") {
  RetryPolicy policy;
  policy.max_attempts = 3;
  RetryBudget budget(1, 0);
  auto uniform = [] { return 0.0; };
  RetryDecision d = DecideRetry(policy, 3, 503, std::nullopt, budget, uniform);
  CHECK_FALSE(d.delay.has_value());
  CHECK(d.gave_up_because == " (gave up after 3 attempts)");
  policy.max_attempts = 1;
  CHECK(DecideRetry(policy, 1, 503, std::nullopt, budget, uniform).gave_up_because ==
        " (gave up after 1 attempt)");
  policy.max_attempts = 6;
  d = DecideRetry(policy, 1, 429, absl::Minutes(5), budget, uniform);
  CHECK_FALSE(d.delay.has_value());
  CHECK(d.gave_up_because ==
        " (the server asked to retry after 300.0 s, more than the 120.0 s allowed)");
  CHECK(budget.tokens() == 1);  // none of these took a token
  CHECK(DecideRetry(policy, 1, 503, std::nullopt, budget, uniform).delay.has_value());
  d = DecideRetry(policy, 2, 503, std::nullopt, budget, uniform);
  CHECK_FALSE(d.delay.has_value());
  CHECK(d.gave_up_because ==
        " (the client's retry budget is exhausted; not retried after attempt 2)");
}

TEST_CASE("ShowDuration") {
  CHECK(ShowDuration(absl::Milliseconds(250)) == "250 ms");
  CHECK(ShowDuration(absl::Milliseconds(1500)) == "1.5 s");
}

}  // namespace
}  // namespace rotor::http
