#include "base/process.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "base/files.h"
#include "base/secret.h"

extern char** environ;

namespace rotor {
namespace {

// The process groups RunProcess is waiting for, for the signal handler
// (lock-free atomics: async-signal-safe). A slot holds a group id or 0.
constexpr int kGroupSlots = 64;
std::atomic<pid_t> running_groups[kGroupSlots];

int RegisterGroup(pid_t group) {
  for (int i = 0; i < kGroupSlots; ++i) {
    pid_t expected = 0;
    if (running_groups[i].compare_exchange_strong(expected, group)) return i;
  }
  return -1;  // more than kGroupSlots at once: the group is still killed on timeout
}

void UnregisterGroup(int slot) {
  if (slot >= 0) running_groups[slot].store(0);
}

void EndGroupsAndReraise(int signal_number) {
  for (auto& slot : running_groups) {
    pid_t group = slot.load();
    if (group > 0) ::kill(-group, SIGKILL);
  }
  ::signal(signal_number, SIG_DFL);
  ::raise(signal_number);
}

// The signals that end rotor and so must end its children: blocked while a
// child is forked and registered, so none slips between the two.
sigset_t EndingSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  return set;
}

// Builds the child's environment as owned strings.
std::vector<std::string> ChildEnvironment(const ProcessOptions& options) {
  std::map<std::string, std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string entry(*e);
    size_t eq = entry.find('=');
    if (eq == std::string::npos) continue;
    env[entry.substr(0, eq)] = entry.substr(eq + 1);
  }
  for (const auto& [name, value] : options.env) {
    if (value.has_value()) {
      env[name] = *value;
    } else {
      env.erase(name);
    }
  }
  std::vector<std::string> out;
  out.reserve(env.size());
  for (const auto& [name, value] : env) out.push_back(absl::StrCat(name, "=", value));
  return out;
}

std::vector<char*> CStrings(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (auto& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

int DecodeWaitStatus(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

// Forks and execs; the child reports an exec failure's errno through
// `error_pipe` (close-on-exec, so a successful exec closes it silently).
// With `slot`, the child's group is registered there (see RegisterGroup)
// and the child dies with the thread that started it (PR_SET_PDEATHSIG).
absl::StatusOr<pid_t> Spawn(const std::vector<std::string>& argv, const ProcessOptions& options,
                            int stdin_fd, int stdout_fd, int stderr_fd, bool new_group,
                            int* slot = nullptr) {
  if (argv.empty()) return absl::InvalidArgumentError("empty command line");
  for (const std::string& arg : argv) {
    if (arg.find('\0') != std::string::npos) {
      return absl::InvalidArgumentError(absl::StrCat(
          "run ", ShowPath(argv[0]), ": ", &arg == &argv[0] ? "the program name" : "an argument",
          " holds a NUL character (the system would see a shorter one)"));
    }
  }
  for (const auto& [name, value] : options.env) {
    if (name.find('\0') != std::string::npos ||
        (value.has_value() && value->find('\0') != std::string::npos)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "run ", ShowPath(argv[0]), ": an environment variable holds a NUL character"));
    }
  }
  std::vector<std::string> args = argv;
  std::vector<std::string> env = ChildEnvironment(options);
  std::vector<char*> c_args = CStrings(args);
  std::vector<char*> c_env = CStrings(env);
  int error_pipe[2];
  if (::pipe2(error_pipe, O_CLOEXEC) != 0) return ErrnoToStatus(errno, "pipe");
  const pid_t parent = ::getpid();
  const sigset_t ending = EndingSignals();
  sigset_t previous_mask;
  ::pthread_sigmask(SIG_BLOCK, &ending, &previous_mask);
  pid_t pid = ::fork();
  if (pid < 0) {
    int saved = errno;
    ::pthread_sigmask(SIG_SETMASK, &previous_mask, nullptr);
    ::close(error_pipe[0]);
    ::close(error_pipe[1]);
    return ErrnoToStatus(saved, "fork");
  }
  if (pid == 0) {
    if (new_group) ::setpgid(0, 0);
    if (slot != nullptr) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(127);  // the parent is already gone
    }
    ::pthread_sigmask(SIG_SETMASK, &previous_mask, nullptr);
    if (stdin_fd >= 0) ::dup2(stdin_fd, 0);
    if (stdout_fd >= 0) ::dup2(stdout_fd, 1);
    if (stderr_fd >= 0) ::dup2(stderr_fd, 2);
    ::signal(SIGPIPE, SIG_DFL);
    if (!options.working_dir.empty() && ::chdir(options.working_dir.c_str()) != 0) {
      int e = errno;
      (void)!::write(error_pipe[1], &e, sizeof e);
      ::_exit(127);
    }
    environ = c_env.data();
    ::execvp(c_args[0], c_args.data());
    int e = errno;
    (void)!::write(error_pipe[1], &e, sizeof e);
    ::_exit(127);
  }
  if (new_group) ::setpgid(pid, pid);  // also here: no race with the child's own call
  if (slot != nullptr) *slot = RegisterGroup(pid);
  ::pthread_sigmask(SIG_SETMASK, &previous_mask, nullptr);
  ::close(error_pipe[1]);
  int child_errno = 0;
  ssize_t n;
  do {
    n = ::read(error_pipe[0], &child_errno, sizeof child_errno);
  } while (n < 0 && errno == EINTR);
  ::close(error_pipe[0]);
  if (n == sizeof child_errno) {
    int status;
    ::waitpid(pid, &status, 0);
    if (slot != nullptr) UnregisterGroup(std::exchange(*slot, -1));
    return ErrnoToStatus(child_errno, absl::StrCat("run ", ShowPath(argv[0])));
  }
  return pid;
}

}  // namespace

