// libFuzzer target: an issuer's answer (the issuer command's output, an
// ACME certificate download) as certs::ParsePemChain reads it, then the
// leaf compared with a request's key as issuers do. Errors must be bounded
// and inert; a parsed certificate must read back as itself.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "certs/issuance.h"
#include "tests/fuzz/inert.h"

namespace {

// One request for the whole run: generating a key per input would be slow.
const std::string& Csr() {
  static const std::string csr = [] {
    auto key = rotor::certs::GeneratePrivateKey(rotor::certs::KeyType::kEcP256);
    if (!key.ok()) __builtin_trap();
    auto csr = rotor::certs::MakeCsr(*key, {"fuzz.localhost"});
    if (!csr.ok()) __builtin_trap();
    return *csr;
  }();
  return csr;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view pem(reinterpret_cast<const char*>(data), size);
  auto chain = rotor::certs::ParsePemChain(pem, "the fuzz issuer's output");
  rotor::fuzz::ExpectInertError(chain);
  if (!chain.ok()) return 0;
  for (const std::string& cert : *chain) {
    auto again = rotor::certs::ParsePemChain(cert, "a parsed certificate");
    if (!again.ok() || again->size() != 1 || again->front() != cert) __builtin_trap();
  }
  const absl::Status matched = rotor::certs::LeafMatchesCsr(Csr(), *chain, "the fuzz chain");
  rotor::fuzz::ExpectInert(matched.message(), 4096);
  return 0;
}
