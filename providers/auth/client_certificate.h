// ClientCertificate: a service principal's certificate credential, and the
// JWT client assertion it signs (RFC 7523 as AAD and AD FS take it;
// docs/azure-contracts.md §2.4):
//   header  {"alg":"RS256","typ":"JWT","x5t":"<base64url SHA-1 of the DER>"}
//   claims  {"aud":"<token endpoint URL>","iss":"<client id>","sub":"<client id>",
//            "jti":"<random UUID>","nbf":now,"iat":now,"exp":now+10min}
// signed RS256 (RSASSA-PKCS1-v1_5, SHA-256) with OpenSSL.
#ifndef ROTOR_PROVIDERS_AUTH_CLIENT_CERTIFICATE_H_
#define ROTOR_PROVIDERS_AUTH_CLIENT_CERTIFICATE_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "base/secret.h"

namespace rotor::auth {

inline constexpr absl::Duration kAssertionLifetime = absl::Minutes(10);

class ClientCertificate {
 public:
  // Reads a PFX (PKCS#12, `password` may be empty) or a PEM file holding the
  // certificate and its private key (the key may be encrypted with
  // `password`). The key must be RSA and match the certificate. Errors name
  // `path`, never the password.
  static absl::StatusOr<ClientCertificate> Load(const std::string& path, const Secret& password);
  // The same from bytes already read; `source` names them in errors.
  static absl::StatusOr<ClientCertificate> FromBytes(absl::string_view bytes,
                                                     const Secret& password,
                                                     const std::string& source);

  ClientCertificate(ClientCertificate&&) noexcept;
  ClientCertificate& operator=(ClientCertificate&&) noexcept;
  ~ClientCertificate();

  // base64url (no padding) of the SHA-1 of the certificate's DER.
  const std::string& x5t() const;
  // Upper-case hex of the same SHA-1 (for messages).
  const std::string& thumbprint() const;
  const std::string& source() const;

  // A signed assertion for `client_id` posting to `token_endpoint`.
  absl::StatusOr<Secret> MakeAssertion(absl::string_view client_id,
                                       absl::string_view token_endpoint, absl::Time now) const;

  struct Impl;

 private:
  explicit ClientCertificate(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Pieces of the assertion, exposed for tests.
std::string Base64UrlEncode(absl::string_view data);
std::string JwtHeaderJson(absl::string_view x5t);
std::string JwtClaimsJson(absl::string_view audience, absl::string_view client_id,
                          absl::string_view jti, absl::Time now, absl::Time expires);

}  // namespace rotor::auth

#endif  // ROTOR_PROVIDERS_AUTH_CLIENT_CERTIFICATE_H_
