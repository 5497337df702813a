// Fault injection: sliding-window throttles (Key Vault's per-vault limits)
// and random failures / dropped connections from one seeded generator.
#ifndef ROTOR_TESTS_EMULATOR_FAULTS_H_
#define ROTOR_TESTS_EMULATOR_FAULTS_H_

#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <random>

#include "absl/time/time.h"
#include "tests/emulator/options.h"

namespace rotor::emulator {

// At most `limit.count` admissions per sliding `limit.window`. Refused
// requests do not count (Key Vault: "Failed requests that return a 429 do
// not count towards the throttle limits").
class SlidingWindow {
 public:
  explicit SlidingWindow(RateLimit limit) : limit_(limit) {}
  // nullopt: admitted (and counted). Else how long until a slot frees up.
  std::optional<absl::Duration> Admit(absl::Time now);
  // Counts an admission without checking (a request that passed another
  // window first and must use this one's budget too).
  void Record(absl::Time now);
  // Takes back the last admission (the request was refused elsewhere).
  void Undo();

 private:
  void Expire(absl::Time now);
  RateLimit limit_;
  std::mutex mu_;
  std::deque<absl::Time> admitted_;
};

enum class Fault { kNone, kFail500, kFail503, kDrop };

class FaultInjector {
 public:
  FaultInjector(double fail_rate, double drop_rate, uint64_t seed)
      : fail_rate_(fail_rate), drop_rate_(drop_rate), rng_(seed) {}
  // One decision per request, drawn in arrival order from the seeded
  // generator (no draw at all when both rates are 0).
  Fault Next();

 private:
  double fail_rate_;
  double drop_rate_;
  std::mutex mu_;
  std::mt19937_64 rng_;
};

}  // namespace rotor::emulator

#endif  // ROTOR_TESTS_EMULATOR_FAULTS_H_
