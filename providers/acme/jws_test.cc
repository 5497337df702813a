#include "providers/acme/jws.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "doctest/doctest.h"

namespace rotor::acme {
namespace {

std::string Unb64(absl::string_view s) {
  std::string out;
  REQUIRE(absl::WebSafeBase64Unescape(s, &out));
  return out;
}

std::string Sha256(absl::string_view bytes) {
  unsigned char digest[32];
  unsigned int length = 0;
  EVP_Digest(bytes.data(), bytes.size(), digest, &length, EVP_sha256(), nullptr);
  return std::string(reinterpret_cast<char*>(digest), length);
}

// The member `name` of a flat JSON object made by SignJws ("...":"...").
std::string Member(const std::string& json, const std::string& name) {
  const std::string key = absl::StrCat("\"", name, "\":\"");
  const size_t at = json.find(key);
  REQUIRE(at != std::string::npos);
  const size_t start = at + key.size();
  return json.substr(start, json.find('"', start) - start);
}

// The public key of `pem` through OpenSSL's own reader.
EVP_PKEY* PublicKeyOf(const Secret& pem) {
  BIO* bio = BIO_new_mem_buf(pem.Reveal().data(), static_cast<int>(pem.size()));
  EVP_PKEY* key = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  REQUIRE(key != nullptr);
  return key;
}

// Verifies a raw r||s ES256 signature with OpenSSL, as a JOSE library does.
bool VerifyEs256(EVP_PKEY* key, absl::string_view input, absl::string_view raw) {
  REQUIRE(raw.size() == 64);
  ECDSA_SIG* sig = ECDSA_SIG_new();
  ECDSA_SIG_set0(sig, BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()), 32, nullptr),
                 BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()) + 32, 32, nullptr));
  unsigned char* der = nullptr;
  const int der_length = i2d_ECDSA_SIG(sig, &der);
  ECDSA_SIG_free(sig);
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  const bool ok =
      EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, key) == 1 &&
      EVP_DigestVerify(ctx, der, der_length, reinterpret_cast<const unsigned char*>(input.data()),
                       input.size()) == 1;
  EVP_MD_CTX_free(ctx);
  OPENSSL_free(der);
  return ok;
}

TEST_CASE("an account key survives its PEM, and its JWK is RFC 7638's canonical form") {
  auto key = AccountKey::Generate();
  REQUIRE(key.ok());
  auto pem = key->Pem();
  REQUIRE(pem.ok());
  CHECK(absl::StartsWith(pem->Reveal(), "-----BEGIN PRIVATE KEY-----"));
  auto again = AccountKey::FromPem(*pem);
  REQUIRE(again.ok());
  CHECK(again->jwk() == key->jwk());
  CHECK(again->Thumbprint() == key->Thumbprint());

  const std::string& jwk = key->jwk();
  CHECK(absl::StartsWith(jwk, R"({"crv":"P-256","kty":"EC","x":")"));
  CHECK(jwk.find(' ') == std::string::npos);
  // x and y are the public point as OpenSSL encodes it: 04 || X || Y.
  EVP_PKEY* pkey = PublicKeyOf(*pem);
  unsigned char point[65];
  size_t point_length = 0;
  REQUIRE(EVP_PKEY_get_octet_string_param(pkey, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof point,
                                          &point_length) == 1);
  REQUIRE(point_length == 65);
  const std::string x = Unb64(Member(jwk, "x"));
  const std::string y = Unb64(Member(jwk, "y"));
  CHECK(x == std::string(reinterpret_cast<char*>(point) + 1, 32));
  CHECK(y == std::string(reinterpret_cast<char*>(point) + 33, 32));
  EVP_PKEY_free(pkey);
  // RFC 7638 §3: base64url(SHA-256(the canonical JWK)), 43 characters.
  std::string expected;
  absl::WebSafeBase64Escape(Sha256(jwk), &expected);
  CHECK(key->Thumbprint() == expected);
  CHECK(key->Thumbprint().size() == 43);
}

TEST_CASE("a key that is not a P-256 private key is refused without being quoted") {
  CHECK(AccountKey::FromPem(Secret("not a key at all, but long enough")).status().code() ==
        absl::StatusCode::kInvalidArgument);
  EVP_PKEY* rsa = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(2048));
  REQUIRE(rsa != nullptr);
  BIO* bio = BIO_new(BIO_s_mem());
  REQUIRE(PEM_write_bio_PrivateKey(bio, rsa, nullptr, nullptr, 0, nullptr, nullptr) == 1);
  char* data = nullptr;
  const long length = BIO_get_mem_data(bio, &data);
  Secret pem{std::string(data, static_cast<size_t>(length))};
  BIO_free(bio);
  EVP_PKEY_free(rsa);
  auto refused = AccountKey::FromPem(pem);
  REQUIRE_FALSE(refused.ok());
  CHECK(absl::StrContains(refused.status().message(), "not an EC P-256 key"));
  CHECK_FALSE(absl::StrContains(refused.status().message(), "BEGIN"));
}

