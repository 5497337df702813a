#include "engine/refresh/history.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "base/status_context.h"
#include "engine/model/secret_kind.h"

namespace rotor {

absl::StatusOr<History> ReadHistory(const DesiredState& desired, const ActualState& actual,
                                    Vault& vault) {
  History history;
  for (const auto& [key, live] : actual.secrets) {
    bool wanted = ClassifySecret(live) != SecretKind::kOther;
    for (const auto& u : desired.users) wanted |= SecretKey(u.name) == key;
    if (!wanted) continue;
    absl::StatusOr<std::vector<SecretVersion>> versions = vault.ListSecretVersions(live.name);
    if (!versions.ok()) {
      return WithContext(versions.status(),
                         absl::StrCat("listing the versions of secret ", live.name));
    }
    std::sort(versions->begin(), versions->end(),
              [](const SecretVersion& a, const SecretVersion& b) { return a.created < b.created; });
    history.versions[key] = *std::move(versions);
  }
  return history;
}

}  // namespace rotor
