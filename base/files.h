// File-system helpers shared by every module. errno becomes an absl::Status
// in exactly one place (ErrnoToStatus), with the path as context.
#ifndef ROTOR_BASE_FILES_H_
#define ROTOR_BASE_FILES_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace rotor {

// Maps an errno value to the most specific status code; `context` names what
// was being done ("open /x/y").
absl::Status ErrnoToStatus(int error_number, absl::string_view context);

absl::StatusOr<std::string> ReadFile(const std::string& path);

// Writes `contents` to `path` atomically: a temporary file in the same
// folder, fsync, rename over `path`, fsync of the folder. Readers see the old
// or the new file, never a torn one. `mode` applies to the new file.
absl::Status WriteFileAtomic(const std::string& path, absl::string_view contents, int mode = 0600);

// Creates `path` and its parents (mode 0700 for the ones it creates).
absl::Status MakeDirs(const std::string& path);

bool PathExists(const std::string& path);

// `path` if absolute, else `base_dir`/`path`, lexically normalised.
std::string ResolvePath(const std::string& base_dir, const std::string& path);

// The folder part of `path` ("." when there is none).
std::string DirName(const std::string& path);

// An advisory exclusive lock on a lock file, held until destruction.
class FileLock {
 public:
  // Fails with FailedPrecondition when another process holds the lock; the
  // message names the lock file and the holder's pid when known.
  static absl::StatusOr<FileLock> Acquire(const std::string& path);
  FileLock(FileLock&& other) noexcept;
  FileLock& operator=(FileLock&& other) noexcept;
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;
  ~FileLock();

 private:
  explicit FileLock(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  int fd_ = -1;
  std::string path_;
};

}  // namespace rotor

#endif  // ROTOR_BASE_FILES_H_