void EndChildrenOnSignals() {
  struct sigaction action = {};
  action.sa_handler = EndGroupsAndReraise;
  sigemptyset(&action.sa_mask);
  for (int signal_number : {SIGINT, SIGTERM, SIGHUP}) ::sigaction(signal_number, &action, nullptr);
}

absl::StatusOr<ProcessResult> RunProcess(const std::vector<std::string>& argv,
                                         const ProcessOptions& options) {
  int in_pipe[2], out_pipe[2], err_pipe[2];
  if (::pipe2(in_pipe, O_CLOEXEC) != 0) return ErrnoToStatus(errno, "pipe");
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) return ErrnoToStatus(errno, "pipe");
  if (::pipe2(err_pipe, O_CLOEXEC) != 0) return ErrnoToStatus(errno, "pipe");
  int slot = -1;
  auto pid_or = Spawn(argv, options, in_pipe[0], out_pipe[1], err_pipe[1],
                      /*new_group=*/true, &slot);
  ::close(in_pipe[0]);
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  if (!pid_or.ok()) {
    ::close(in_pipe[1]);
    ::close(out_pipe[0]);
    ::close(err_pipe[0]);
    return pid_or.status();
  }
  pid_t pid = *pid_or;
  ProcessResult result;
  absl::string_view pending_in = options.stdin_data;
  int in_fd = in_pipe[1];
  if (pending_in.empty()) {
    ::close(in_fd);
    in_fd = -1;
  } else {
    ::fcntl(in_fd, F_SETFL, O_NONBLOCK);
  }
  int out_fd = out_pipe[0], err_fd = err_pipe[0];
  absl::Time deadline = options.timeout == absl::InfiniteDuration() ? absl::InfiniteFuture()
                                                                    : absl::Now() + options.timeout;
  bool killed = false;
  auto kill_group = [&] {
    ::kill(-pid, SIGKILL);
    killed = true;
  };
  char buffer[65536];
  while (out_fd >= 0 || err_fd >= 0) {
    struct pollfd fds[3];
    int nfds = 0;
    if (out_fd >= 0) fds[nfds++] = {out_fd, POLLIN, 0};
    if (err_fd >= 0) fds[nfds++] = {err_fd, POLLIN, 0};
    if (in_fd >= 0) fds[nfds++] = {in_fd, POLLOUT, 0};
    int wait_ms = -1;
    if (deadline != absl::InfiniteFuture()) {
      absl::Duration left = deadline - absl::Now();
      if (left <= absl::ZeroDuration()) {
        result.timed_out = true;
        kill_group();
        break;
      }
      wait_ms = static_cast<int>(absl::ToInt64Milliseconds(left)) + 1;
    }
    int rc = ::poll(fds, nfds, wait_ms);
    if (rc < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int i = 0; i < nfds; ++i) {
      if (fds[i].revents == 0) continue;
      int fd = fds[i].fd;
      if (fd == in_fd) {
        ssize_t n = ::write(in_fd, pending_in.data(), pending_in.size());
        if (n > 0) pending_in.remove_prefix(static_cast<size_t>(n));
        if (n < 0 && errno != EAGAIN && errno != EINTR) pending_in = {};
        if (pending_in.empty()) {
          ::close(in_fd);
          in_fd = -1;
        }
        continue;
      }
      ssize_t n = ::read(fd, buffer, sizeof buffer);
      if (n > 0) {
        absl::string_view chunk(buffer, static_cast<size_t>(n));
        if (fd == out_fd) {
          AppendWiped(result.stdout_data, chunk);
          if (options.max_stdout_bytes > 0 &&
              result.stdout_data.size() > options.max_stdout_bytes) {
            result.output_exceeded = true;
            kill_group();
          }
        } else if (options.keep_stderr_tail) {
          result.stderr_data.append(chunk.data(), chunk.size());
          if (result.stderr_data.size() > options.max_stderr_bytes) {
            result.stderr_data.erase(0, result.stderr_data.size() - options.max_stderr_bytes);
          }
        } else if (result.stderr_data.size() < options.max_stderr_bytes) {
          absl::string_view kept =
              chunk.substr(0, options.max_stderr_bytes - result.stderr_data.size());
          result.stderr_data.append(kept.data(), kept.size());
        }
      } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
        ::close(fd);
        if (fd == out_fd)
          out_fd = -1;
        else
          err_fd = -1;
      }
    }
    if (result.output_exceeded) break;
  }
  OPENSSL_cleanse(buffer, sizeof buffer);
  if (in_fd >= 0) ::close(in_fd);
  if (out_fd >= 0) ::close(out_fd);
  if (err_fd >= 0) ::close(err_fd);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  // What the program left running in its group ends with it when it was
  // stopped; a program that finished on its own keeps its helpers (an
  // agent it started stays up).
  if (killed) ::kill(-pid, SIGKILL);
  UnregisterGroup(slot);
  result.exit_code = DecodeWaitStatus(status);
  return result;
}

