// CertificateIssuer: where apply gets a new certificate for a CSR when the
// config names an issuer ([certificate.acme] or [certificate.issuer])
// instead of a PFX file.
//
// The engine owns the private key: it generates the key and the CSR
// (certs/), hands the CSR to the issuer, checks that the chain it gets back
// is for that key, and builds the PFX itself. An issuer therefore never sees
// a private key and returns only public data.
//
// Implemented by the ACME client (providers/acme, DNS-01 through the stamp's
// DNS zone) and by the issuer command (a program reading a CSR on standard
// input and writing a PEM chain on standard output), wired by the CLI's
// composition root.
#ifndef ROTOR_ENGINE_MODEL_CERTIFICATE_ISSUER_H_
#define ROTOR_ENGINE_MODEL_CERTIFICATE_ISSUER_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace rotor {

struct IssueRequest {
  std::string secret_name;             // the certificate secret, for messages
  std::vector<std::string> dns_names;  // what the certificate must cover
  std::string csr_pem;                 // PKCS#10, PEM, for the engine's key
};

class CertificateIssuer {
 public:
  virtual ~CertificateIssuer() = default;
  // The certificate chain for `request.csr_pem`, PEM, leaf first. Errors
  // say what failed and where (the ACME problem document, the command's exit
  // status); they carry no secret.
  virtual absl::StatusOr<std::string> Issue(const IssueRequest& request) = 0;
};

}  // namespace rotor

#endif  // ROTOR_ENGINE_MODEL_CERTIFICATE_ISSUER_H_
