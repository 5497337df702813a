#include "providers/local/htpasswd.h"

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
namespace {}  // namespace

bool VerifyHtpasswd(absl::string_view line, absl::string_view password) {
  line = absl::StripTrailingAsciiWhitespace(line);
  size_t colon = line.find(':');
  if (colon == absl::string_view::npos || colon == 0) return false;
  return BcryptMatches(line.substr(colon + 1), password);
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
  if (secrets.size() > static_cast<size_t>(kVmListedSecrets))
    secrets.resize(static_cast<size_t>(kVmListedSecrets));
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
