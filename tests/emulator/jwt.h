// JSON Web Tokens for the emulator: signing its access tokens (RS256) and
// verifying client assertions (RS256 or PS256) against a registered
// certificate. No OpenSSL types in this header.
#ifndef ROTOR_TESTS_EMULATOR_JWT_H_
#define ROTOR_TESTS_EMULATOR_JWT_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace rotor::emulator {

// base64url without padding (RFC 7515).
std::string Base64UrlEncode(absl::string_view data);
// Accepts padded or unpadded base64url.
absl::StatusOr<std::string> Base64UrlDecode(absl::string_view text);

struct JwtParts {
  std::string header_json;
  std::string payload_json;
  std::string signing_input;  // "<b64 header>.<b64 payload>"
  std::string signature;      // raw bytes
};
// Splits and decodes a compact JWS; InvalidArgument when malformed.
absl::StatusOr<JwtParts> SplitJwt(absl::string_view token);

// An RSA private key that signs RS256 JWTs.
class JwtSigner {
 public:
  static absl::StatusOr<std::unique_ptr<JwtSigner>> FromPemFile(const std::string& path);
  ~JwtSigner();

  // "<b64 header>.<b64 payload>.<b64 signature>"; `header_json` should name
  // alg RS256.
  absl::StatusOr<std::string> Sign(absl::string_view header_json,
                                   absl::string_view payload_json) const;
  // Verifies an RS256 signature made by this key.
  bool Verify(absl::string_view signing_input, absl::string_view signature) const;
  // base64url SHA-1 of the public key's DER: the "kid" / "x5t" of tokens.
  const std::string& key_id() const { return key_id_; }
  // The public key as a JWK (RSA: kty, use, kid, n, e).
  std::string PublicJwkJson() const;

  struct Impl;

 private:
  explicit JwtSigner(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  std::string key_id_;
};

// A client's registered certificate (its public key and thumbprints).
class ClientCertificate {
 public:
  // The first certificate of a PEM text.
  static absl::StatusOr<std::unique_ptr<ClientCertificate>> FromPem(absl::string_view pem,
                                                                    absl::string_view source);
  ~ClientCertificate();

  // Upper-case hex SHA-1 of the DER certificate.
  const std::string& thumbprint_hex() const { return sha1_hex_; }
  // base64url SHA-1 / SHA-256 of the DER certificate (JWT x5t / x5t#S256).
  const std::string& x5t() const { return x5t_; }
  const std::string& x5t_s256() const { return x5t_s256_; }

  // Verifies `signature` over `signing_input` with `alg` "RS256" or "PS256".
  absl::Status Verify(absl::string_view alg, absl::string_view signing_input,
                      absl::string_view signature) const;

  struct Impl;

 private:
  explicit ClientCertificate(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  std::string sha1_hex_, x5t_, x5t_s256_;
};

}  // namespace rotor::emulator

#endif  // ROTOR_TESTS_EMULATOR_JWT_H_
