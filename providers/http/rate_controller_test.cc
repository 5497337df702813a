#include "providers/http/rate_controller.h"

#include <doctest/doctest.h>

#include <cmath>
#include <cstdlib>
#include <deque>
#include <optional>
#include <queue>
#include <random>
#include <vector>

#include "absl/strings/str_format.h"
#include "providers/http/retry.h"

namespace rotor::http {
namespace {

absl::Duration S(double seconds) { return absl::Seconds(seconds); }

TEST_CASE("RateController: unlimited until throttled, then one probe") {
  RatePolicy policy;
  RateController c(policy);
  for (int i = 0; i < 20; ++i) {
    auto d = c.TryStart(S(0));
    REQUIRE(d.start);
    CHECK_FALSE(d.probe);
    c.OnStart(S(0), false);
  }
  for (int i = 0; i < 19; ++i) c.OnProcessed(S(0.1), false);
  c.OnThrottled(S(0.1), false, std::nullopt);
  CHECK(c.throttled());
  auto d = c.TryStart(S(0.5));
  CHECK_FALSE(d.start);
  CHECK(d.retry_at == S(1.1));
  d = c.TryStart(S(1.1));
  REQUIRE(d.start);
  CHECK(d.probe);
  c.OnStart(S(1.1), true);
  // Only one probe at a time.
  d = c.TryStart(S(1.2));
  CHECK_FALSE(d.start);
  CHECK(d.retry_at == absl::InfiniteDuration());
  c.OnThrottled(S(1.2), true, std::nullopt);
  d = c.TryStart(S(2.2));
  REQUIRE(d.start);
  c.OnStart(S(2.2), true);
  c.OnProcessed(S(2.0 + 0.2 + 0.0), true);  // accepted at t=2.2
  CHECK_FALSE(c.throttled());
  // 20 successes in 2.2 s.
  CHECK(c.rate() == doctest::Approx(20 / 2.2));
}

TEST_CASE("RateController: Retry-After sets the pause") {
  RateController c(RatePolicy{});
  c.TryStart(S(0));
  c.OnStart(S(0), false);
  c.OnThrottled(S(0), false, S(7));
  CHECK(c.TryStart(S(6.9)).retry_at == S(7));
  CHECK(c.TryStart(S(7)).start);
}

TEST_CASE("RateController: pacing spaces requests evenly") {
  RateController c(RatePolicy{});
  // Learn 10 req/s: 10 successes, a throttle, a successful probe at t=1.
  for (int i = 0; i < 9; ++i) {
    c.TryStart(S(0));
    c.OnStart(S(0), false);
    c.OnProcessed(S(0.01), false);
  }
  c.TryStart(S(0.01));
  c.OnStart(S(0.01), false);
  c.OnThrottled(S(0.02), false, std::nullopt);
  REQUIRE(c.TryStart(S(1.02)).probe);
  c.OnStart(S(1.02), true);
  c.OnProcessed(S(1.0), true);
  CHECK(c.rate() == doctest::Approx(10.0));
  auto d = c.TryStart(S(1.01));
  CHECK_FALSE(d.start);
  CHECK(d.retry_at == S(1.1));
  CHECK(c.TryStart(S(1.1)).start);
}

// ---------------------------------------------------------------------------
// Simulation: the controller plus per-request retries against a server that
// enforces a limit, in simulated time. This is where the policy defaults
// were tuned against Key Vault's published limits.

enum class Limiter { kSlidingWindow, kFixedWindow, kTokenBucket };

struct Server {
  Server(Limiter kind, int limit, double window, bool retry_after = false)
      : kind(kind), limit(limit), window(window), retry_after(retry_after) {}
  Limiter kind;
  int limit;      // requests per window (or bucket size)
  double window;  // seconds (token bucket: refills limit/window per s)
  // Answer a 429 with Retry-After: whole seconds until a slot frees, at
  // least 1, as Key Vault (and rotor-emulator) round it.
  bool retry_after = false;
  std::deque<double> accepted;
  double tokens = 0;
  double last = 0;

  // The Retry-After of a 429 at `t`.
  std::optional<absl::Duration> RetryAfter(double t) const {
    if (!retry_after) return std::nullopt;
    double wait = 1;
    if (kind == Limiter::kSlidingWindow && !accepted.empty()) {
      wait = accepted.front() + window - t;
    } else if (kind == Limiter::kFixedWindow) {
      wait = (std::floor(t / window) + 1) * window - t;
    }
    return S(std::max(1.0, std::ceil(wait)));
  }

