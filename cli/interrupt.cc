#include "cli/interrupt.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <map>
#include <mutex>
#include <ostream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "cli/console.h"

namespace rotor::cli {
namespace {

// The pipe's write end, for the handler; -1 when no notice is installed.
std::atomic<int> g_write_fd{-1};

extern "C" void OnInterrupt(int) {
  const int saved = errno;
  const int fd = g_write_fd.load();
  if (fd >= 0) {
    const char byte = 'i';
    [[maybe_unused]] ssize_t written = ::write(fd, &byte, 1);
  }
  errno = saved;
}

struct State {
  std::mutex mu;
  std::map<const void*, WaitedDeployment> waiting;  // by owner
};

State& Shared() {
  static State* const state = new State;
  return *state;
}

// Created once and never closed: a handler running on another thread may
// still write to it while a notice goes away.
const int* Pipe() {
  static int fds[2] = {-1, -1};
  static const bool made = ::pipe2(fds, O_CLOEXEC) == 0;
  return made ? fds : nullptr;
}

std::string Paragraph(const WaitedDeployment& d) {
  const std::string who = d.scope.empty() ? "" : absl::StrCat(d.scope, ": ");
  const std::string head =
      d.running ? absl::StrCat(who, "Interrupted: rotor stopped waiting for deployment ", d.name,
                               " in resource group ", d.resource_group,
                               ", which keeps running in ARM (stopping rotor does not stop it).\n")
                : absl::StrCat(who, "Interrupted while starting deployment ", d.name,
                               " in resource group ", d.resource_group,
                               ": it may be running in ARM (stopping rotor does not stop it).\n");
  return absl::StrCat(head,
                      "  See it with rotor show, in the Azure portal (the resource group's "
                      "Deployments) or with\n    az deployment group show -g ",
                      d.resource_group, " -n ", d.name,
                      "\n  The next rotor apply waits for it to finish before it redeploys.\n");
}

}  // namespace

std::string InterruptMessage(const std::vector<WaitedDeployment>& waiting) {
  std::string out;
  for (const auto& d : waiting) absl::StrAppend(&out, Paragraph(d));
  return out;
}

void NoteDeployment(const void* owner, WaitedDeployment deployment) {
  State& s = Shared();
  std::lock_guard<std::mutex> lock(s.mu);
  s.waiting[owner] = std::move(deployment);
}

void ForgetDeployment(const void* owner) {
  State& s = Shared();
  std::lock_guard<std::mutex> lock(s.mu);
  s.waiting.erase(owner);
}

namespace {

struct Installed {
  struct sigaction previous {};
  std::thread watcher;
};

// Waits for the handler's bytes: 'i' is a Ctrl-C, 'q' ends the watch.
void Watch(int read_fd, Io& io, const struct sigaction& previous) {
  for (;;) {
    char byte = 0;
    const ssize_t n = ::read(read_fd, &byte, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0 || byte == 'q') return;
    std::vector<WaitedDeployment> waiting;
    {
      State& s = Shared();
      std::lock_guard<std::mutex> lock(s.mu);
      for (const auto& [owner, d] : s.waiting) waiting.push_back(d);
    }
    if (waiting.empty()) {
      // Not waiting for a deployment: what SIGINT did before.
      ::sigaction(SIGINT, &previous, nullptr);
      ::raise(SIGINT);
      continue;  // a handler of the caller's ran instead
    }
    if (io.console != nullptr && io.console->json()) {
      for (const auto& d : waiting) {
        io.console->Event(
            "error", d.scope, "apply.interrupted",
            {StringField("deployment", d.name), StringField("resource_group", d.resource_group),
             BoolField("running", d.running),
             StringField("text", Paragraph({"", d.resource_group, d.name, d.running}))});
      }
    } else {
      io.err << InterruptMessage(waiting);
      io.err.flush();
    }
    // Everything rotor wrote is written; nothing is left to clean up that
    // the kernel does not (the apply's lock is released with the process).
    ::_exit(kExitInterrupted);
  }
}

Installed* g_installed = nullptr;

}  // namespace

InterruptNotice::InterruptNotice(Io& io) {
  const int* fds = Pipe();
  if (fds == nullptr || g_installed != nullptr) return;
  struct sigaction current {};
  if (::sigaction(SIGINT, nullptr, &current) != 0 || current.sa_handler == SIG_IGN) return;
  auto* installed = new Installed;
  struct sigaction action {};
  action.sa_handler = OnInterrupt;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  if (::sigaction(SIGINT, &action, &installed->previous) != 0) {
    delete installed;
    return;
  }
  g_write_fd.store(fds[1]);
  installed->watcher = std::thread(Watch, fds[0], std::ref(io), installed->previous);
  g_installed = installed;
  installed_ = true;
}

InterruptNotice::~InterruptNotice() {
  if (!installed_) return;
  ::sigaction(SIGINT, &g_installed->previous, nullptr);
  g_write_fd.store(-1);
  const char byte = 'q';
  [[maybe_unused]] ssize_t written = ::write(Pipe()[1], &byte, 1);
  g_installed->watcher.join();
  delete g_installed;
  g_installed = nullptr;
}

}  // namespace rotor::cli
