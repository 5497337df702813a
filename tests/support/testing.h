// Helpers for rotor's tests: temporary folders, file I/O that fails loudly,
// and the paths of the built binaries.
#ifndef ROTOR_TESTS_SUPPORT_TESTING_H_
#define ROTOR_TESTS_SUPPORT_TESTING_H_

#include <string>

namespace rotor::testing {

// A fresh folder under $TMPDIR, removed with its contents on destruction
// (kept when ROTOR_KEEP_TEST_DIRS is set, for debugging).
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // path()/relative
  std::string Path(const std::string& relative) const;
  // Writes `contents` to path()/relative (creating folders); returns the path.
  std::string Write(const std::string& relative, const std::string& contents) const;
  std::string Read(const std::string& relative) const;

 private:
  std::string path_;
};

std::string ReadFileOrDie(const std::string& path);
void WriteFileOrDie(const std::string& path, const std::string& contents);

// The folder holding the built binaries (rotor, rotor-emulator): the
// ROTOR_BUILD_DIR the build passes to tests.
std::string BuildDir();
// A port on 127.0.0.1 that was free for TCP and UDP a moment ago (for
// servers that cannot report the port they bound, such as docker-registry).
int FreeLoopbackPort();

// Sleeps into the next whole second (and 20 ms past it). Key Vault stamps
// writes to the second, and rotor counts a write in its deployment's own
// second as made after it (drift): a seed that writes secrets and then
// deploys waits here first, as the person who clicks Redeploy would.
void SleepIntoNextSecond();

// The repository's root (for schemas, examples and other checked-in files).
std::string SourceDir();

}  // namespace rotor::testing

#endif  // ROTOR_TESTS_SUPPORT_TESTING_H_