  bool Accept(double t) {
    switch (kind) {
      case Limiter::kSlidingWindow:
        while (!accepted.empty() && accepted.front() <= t - window) {
          accepted.pop_front();
        }
        if (static_cast<int>(accepted.size()) >= limit) return false;
        accepted.push_back(t);
        return true;
      case Limiter::kFixedWindow: {
        double start = std::floor(t / window) * window;
        while (!accepted.empty() && accepted.front() < start) {
          accepted.pop_front();
        }
        if (static_cast<int>(accepted.size()) >= limit) return false;
        accepted.push_back(t);
        return true;
      }
      case Limiter::kTokenBucket:
        tokens = std::min<double>(limit, tokens + (t - last) * limit / window);
        last = t;
        if (tokens < 1) return false;
        tokens -= 1;
        return true;
    }
    return false;
  }
};

struct SimResult {
  double seconds = 0;
  int sent = 0;
  int throttled = 0;
  int failed = 0;
};

// `wake_late`: how long after the controller's retry_at the client's timer
// actually fires (the HTTP client's poll rounds up to whole milliseconds).
SimResult Simulate(int n, Server server, int parallelism = 16, double latency = 0.005,
                   double wake_late = 0) {
  if (server.kind == Limiter::kTokenBucket) server.tokens = server.limit;
  RateController lane(RatePolicy{});
  RetryPolicy retry;
  std::mt19937_64 rng(42);
  std::uniform_real_distribution<double> uniform(0, 1);
  struct Job {
    double ready_at = 0;
    int attempts = 0;
    bool released = false;  // sent early, when its lane accepted requests again
  };
  std::vector<Job> waiting(n);
  struct InFlight {
    double done;
    bool accepted;
    bool probe;
    Job job;
    std::optional<absl::Duration> retry_after;
    bool operator>(const InFlight& o) const { return done > o.done; }
  };
  std::priority_queue<InFlight, std::vector<InFlight>, std::greater<>> flight;
  SimResult result;
  double now = 0;
  int finished = 0;
  while (finished < n) {
    while (!flight.empty() && flight.top().done <= now) {
      InFlight f = flight.top();
      flight.pop();
      if (f.accepted) {
        const bool was_throttled = lane.throttled();
        lane.OnProcessed(S(now), f.probe);
        ++finished;
        // As the client does: the host accepts requests again, so those
        // waiting out a 429 go now (paced by the lane).
        if (was_throttled && !lane.throttled()) {
          for (Job& job : waiting) {
            if (job.ready_at > now) {
              job.ready_at = now;
              job.released = true;
            }
          }
        }
        continue;
      }
      ++result.throttled;
      lane.OnThrottled(S(now), f.probe, f.retry_after);
      // As the client does: a request sent early, when its lane accepted
      // requests again, does not lose an attempt to a 429 it then meets.
      if (f.job.released) --f.job.attempts;
      f.job.released = false;
      if (f.job.attempts >= retry.max_attempts) {
        ++result.failed;
        ++finished;
        continue;
      }
      f.job.ready_at = now + absl::ToDoubleSeconds(
                                 f.retry_after.has_value()
                                     ? *f.retry_after
                                     : BackoffDelay(retry, f.job.attempts, true, uniform(rng)));
      // Retries keep their place ahead of fresh requests.
      waiting.insert(waiting.begin(), f.job);
    }
    if (finished >= n) break;
    double next = 1e18;
    double paced = 1e18;  // the controller's retry_at
    for (size_t i = 0; i < waiting.size();) {
      if (static_cast<int>(flight.size()) >= parallelism) break;
      if (waiting[i].ready_at > now) {
        next = std::min(next, waiting[i].ready_at);
        ++i;
        continue;
      }
      auto d = lane.TryStart(S(now));
      if (!d.start) {
        if (d.retry_at != absl::InfiniteDuration()) {
          paced = absl::ToDoubleSeconds(d.retry_at) + wake_late;
        }
        break;
      }
      lane.OnStart(S(now), d.probe);
      // As the client does: a probe goes to a request not tried yet.
      size_t pick = i;
      if (d.probe && waiting[i].attempts > 0) {
        for (size_t k = i + 1; k < waiting.size(); ++k) {
          if (waiting[k].attempts == 0 && waiting[k].ready_at <= now) {
            pick = k;
            break;
          }
        }
      }
      Job job = waiting[pick];
      waiting.erase(waiting.begin() + pick);
      ++job.attempts;
      ++result.sent;
      const double at = now + latency / 2;
      const bool accepted = server.Accept(at);
      flight.push(
          {now + latency, accepted, d.probe, job, accepted ? std::nullopt : server.RetryAfter(at)});
    }
    if (!flight.empty()) next = std::min(next, flight.top().done);
    next = std::min(next, paced);
    REQUIRE(next < 1e17);
    now = std::max(now, next);
  }
  result.seconds = now;
  return result;
}

// An apply as Key Vault sees it: `reads` GETs, then `writes` PUTs, each
// class on its own lane (as the client keeps them), against two sliding
// windows: every request counts in the first (`all` per `window`), writes
// also in the second (`write_limit` per `window`). The writes start with
// the first window full of reads, so their lane's first limit comes from
// traffic it did not send.
SimResult SimulateApply(int reads, int writes, int all, int write_limit, double window,
                        bool retry_after, int parallelism = 16, double latency = 0.02) {
  Server all_window{Limiter::kSlidingWindow, all, window, retry_after};
  Server write_window{Limiter::kSlidingWindow, write_limit, window, retry_after};
  RateController read_lane(RatePolicy{}), write_lane(RatePolicy{});
  RetryPolicy retry;
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> uniform(0, 1);
  struct Job {
    bool write = false;
    double ready_at = 0;
    int attempts = 0;
    bool released = false;
  };
  std::vector<Job> waiting(reads);
  struct InFlight {
    double done;
    bool accepted;
    bool probe;
    Job job;
    std::optional<absl::Duration> retry_after;
    bool operator>(const InFlight& o) const { return done > o.done; }
  };
  std::priority_queue<InFlight, std::vector<InFlight>, std::greater<>> flight;
  SimResult result;
  double now = 0;
  int finished = 0;
  bool writing = false;
  while (finished < reads + writes) {
    while (!flight.empty() && flight.top().done <= now) {
      InFlight f = flight.top();
      flight.pop();
      RateController& lane = f.job.write ? write_lane : read_lane;
      if (f.accepted) {
        const bool was_throttled = lane.throttled();
        lane.OnProcessed(S(now), f.probe);
        ++finished;
        if (was_throttled && !lane.throttled()) {
          for (Job& job : waiting) {
            if (job.write == f.job.write && job.ready_at > now) {
              job.ready_at = now;
              job.released = true;
            }
          }
        }
        continue;
      }
      ++result.throttled;
      lane.OnThrottled(S(now), f.probe, f.retry_after);
      if (f.job.released) --f.job.attempts;
      f.job.released = false;
      if (f.job.attempts >= retry.max_attempts) {
        ++result.failed;
        ++finished;
        continue;
      }
      f.job.ready_at = now + absl::ToDoubleSeconds(
                                 f.retry_after.has_value()
                                     ? *f.retry_after
                                     : BackoffDelay(retry, f.job.attempts, true, uniform(rng)));
      waiting.insert(waiting.begin(), f.job);
    }
    if (!writing && finished >= reads) {
      writing = true;
      for (int i = 0; i < writes; ++i) waiting.push_back(Job{true, now, 0, false});
    }
    if (finished >= reads + writes) break;
    double next = 1e18;
    double paced = 1e18;
    bool denied[2] = {false, false};
    for (size_t i = 0; i < waiting.size();) {
      if (static_cast<int>(flight.size()) >= parallelism) break;
      Job& candidate = waiting[i];
      if (candidate.ready_at > now || denied[candidate.write]) {
        if (candidate.ready_at > now) next = std::min(next, candidate.ready_at);
        ++i;
        continue;
      }
      RateController& lane = candidate.write ? write_lane : read_lane;
      auto d = lane.TryStart(S(now));
      if (!d.start) {
        denied[candidate.write] = true;
        if (d.retry_at != absl::InfiniteDuration()) {
          paced = std::min(paced, absl::ToDoubleSeconds(d.retry_at));
        }
        ++i;
        continue;
      }
      lane.OnStart(S(now), d.probe);
      Job job = candidate;
      waiting.erase(waiting.begin() + i);
      ++job.attempts;
      ++result.sent;
      const double at = now + latency / 2;
      bool accepted = all_window.Accept(at);
      std::optional<absl::Duration> wait;
      if (!accepted) {
        wait = all_window.RetryAfter(at);
      } else if (job.write && !write_window.Accept(at)) {
        all_window.accepted.pop_back();  // refused requests do not count
        accepted = false;
        wait = write_window.RetryAfter(at);
      }
      flight.push({now + latency, accepted, d.probe, job, wait});
    }
    if (!flight.empty()) next = std::min(next, flight.top().done);
    next = std::min(next, paced);
    REQUIRE(next < 1e17);
    now = std::max(now, next);
  }
  result.seconds = now;
  return result;
}

void Report(const char* name, int n, double ideal, const SimResult& r) {
  double ratio = r.seconds / ideal;
  double share = static_cast<double>(r.throttled) / r.sent;
  const std::string line = absl::StrFormat(
      "%s: %d requests in %.1f s (ideal %.1f s, %.3fx), %d sent, %d 429s "
      "(%.1f%%), %d failed",
      name, n, r.seconds, ideal, ratio, r.sent, r.throttled, share * 100, r.failed);
  INFO(line);
  // ROTOR_SIM_VERBOSE=1 prints every figure (when tuning the policy).
  if (std::getenv("ROTOR_SIM_VERBOSE") != nullptr) MESSAGE(line);
  CHECK(r.failed == 0);
  CHECK(share <= 0.05);
  CHECK(ratio <= 1.15);
}

TEST_CASE("simulation: Key Vault secret writes, 300 per 10 s sliding window") {
  for (int n : {1000, 3000}) {
    auto r = Simulate(n, Server{Limiter::kSlidingWindow, 300, 10});
    Report("writes/sliding", n, n / 30.0, r);
  }
}

TEST_CASE("simulation: few writes, far away") {
  for (int n : {400, 700}) {
    auto r = Simulate(n, Server{Limiter::kSlidingWindow, 300, 10}, 16, 0.05);
    Report("writes/sliding/50ms", n, n / 30.0, r);
  }
}

TEST_CASE("simulation: Key Vault reads, 4000 per 10 s sliding window") {
  auto r = Simulate(12000, Server{Limiter::kSlidingWindow, 4000, 10}, 16, 0.002);
  Report("reads/sliding", 12000, 12000 / 400.0, r);
}

// A timer that fires late must not slow the paced rate down: each late
// start pushing the next slot back would lose the lateness on every request
// (at 400/s, 1 ms late per 2.5 ms spacing is a quarter of the rate).
TEST_CASE("simulation: reads paced by a timer that wakes 1 ms late") {
  auto r = Simulate(12000, Server{Limiter::kSlidingWindow, 4000, 10}, 16, 0.002, 0.001);
  Report("reads/sliding/late timer", 12000, 12000 / 400.0, r);
  auto w = Simulate(1000, Server{Limiter::kSlidingWindow, 300, 10}, 16, 0.005, 0.001);
  Report("writes/sliding/late timer", 1000, 1000 / 30.0, w);
}

// A stamp may throttle on a shorter window than Key Vault's 10 s, where a
// Retry-After rounded up to a whole second is a whole window.
TEST_CASE("simulation: windows from 1 s to 10 s, with and without Retry-After") {
  for (bool retry_after : {false, true}) {
    for (double window : {1.0, 2.0, 5.0, 10.0}) {
      CAPTURE(retry_after);
      CAPTURE(window);
      const int reads = static_cast<int>(100 * window);
      auto r =
          Simulate(1050, Server{Limiter::kSlidingWindow, reads, window, retry_after}, 16, 0.02);
      Report("reads/sliding/20ms", 1050, 1050 / 100.0, r);
      const int writes = static_cast<int>(30 * window);
      auto w =
          Simulate(1000, Server{Limiter::kSlidingWindow, writes, window, retry_after}, 16, 0.02);
      Report("writes/sliding/20ms", 1000, 1000 / 30.0, w);
    }
  }
  auto r = Simulate(12000, Server{Limiter::kSlidingWindow, 4000, 10, true}, 16, 0.002);
  Report("reads/sliding/Retry-After", 12000, 12000 / 400.0, r);
}

// rotor_bench's throttled applies: 1050 reads, then 1000 writes, under Key
// Vault's limits (4000 and 300 per 10 s) and the same rates per second (100
// and 30 per 1 s, where the writes' lane starts against a window the reads
// filled).
TEST_CASE("simulation: an apply, reads then writes, 10-s and 1-s windows") {
  struct Limits {
    int all;
    int writes;
    double window;
    double read_rate;
  };
  for (bool retry_after : {false, true}) {
    for (const Limits& l : {Limits{4000, 300, 10, 400}, Limits{100, 30, 1, 100}}) {
      CAPTURE(retry_after);
      CAPTURE(l.window);
      auto r = SimulateApply(1050, 1000, l.all, l.writes, l.window, retry_after);
      // rotor_bench's "limits' time": reads at the read rate, writes at 30/s.
      Report("apply/sliding/20ms", 2050, 1050 / l.read_rate + 1000 / 30.0, r);
    }
  }
}

TEST_CASE("simulation: fixed window") {
  auto r = Simulate(1000, Server{Limiter::kFixedWindow, 300, 10});
  Report("writes/fixed", 1000, 1000 / 30.0, r);
}

TEST_CASE("simulation: token bucket") {
  auto r = Simulate(1000, Server{Limiter::kTokenBucket, 300, 10});
  Report("writes/bucket", 1000, (1000 - 300) / 30.0, r);
}

}  // namespace
}  // namespace rotor::http
