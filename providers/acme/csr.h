// The engine's CSR (PEM, certs::MakeCsr) as the DER that finalize carries
// (RFC 8555 §7.4), checked first: a request the CA would refuse is better
// refused before an order is placed. OpenSSL stays in csr.cc.
//
// The chain the CA returns is not parsed here: the engine checks it
// (certs::ParsePemChain) against its own key before it builds the PFX.
#ifndef ROTOR_PROVIDERS_ACME_CSR_H_
#define ROTOR_PROVIDERS_ACME_CSR_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace rotor::acme {

// The DER of a PEM "CERTIFICATE REQUEST" whose signature verifies;
// InvalidArgument otherwise.
absl::StatusOr<std::string> CsrDerFromPem(absl::string_view csr_pem);

}  // namespace rotor::acme

#endif  // ROTOR_PROVIDERS_ACME_CSR_H_
