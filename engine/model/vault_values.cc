#include "engine/model/vault_values.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "base/status_context.h"

namespace rotor {
namespace {

constexpr absl::string_view kPrefix = "version.";

}  // namespace

std::string VersionValueKey(absl::string_view name, absl::string_view version) {
  return absl::StrCat(kPrefix, name, "/", version);
}

absl::StatusOr<Secret> VaultValues::Value(absl::string_view key) const {
  absl::string_view rest = key;
  if (!absl::ConsumePrefix(&rest, kPrefix)) return others_.Value(key);
  size_t slash = rest.find('/');
  if (slash == absl::string_view::npos || slash == 0) {
    return absl::InvalidArgumentError(absl::StrCat("malformed value key ", key));
  }
  absl::string_view name = rest.substr(0, slash);
  absl::string_view version = rest.substr(slash + 1);
  absl::StatusOr<SecretBundle> bundle = vault_.GetSecret(name, version);
  if (!bundle.ok()) {
    return WithContext(bundle.status(),
                       absl::StrCat("reading secret ", name,
                                    version.empty() ? "" : absl::StrCat(" version ", version)));
  }
  return std::move(bundle->value);
}

}  // namespace rotor
