#include "base/files.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <poll.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <random>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "base/inert_text.h"
#include "base/secret.h"

namespace rotor {

absl::Status ErrnoToStatus(int error_number, absl::string_view context) {
  std::string message = absl::StrCat(context, ": ", std::strerror(error_number));
  switch (error_number) {
    case ENOENT:
    case ENOTDIR:
      return absl::NotFoundError(message);
    case EACCES:
    case EPERM:
    case EROFS:
      return absl::PermissionDeniedError(message);
    case EEXIST:
      return absl::AlreadyExistsError(message);
    case EWOULDBLOCK:
      return absl::FailedPreconditionError(message);
    case ENOSPC:
    case EDQUOT:
    case EMFILE:
    case ENFILE:
      return absl::ResourceExhaustedError(message);
    case EINTR:
      return absl::UnavailableError(message);
    default:
      return absl::InternalError(message);
  }
}

std::string ShowBytes(size_t bytes) {
  if (bytes >= (1u << 20) && bytes % (1u << 20) == 0) return absl::StrCat(bytes >> 20, " MiB");
  if (bytes >= (1u << 20)) {
    return absl::StrCat(absl::SixDigits(static_cast<double>(bytes) / (1u << 20)), " MiB");
  }
  if (bytes >= 1024 && bytes % 1024 == 0) return absl::StrCat(bytes >> 10, " KiB");
  return absl::StrCat(bytes, bytes == 1 ? " byte" : " bytes");
}

std::string ShowPath(absl::string_view path) { return ShowInert(path); }

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  return ReadFile(path, ReadLimit{});
}

absl::StatusOr<std::string> ReadFile(const std::string& path, const ReadLimit& limit) {
  if (path.find('\0') != std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat(ShowPath(path), ": a path cannot hold a NUL character"));
  }
  // O_NONBLOCK: opening a FIFO waits for a writer otherwise, with no
  // timeout. Reads wait in poll() below instead, up to the deadline.
  const std::string shown = ShowPath(path);
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) return ErrnoToStatus(errno, absl::StrCat("open ", shown));
  struct FdCloser {
    int fd;
    ~FdCloser() { ::close(fd); }
  } closer{fd};
  const std::string too_large = absl::StrCat(
      "read ", shown, ": larger than ", ShowBytes(limit.max_bytes), ", the limit for ", limit.what);
  struct stat st;
  size_t expected = 0;
  if (::fstat(fd, &st) == 0) {
    if (S_ISDIR(st.st_mode)) {
      return absl::InvalidArgumentError(absl::StrCat(shown, ": is a folder, not a file"));
    }
    if (S_ISREG(st.st_mode)) {
      if (static_cast<uint64_t>(st.st_size) > limit.max_bytes) {
        return absl::ResourceExhaustedError(too_large);
      }
      expected = static_cast<size_t>(st.st_size);
    }
  }
  const absl::Time deadline = absl::Now() + limit.timeout;
  std::string contents;
  contents.reserve(std::min(limit.max_bytes, std::max<size_t>(expected, 4096)) + 1);
  char buffer[65536];
  struct BufferWiper {
    char* data;
    size_t size;
    ~BufferWiper() { OPENSSL_cleanse(data, size); }
  } wiper{buffer, sizeof buffer};
  for (;;) {
    const absl::Duration left = deadline - absl::Now();
    struct pollfd p = {fd, POLLIN, 0};
    int ready = left <= absl::ZeroDuration()
                    ? 0
                    : ::poll(&p, 1, static_cast<int>(absl::ToInt64Milliseconds(left)) + 1);
    if (ready < 0 && errno == EINTR) continue;
    if (ready == 0 && absl::Now() >= deadline) {
      WipeString(contents);
      return absl::DeadlineExceededError(absl::StrCat(
          "read ", shown, ": no end of file within ", absl::FormatDuration(limit.timeout),
          " (a FIFO or device that nothing writes to?)"));
    }
    const size_t room = limit.max_bytes + 1 - contents.size();
    ssize_t n = ::read(fd, buffer, std::min(sizeof buffer, room));
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      int saved = errno;
      WipeString(contents);
      return ErrnoToStatus(saved, absl::StrCat("read ", shown));
    }
    if (n == 0) break;
    AppendWiped(contents, absl::string_view(buffer, static_cast<size_t>(n)));
    if (contents.size() > limit.max_bytes) {
      WipeString(contents);
      return absl::ResourceExhaustedError(too_large);
    }
  }
  return contents;
}

