// libFuzzer target: PKCS#12 files as rotor opens them (certs/pfx.h), with
// the password the seed files are made with (tests/fuzz/run_fuzzer.sh) and
// with none. An opened file is read the way plan and apply read it.
#include <cstddef>
#include <cstdint>

#include "absl/time/time.h"
#include "certs/pfx.h"

namespace {

void OpenAndRead(absl::string_view der, const rotor::Secret& password) {
  auto pfx = rotor::certs::Pfx::Open(der, password, "fuzz.pfx");
  if (!pfx.ok()) return;
  (void)pfx->Info(absl::FromUnixSeconds(1700000000));
  (void)pfx->LeafCertificatePem();
  (void)pfx->PrivateKeyPem();
  (void)pfx->ChainPem();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::string_view der(reinterpret_cast<const char*>(data), size);
  OpenAndRead(der, rotor::Secret("fuzz"));
  OpenAndRead(der, rotor::Secret(""));
  return 0;
}
