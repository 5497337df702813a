// Key Vault secrets JSON (2016-10-01 and 7.x; docs/azure-contracts.md §1.2):
// SecretBundle, SecretItem lists, DeletedSecretBundle / items, and the
// request bodies rotor sends. Lenient where the service is: dates as
// integers or floats, optional recoverableDays, managed, kid, tags {},
// nextLink null or absent. RapidJSON stays in keyvault_codec.cc.
//
// Values are parsed from a private copy of the body that is wiped
// afterwards, so a secret value leaves the codec only as a rotor::Secret.
#ifndef ROTOR_PROVIDERS_KEYVAULT_KEYVAULT_CODEC_H_
#define ROTOR_PROVIDERS_KEYVAULT_KEYVAULT_CODEC_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "base/secret.h"
#include "engine/model/vault.h"

namespace rotor::keyvault {

// "https://kv.vault.azure.net:443/secrets/name/version" and friends.
struct SecretId {
  std::string origin;      // "https://kv.vault.azure.net:443" as written
  std::string collection;  // "secrets" or "deletedsecrets"
  std::string name;
  std::string version;  // "" when the id has none
};
absl::StatusOr<SecretId> ParseSecretId(absl::string_view id);

// A secret bundle (GET, PUT, PATCH, recover): value may be absent (PATCH,
// recover answer without it).
struct ParsedBundle {
  SecretVersion meta;
  Secret value;
  bool has_value = false;
};
absl::StatusOr<ParsedBundle> ParseSecretBundle(absl::string_view body);

// A deleted secret bundle or item: the secret's metadata plus recoveryId,
// deletedDate, scheduledPurgeDate.
absl::StatusOr<DeletedSecret> ParseDeletedSecret(absl::string_view body);

struct SecretListPage {
  std::vector<SecretVersion> items;  // `version` empty for /secrets lists
  std::string next_link;             // "" when null or absent
};
absl::StatusOr<SecretListPage> ParseSecretList(absl::string_view body);

struct DeletedSecretListPage {
  std::vector<DeletedSecret> items;
  std::string next_link;
};
absl::StatusOr<DeletedSecretListPage> ParseDeletedSecretList(absl::string_view body);

// SecretSetParameters: {"value": ..., "contentType": ..., "tags": {...}}
// (contentType and tags left out when empty). Built in a buffer sized up
// front so no partial copy of the value is left behind.
Secret SetSecretBody(const SetSecretRequest& request);
// SecretUpdateParameters that only toggles attributes.enabled.
std::string UpdateEnabledBody(bool enabled);

}  // namespace rotor::keyvault

#endif  // ROTOR_PROVIDERS_KEYVAULT_KEYVAULT_CODEC_H_
