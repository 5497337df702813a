// The only file of the emulator that includes httplib.h (compiled with
// PkgConfig::HTTPLIB's flags, see docs/DESIGN.md, "Third-party libraries").
#include "tests/emulator/server.h"

#include <fcntl.h>
#include <httplib.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "base/files.h"
#include "tests/emulator/emulator.h"
#include "tests/emulator/tls.h"

namespace rotor::emulator {
namespace {

HttpRequest Convert(const httplib::Request& req) {
  HttpRequest r;
  r.method = absl::AsciiStrToUpper(req.method);
  r.path = req.path;
  r.target = req.target;
  for (const auto& [name, value] : req.params) r.query.emplace(name, value);
  for (const auto& [name, value] : req.headers) {
    r.headers.emplace(absl::AsciiStrToLower(name), value);
  }
  r.body = req.body;
  r.host = req.get_header_value("Host");
  return r;
}

int Fail(const std::string& message) {
  std::fprintf(stderr, "rotor-emulator: %s\n", message.c_str());
  return 1;
}

}  // namespace

// --detach: the parent waits on a pipe until the child serves (one byte) or
// fails (the pipe closes), then returns 0 or the child's exit status. The
// child runs in a session of its own, its standard input and error (the
// request lines) on /dev/null.
int Detach(int* ready_fd) {
  int fds[2];
  if (::pipe(fds) != 0) return Fail("--detach: pipe failed");
  const pid_t child = ::fork();
  if (child < 0) return Fail("--detach: fork failed");
  if (child == 0) {
    ::close(fds[0]);
    ::setsid();
    const int null_fd = ::open("/dev/null", O_RDWR);
    if (null_fd >= 0) {
      ::dup2(null_fd, STDIN_FILENO);
      ::dup2(null_fd, STDERR_FILENO);
      if (null_fd > STDERR_FILENO) ::close(null_fd);
    }
    *ready_fd = fds[1];
    return -1;  // go on serving
  }
  ::close(fds[1]);
  char byte = 0;
  ssize_t n;
  do {
    n = ::read(fds[0], &byte, 1);
  } while (n < 0 && errno == EINTR);
  ::close(fds[0]);
  if (n == 1) return 0;
  int status = 0;
  if (::waitpid(child, &status, 0) == child && WIFEXITED(status) && WEXITSTATUS(status) != 0) {
    return WEXITSTATUS(status);
  }
  return 1;
}

int RunEmulator(EmulatorOptions options) {
  int ready_fd = -1;
  if (options.detach) {
    std::fflush(stdout);
    if (int parent_exit = Detach(&ready_fd); parent_exit >= 0) return parent_exit;
  }
  // Signals are taken by one thread with sigwait; every other thread
  // (created after this) inherits the mask.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  ::signal(SIGPIPE, SIG_IGN);

  const std::string state_dir = options.state_dir;
  if (auto s = MakeDirs(state_dir); !s.ok()) return Fail(std::string(s.message()));
  const std::string port_file = absl::StrCat(state_dir, "/port");
  ::unlink(port_file.c_str());

  auto tls = PrepareTls(state_dir, options.tls_cert_profile);
  if (!tls.ok()) return Fail(absl::StrCat("TLS set-up failed: ", tls.status().message()));

  httplib::SSLServer server(tls->server_cert_path.c_str(), tls->server_key_path.c_str());
  if (!server.is_valid()) return Fail("the HTTPS server could not load its certificate");
  const int threads = options.threads;
  server.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  server.set_tcp_nodelay(true);
  server.set_keep_alive_max_count(10000);
  server.set_keep_alive_timeout(3);
  server.set_read_timeout(30, 0);
  server.set_write_timeout(30, 0);
  server.set_payload_max_length(8 * 1024 * 1024);

  // Debian's cpp-httplib is built with a listen backlog of 5: a client
  // opening 16 connections at once has some SYNs dropped and retried a
  // second later, which measured the emulator, not the client. The socket
  // is remembered as it is made and listened on again with a real backlog
  // (Linux applies the new one to a listening socket).
  int listen_fd = -1;
  server.set_socket_options([&listen_fd](socket_t sock) {
    httplib::default_socket_options(sock);
    listen_fd = sock;
  });
  const std::string host = options.listen_host;
  int port = options.listen_port;
  if (port == 0) {
    port = server.bind_to_any_port(host);
  } else if (!server.bind_to_port(host, port)) {
    port = -1;
  }
  if (port <= 0) {
    return Fail(absl::StrCat("cannot listen on ", host, ":", options.listen_port));
  }
  if (listen_fd < 0 || ::listen(listen_fd, SOMAXCONN) != 0) {
    return Fail(absl::StrCat("cannot raise the listen backlog on ", host, ":", port));
  }

  const bool quiet = options.quiet;
  const bool seed_registry = options.seed_registry;
  auto emulator_or = Emulator::Create(std::move(options), port, *tls);
  if (!emulator_or.ok()) return Fail(std::string(emulator_or.status().message()));
  Emulator& emulator = **emulator_or;
  // --seed-registry: done before DIR/port is written, so a client that
  // waits for it finds the registry deployed.
  std::vector<std::string> seed_lines;
  if (seed_registry) {
    auto lines = emulator.SeedRegistry();
    if (!lines.ok()) {
      emulator.Shutdown();
      return Fail(absl::StrCat("--seed-registry failed: ", lines.status().message()));
    }
    seed_lines = *std::move(lines);
  }

  auto handler = [&emulator](const httplib::Request& req, httplib::Response& res) {
    HttpResponse r = emulator.Handle(Convert(req));
    if (r.drop) {
      // Close the connection without an answer.
      if (req.ssl != nullptr) {
        int fd = SSL_get_fd(req.ssl);
        if (fd >= 0) ::shutdown(fd, SHUT_RDWR);
      }
      res.status = 500;
      res.set_header("Connection", "close");
      return;
    }
    res.status = r.status;
    for (const auto& [name, value] : r.headers) res.set_header(name, value);
    if (!r.content_type.empty()) res.set_content(r.body, r.content_type.c_str());
  };
  // A request without Content-Length or chunked encoding has no body, but
  // cpp-httplib 0.11 would wait for the connection to close to read one
  // (POST .../recover, DELETE): answer those before it reads.
  server.set_pre_routing_handler([handler](const httplib::Request& req, httplib::Response& res) {
    if (req.has_header("Content-Length") || req.has_header("Transfer-Encoding")) {
      return httplib::Server::HandlerResponse::Unhandled;
    }
    handler(req, res);
    return httplib::Server::HandlerResponse::Handled;
  });
  const char* kAll = ".*";
  server.Get(kAll, handler);
  server.Post(kAll, handler);
  server.Put(kAll, handler);
  server.Patch(kAll, handler);
  server.Delete(kAll, handler);
  server.Options(kAll, handler);

  if (auto s = WriteFileAtomic(absl::StrCat(state_dir, "/endpoints.json"), emulator.EndpointsJson(),
                               0644);
      !s.ok()) {
    return Fail(std::string(s.message()));
  }
  if (auto s = WriteFileAtomic(port_file, absl::StrCat(port, "\n"), 0644); !s.ok()) {
    return Fail(std::string(s.message()));
  }
  for (const auto& line : emulator.EndpointLines())
    std::printf("rotor-emulator: %s\n", line.c_str());
  for (const auto& line : seed_lines) std::printf("rotor-emulator: %s\n", line.c_str());
  std::printf("rotor-emulator: seed %llu\n", static_cast<unsigned long long>(emulator.seed()));
  std::fflush(stdout);
  if (ready_fd >= 0) {
    const std::string pid_file = absl::StrCat(state_dir, "/pid");
    if (auto s = WriteFileAtomic(pid_file, absl::StrCat(::getpid(), "\n"), 0644); !s.ok()) {
      return Fail(std::string(s.message()));
    }
    // The parent's terminal gets nothing more: standard output goes quiet.
    const int null_fd = ::open("/dev/null", O_WRONLY);
    if (null_fd >= 0) {
      ::dup2(null_fd, STDOUT_FILENO);
      ::close(null_fd);
    }
    const char ready = 1;
    (void)!::write(ready_fd, &ready, 1);
    ::close(ready_fd);
  }
  (void)quiet;

  std::thread signal_thread([&server, stop_signals] {
    int sig = 0;
    sigwait(&stop_signals, &sig);
    std::printf("rotor-emulator: signal %d, stopping\n", sig);
    std::fflush(stdout);
    server.stop();
  });
  signal_thread.detach();

  const bool listened = server.listen_after_bind();
  emulator.Shutdown();
  ::unlink(port_file.c_str());
  emulator_or->reset();
  if (ready_fd >= 0) ::unlink(absl::StrCat(state_dir, "/pid").c_str());
  std::printf("rotor-emulator: stopped\n");
  std::fflush(stdout);
  return listened ? 0 : 1;
}

}  // namespace rotor::emulator
