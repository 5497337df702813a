// The emulator's own PKI, made with OpenSSL at start-up:
//  - a CA (EC P-256, 10 years) kept in the state folder so clients that
//    trust DIR/ca.pem keep trusting it across restarts (EC: an RSA key costs
//    a quarter of a CPU second to make, and tests start hundreds of fresh
//    emulators);
//  - a server certificate (EC P-256, 1 year) issued by that CA, made afresh
//    at every start, covering localhost, 127.0.0.1, ::1, management.localhost,
//    login.localhost, vault.localhost and *.vault.localhost;
//  - an RSA key that signs the access tokens the emulator issues (kept, so
//    tokens stay valid across restarts).
//
// A server certificate profile other than "valid" makes a certificate that
// clients trusting DIR/ca.pem must refuse (--tls-cert-profile, for tests of
// the clients' TLS checks):
//   untrusted   issued by a throwaway CA that is not DIR/ca.pem
//   wrong-host  issued by the CA for "wrong-host.example" only (no localhost
//               names, no IP addresses)
//   expired     issued by the CA for the usual names, expired yesterday
//
// Files (private keys 0600 in DIR/tls, 0700):
//   DIR/ca.pem                  the CA certificate (what clients trust)
//   DIR/tls/ca.key              the CA key
//   DIR/tls/server.pem/.key     the server certificate and key
//   DIR/tls/token-signing.key   the token signing key
#ifndef ROTOR_TESTS_EMULATOR_TLS_H_
#define ROTOR_TESTS_EMULATOR_TLS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace rotor::emulator {

// Under the state folder: the folder of private keys, and the token-signing
// key in it. A key already there is kept (the tests' harness puts one there
// from the build's key pool before the first start: certs/testing).
inline constexpr absl::string_view kTlsDir = "tls";
inline constexpr absl::string_view kTokenSigningKeyFile = "token-signing.key";

struct TlsFiles {
  std::string ca_cert_path;
  std::string server_cert_path;
  std::string server_key_path;
  std::string token_key_path;
};

// The DNS names the server certificate covers.
std::vector<std::string> ServerCertificateDnsNames();

// The server certificate profiles PrepareTls knows ("valid" first).
std::vector<std::string> ServerCertificateProfiles();

// Creates (or reuses) the CA and the token key, and issues a new server
// certificate of `profile` (see above). DIR/ca.pem exists when this returns
// OK. An unknown profile is InvalidArgument.
absl::StatusOr<TlsFiles> PrepareTls(const std::string& state_dir,
                                    absl::string_view profile = "valid");

// A certificate for the registry host `host` (and localhost, 127.0.0.1),
// issued at once by a CA made for it (EC P-256, a year; the CA is not the
// emulator's): what --seed-registry puts in the vault.
struct RegistryCertificate {
  std::string ca_pem;
  std::string cert_pem;    // the leaf
  std::string pfx_der;     // leaf, key and CA; AES-256 under the password
  std::string thumbprint;  // upper-case SHA-1 hex of the leaf (waagent's file name)
};
absl::StatusOr<RegistryCertificate> IssueRegistryCertificate(const std::string& host,
                                                             const std::string& pfx_password);

}  // namespace rotor::emulator

#endif  // ROTOR_TESTS_EMULATOR_TLS_H_
