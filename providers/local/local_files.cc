#include "providers/local/local_files.h"

#include <sys/stat.h>

#include <cerrno>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "base/files.h"
#include "base/status_macros.h"

namespace rotor::local {

absl::Status EnsurePrivateDir(const std::string& path) {
  RETURN_IF_ERROR(MakeDirs(path));
  if (::chmod(path.c_str(), 0700) != 0) {
    return ErrnoToStatus(errno, absl::StrCat("chmod 0700 ", path));
  }
  return absl::OkStatus();
}

absl::Status EnsureStateSubdir(const std::string& state_dir, const std::string& sub) {
  if (!PathExists(state_dir)) RETURN_IF_ERROR(EnsurePrivateDir(state_dir));
  return EnsurePrivateDir(absl::StrCat(state_dir, "/", sub));
}

bool IsSafeFileComponent(absl::string_view name, size_t max_length) {
  if (name.empty() || name.size() > max_length || name == "." || name == "..") return false;
  for (char c : name) {
    if (!(absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' ||
          c == '(' || c == ')')) {
      return false;
    }
  }
  return true;
}

}  // namespace rotor::local
