// Values a plan takes from the vault itself rather than from the
// configuration: a version's value written again as a new version (a
// rollback restores a previous password; a retiring user keeps its
// password under a new version tagged with its deadline). Their key names
// the version, "version.NAME/VERSION" ("version.NAME/" for the latest), so
// a saved plan needs nothing else; Key Vault never changes a version's
// value.
#ifndef ROTOR_ENGINE_MODEL_VAULT_VALUES_H_
#define ROTOR_ENGINE_MODEL_VAULT_VALUES_H_

#include <string>

#include "absl/strings/string_view.h"
#include "engine/model/value_set.h"
#include "engine/model/vault.h"

namespace rotor {

std::string VersionValueKey(absl::string_view name, absl::string_view version);

// Reads "version.NAME/VERSION" keys from `vault`; every other key from
// `others`. Both must outlive it.
class VaultValues : public ValueSet {
 public:
  VaultValues(Vault& vault, const ValueSet& others) : vault_(vault), others_(others) {}
  absl::StatusOr<Secret> Value(absl::string_view key) const override;

 private:
  Vault& vault_;
  const ValueSet& others_;
};

}  // namespace rotor

#endif  // ROTOR_ENGINE_MODEL_VAULT_VALUES_H_
