#include "base/process.h"

#include <doctest/doctest.h>

namespace rotor {
namespace {

TEST_CASE("RunProcess captures output, exit code and stdin without a shell") {
  auto r = RunProcess({"sh", "-c", "cat; echo err >&2; exit 3"},
                      ProcessOptions{.stdin_data = "in put", .env = {}, .working_dir = {}});
  REQUIRE(r.ok());
  CHECK(r->exit_code == 3);
  CHECK(r->stdout_data == "in put");
  CHECK(r->stderr_data == "err\n");

  // Arguments are not interpreted by a shell.
  auto echo = RunProcess({"echo", "$HOME", "a;b"});
  REQUIRE(echo.ok());
  CHECK(echo->stdout_data == "$HOME a;b\n");
}

TEST_CASE("RunProcess sets and removes environment variables") {
  ProcessOptions options;
  options.env["ROTOR_TEST_VAR"] = "value";
  options.env["HOME"] = std::nullopt;
  auto r = RunProcess({"sh", "-c", "echo \"$ROTOR_TEST_VAR:${HOME-unset}\""}, options);
  REQUIRE(r.ok());
  CHECK(r->stdout_data == "value:unset\n");
}

TEST_CASE("RunProcess reports a missing program and enforces the timeout") {
  auto missing = RunProcess({"rotor-no-such-program"});
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.status().code() == absl::StatusCode::kNotFound);
  CHECK(std::string(missing.status().message()).find("run rotor-no-such-program") == 0);

  auto slow = RunProcess(
      {"sleep", "5"},
      ProcessOptions{
          .stdin_data = {}, .env = {}, .working_dir = {}, .timeout = absl::Milliseconds(100)});
  REQUIRE(slow.ok());
  CHECK(slow->timed_out);
}

TEST_CASE("BackgroundProcess stops its process group") {
  auto p = BackgroundProcess::Start({"sleep", "30"});
  REQUIRE(p.ok());
  CHECK(p->Running());
  CHECK(p->Stop() == 128 + 15);
  CHECK_FALSE(p->Running());
}

}  // namespace
}  // namespace rotor
