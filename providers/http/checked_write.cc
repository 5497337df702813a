#include "providers/http/checked_write.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "base/status_context.h"
#include "providers/http/url.h"

namespace rotor::http {

absl::Status SendCheckedWrite(HttpSender& sender, const CheckedWrite& write,
                              const CheckedWriteOptions& options, CheckedWriteStats* stats) {
  CheckedWriteStats local;
  CheckedWriteStats& counts = stats != nullptr ? *stats : local;
  auto uniform = [&] { return options.uniform ? options.uniform() : ProcessUniform(); };
  auto log = [&](absl::string_view line) {
    if (options.log) options.log(LogLevel::kInfo, line);
  };
  const int max_attempts = std::max(1, options.max_attempts);
  for (int attempt = 1;; ++attempt) {
    HttpRequest request = write.make();
    request.idempotent = false;
    const std::string where = absl::StrCat(request.method, " ", RedactUrl(request.url));
    absl::StatusOr<HttpResponse> response = sender.Send(std::move(request));
    absl::Status error;
    bool unknown_outcome = false;
    std::optional<absl::Duration> delay;
    if (response.ok() && response->ok()) {
      absl::Status accepted = write.accept(*response);
      if (accepted.ok()) return accepted;
      // The server answered 2xx but the answer cannot be read: the write may
      // well have taken effect.
      error =
          absl::UnavailableError(absl::StrCat(where, ": unreadable answer: ", accepted.message()));
      unknown_outcome = true;
    } else if (response.ok()) {
      error = write.error_of(*response);
      if (response->status == 429) {
        ++counts.throttled;
        delay = ParseRetryAfter(response->headers, options.now());
        if (!delay.has_value()) {
          delay = BackoffDelay(options.backoff, attempt, /*throttled=*/true, uniform());
        }
      } else if (IsRetryableStatus(response->status)) {
        unknown_outcome = true;
      } else {
        return error;
      }
    } else {
      error = write.transport_error ? write.transport_error(response.status()) : response.status();
      if (HttpStatusOf(response.status()) == 429) {
        // An HttpClient sent the 429 again as far as its RetryPolicy goes
        // and gave up: the write was not processed, and sending it more
        // would multiply the client's attempts by ours.
        ++counts.throttled;
        return WithMessage(error, absl::StrCat(write.what, ": ", error.message()));
      }
      if (error.code() != absl::StatusCode::kUnavailable &&
          error.code() != absl::StatusCode::kDeadlineExceeded) {
        return error;
      }
      unknown_outcome = true;
    }
    if (attempt >= max_attempts) {
      return WithMessage(error, absl::StrCat(write.what, ": ", error.message(), " (gave up after ",
                                             attempt, " attempts)"));
    }
    if (unknown_outcome) {
      ++counts.checks;
      absl::StatusOr<bool> landed = write.landed();
      if (!landed.ok()) {
        return WithMessage(error,
                           absl::StrCat(write.what, ": ", error.message(),
                                        "; whether it took effect could not be read (",
                                        landed.status().message(), "), so it was not sent again"));
      }
      if (*landed) {
        ++counts.landed_without_answer;
        log(absl::StrCat(write.what, ": the write took effect although its answer was lost (",
                         error.message(), ")"));
        return absl::OkStatus();
      }
      delay = BackoffDelay(options.backoff, attempt, /*throttled=*/false, uniform());
    }
    ++counts.retries;
    log(absl::StrCat(write.what, ": ", error.message(), "; sending it again in ",
                     absl::FormatDuration(absl::Trunc(*delay, absl::Milliseconds(1))), " (attempt ",
                     attempt + 1, "/", max_attempts, ")"));
    options.sleep(*delay);
  }
}

}  // namespace rotor::http
