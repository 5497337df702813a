#include "providers/auth/client_certificate.h"

#include <doctest/doctest.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "certs/pfx.h"
#include "certs/testing/make_certs.h"
#include "rapidjson/document.h"
#include "tests/support/testing.h"

namespace rotor::auth {
namespace {

using certs::testing::CertOptions;
using certs::testing::KeyType;
using certs::testing::TestPki;

std::string Base64UrlDecode(absl::string_view s) {
  std::string out;
  REQUIRE(absl::WebSafeBase64Unescape(s, &out));
  return out;
}

// Verifies an RS256 JWS against the certificate's public key with OpenSSL.
bool VerifyRs256(const std::string& jwt, const std::string& cert_pem) {
  std::vector<std::string> parts = absl::StrSplit(jwt, '.');
  if (parts.size() != 3) return false;
  std::string signing_input = parts[0] + "." + parts[1];
  std::string signature = Base64UrlDecode(parts[2]);
  BIO* bio = BIO_new_mem_buf(cert_pem.data(), static_cast<int>(cert_pem.size()));
  X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (cert == nullptr) return false;
  EVP_PKEY* key = X509_get_pubkey(cert);
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  bool ok = EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, key) == 1 &&
            EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(signature.data()),
                             signature.size(),
                             reinterpret_cast<const unsigned char*>(signing_input.data()),
                             signing_input.size()) == 1;
  EVP_MD_CTX_free(ctx);
  EVP_PKEY_free(key);
  X509_free(cert);
  return ok;
}

std::string ExpectedX5t(const std::string& der) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(der.data(), der.size(), digest, &length, EVP_sha1(), nullptr);
  std::string out;
  absl::WebSafeBase64Escape(absl::string_view(reinterpret_cast<char*>(digest), length), &out);
  return out;
}

TEST_CASE("x5t of the documented thumbprint") {
  // contracts §2.4: 84E05C1D98BCE3A5421D225B140B36E86A3D5534 -> hOBcHZi846VCHSJbFAs26Go9VTQ
  std::string raw = absl::HexStringToBytes("84E05C1D98BCE3A5421D225B140B36E86A3D5534");
  CHECK(Base64UrlEncode(raw) == "hOBcHZi846VCHSJbFAs26Go9VTQ");
}

TEST_CASE("assertion from a PFX: RS256 signature verifies, header x5t, claims") {
  TestPki pki(absl::Now());
  auto leaf = pki.IssueLeaf({.common_name = "rotor-ci", .server_auth = false});
  const std::string pfx = leaf.ToPfx("pfx-pass");
  auto cert = ClientCertificate::FromBytes(pfx, Secret("pfx-pass"), "sp.pfx");
  REQUIRE_MESSAGE(cert.ok(), cert.status().ToString());
  CHECK(cert->x5t() == ExpectedX5t(leaf.CertificateDer()));
  CHECK(cert->thumbprint().size() == 40);

  const absl::Time now = absl::FromUnixSeconds(1750000000);
  const std::string endpoint = "https://login.localhost:8443/tenant/oauth2/token";
  auto assertion = cert->MakeAssertion("rotor-ci", endpoint, now);
  REQUIRE(assertion.ok());
  const std::string jwt(assertion->Reveal());
  CHECK(VerifyRs256(jwt, leaf.CertificatePem()));

  std::vector<std::string> parts = absl::StrSplit(jwt, '.');
  rapidjson::Document header, claims;
  std::string header_json = Base64UrlDecode(parts[0]);
  std::string claims_json = Base64UrlDecode(parts[1]);
  header.Parse(header_json.c_str());
  claims.Parse(claims_json.c_str());
  CHECK(std::string(header["alg"].GetString()) == "RS256");
  CHECK(std::string(header["typ"].GetString()) == "JWT");
  CHECK(std::string(header["x5t"].GetString()) == ExpectedX5t(leaf.CertificateDer()));
  CHECK(std::string(claims["aud"].GetString()) == endpoint);
  CHECK(std::string(claims["iss"].GetString()) == "rotor-ci");
  CHECK(std::string(claims["sub"].GetString()) == "rotor-ci");
  CHECK(std::string(claims["jti"].GetString()).size() == 36);
  CHECK(claims["nbf"].GetInt64() == 1750000000);
  CHECK(claims["exp"].GetInt64() == 1750000000 + 600);

  // A second assertion has its own jti and a valid signature too.
  auto again = cert->MakeAssertion("rotor-ci", endpoint, now);
  REQUIRE(again.ok());
  CHECK(again->Reveal() != assertion->Reveal());
  CHECK(VerifyRs256(std::string(again->Reveal()), leaf.CertificatePem()));
  // A tampered token does not verify (the check above is meaningful). The
  // claims change by one base64url character for another (flipping a bit
  // of any character could make it no base64url at all, or hit a '.').
  std::string tampered = jwt;
  char& changed = tampered[parts[0].size() + 1 + 5];
  changed = changed == 'A' ? 'B' : 'A';
  CHECK_FALSE(VerifyRs256(tampered, leaf.CertificatePem()));
}

TEST_CASE("assertion from a PEM file (certificate + key), file on disk") {
  TestPki pki(absl::Now());
  auto leaf = pki.IssueLeaf({.common_name = "rotor-pem"});
  testing::TempDir dir;
  const std::string path = dir.Write("sp.pem", leaf.CertificatePem() + leaf.KeyPem());
  auto cert = ClientCertificate::Load(path, Secret());
  REQUIRE_MESSAGE(cert.ok(), cert.status().ToString());
  auto assertion = cert->MakeAssertion("id", "https://adfs.x/adfs/oauth2/token", absl::Now());
  REQUIRE(assertion.ok());
  CHECK(VerifyRs256(std::string(assertion->Reveal()), leaf.CertificatePem()));
  // Key first, then the certificate: same result.
  const std::string reversed = dir.Write("rev.pem", leaf.KeyPem() + leaf.CertificatePem());
  CHECK(ClientCertificate::Load(reversed, Secret()).ok());
}

TEST_CASE("client certificate errors name the file, never the password") {
  TestPki pki(absl::Now());
  auto leaf = pki.IssueLeaf({});
  auto other = pki.IssueLeaf({.common_name = "other"});
  testing::TempDir dir;

  auto wrong_password =
      ClientCertificate::FromBytes(leaf.ToPfx("right-pass"), Secret("Wr0ng-Pass"), "sp.pfx");
  REQUIRE_FALSE(wrong_password.ok());
  CHECK(absl::StrContains(wrong_password.status().message(), "sp.pfx"));
  CHECK_FALSE(absl::StrContains(wrong_password.status().message(), "Wr0ng-Pass"));

  auto mismatched =
      ClientCertificate::FromBytes(leaf.CertificatePem() + other.KeyPem(), Secret(), "mixed.pem");
  CHECK(mismatched.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(absl::StrContains(mismatched.status().message(), "does not match"));

  auto no_key = ClientCertificate::FromBytes(leaf.CertificatePem(), Secret(), "cert-only.pem");
  CHECK(absl::StrContains(no_key.status().message(), "no private key"));

  auto ec = pki.IssueLeaf({.key_type = KeyType::kEc, .key_bits = 256});
  auto ec_cert =
      ClientCertificate::FromBytes(ec.CertificatePem() + ec.KeyPem(), Secret(), "ec.pem");
  CHECK(absl::StrContains(ec_cert.status().message(), "non-RSA"));

  CHECK(ClientCertificate::Load(dir.Path("missing.pfx"), Secret()).status().code() ==
        absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace rotor::auth
