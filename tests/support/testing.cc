#include "tests/support/testing.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace rotor::testing {

TempDir::TempDir() {
  const char* tmp = std::getenv("TMPDIR");
  std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") + "/rotor-test-XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) {
    throw std::runtime_error("mkdtemp failed for " + pattern);
  }
  path_ = pattern;
}

TempDir::~TempDir() {
  if (std::getenv("ROTOR_KEEP_TEST_DIRS") != nullptr) {
    std::fprintf(stderr, "kept test folder %s\n", path_.c_str());
    return;
  }
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::string TempDir::Path(const std::string& relative) const { return path_ + "/" + relative; }

std::string TempDir::Write(const std::string& relative, const std::string& contents) const {
  std::string path = Path(relative);
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  WriteFileOrDie(path, contents);
  return path;
}

std::string TempDir::Read(const std::string& relative) const {
  return ReadFileOrDie(Path(relative));
}

std::string ReadFileOrDie(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void WriteFileOrDie(const std::string& path, const std::string& contents) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) throw std::runtime_error("cannot write " + path);
  out << contents;
  if (!out) throw std::runtime_error("write failed for " + path);
}

std::string BuildDir() {
#ifdef ROTOR_BUILD_DIR
  return ROTOR_BUILD_DIR;
#else
  const char* dir = std::getenv("ROTOR_BUILD_DIR");
  return dir ? dir : "build";
#endif
}

std::string SourceDir() { return ROTOR_SOURCE_DIR; }

int FreeLoopbackPort() {
  // A port free for TCP and for UDP: a DNS server (pebble-challtestsrv)
  // listens on both, and keeps running when one of the two is taken.
  for (int attempt = 0; attempt < 100; ++attempt) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) throw std::runtime_error("socket failed");
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      ::close(fd);
      throw std::runtime_error("cannot bind a loopback port");
    }
    ::close(fd);
    int udp = ::socket(AF_INET, SOCK_DGRAM, 0);
    if (udp < 0) throw std::runtime_error("socket failed");
    const bool udp_free = ::bind(udp, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    ::close(udp);
    if (udp_free) return ntohs(addr.sin_port);
  }
  throw std::runtime_error("no loopback port free for both TCP and UDP");
}

void SleepIntoNextSecond() {
  const absl::Time now = absl::Now();
  absl::SleepFor(absl::FromUnixSeconds(absl::ToUnixSeconds(now) + 1) - now +
                 absl::Milliseconds(20));
}

}  // namespace rotor::testing
