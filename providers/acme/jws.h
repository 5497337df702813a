// The ACME account key and the JSON Web Signatures of RFC 8555 §6.2 signed
// with it: ES256 (ECDSA P-256 with SHA-256, RFC 7518 §3.4: the signature is
// r || s, 32 bytes each), the key as a JWK (RFC 7517) in the protected
// header of newAccount and its RFC 7638 thumbprint for key authorizations,
// and the HS256 external account binding (RFC 8555 §7.3.4). Flattened JSON
// serialization, base64url without padding throughout. OpenSSL stays in
// jws.cc.
#ifndef ROTOR_PROVIDERS_ACME_JWS_H_
#define ROTOR_PROVIDERS_ACME_JWS_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "base/secret.h"

namespace rotor::acme {

// base64url without padding (RFC 7515 §2).
std::string Base64Url(absl::string_view bytes);

// An ECDSA P-256 private key. Its PEM (PKCS#8) is a Secret and never leaves
// through anything but Pem().
class AccountKey {
 public:
  // A fresh key.
  static absl::StatusOr<AccountKey> Generate();
  // A PKCS#8 or SEC 1 PEM private key; InvalidArgument when it is not one,
  // or not on P-256. The message never quotes the PEM.
  static absl::StatusOr<AccountKey> FromPem(const Secret& pem);

  AccountKey(AccountKey&&) noexcept;
  AccountKey& operator=(AccountKey&&) noexcept;
  ~AccountKey();

  // PKCS#8 PEM, for the account key store.
  absl::StatusOr<Secret> Pem() const;
  // {"crv":"P-256","kty":"EC","x":...,"y":...}: the members RFC 7638 names,
  // in its order and without whitespace, so it is also the thumbprint's
  // input.
  const std::string& jwk() const { return jwk_; }
  // base64url(SHA-256(jwk())).
  std::string Thumbprint() const;
  // The raw ES256 signature (r || s, 64 bytes) of `signing_input`.
  absl::StatusOr<std::string> SignEs256(absl::string_view signing_input) const;

 private:
  struct Key;
  AccountKey(std::unique_ptr<Key> key, std::string jwk);
  std::unique_ptr<Key> key_;
  std::string jwk_;
};

// Who signs a request: the key itself (newAccount, "jwk") or the account
// it registered ("kid", the account URL).
struct JwsSigner {
  const AccountKey* key = nullptr;
  std::string kid;  // empty: put the JWK in the header
};

// {"protected":...,"payload":...,"signature":...} for `payload` (JSON text;
// "" for a POST-as-GET) posted to `url` with `nonce`.
absl::StatusOr<std::string> SignJws(const JwsSigner& signer, absl::string_view nonce,
                                    absl::string_view url, absl::string_view payload);

// The externalAccountBinding member of newAccount: a JWS over the account
// key's JWK, HS256 with the CA's MAC key, protected header {"alg":"HS256",
// "kid":key_id,"url":new_account_url}. `hmac_key_b64url` is the key as CAs
// hand it out (base64url, padding optional); InvalidArgument when it does
// not decode (the message never quotes it).
absl::StatusOr<std::string> ExternalAccountBindingJws(const AccountKey& key,
                                                      absl::string_view key_id,
                                                      const Secret& hmac_key_b64url,
                                                      absl::string_view new_account_url);

// base64url(SHA-256(token "." thumbprint)): the TXT value of DNS-01
// (RFC 8555 §8.4).
std::string Dns01TxtValue(absl::string_view token, const AccountKey& key);

}  // namespace rotor::acme

#endif  // ROTOR_PROVIDERS_ACME_JWS_H_
