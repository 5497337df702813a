// Clock: the one source of "now" for rotor's logic, injected so tests are
// deterministic (rotate_after, certificate expiry, deployment timestamps).
#ifndef ROTOR_BASE_CLOCK_H_
#define ROTOR_BASE_CLOCK_H_

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace rotor {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual absl::Time Now() const = 0;
};

class RealClock : public Clock {
 public:
  absl::Time Now() const override { return absl::Now(); }
  static const Clock& Get() {
    static const RealClock clock;
    return clock;
  }
};

// A clock that only moves when told to.
class FakeClock : public Clock {
 public:
  explicit FakeClock(absl::Time now) : now_(now) {}
  absl::Time Now() const override { return now_; }
  void Advance(absl::Duration d) { now_ += d; }
  void Set(absl::Time t) { now_ = t; }

 private:
  absl::Time now_;
};

}  // namespace rotor

#endif  // ROTOR_BASE_CLOCK_H_
