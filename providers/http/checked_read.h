// A read whose answer must be understood, sent again when it is not: the
// companion of checked_write.h for requests that change nothing (GETs, a
// token request, a status poll).
//
// The HTTP client already retries what it can judge (408, 429, 5xx,
// connection failures). A 2xx answer that the caller cannot read (truncated
// or garbled JSON, a known field of the wrong type) is something only the
// caller can judge: SendCheckedRead sends the read again after BackoffDelay,
// like a transport failure, since corruption on the way (a proxy cutting a
// body, a flipped byte) is usually gone on the next try. After
// `max_attempts` unreadable answers the read fails with the last reason,
// prefixed with the method and the redacted URL. A non-2xx answer and a
// transport error are returned as they are, for the caller to map.
#ifndef ROTOR_PROVIDERS_HTTP_CHECKED_READ_H_
#define ROTOR_PROVIDERS_HTTP_CHECKED_READ_H_

#include <functional>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "providers/http/http_client.h"
#include "providers/http/retry.h"

namespace rotor::http {

struct CheckedReadOptions {
  int max_attempts = 4;
  RetryPolicy backoff;  // initial_backoff and max_backoff
  std::function<void(absl::Duration)> sleep = [](absl::Duration d) { absl::SleepFor(d); };
  std::function<double()> uniform;  // [0, 1); unset: a process-wide generator
  LogSink log;
};

// Sends make() until `accept` takes a 2xx answer (returning that answer),
// an answer is not 2xx (returned for the caller to judge), the transport
// fails (its error), or `max_attempts` answers were unreadable:
//   GET https://v.vault.../secrets?api-version=7.4: field "value[0].id" is a
//   number, not a string (read 4 times)
// with the code of accept's last error.
absl::StatusOr<HttpResponse> SendCheckedRead(
    HttpSender& sender, const std::function<HttpRequest()>& make,
    const std::function<absl::Status(const HttpResponse&)>& accept,
    const CheckedReadOptions& options);

}  // namespace rotor::http

#endif  // ROTOR_PROVIDERS_HTTP_CHECKED_READ_H_
