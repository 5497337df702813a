// File-system helpers shared by every module. errno becomes an absl::Status
// in exactly one place (ErrnoToStatus), with the path as context.
#ifndef ROTOR_BASE_FILES_H_
#define ROTOR_BASE_FILES_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace rotor {

// Maps an errno value to the most specific status code; `context` names what
// was being done ("open /x/y").
absl::Status ErrnoToStatus(int error_number, absl::string_view context);

// How long reading one file may take: a FIFO nothing writes to, or a
// device that never ends, fails after this instead of holding rotor.
inline constexpr absl::Duration kFileReadTimeout = absl::Seconds(10);
// The size limit of ReadFile(path) without a ReadLimit: for files that have
// no tighter natural bound (a saved plan, rotor's own state files).
inline constexpr size_t kMaxFileBytes = 256 << 20;

// The most a CA bundle (PEM certificates) may hold: Debian's whole system
// bundle is about 220 KB.
inline constexpr size_t kMaxCaBundleBytes = 4 << 20;

// What a file may be: at most `max_bytes`, read within `timeout`. `what`
// names the kind of file for the message ("a password file").
struct ReadLimit {
  size_t max_bytes = kMaxFileBytes;
  absl::Duration timeout = kFileReadTimeout;
  absl::string_view what = "a file";
};

// The whole file at `path`. Errors name the path:
//  - NotFound / PermissionDenied / ...: "open PATH: <strerror>";
//  - InvalidArgument: a folder, or a path holding a NUL character (the
//    system would read a shorter path);
//  - ResourceExhausted: "read PATH: larger than 8 KiB, the limit for a
//    password file" (a device such as /dev/zero stops there);
//  - DeadlineExceeded: no end of file within the timeout (a FIFO with no
//    writer, a terminal).
// The contents are read into a buffer that never leaves an unwiped copy
// behind (AppendWiped): the file may hold a credential.
absl::StatusOr<std::string> ReadFile(const std::string& path, const ReadLimit& limit);
absl::StatusOr<std::string> ReadFile(const std::string& path);

// "512 bytes", "8 KiB", "1 MiB", "1.5 MiB": a size limit in messages.
std::string ShowBytes(size_t bytes);

// A path as messages show it: NUL and other control characters escaped
// ("\0", "\x1b"), so a hostile name cannot hide its end or reach the
// terminal.
std::string ShowPath(absl::string_view path);

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
