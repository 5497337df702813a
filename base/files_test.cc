#include "base/files.h"

#include <doctest/doctest.h>
#include <sys/stat.h>

#include <filesystem>

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
