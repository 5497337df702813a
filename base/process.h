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
  // Standard output beyond this many bytes ends the program (0: no limit);
  // ProcessResult::output_exceeded says so.
  size_t max_stdout_bytes = 0;
  // Standard error is read to its end but only this much is kept: the
  // first bytes, or with keep_stderr_tail the last (where a failing
  // program says why).
  size_t max_stderr_bytes = 1 << 20;
  bool keep_stderr_tail = false;
};

struct ProcessResult {
  int exit_code = -1;  // the exit status, or 128 + signal when killed
  bool timed_out = false;
  bool output_exceeded = false;  // stdout passed max_stdout_bytes
  std::string stdout_data;       // grown with AppendWiped (it may be a secret)
  std::string stderr_data;
};

// Runs argv[0] (looked up in PATH) to completion, capturing its output.
// The program runs in a process group of its own: on a timeout, or output
// past max_stdout_bytes, the whole group is killed (SIGKILL), so what it
// started does not outlive it; EndChildrenOnSignals ends the group when
// rotor itself is ended. (Being outside the terminal's foreground group, it
// cannot read the terminal; its stdin is options.stdin_data.)
// Fails only when the program cannot be started (NotFound / PermissionDenied
// naming it) or argv holds a NUL character (InvalidArgument: the system
// would run a shorter name); a non-zero exit is reported in ProcessResult.
absl::StatusOr<ProcessResult> RunProcess(const std::vector<std::string>& argv,
                                         const ProcessOptions& options = {});

// Installs handlers for SIGINT, SIGTERM and SIGHUP that kill the process
// groups RunProcess is running, then end rotor with the same signal (the
// default action). For main(); the groups are killed with SIGKILL, as on a
// timeout. Each child also gets PR_SET_PDEATHSIG, so it dies when rotor is
// killed outright.
void EndChildrenOnSignals();

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