absl::StatusOr<BackgroundProcess> BackgroundProcess::Start(const std::vector<std::string>& argv,
                                                           const ProcessOptions& options,
                                                           const std::string& log_path) {
  int log_fd = -1;
  if (!log_path.empty()) {
    log_fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (log_fd < 0) return ErrnoToStatus(errno, absl::StrCat("open ", log_path));
  }
  int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  auto pid_or = Spawn(argv, options, null_fd, log_fd, log_fd, /*new_group=*/true);
  if (null_fd >= 0) ::close(null_fd);
  if (log_fd >= 0) ::close(log_fd);
  if (!pid_or.ok()) return pid_or.status();
  return BackgroundProcess(*pid_or);
}

BackgroundProcess::BackgroundProcess(BackgroundProcess&& other) noexcept
    : pid_(other.pid_), exit_code_(other.exit_code_) {
  other.pid_ = -1;
}

BackgroundProcess& BackgroundProcess::operator=(BackgroundProcess&& other) noexcept {
  if (this != &other) {
    if (pid_ > 0) Stop();
    pid_ = other.pid_;
    exit_code_ = other.exit_code_;
    other.pid_ = -1;
  }
  return *this;
}

BackgroundProcess::~BackgroundProcess() {
  if (pid_ > 0) Stop();
}

bool BackgroundProcess::Running() {
  if (pid_ <= 0) return false;
  int status;
  pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    exit_code_ = DecodeWaitStatus(status);
    pid_ = -1;
    return false;
  }
  return true;
}

int BackgroundProcess::Stop(int signal, absl::Duration grace) {
  if (pid_ <= 0) return exit_code_;
  ::kill(-pid_, signal);
  absl::Time deadline = absl::Now() + grace;
  while (Running()) {
    if (absl::Now() > deadline) {
      ::kill(-pid_, SIGKILL);
      int status;
      ::waitpid(pid_, &status, 0);
      exit_code_ = DecodeWaitStatus(status);
      pid_ = -1;
      break;
    }
    absl::SleepFor(absl::Milliseconds(10));
  }
  // The group may hold children that outlived their parent.
  return exit_code_;
}

}  // namespace rotor
