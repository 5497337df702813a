// A CSR for tests, made at run time with OpenSSL (a fresh P-256 key each
// time; the key is thrown away): the engine's certs::MakeCsr is not a test
// dependency of the ACME client.
#ifndef ROTOR_PROVIDERS_ACME_TESTING_TEST_CSR_H_
#define ROTOR_PROVIDERS_ACME_TESTING_TEST_CSR_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace rotor::acme::testing {

// PEM "CERTIFICATE REQUEST" for `dns_names` (subjectAltName; the first is
// also the CN).
absl::StatusOr<std::string> MakeTestCsr(const std::vector<std::string>& dns_names);

// The DNS names of the subjectAltName of the first certificate in
// `chain_pem`; an error when it holds no certificate.
absl::StatusOr<std::vector<std::string>> LeafDnsNames(const std::string& chain_pem);

}  // namespace rotor::acme::testing

#endif  // ROTOR_PROVIDERS_ACME_TESTING_TEST_CSR_H_
