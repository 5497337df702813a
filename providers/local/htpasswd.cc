#include "providers/local/htpasswd.h"

#include <crypt.h>
#include <openssl/crypto.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "base/files.h"
#include "base/status_macros.h"
#include "engine/model/registry_vm.h"
#include "providers/local/local_files.h"

namespace rotor::local {
namespace {

// crypt_data holds derived material: wipe it when done.
struct CryptScratch {
  CryptScratch() : data(std::make_unique<crypt_data>()) {
    std::memset(data.get(), 0, sizeof(crypt_data));
  }
  ~CryptScratch() { OPENSSL_cleanse(data.get(), sizeof(crypt_data)); }
  std::unique_ptr<crypt_data> data;
};

}  // namespace

absl::StatusOr<std::string> BcryptHash(absl::string_view password, int cost) {
  if (cost < kMinBcryptCost || cost > kMaxBcryptCost) {
    return absl::InvalidArgumentError(
        absl::StrCat("bcrypt cost ", cost, " is outside ", kMinBcryptCost, "..", kMaxBcryptCost));
  }
  if (password.find('\0') != absl::string_view::npos) {
    return absl::InvalidArgumentError("a bcrypt password cannot contain a NUL byte");
  }
  char salt[CRYPT_GENSALT_OUTPUT_SIZE];
  if (crypt_gensalt_rn("$2b$", static_cast<unsigned long>(cost), nullptr, 0, salt, sizeof salt) ==
      nullptr) {
    return ErrnoToStatus(errno, "crypt_gensalt_rn($2b$)");
  }
  std::string pw(password);
  CryptScratch scratch;
  errno = 0;
  const char* hash = crypt_r(pw.c_str(), salt, scratch.data.get());
  int saved = errno;
  OPENSSL_cleanse(pw.data(), pw.size());
  if (hash == nullptr || hash[0] == '*') {
    return ErrnoToStatus(saved != 0 ? saved : EINVAL, "crypt_r(bcrypt)");
  }
  return std::string(hash);
}

bool VerifyHtpasswd(absl::string_view line, absl::string_view password) {
  line = absl::StripTrailingAsciiWhitespace(line);
  size_t colon = line.find(':');
  if (colon == absl::string_view::npos || colon == 0) return false;
  std::string hash(line.substr(colon + 1));
  if (hash.empty() || hash[0] != '$' || password.find('\0') != absl::string_view::npos) {
    return false;
  }
  std::string pw(password);
  CryptScratch scratch;
  const char* out = crypt_r(pw.c_str(), hash.c_str(), scratch.data.get());
  OPENSSL_cleanse(pw.data(), pw.size());
  if (out == nullptr || out[0] == '*') return false;
  size_t n = std::strlen(out);
  return n == hash.size() && CRYPTO_memcmp(out, hash.data(), n) == 0;
}

namespace {

struct Login {
  std::string name;
  Secret password;
};

// The VM's view: first page of the list, enabled latest versions, short
// values.
absl::StatusOr<std::vector<Login>> Logins(Vault& vault) {
  ASSIGN_OR_RETURN(std::vector<SecretVersion> secrets, vault.ListSecrets());
  std::stable_sort(secrets.begin(), secrets.end(),
                   [](const SecretVersion& a, const SecretVersion& b) {
                     return absl::AsciiStrToLower(a.name) < absl::AsciiStrToLower(b.name);
                   });
  if (secrets.size() > kRegistryListPageSize) secrets.resize(kRegistryListPageSize);
  std::vector<Login> logins;
  for (const auto& meta : secrets) {
    if (!meta.enabled) continue;
    auto bundle = vault.GetSecret(meta.name);
    if (!bundle.ok()) {
      if (absl::IsPermissionDenied(bundle.status()) || absl::IsNotFound(bundle.status())) {
        continue;  // disabled or deleted meanwhile: the VM's GET fails too
      }
      return absl::Status(bundle.status().code(),
                          absl::StrCat("read secret ", meta.name, ": ", bundle.status().message()));
    }
    const Secret& value = bundle->value;
    if (value.size() > kMaxLoginSecretLength) continue;
    if (value.Reveal().find('\0') != absl::string_view::npos) continue;
    logins.push_back(Login{meta.name, value.Clone()});
  }
  return logins;
}

}  // namespace

absl::StatusOr<std::vector<std::string>> RegistryLoginNames(Vault& vault) {
  ASSIGN_OR_RETURN(std::vector<Login> logins, Logins(vault));
  std::vector<std::string> names;
  for (const auto& login : logins) names.push_back(login.name);
  return names;
}

absl::Status RenderHtpasswd(Vault& vault, const std::string& out_dir, int bcrypt_cost) {
  if (bcrypt_cost < kMinBcryptCost || bcrypt_cost > kMaxBcryptCost) {
    return absl::InvalidArgumentError(absl::StrCat("bcrypt cost ", bcrypt_cost, " is outside ",
                                                   kMinBcryptCost, "..", kMaxBcryptCost));
  }
  ASSIGN_OR_RETURN(std::vector<Login> logins, Logins(vault));
  std::string contents;
  for (const auto& login : logins) {
    auto hash = BcryptHash(login.password.Reveal(), bcrypt_cost);
    if (!hash.ok()) {
      return absl::Status(hash.status().code(), absl::StrCat("hash the password of ", login.name,
                                                             ": ", hash.status().message()));
    }
    absl::StrAppend(&contents, login.name, ":", *hash, "\n");
  }
  RETURN_IF_ERROR(EnsurePrivateDir(out_dir));
  return WriteFileAtomic(absl::StrCat(out_dir, "/", kHtpasswdFileName), contents, 0600);
}

ProvisioningStep MakeHtpasswdStep(Vault& vault, std::string out_dir, int bcrypt_cost) {
  return ProvisioningStep{"htpasswd",
                          [&vault, out_dir = std::move(out_dir), bcrypt_cost](
                              const DeploymentRequest&, const std::string&) -> absl::Status {
                            return RenderHtpasswd(vault, out_dir, bcrypt_cost);
                          }};
}

}  // namespace rotor::local
