#include "providers/http/checked_read.h"

#include <doctest/doctest.h>

#include <vector>

#include "absl/strings/match.h"
#include "tests/fakes/recording_sender.h"

namespace rotor::http {
namespace {

using fakes::RecordingSender;

// Accepts an answer whose body is "good".
absl::Status AcceptGood(const HttpResponse& response) {
  if (response.body == "good") return absl::OkStatus();
  return absl::InvalidArgumentError("field \"value\" is a string, not an array");
}

CheckedReadOptions NoWait(std::vector<absl::Duration>* waits) {
  CheckedReadOptions options;
  options.sleep = [waits](absl::Duration d) { waits->push_back(d); };
  options.uniform = [] { return 0.5; };
  return options;
}

TEST_CASE("a read with an unreadable answer is sent again until one can be read") {
  RecordingSender sender;
  sender.Enqueue(RecordingSender::Answer(200, "{\"value\":\"trunc"));
  sender.Enqueue(RecordingSender::Answer(200, "garbage"));
  sender.Enqueue(RecordingSender::Answer(200, "good"));
  std::vector<absl::Duration> waits;
  auto r = SendCheckedRead(
      sender, [] { return Get("https://v.vault.localhost/secrets?api-version=7.4"); }, AcceptGood,
      NoWait(&waits));
  REQUIRE(r.ok());
  CHECK(r->body == "good");
  CHECK(sender.requests().size() == 3);
  CHECK(waits.size() == 2);
}

TEST_CASE("a read gives up after max_attempts unreadable answers, naming the URL") {
  RecordingSender sender([](const HttpRequest&) -> absl::StatusOr<HttpResponse> {
    return RecordingSender::Answer(200, "bad");
  });
  std::vector<absl::Duration> waits;
  auto r = SendCheckedRead(
      sender, [] { return Get("https://v.vault.localhost/secrets?api-version=7.4"); }, AcceptGood,
      NoWait(&waits));
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(r.status().message() ==
        "GET https://v.vault.localhost/secrets?api-version=7.4: field \"value\" is a string, not "
        "an array (read 4 times)");
  CHECK(sender.requests().size() == 4);
}

TEST_CASE("a read returns a non-2xx answer and a transport error as they are") {
  RecordingSender sender;
  sender.Enqueue(RecordingSender::Answer(404, "{}"));
  sender.Enqueue(absl::UnavailableError("GET https://x: connection reset"));
  std::vector<absl::Duration> waits;
  auto make = [] { return Get("https://x/"); };
  auto not_found = SendCheckedRead(sender, make, AcceptGood, NoWait(&waits));
  REQUIRE(not_found.ok());
  CHECK(not_found->status == 404);
  auto lost = SendCheckedRead(sender, make, AcceptGood, NoWait(&waits));
  CHECK(lost.status().code() == absl::StatusCode::kUnavailable);
  CHECK(waits.empty());
}

}  // namespace
}  // namespace rotor::http
