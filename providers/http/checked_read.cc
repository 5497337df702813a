#include "providers/http/checked_read.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "providers/http/url.h"

namespace rotor::http {

absl::StatusOr<HttpResponse> SendCheckedRead(
    HttpSender& sender, const std::function<HttpRequest()>& make,
    const std::function<absl::Status(const HttpResponse&)>& accept,
    const CheckedReadOptions& options) {
  const int max_attempts = std::max(1, options.max_attempts);
  for (int attempt = 1;; ++attempt) {
    HttpRequest request = make();
    const std::string where = absl::StrCat(request.method, " ", RedactUrl(request.url));
    absl::StatusOr<HttpResponse> response = sender.Send(std::move(request));
    if (!response.ok() || !response->ok()) return response;
    absl::Status accepted = accept(*response);
    if (accepted.ok()) return response;
    if (attempt >= max_attempts) {
      return absl::Status(accepted.code(),
                          absl::StrCat(where, ": ", accepted.message(), " (read ", attempt,
                                       attempt == 1 ? " time)" : " times)"));
    }
    const absl::Duration delay =
        BackoffDelay(options.backoff, attempt, /*throttled=*/false,
                     options.uniform ? options.uniform() : ProcessUniform());
    if (options.log) {
      options.log(LogLevel::kInfo, absl::StrCat(where, ": unreadable answer (", accepted.message(),
                                                "); reading again in ", ShowDuration(delay),
                                                " (attempt ", attempt + 1, "/", max_attempts, ")"));
    }
    options.sleep(delay);
  }
}

}  // namespace rotor::http
