// libFuzzer target: Key Vault's JSON answers (providers/keyvault/
// keyvault_codec.h): secret bundles, deleted secrets, both lists and secret
// ids, as a hostile or broken server could send them.
#include <cstddef>
#include <cstdint>

#include "providers/keyvault/keyvault_codec.h"
#include "tests/fuzz/inert.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::string_view body(reinterpret_cast<const char*>(data), size);
  using namespace rotor::keyvault;
  // Errors name the wrong-typed field and quote a bad id, both the
  // server's: bounded and inert.
  using rotor::fuzz::ExpectInertError;
  ExpectInertError(ParseSecretBundle(body));
  ExpectInertError(ParseDeletedSecret(body));
  ExpectInertError(ParseSecretList(body));
  ExpectInertError(ParseDeletedSecretList(body));
  ExpectInertError(ParseSecretId(body));
  return 0;
}
