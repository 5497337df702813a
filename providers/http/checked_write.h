// A write that must not be applied twice (a new secret version, a
// deployment), sent until it is known to have taken effect or to have
// failed: the one "write once, then check it landed" rule the Key Vault and
// ARM clients share.
//
// An answer is classified as
//  - 2xx: accepted, unless `accept` cannot read it (a corrupt answer);
//  - 429: not processed; sent again after Retry-After, or the throttle
//    schedule of BackoffDelay. An HttpClient sends a 429 again itself, as
//    far as its RetryPolicy goes, paced by the host's lane; its error when it
//    gives up (HttpStatusOf 429) is final here, not sent again;
//  - 408 and 5xx, a lost connection or a timeout, and a corrupt 2xx: the
//    outcome is unknown. `landed` reads whether the write took effect: if it
//    did, that is the result; if it did not, the write is sent again after
//    BackoffDelay; if that cannot be read, the write fails without being
//    sent again;
//  - anything else: a final error (`error_of`).
// At most `max_attempts` sends.
#ifndef ROTOR_PROVIDERS_HTTP_CHECKED_WRITE_H_
#define ROTOR_PROVIDERS_HTTP_CHECKED_WRITE_H_

#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "providers/http/http_client.h"
#include "providers/http/retry.h"

namespace rotor::http {

struct CheckedWrite {
  std::string what;  // "writing secret admin", for messages
  // A fresh request for each attempt.
  std::function<HttpRequest()> make;
  // Takes a 2xx answer (keeping what the caller needs); an error means the
  // answer could not be read, which makes the outcome unknown.
  std::function<absl::Status(const HttpResponse&)> accept;
  // The error a non-2xx answer means (with the request's method and URL).
  std::function<absl::Status(const HttpResponse&)> error_of;
  // A transport error with the caller's context; identity when unset.
  std::function<absl::Status(const absl::Status&)> transport_error;
  // After an unknown outcome: true when the write took effect (having kept
  // what `accept` would have), false when it did not, an error when that
  // cannot be read.
  std::function<absl::StatusOr<bool>()> landed;
};

struct CheckedWriteOptions {
  int max_attempts = 4;
  RetryPolicy backoff;  // initial_backoff, max_backoff, throttle_backoff
  std::function<absl::Time()> now = [] { return absl::Now(); };
  std::function<void(absl::Duration)> sleep = [](absl::Duration d) { absl::SleepFor(d); };
  std::function<double()> uniform;  // [0, 1); unset: a process-wide generator
  LogSink log;
};

struct CheckedWriteStats {
  int64_t throttled = 0;              // 429 answers
  int64_t checks = 0;                 // `landed` calls
  int64_t landed_without_answer = 0;  // ... that found the write done
  int64_t retries = 0;                // sends after the first
};

absl::Status SendCheckedWrite(HttpSender& sender, const CheckedWrite& write,
                              const CheckedWriteOptions& options, CheckedWriteStats* stats);

}  // namespace rotor::http

#endif  // ROTOR_PROVIDERS_HTTP_CHECKED_WRITE_H_