namespace {

absl::Status WriteAll(int fd, absl::string_view data, const std::string& path) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoToStatus(errno, absl::StrCat("write ", path));
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

absl::Status FsyncDir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoToStatus(errno, absl::StrCat("open ", dir));
  int rc = ::fsync(fd);
  int saved = errno;
  ::close(fd);
  if (rc != 0) return ErrnoToStatus(saved, absl::StrCat("fsync ", dir));
  return absl::OkStatus();
}

}  // namespace

absl::Status WriteFileAtomic(const std::string& path, absl::string_view contents, int mode) {
  std::random_device rd;
  std::string tmp = absl::StrCat(path, ".tmp.", ::getpid(), ".", rd());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) return ErrnoToStatus(errno, absl::StrCat("create ", tmp));
  absl::Status status = WriteAll(fd, contents, tmp);
  if (status.ok() && ::fsync(fd) != 0) {
    status = ErrnoToStatus(errno, absl::StrCat("fsync ", tmp));
  }
  if (::close(fd) != 0 && status.ok()) {
    status = ErrnoToStatus(errno, absl::StrCat("close ", tmp));
  }
  if (status.ok() && ::rename(tmp.c_str(), path.c_str()) != 0) {
    status = ErrnoToStatus(errno, absl::StrCat("rename ", tmp, " to ", path));
  }
  if (!status.ok()) {
    ::unlink(tmp.c_str());
    return status;
  }
  return FsyncDir(DirName(path));
}

absl::Status MakeDirs(const std::string& path) {
  // Folders rotor makes hold vault stores and registry keys: owner only.
  std::filesystem::path current;
  for (const auto& part : std::filesystem::path(path)) {
    current /= part;
    if (::mkdir(current.c_str(), 0700) != 0 && errno != EEXIST) {
      return ErrnoToStatus(errno, absl::StrCat("create folder ", current.string()));
    }
  }
  return absl::OkStatus();
}

bool PathExists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

std::string ResolvePath(const std::string& base_dir, const std::string& path) {
  std::filesystem::path p(path);
  if (p.is_absolute()) return p.lexically_normal().string();
  return (std::filesystem::path(base_dir) / p).lexically_normal().string();
}

std::string DirName(const std::string& path) {
  std::string parent = std::filesystem::path(path).parent_path().string();
  return parent.empty() ? "." : parent;
}

absl::StatusOr<FileLock> FileLock::Acquire(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return ErrnoToStatus(errno, absl::StrCat("open lock file ", path));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int saved = errno;
    std::string holder;
    char buf[32] = {};
    if (::pread(fd, buf, sizeof buf - 1, 0) > 0) {
      holder = std::string(absl::StripAsciiWhitespace(buf));
    }
    ::close(fd);
    if (saved == EWOULDBLOCK) {
      return absl::FailedPreconditionError(absl::StrCat(
          "another rotor process", holder.empty() ? "" : absl::StrCat(" (pid ", holder, ")"),
          " holds the lock ", path,
          "; wait for it to finish, or remove the lock file if no rotor is running"));
    }
    return ErrnoToStatus(saved, absl::StrCat("lock ", path));
  }
  std::string pid = absl::StrCat(::getpid(), "\n");
  if (::ftruncate(fd, 0) == 0) {
    (void)::pwrite(fd, pid.data(), pid.size(), 0);
  }
  return FileLock(fd, path);
}

FileLock::FileLock(FileLock&& other) noexcept : fd_(other.fd_), path_(std::move(other.path_)) {
  other.fd_ = -1;
}

FileLock& FileLock::operator=(FileLock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.fd_;
    path_ = std::move(other.path_);
    other.fd_ = -1;
  }
  return *this;
}

FileLock::~FileLock() {
  if (fd_ >= 0) ::close(fd_);  // closing releases the flock
}

}  // namespace rotor
