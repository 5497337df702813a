// Running another program without a shell: argv is passed as-is to execvp.
//
// Used for `{ command = [...] }` value sources, the emulator's
// `--registry-cmd`, and the end-to-end tests that drive the real binaries.
#ifndef ROTOR_BASE_PROCESS_H_
#define ROTOR_BASE_PROCESS_H_

#include <sys/types.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace rotor {

// How long a program rotor runs on a user's behalf may take: a value
// source's { command = [...] }, a [[user]] publish command.
inline constexpr absl::Duration kCommandTimeout = absl::Seconds(30);

struct ProcessOptions {
  std::string stdin_data;
  // Variables set (or, with nullopt, removed) on top of the current
  // environment.
  std::map<std::string, std::optional<std::string>> env;
  std::string working_dir;  // empty: the current one
  absl::Duration timeout = absl::InfiniteDuration();
};

struct ProcessResult {
  int exit_code = -1;  // the exit status, or 128 + signal when killed
  bool timed_out = false;
  std::string stdout_data;
  std::string stderr_data;
};

// Runs argv[0] (looked up in PATH) to completion, capturing its output.
// Fails only when the program cannot be started (NotFound / PermissionDenied
// naming it); a non-zero exit is reported in ProcessResult.
absl::StatusOr<ProcessResult> RunProcess(const std::vector<std::string>& argv,
                                         const ProcessOptions& options = {});

// A child process running in the background (its own process group), killed
// with SIGTERM then SIGKILL when destroyed unless it has been waited for.
class BackgroundProcess {
 public:
  // stdout and stderr go to `log_path` (appended) when given, else inherited.
  static absl::StatusOr<BackgroundProcess> Start(const std::vector<std::string>& argv,
                                                 const ProcessOptions& options = {},
                                                 const std::string& log_path = "");
  BackgroundProcess(BackgroundProcess&& other) noexcept;
  BackgroundProcess& operator=(BackgroundProcess&& other) noexcept;
  BackgroundProcess(const BackgroundProcess&) = delete;
  BackgroundProcess& operator=(const BackgroundProcess&) = delete;
  ~BackgroundProcess();

  pid_t pid() const { return pid_; }
  bool Running();
  // Sends `signal` to the process group; returns the exit code once it ends
  // (SIGKILL after `grace`).
  int Stop(int signal = 15, absl::Duration grace = absl::Seconds(5));

 private:
  explicit BackgroundProcess(pid_t pid) : pid_(pid) {}
  pid_t pid_ = -1;
  int exit_code_ = -1;
};

}  // namespace rotor

#endif  // ROTOR_BASE_PROCESS_H_
