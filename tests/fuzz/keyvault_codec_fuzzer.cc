// libFuzzer target: Key Vault's JSON answers (providers/keyvault/
// keyvault_codec.h): secret bundles, deleted secrets, both lists and secret
// ids, as a hostile or broken server could send them.
#include <cstddef>
#include <cstdint>

#include "providers/keyvault/keyvault_codec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::string_view body(reinterpret_cast<const char*>(data), size);
  using namespace rotor::keyvault;
  (void)ParseSecretBundle(body);
  (void)ParseDeletedSecret(body);
  (void)ParseSecretList(body);
  (void)ParseDeletedSecretList(body);
  (void)ParseSecretId(body);
  return 0;
}
