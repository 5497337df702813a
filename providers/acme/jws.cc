#include "providers/acme/jws.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/obj_mac.h>
#include <openssl/pem.h>

#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "base/inert_text.h"
#include "base/json_text.h"
#include "base/status_macros.h"

namespace rotor::acme {

struct AccountKey::Key {
  ~Key() { EVP_PKEY_free(pkey); }
  EVP_PKEY* pkey = nullptr;
};

namespace {

constexpr int kCoordinateBytes = 32;  // P-256

std::string Sha256(absl::string_view bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(bytes.data(), bytes.size(), digest, &length, EVP_sha256(), nullptr);
  return std::string(reinterpret_cast<char*>(digest), length);
}

// A BIGNUM as exactly kCoordinateBytes big-endian bytes.
std::string Padded(const BIGNUM* n) {
  std::string out(kCoordinateBytes, '\0');
  BN_bn2binpad(n, reinterpret_cast<unsigned char*>(out.data()), kCoordinateBytes);
  return out;
}

bool IsP256(EVP_PKEY* pkey) {
  if (EVP_PKEY_get_base_id(pkey) != EVP_PKEY_EC) return false;
  char group[64] = {0};
  size_t length = 0;
  return EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group,
                                        &length) == 1 &&
         absl::string_view(group, length) == SN_X9_62_prime256v1;
}

absl::StatusOr<std::string> JwkOf(EVP_PKEY* pkey) {
  BIGNUM* x = nullptr;
  BIGNUM* y = nullptr;
  const bool ok = EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_X, &x) == 1 &&
                  EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_Y, &y) == 1;
  std::string jwk;
  if (ok) {
    jwk = absl::StrCat(R"({"crv":"P-256","kty":"EC","x":")", Base64Url(Padded(x)), R"(","y":")",
                       Base64Url(Padded(y)), R"("})");
  }
  BN_free(x);
  BN_free(y);
  if (!ok) return absl::InternalError("the account key's public point cannot be read");
  return jwk;
}

}  // namespace

std::string Base64Url(absl::string_view bytes) {
  std::string out;
  absl::WebSafeBase64Escape(bytes, &out);  // no padding
  return out;
}

AccountKey::AccountKey(std::unique_ptr<Key> key, std::string jwk)
    : key_(std::move(key)), jwk_(std::move(jwk)) {}
AccountKey::AccountKey(AccountKey&&) noexcept = default;
AccountKey& AccountKey::operator=(AccountKey&&) noexcept = default;
AccountKey::~AccountKey() = default;

absl::StatusOr<AccountKey> AccountKey::Generate() {
  auto key = std::make_unique<Key>();
  key->pkey = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", SN_X9_62_prime256v1);
  if (key->pkey == nullptr) return absl::InternalError("cannot generate a P-256 account key");
  ASSIGN_OR_RETURN(std::string jwk, JwkOf(key->pkey));
  return AccountKey(std::move(key), std::move(jwk));
}

absl::StatusOr<AccountKey> AccountKey::FromPem(const Secret& pem) {
  BIO* bio = BIO_new_mem_buf(pem.Reveal().data(), static_cast<int>(pem.size()));
  if (bio == nullptr) return absl::InternalError("out of memory reading the account key");
  auto key = std::make_unique<Key>();
  key->pkey = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (key->pkey == nullptr) {
    return absl::InvalidArgumentError("the stored ACME account key is not a PEM private key");
  }
  if (!IsP256(key->pkey)) {
    return absl::InvalidArgumentError("the stored ACME account key is not an EC P-256 key");
  }
  ASSIGN_OR_RETURN(std::string jwk, JwkOf(key->pkey));
  return AccountKey(std::move(key), std::move(jwk));
}

absl::StatusOr<Secret> AccountKey::Pem() const {
  // A memory BIO grows with OPENSSL_clear_realloc and frees with
  // OPENSSL_clear_free, so it leaves no copy of the key behind.
  BIO* bio = BIO_new(BIO_s_mem());
  if (bio == nullptr) return absl::InternalError("out of memory writing the account key");
  Secret out;
  if (PEM_write_bio_PrivateKey(bio, key_->pkey, nullptr, nullptr, 0, nullptr, nullptr) == 1) {
    char* data = nullptr;
    const long length = BIO_get_mem_data(bio, &data);
    out = Secret(std::string(data, static_cast<size_t>(length)));
  }
  BIO_free(bio);
  if (out.empty()) return absl::InternalError("cannot write the account key as PEM");
  return out;
}

