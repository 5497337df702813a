// RateController: how fast the client sends to one host (one "lane"), learnt
// from the 429s the host answers. The HTTP client keeps one per host and
// operation class (reads: GET/HEAD; writes: everything else, because Key
// Vault limits secret writes far below reads: 300 vs 4000 per 10 s).
//
// Until the first 429 a lane is not limited (only the client's parallelism
// applies). On a 429 the lane stops sending altogether: it waits for the
// server's Retry-After, or probe_interval, then lets exactly one request
// through as a probe, and keeps doing so until a probe is accepted. A lane
// that was already paced (it overshot a rate it had learnt) waits less: 2
// request spacings, doubling per failed probe, at most probe_interval or
// the Retry-After, which servers round up to whole seconds (a whole window
// on a host that limits per second). When a probe is accepted the client
// also releases the requests waiting out a 429 into the lane. Requests
// waiting for the lane do not hold a connection slot. When a probe succeeds
// the lane resumes at the rate it actually achieved since it last resumed
// (successful requests / elapsed time, which includes the pause, so it sits
// at or below the server's limit), spaced evenly; a start a little late
// (the client's timer) keeps the schedule rather than pushing it back, so
// the lane really sends at that rate. While requests are queued
// behind that rate it grows (increase_per_second, multiplicative,
// plus min_increase; a quarter of that within 3% of the rate the host last
// refused, so the lane spends its time just under the limit); the next 429
// cuts it again (at least by `decrease`, at most by half). A first 429
// after fewer than 10 successes measures other traffic (a window other
// requests filled): the lane is unlimited again, once, so the next 429
// measures its own. After `forget_after` without a 429 the lane is
// unlimited again.
//
// Time is a monotonic absl::Duration supplied by the caller, so the
// controller is tested in simulated time. Not thread-safe: the client's I/O
// thread owns every controller.
#ifndef ROTOR_PROVIDERS_HTTP_RATE_CONTROLLER_H_
#define ROTOR_PROVIDERS_HTTP_RATE_CONTROLLER_H_

#include <optional>

#include "absl/time/time.h"

namespace rotor::http {

struct RatePolicy {
  // false: ignore 429s for pacing (only per-request retries apply).
  bool adaptive = true;
  // Pause before the next probe after a 429 without Retry-After. When the
  // lane was already paced the first pauses are shorter (2 request spacings,
  // doubling per failed probe) and this (or a shorter Retry-After) is their
  // cap.
  absl::Duration probe_interval = absl::Seconds(1);
  // Growth of the paced rate per second while requests wait for it, and
  // the cut on a 429 (below); tuned in simulation (rate_controller_test.cc)
  // against sliding windows from 1 s to 10 s, with and without Retry-After.
  double increase_per_second = 0.04;
  double min_increase = 0.1;  // requests/s per second
  // After a 429 the rate is at most `decrease` times the rate before it, and
  // never below half of it or min_rate (requests/s).
  double decrease = 0.92;
  double min_rate = 1.0;
  // A lane that has seen no 429 for this long is unlimited again.
  absl::Duration forget_after = absl::Minutes(5);
};

class RateController {
 public:
  explicit RateController(const RatePolicy& policy) : policy_(policy) {}

  struct Decision {
    bool start = false;  // the request may start now
    bool probe = false;  // ... as the lane's single probe
    // When not starting: when to ask again. InfiniteFuture() means "after
    // the probe in flight finishes".
    absl::Duration retry_at = absl::InfiniteDuration();
  };
  // Asks whether one more request may start at `now`. Does not reserve
  // anything: call OnStart when the request is actually started.
  Decision TryStart(absl::Duration now);
  void OnStart(absl::Duration now, bool probe);

  // Outcomes of a started request (exactly one per OnStart).
  // 429: `retry_after` is the server's (already scaled) wait, if any.
  void OnThrottled(absl::Duration now, bool probe, std::optional<absl::Duration> retry_after);
  // Any other HTTP answer: the server processed the request.
  void OnProcessed(absl::Duration now, bool probe);
  // Transport failure: says nothing about the rate; a failed probe is
  // retried after another pause.
  void OnFailed(absl::Duration now, bool probe);

  // Requests/s the lane is paced at; 0 when unlimited.
  double rate() const { return rate_; }
  bool throttled() const { return throttled_; }
  int in_flight() const { return in_flight_; }

 private:
  void Grow(absl::Duration now);
  void Resume(absl::Duration now);
  absl::Duration ProbePause() const;

  RatePolicy policy_;
  double rate_ = 0;           // 0 = unlimited
  absl::Duration next_send_;  // pacing: earliest start of the next one
  absl::Duration last_grow_;
  bool waited_for_rate_ = false;  // a request waited on pacing since last_grow_
  bool throttled_ = false;
  bool unmeasured_resume_ = false;  // resumed unlimited once after too few successes
  double last_refused_rate_ = 0;    // the paced rate of the last 429
  bool probe_in_flight_ = false;
  int failed_probes_ = 0;
  double rate_before_throttle_ = 0;
  absl::Duration blocked_until_;
  absl::Duration last_throttle_ = -absl::InfiniteDuration();
  // Achieved-rate measurement since the lane last resumed (or woke up idle).
  absl::Duration cycle_start_ = -absl::InfiniteDuration();
  double cycle_successes_ = 0;
  absl::Duration last_activity_ = -absl::InfiniteDuration();
  int in_flight_ = 0;
};

}  // namespace rotor::http

#endif  // ROTOR_PROVIDERS_HTTP_RATE_CONTROLLER_H_