TEST_CASE("SignJws: jwk for newAccount, kid afterwards, and the ES256 signature verifies") {
  auto key = AccountKey::Generate();
  REQUIRE(key.ok());
  auto pem = key->Pem();
  REQUIRE(pem.ok());
  EVP_PKEY* pkey = PublicKeyOf(*pem);

  auto jws = SignJws({&*key, ""}, "nonce-1", "https://ca.test/new-acct", R"({"a":1})");
  REQUIRE(jws.ok());
  const std::string header = Unb64(Member(*jws, "protected"));
  CHECK(header == absl::StrCat(R"({"alg":"ES256","jwk":)", key->jwk(),
                               R"(,"nonce":"nonce-1","url":"https://ca.test/new-acct"})"));
  CHECK(Unb64(Member(*jws, "payload")) == R"({"a":1})");
  const std::string input = absl::StrCat(Member(*jws, "protected"), ".", Member(*jws, "payload"));
  const std::string signature = Unb64(Member(*jws, "signature"));
  CHECK(signature.size() == 64);
  CHECK(VerifyEs256(pkey, input, signature));
  // A changed byte does not verify.
  CHECK_FALSE(VerifyEs256(pkey, input + "x", signature));

  // POST-as-GET: an empty payload, signed by the account URL.
  jws = SignJws({&*key, "https://ca.test/acct/7"}, "n2", "https://ca.test/order/1", "");
  REQUIRE(jws.ok());
  CHECK(
      Unb64(Member(*jws, "protected")) ==
      R"({"alg":"ES256","kid":"https://ca.test/acct/7","nonce":"n2","url":"https://ca.test/order/1"})");
  CHECK(Member(*jws, "payload").empty());
  CHECK(VerifyEs256(pkey, absl::StrCat(Member(*jws, "protected"), "."),
                    Unb64(Member(*jws, "signature"))));
  EVP_PKEY_free(pkey);
}

TEST_CASE("the external account binding is HS256 over the JWK with the decoded MAC key") {
  auto key = AccountKey::Generate();
  REQUIRE(key.ok());
  const std::string mac_key = "a MAC key of thirty-two bytes!!!";
  std::string mac_key_b64;
  absl::WebSafeBase64Escape(mac_key, &mac_key_b64);
  auto eab =
      ExternalAccountBindingJws(*key, "kid-1", Secret(mac_key_b64), "https://ca.test/new-acct");
  REQUIRE(eab.ok());
  CHECK(Unb64(Member(*eab, "protected")) ==
        R"({"alg":"HS256","kid":"kid-1","url":"https://ca.test/new-acct"})");
  CHECK(Unb64(Member(*eab, "payload")) == key->jwk());
  const std::string input = absl::StrCat(Member(*eab, "protected"), ".", Member(*eab, "payload"));
  unsigned char mac[32];
  unsigned int mac_length = 0;
  HMAC(EVP_sha256(), mac_key.data(), static_cast<int>(mac_key.size()),
       reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &mac_length);
  CHECK(Unb64(Member(*eab, "signature")) == std::string(reinterpret_cast<char*>(mac), mac_length));

  // Padding is accepted; a key that is not base64url is refused unquoted.
  REQUIRE(mac_key_b64.size() == 43);  // 32 bytes: one '=' of padding when padded
  CHECK(ExternalAccountBindingJws(*key, "kid-1", Secret(mac_key_b64 + "="), "u").ok());
  auto bad = ExternalAccountBindingJws(*key, "kid-1", Secret("not*base64url!secret"), "u");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(absl::StrContains(bad.status().message(), "kid-1"));
  CHECK_FALSE(absl::StrContains(bad.status().message(), "not*base64url"));
}

TEST_CASE("the DNS-01 TXT value is base64url(SHA-256(token.thumbprint))") {
  auto key = AccountKey::Generate();
  REQUIRE(key.ok());
  std::string expected;
  absl::WebSafeBase64Escape(Sha256(absl::StrCat("tok_en-1", ".", key->Thumbprint())), &expected);
  CHECK(Dns01TxtValue("tok_en-1", *key) == expected);
  CHECK(Dns01TxtValue("tok_en-1", *key).size() == 43);
  CHECK(Base64Url(std::string("\xfb\xff", 2)) == "-_8");
}

}  // namespace
}  // namespace rotor::acme
