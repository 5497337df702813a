#include "tests/fakes/recording_sender.h"

#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"

namespace rotor::fakes {

void RecordingSender::Enqueue(absl::StatusOr<http::HttpResponse> answer) {
  std::lock_guard<std::mutex> lock(mu_);
  queue_.push_back(std::move(answer));
}

http::HttpResponse RecordingSender::Answer(int status, std::string body,
                                           http::HttpHeaders headers) {
  return http::HttpResponse(status, std::move(headers), std::move(body));
}

std::vector<RecordedRequest> RecordingSender::requests() const {
  std::lock_guard<std::mutex> lock(mu_);
  return requests_;
}

absl::StatusOr<http::HttpResponse> RecordingSender::Send(http::HttpRequest request) {
  std::optional<absl::StatusOr<http::HttpResponse>> queued;
  {
    std::lock_guard<std::mutex> lock(mu_);
    requests_.push_back(RecordedRequest{request.method, request.url, request.headers,
                                        std::string(request.body.Reveal()), request.idempotent});
    if (!queue_.empty()) {
      queued = std::move(queue_.front());
      queue_.pop_front();
    }
  }
  if (queued.has_value()) return *std::move(queued);
  if (handler_) return handler_(request);
  return absl::UnavailableError(
      absl::StrCat(request.method, " ", request.url, ": no answer scripted"));
}

std::vector<absl::StatusOr<http::HttpResponse>> RecordingSender::SendAll(
    std::vector<http::HttpRequest> requests) {
  std::vector<absl::StatusOr<http::HttpResponse>> out;
  for (auto& r : requests) out.push_back(Send(std::move(r)));
  return out;
}

}  // namespace rotor::fakes
