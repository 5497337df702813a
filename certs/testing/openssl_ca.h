// A certificate authority run the way an enterprise's scripts run one: its
// key and self-signed certificate made with the `openssl` command line in a
// folder, and certificate requests signed with `openssl x509 -req` (copying
// the request's extensions). For the tests of certificate issuance; throws
// std::runtime_error when openssl fails. Library rotor_certs_testing.
//
//   OpenSslCa ca(temp_dir.path());
//   std::string chain = ca.Sign(csr_pem);   // leaf PEM, then the CA's
//   // or, in an issuer script: bash -c ca.SignCommand()
#ifndef ROTOR_CERTS_TESTING_OPENSSL_CA_H_
#define ROTOR_CERTS_TESTING_OPENSSL_CA_H_

#include <string>

#include "absl/strings/string_view.h"

namespace rotor::certs::testing {

// Whether `text` (an error, an output) shows any of the base64 body of the
// PEM key `key_pem`: 16 characters in a row of one of its lines.
bool ShowsKeyMaterial(absl::string_view text, absl::string_view key_pem);

class OpenSslCa {
 public:
  // Writes ca.key and ca.crt ("CN=<name>", EC P-256, CA:TRUE) into `dir`.
  explicit OpenSslCa(const std::string& dir, const std::string& name = "Rotor Test Issuing CA");

  const std::string& certificate_path() const { return cert_path_; }
  std::string CertificatePem() const;

  // A bash command reading a PEM request on standard input and printing
  // the signed leaf (90 days, the request's extensions) then the CA.
  std::string SignCommand() const;
  // Runs SignCommand with `csr_pem` as input; returns what it printed.
  std::string Sign(const std::string& csr_pem) const;

 private:
  std::string cert_path_;
  std::string key_path_;
};

}  // namespace rotor::certs::testing

#endif  // ROTOR_CERTS_TESTING_OPENSSL_CA_H_
