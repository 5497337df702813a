// Fault injection: sliding-window throttles (Key Vault's per-vault limits),
// random failures / dropped connections from one seeded generator, and
// faults of the answer itself (a corrupted JSON body, an answer held back
// past the client's timeout) from a second one.
#ifndef ROTOR_TESTS_EMULATOR_FAULTS_H_
#define ROTOR_TESTS_EMULATOR_FAULTS_H_

#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "tests/emulator/http_types.h"
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

// What happens to the answer of a request that was carried out.
struct AnswerFault {
  // Truncate (`truncate`) or garble the body (--corrupt-rate).
  bool corrupt = false;
  bool truncate = false;
  double position = 0;  // where, as a share of the body's length [0, 1)
  // Hold the answer back (--slow-rate, for --slow).
  bool slow = false;
};

// A corrupted copy of `body`: cut at `position` (truncate), or with a
// garbage character put in at `position` (a JSON parser must refuse both).
std::string CorruptBody(const std::string& body, const AnswerFault& fault);

class FaultInjector {
 public:
  FaultInjector(double fail_rate, double drop_rate, uint64_t seed, double corrupt_rate = 0,
                double slow_rate = 0)
      : fail_rate_(fail_rate),
        drop_rate_(drop_rate),
        corrupt_rate_(corrupt_rate),
        slow_rate_(slow_rate),
        rng_(seed),
        answer_rng_(seed ^ 0x9e3779b97f4a7c15ULL) {}
  // One decision per request, drawn in arrival order from the seeded
  // generator (no draw at all when both rates are 0).
  Fault Next();
  // One decision per request carried out, from a second generator of the
  // same seed (so adding answer faults leaves Next()'s decisions as they
  // were); no draw when both rates are 0.
  AnswerFault NextAnswer();

 private:
  double fail_rate_;
  double drop_rate_;
  double corrupt_rate_;
  double slow_rate_;
  std::mutex mu_;
  std::mt19937_64 rng_;
  std::mt19937_64 answer_rng_;
};

// Scripted answers (POST /_emulator/answer): requests that match a method
// and a path get a given answer instead of the emulated one (and are not
// carried out), for tests of what clients do with broken or hostile
// answers: truncated or malformed JSON, wrong types, huge bodies, bad
// nextLinks.
struct ScriptedAnswer {
  std::string method;  // "*" matches any
  // The request path (percent-decoded, no query); a trailing '*' matches
  // any path that starts with what comes before it.
  std::string path;
  int remaining = 1;  // answers left; 0 or less: until cleared
  HttpResponse response;
};

class ScriptedAnswers {
 public:
  void Add(ScriptedAnswer answer);
  void Clear();
  // The answer for `request` (the first added that matches), counting it.
  std::optional<HttpResponse> Take(const HttpRequest& request);

 private:
  std::mutex mu_;
  std::vector<ScriptedAnswer> answers_;
};

}  // namespace rotor::emulator

#endif  // ROTOR_TESTS_EMULATOR_FAULTS_H_