std::string AccountKey::Thumbprint() const { return Base64Url(Sha256(jwk_)); }

absl::StatusOr<std::string> AccountKey::SignEs256(absl::string_view signing_input) const {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  if (ctx == nullptr) return absl::InternalError("out of memory signing an ACME request");
  std::string der(128, '\0');
  size_t der_length = der.size();
  const bool signed_ok =
      EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, key_->pkey) == 1 &&
      EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(der.data()), &der_length,
                     reinterpret_cast<const unsigned char*>(signing_input.data()),
                     signing_input.size()) == 1;
  EVP_MD_CTX_free(ctx);
  if (!signed_ok) return absl::InternalError("ES256 signing failed");
  // OpenSSL gives an ASN.1 ECDSA-Sig-Value; JWS wants the fixed-size pair.
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
  ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der_length));
  if (sig == nullptr) return absl::InternalError("ES256 signing gave no ECDSA signature");
  const BIGNUM* r = nullptr;
  const BIGNUM* s = nullptr;
  ECDSA_SIG_get0(sig, &r, &s);
  std::string raw = Padded(r) + Padded(s);
  ECDSA_SIG_free(sig);
  return raw;
}

absl::StatusOr<std::string> SignJws(const JwsSigner& signer, absl::string_view nonce,
                                    absl::string_view url, absl::string_view payload) {
  const std::string who = signer.kid.empty() ? absl::StrCat(R"("jwk":)", signer.key->jwk())
                                             : absl::StrCat(R"("kid":)", JsonQuote(signer.kid));
  const std::string header = absl::StrCat(R"({"alg":"ES256",)", who, R"(,"nonce":)",
                                          JsonQuote(nonce), R"(,"url":)", JsonQuote(url), "}");
  const std::string protected64 = Base64Url(header);
  const std::string payload64 = Base64Url(payload);
  ASSIGN_OR_RETURN(std::string signature,
                   signer.key->SignEs256(absl::StrCat(protected64, ".", payload64)));
  return absl::StrCat(R"({"protected":")", protected64, R"(","payload":")", payload64,
                      R"(","signature":")", Base64Url(signature), R"("})");
}

absl::StatusOr<std::string> ExternalAccountBindingJws(const AccountKey& key,
                                                      absl::string_view key_id,
                                                      const Secret& hmac_key_b64url,
                                                      absl::string_view new_account_url) {
  std::string mac_key;
  if (hmac_key_b64url.empty() || !absl::WebSafeBase64Unescape(hmac_key_b64url.Reveal(), &mac_key) ||
      mac_key.empty()) {
    WipeString(mac_key);
    return absl::InvalidArgumentError(
        absl::StrCat("the external account binding's HMAC key for key id \"",
                     ShowInert(key_id, 200), "\" is not base64url"));
  }
  const std::string header = absl::StrCat(R"({"alg":"HS256","kid":)", JsonQuote(key_id),
                                          R"(,"url":)", JsonQuote(new_account_url), "}");
  const std::string protected64 = Base64Url(header);
  const std::string payload64 = Base64Url(key.jwk());
  const std::string signing_input = absl::StrCat(protected64, ".", payload64);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_length = 0;
  const bool ok = HMAC(EVP_sha256(), mac_key.data(), static_cast<int>(mac_key.size()),
                       reinterpret_cast<const unsigned char*>(signing_input.data()),
                       signing_input.size(), mac, &mac_length) != nullptr;
  WipeString(mac_key);
  if (!ok) return absl::InternalError("HS256 failed for the external account binding");
  return absl::StrCat(
      R"({"protected":")", protected64, R"(","payload":")", payload64, R"(","signature":")",
      Base64Url(absl::string_view(reinterpret_cast<char*>(mac), mac_length)), R"("})");
}

std::string Dns01TxtValue(absl::string_view token, const AccountKey& key) {
  return Base64Url(Sha256(absl::StrCat(token, ".", key.Thumbprint())));
}

}  // namespace rotor::acme
