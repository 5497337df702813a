#include "base/process.h"

#include <doctest/doctest.h>
#include <signal.h>
#include <unistd.h>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"

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

bool Alive(pid_t pid) { return ::kill(pid, 0) == 0; }

// Waits up to 2 s for `pid` to be gone (a killed process is reaped by init).
bool GoneSoon(pid_t pid) {
  for (int i = 0; i < 200 && Alive(pid); ++i) absl::SleepFor(absl::Milliseconds(10));
  return !Alive(pid);
}

TEST_CASE("RunProcess ends the program's whole process group on a timeout") {
  // The shell starts a sleep in the background and waits; both share the
  // group, and the sleep holds stdout open, so only killing the group ends
  // the read.
  ProcessOptions options;
  options.timeout = absl::Milliseconds(300);
  auto r = RunProcess({"sh", "-c", "sleep 600 & echo $!; wait"}, options);
  REQUIRE(r.ok());
  CHECK(r->timed_out);
  pid_t child = 0;
  REQUIRE(absl::SimpleAtoi(absl::StripAsciiWhitespace(r->stdout_data), &child));
  CHECK(GoneSoon(child));
}

TEST_CASE("RunProcess stops a program whose output passes max_stdout_bytes") {
  const absl::Time start = absl::Now();
  ProcessOptions options;
  options.timeout = absl::Seconds(20);
  options.max_stdout_bytes = 4096;
  auto r = RunProcess({"yes"}, options);
  REQUIRE(r.ok());
  CHECK(r->output_exceeded);
  CHECK_FALSE(r->timed_out);
  CHECK(r->stdout_data.size() > 4096);
  CHECK(r->stdout_data.size() <= 4096 + 65536);
  CHECK(absl::Now() - start < absl::Seconds(10));

  // Standard error is drained but only kept up to its limit.
  ProcessOptions quiet;
  quiet.max_stderr_bytes = 1000;
  auto noisy = RunProcess({"sh", "-c", "head -c 100000 /dev/zero >&2; echo done"}, quiet);
  REQUIRE(noisy.ok());
  CHECK(noisy->stdout_data == "done\n");
  CHECK(noisy->stderr_data.size() == 1000);

  // Or its tail, where a failing program says why.
  quiet.keep_stderr_tail = true;
  auto failing = RunProcess(
      {"sh", "-c", "head -c 100000 /dev/zero | tr '\\0' x >&2; echo '<the reason>' >&2"}, quiet);
  REQUIRE(failing.ok());
  CHECK(failing->stderr_data.size() == 1000);
  CHECK(absl::EndsWith(failing->stderr_data, "x<the reason>\n"));
}

TEST_CASE("RunProcess refuses a NUL in the program name, an argument or the environment") {
  for (const std::vector<std::string>& argv :
       {std::vector<std::string>{std::string("/bin/echo\0x", 11), "a"},
        std::vector<std::string>{"/bin/echo", std::string("a\0b", 3)}}) {
    auto r = RunProcess(argv);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(std::string(r.status().message()).find("NUL") != std::string::npos);
    if (argv[0] != "/bin/echo") {
      CHECK(std::string(r.status().message()).find("/bin/echo\\0x") != std::string::npos);
    }
  }
  ProcessOptions options;
  options.env["X"] = std::string("a\0b", 3);
  CHECK(RunProcess({"true"}, options).status().code() == absl::StatusCode::kInvalidArgument);
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
