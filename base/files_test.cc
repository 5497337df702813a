#include "base/files.h"

#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "absl/strings/match.h"
#include "absl/time/clock.h"
#include "tests/support/testing.h"

namespace rotor {
namespace {

TEST_CASE("WriteFileAtomic replaces a file and leaves no temporary behind") {
  testing::TempDir dir;
  std::string path = dir.Path("state.json");
  REQUIRE(WriteFileAtomic(path, "one").ok());
  REQUIRE(WriteFileAtomic(path, "two").ok());
  CHECK(*ReadFile(path) == "two");
  struct stat st;
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  int entries = 0;
  for (auto& e : std::filesystem::directory_iterator(dir.path())) {
    (void)e;
    ++entries;
  }
  CHECK(entries == 1);
}

TEST_CASE("ReadFile names the path and maps errno") {
  auto missing = ReadFile("/nonexistent/rotor.toml");
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.status().code() == absl::StatusCode::kNotFound);
  CHECK(missing.status().message() == "open /nonexistent/rotor.toml: No such file or directory");
}

TEST_CASE("ReadFile refuses a file larger than its limit, naming the path and the limit") {
  testing::TempDir dir;
  const std::string path = dir.Write("pw.txt", std::string(9000, 'x'));
  auto big = ReadFile(path, ReadLimit{.max_bytes = 8192, .what = "a password file"});
  REQUIRE_FALSE(big.ok());
  CHECK(big.status().code() == absl::StatusCode::kResourceExhausted);
  CHECK(big.status().message() ==
        "read " + path + ": larger than 8 KiB, the limit for a password file");
  auto exact = ReadFile(path, ReadLimit{.max_bytes = 9000});
  REQUIRE(exact.ok());
  CHECK(exact->size() == 9000);

  // A device that never ends stops at the limit.
  auto zero = ReadFile("/dev/zero", ReadLimit{.max_bytes = 1 << 20, .what = "a PFX file"});
  REQUIRE_FALSE(zero.ok());
  CHECK(zero.status().code() == absl::StatusCode::kResourceExhausted);
  CHECK(absl::StrContains(zero.status().message(), "larger than 1 MiB, the limit for a PFX file"));
}

TEST_CASE("ReadFile gives up on a FIFO nothing writes to") {
  testing::TempDir dir;
  const std::string fifo = dir.Path("fifo");
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  const absl::Time start = absl::Now();
  auto r = ReadFile(fifo, ReadLimit{.max_bytes = 100, .timeout = absl::Milliseconds(200)});
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == absl::StatusCode::kDeadlineExceeded);
  CHECK(absl::StrContains(r.status().message(), fifo));
  CHECK(absl::StrContains(r.status().message(), "no end of file within 200ms"));
  CHECK(absl::Now() - start < absl::Seconds(5));
}

TEST_CASE("ReadFile refuses a path holding a NUL and shows it escaped") {
  auto r = ReadFile(std::string("pw\0.txt", 7));
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(r.status().message() == "pw\\0.txt: a path cannot hold a NUL character");
  CHECK(ShowPath("a\x1b]0;x\x07") == "a\\e]0;x\\x07");
  CHECK(ShowBytes(8192) == "8 KiB");
  CHECK(ShowBytes(1 << 20) == "1 MiB");
  CHECK(ShowBytes(100) == "100 bytes");
}

TEST_CASE("ResolvePath and DirName") {
  CHECK(ResolvePath("/etc/rotor", "certs/a.pfx") == "/etc/rotor/certs/a.pfx");
  CHECK(ResolvePath("/etc/rotor", "../x") == "/etc/x");
  CHECK(ResolvePath("/etc/rotor", "/abs") == "/abs");
  CHECK(DirName("rotor.toml") == ".");
  CHECK(DirName("/a/b/rotor.toml") == "/a/b");
}

TEST_CASE("FileLock refuses a second holder with a clear message") {
  testing::TempDir dir;
  std::string path = dir.Path("lock");
  auto first = FileLock::Acquire(path);
  REQUIRE(first.ok());
  auto second = FileLock::Acquire(path);
  REQUIRE_FALSE(second.ok());
  CHECK(second.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(std::string(second.status().message()).find("holds the lock " + path) != std::string::npos);
  { auto released = std::move(*first); }
  CHECK(FileLock::Acquire(path).ok());
}

}  // namespace
}  // namespace rotor
