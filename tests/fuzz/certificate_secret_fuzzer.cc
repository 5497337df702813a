// libFuzzer target: the certificate secret's value as Key Vault returns it
// (certs/keyvault_secret.h DecodeCertificateSecret) under each content type
// rotor accepts, and the PFX inside opened as apply and verify open it.
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/time/time.h"
#include "certs/keyvault_secret.h"
#include "certs/pfx.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  rotor::Secret value(std::string(reinterpret_cast<const char*>(data), size));
  for (const char* content_type : {"pfx", "application/x-pkcs12", "text/plain"}) {
    auto decoded = rotor::certs::DecodeCertificateSecret(value, content_type);
    if (!decoded.ok()) continue;
    auto pfx = rotor::certs::Pfx::Open(decoded->pfx_der.Reveal(), decoded->password,
                                       "Key Vault secret fuzz");
    if (pfx.ok()) (void)pfx->Info(absl::FromUnixSeconds(1700000000));
  }
  return 0;
}
