#include "providers/http/rate_controller.h"

#include <algorithm>
#include <cmath>

namespace rotor::http {
namespace {

// A lane with nothing in flight for this long starts a new measurement.
constexpr absl::Duration kIdleReset = absl::Seconds(1);
// Fewer successes than this since the lane resumed do not measure a rate.
constexpr double kMinSamples = 10;
// Above this the pacing is pointless; the lane becomes unlimited.
constexpr double kMaxRate = 100000;
// A start this many spacings after its slot keeps the schedule: the
// client's timer fires late (poll rounds up to whole milliseconds), and
// pushing every next slot back by that lateness would lower the rate (1 ms
// late per 2.5 ms spacing is a quarter of 400/s). The price is a burst of at
// most this many requests after a pause in demand.
constexpr double kCatchUpSpacings = 3;

// At this share of the rate last refused, growth slows to kNearLimitGrowth
// of increase_per_second.
constexpr double kNearLimit = 0.97;
constexpr double kNearLimitGrowth = 0.25;

absl::Duration Spacing(double rate) { return absl::Seconds(1.0 / rate); }

}  // namespace

void RateController::Grow(absl::Duration now) {
  if (rate_ <= 0 || throttled_) return;
  if (now - last_throttle_ > policy_.forget_after) {
    rate_ = 0;
    return;
  }
  double dt = absl::ToDoubleSeconds(now - last_grow_);
  if (dt <= 0) return;
  if (waited_for_rate_) {
    double increase = policy_.increase_per_second;
    // Close to the rate the host last refused, creep: an overshoot costs a
    // pause and a cut, so the lane spends its time just under the limit.
    if (last_refused_rate_ > 0 && rate_ >= last_refused_rate_ * kNearLimit) {
      increase *= kNearLimitGrowth;
    }
    rate_ = rate_ * std::pow(1.0 + increase, dt) + policy_.min_increase * dt;
    if (rate_ > kMaxRate) rate_ = 0;
  }
  waited_for_rate_ = false;
  last_grow_ = now;
}

RateController::Decision RateController::TryStart(absl::Duration now) {
  Decision d;
  if (!policy_.adaptive) {
    d.start = true;
    return d;
  }
  if (in_flight_ == 0 && !throttled_ && now - last_activity_ > kIdleReset) {
    cycle_start_ = now;
    cycle_successes_ = 0;
  }
  if (throttled_) {
    if (probe_in_flight_) return d;  // wait for its answer
    if (now < blocked_until_) {
      d.retry_at = blocked_until_;
      return d;
    }
    d.start = true;
    d.probe = true;
    return d;
  }
  Grow(now);
  if (rate_ > 0 && next_send_ > now) {
    waited_for_rate_ = true;
    d.retry_at = next_send_;
    return d;
  }
  d.start = true;
  return d;
}

void RateController::OnStart(absl::Duration now, bool probe) {
  ++in_flight_;
  last_activity_ = now;
  if (probe) probe_in_flight_ = true;
  if (rate_ > 0) {
    const absl::Duration spacing = Spacing(rate_);
    next_send_ = std::max(next_send_, now - kCatchUpSpacings * spacing) + spacing;
  }
}

absl::Duration RateController::ProbePause() const {
  if (rate_before_throttle_ <= 0) return policy_.probe_interval;
  absl::Duration pause =
      Spacing(rate_before_throttle_) * 2 * std::ldexp(1.0, std::min(failed_probes_, 20));
  return std::min(pause, policy_.probe_interval);
}

void RateController::OnThrottled(absl::Duration now, bool probe,
                                 std::optional<absl::Duration> retry_after) {
  --in_flight_;
  last_activity_ = now;
  if (!policy_.adaptive) return;
  last_throttle_ = now;
  if (!throttled_) {
    throttled_ = true;
    rate_before_throttle_ = rate_;
    if (rate_ > 0) last_refused_rate_ = rate_;
    failed_probes_ = 0;
    blocked_until_ = now;
  }
  if (probe) {
    probe_in_flight_ = false;
    ++failed_probes_;
  }
  absl::Duration pause = ProbePause();
  if (retry_after.has_value()) {
    pause = rate_before_throttle_ > 0 ? std::min(*retry_after, pause) : *retry_after;
  }
  blocked_until_ = std::max(blocked_until_, now + pause);
}

void RateController::OnProcessed(absl::Duration now, bool probe) {
  --in_flight_;
  last_activity_ = now;
  cycle_successes_ += 1;
  if (probe && throttled_) Resume(now);
}

void RateController::OnFailed(absl::Duration now, bool probe) {
  --in_flight_;
  last_activity_ = now;
  if (probe && throttled_) {
    probe_in_flight_ = false;
    blocked_until_ = std::max(blocked_until_, now + ProbePause());
  }
}

void RateController::Resume(absl::Duration now) {
  double seconds = absl::ToDoubleSeconds(now - cycle_start_);
  if (rate_before_throttle_ <= 0 && cycle_successes_ < kMinSamples && !unmeasured_resume_) {
    // A first 429 after fewer than kMinSamples successes measures someone
    // else's traffic (a window other requests filled): unlimited again,
    // once, so the next 429 measures this lane's own.
    unmeasured_resume_ = true;
    throttled_ = false;
    probe_in_flight_ = false;
    failed_probes_ = 0;
    cycle_start_ = now;
    cycle_successes_ = 0;
    return;
  }
  double measured = seconds > 0 && std::isfinite(seconds) ? cycle_successes_ / seconds : 0;
  double next = measured;
  if (rate_before_throttle_ > 0) {
    // Too short a cycle says little about the server's limit.
    if (cycle_successes_ < kMinSamples) measured = rate_before_throttle_;
    next = std::min(measured, rate_before_throttle_ * policy_.decrease);
    next = std::max(next, rate_before_throttle_ * 0.5);
  }
  rate_ = std::max(next, policy_.min_rate);
  throttled_ = false;
  probe_in_flight_ = false;
  failed_probes_ = 0;
  next_send_ = now + Spacing(rate_);
  last_grow_ = now;
  waited_for_rate_ = false;
  cycle_start_ = now;
  cycle_successes_ = 0;
}

}  // namespace rotor::http
