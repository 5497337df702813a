// RecordingSender: an http::HttpSender for unit tests that records every
// request (method, URL, headers, body) and answers from a script: a
// function of the request, or a queue of canned answers and errors.
#ifndef ROTOR_TESTS_FAKES_RECORDING_SENDER_H_
#define ROTOR_TESTS_FAKES_RECORDING_SENDER_H_

#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "providers/http/http_client.h"

namespace rotor::fakes {

struct RecordedRequest {
  std::string method;
  std::string url;
  http::HttpHeaders headers;
  std::string body;  // tests only: may hold what a real sender would wipe
  bool idempotent = false;
};

class RecordingSender : public http::HttpSender {
 public:
  using Handler = std::function<absl::StatusOr<http::HttpResponse>(const http::HttpRequest&)>;

  RecordingSender() = default;
  explicit RecordingSender(Handler handler) : handler_(std::move(handler)) {}

  // Queued answers are used first, in order; then the handler; without
  // either a request fails with Unavailable ("no answer scripted").
  void Enqueue(absl::StatusOr<http::HttpResponse> answer);
  // An answer with `status`, `body` and, optionally, headers.
  static http::HttpResponse Answer(int status, std::string body = "",
                                   http::HttpHeaders headers = {});

  std::vector<RecordedRequest> requests() const;

  absl::StatusOr<http::HttpResponse> Send(http::HttpRequest request) override;
  std::vector<absl::StatusOr<http::HttpResponse>> SendAll(
      std::vector<http::HttpRequest> requests) override;

 private:
  Handler handler_;
  mutable std::mutex mu_;
  std::deque<absl::StatusOr<http::HttpResponse>> queue_;
  std::vector<RecordedRequest> requests_;
};

}  // namespace rotor::fakes

#endif  // ROTOR_TESTS_FAKES_RECORDING_SENDER_H_
