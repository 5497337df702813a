#include "certs/keyvault_secret.h"

#include <doctest/doctest.h>

#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "certs/pfx.h"
#include "certs/testing/make_certs.h"

namespace rotor::certs {
namespace {

using testing::TestCert;
using testing::TestNow;
using testing::TestPki;

const TestCert& Leaf() {
  static const TestPki pki;
  static const TestCert leaf =
      pki.IssueLeaf({.common_name = "registry.local", .dns_names = {"registry.local"}});
  return leaf;
}

std::string Base64(absl::string_view s) { return absl::Base64Escape(s); }

std::string Unbase64(absl::string_view s) {
  std::string out;
  REQUIRE(absl::Base64Unescape(s, &out));
  return out;
}

// A password with a quote, a backslash and a non-ASCII letter.
const char kTrickyPassword[] = "pa\"ss\\w\xC3\xA9rd";

TEST_CASE("EncodeCertificateSecret writes the template's JSON wrapper") {
  const std::string pfx = Leaf().ToPfx(kTrickyPassword);
  auto value = EncodeCertificateSecret(pfx, Secret(kTrickyPassword));
  REQUIRE_MESSAGE(value.ok(), value.status().ToString());
  CHECK(std::string(kCertificateContentType) == "pfx");

  // Exactly base64(UTF-8 JSON): quote and backslash escaped, é kept as UTF-8.
  CHECK(Unbase64(value->Reveal()) ==
        absl::StrCat("{\"data\":\"", Base64(pfx),
                     "\",\"dataType\":\"pfx\",\"password\":\"pa\\\"ss\\\\w"
                     "\xC3\xA9rd\"}"));

  // And back, for both the explicit and the unset content type.
  for (const char* content_type : {"pfx", "", "PFX"}) {
    CAPTURE(content_type);
    auto decoded = DecodeCertificateSecret(*value, content_type);
    REQUIRE_MESSAGE(decoded.ok(), decoded.status().ToString());
    CHECK(decoded->pfx_der.Equals(pfx));
    CHECK(decoded->password.Equals(kTrickyPassword));
    auto opened = Pfx::Open(decoded->pfx_der.Reveal(), decoded->password, "secret");
    REQUIRE_MESSAGE(opened.ok(), opened.status().ToString());
    CHECK(opened->LeafCertificatePem() == Leaf().CertificatePem());
  }
}

TEST_CASE("DecodeCertificateSecret reads the raw application/x-pkcs12 form") {
  const std::string pfx = Leaf().ToPfx("");
  auto decoded = DecodeCertificateSecret(Secret(Base64(pfx)), "application/x-pkcs12");
  REQUIRE_MESSAGE(decoded.ok(), decoded.status().ToString());
  CHECK(decoded->pfx_der.Equals(pfx));
  CHECK(decoded->password.empty());
  auto opened = Pfx::Open(decoded->pfx_der.Reveal(), decoded->password, "kv");
  REQUIRE_MESSAGE(opened.ok(), opened.status().ToString());
  CHECK(std::string(kPkcs12ContentType) == "application/x-pkcs12");
}

TEST_CASE("DecodeCertificateSecret accepts line breaks and a missing password") {
  const std::string pfx = Leaf().ToPfx("");
  std::string json = absl::StrCat("{\"dataType\": \"pfx\", \"data\": \"", Base64(pfx), "\"}");
  std::string wrapped = Base64(json);
  // Line breaks every 76 characters, as ToBase64String(-InsertLineBreaks).
  std::string broken;
  for (size_t i = 0; i < wrapped.size(); i += 76) {
    absl::StrAppend(&broken, wrapped.substr(i, 76), "\r\n");
  }
  auto decoded = DecodeCertificateSecret(Secret(broken), "pfx");
  REQUIRE_MESSAGE(decoded.ok(), decoded.status().ToString());
  CHECK(decoded->pfx_der.Equals(pfx));
  CHECK(decoded->password.empty());

  auto null_password = DecodeCertificateSecret(
      Secret(Base64(
          absl::StrCat("{\"data\":\"", Base64(pfx), "\",\"dataType\":\"pfx\",\"password\":null}"))),
      "pfx");
  REQUIRE(null_password.ok());
  CHECK(null_password->password.empty());
}

TEST_CASE("DecodeCertificateSecret: JSON cut inside a multibyte character is refused in bounds") {
  // fuzz_certificate_secret's find: a 4-byte UTF-8 lead byte as the last
  // decoded byte made the in-situ parse read past the buffer (ASan).
  for (const std::string& json :
       {std::string("{\"a\":\"\xF4"), std::string("{\"\xF0"), std::string("\"\xE2")}) {
    auto decoded = DecodeCertificateSecret(Secret(Base64(json)), "pfx");
    CHECK_FALSE(decoded.ok());
  }
  auto fuzzed = DecodeCertificateSecret(Secret("eyJkYmRhdGFUeXBlJPS"), "pfx");
  CHECK_FALSE(fuzzed.ok());
}

TEST_CASE("EncodeCertificateSecret refuses values over Key Vault's 25 KB") {
  // 18,000 PFX bytes -> 24,000 of base64 -> 24,044 of JSON -> 32,060 of value.
  const std::string big(18000, '\x42');
  auto refused = EncodeCertificateSecret(big, Secret("pw"));
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(refused.status().message() ==
        "the certificate secret would be 32060 bytes, over Key Vault's limit "
        "of 25600 bytes for a secret value (the PFX is 18000 bytes); export "
        "the PFX with only the leaf and its chain");

  // The largest PFX that fits gives exactly 25600 bytes.
  size_t fits = 0;
  for (size_t n = 14500; n > 0; --n) {
    if (EncodeCertificateSecret(std::string(n, 'x'), Secret("pw")).ok()) {
      fits = n;
      break;
    }
  }
  REQUIRE(fits > 0);
  auto largest = EncodeCertificateSecret(std::string(fits, 'x'), Secret("pw"));
  REQUIRE(largest.ok());
  CHECK(largest->size() <= kMaxSecretValueBytes);
  CHECK(largest->size() > kMaxSecretValueBytes - 4);
}

TEST_CASE("EncodeCertificateSecret refuses a password JSON cannot carry") {
  auto refused = EncodeCertificateSecret("pfx", Secret("bad \xFF utf8"));
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.status().message() ==
        "the PFX password is not valid UTF-8, which the JSON-wrapped "
        "certificate secret cannot carry");
}

TEST_CASE("DecodeCertificateSecret errors describe the problem, not the value") {
  const std::string secret_text = "hunter2-very-secret";
  auto decode = [](const std::string& value, const char* type) {
    return DecodeCertificateSecret(Secret(value), type).status();
  };
  auto json = [](const std::string& text) { return Base64(text); };

  absl::Status s = decode("abc$" + secret_text, "pfx");
  CHECK(s.message() == "the certificate secret is not valid base64 (at offset 3)");
  s = decode(json("not json " + secret_text), "pfx");
  CHECK(s.message() ==
        "the certificate secret is base64 but not the JSON {\"data\", "
        "\"dataType\", \"password\"} object: Invalid value. (at offset 1)");
  s = decode(json("[\"" + secret_text + "\"]"), "pfx");
  CHECK(s.message() == "the certificate secret is JSON but not an object");
  s = decode(json("{\"password\":\"" + secret_text + "\",\"dataType\":\"pfx\"}"), "pfx");
  CHECK(s.message() == "the certificate secret has no string \"data\" field");
  s = decode(json("{\"data\":\"AAAA\",\"dataType\":\"" + secret_text + "\"}"), "pfx");
  CHECK(s.message() == "the certificate secret has no \"dataType\": \"pfx\" field");
  s = decode(json("{\"data\":\"AAAA\",\"dataType\":\"pfx\",\"password\":7}"), "pfx");
  CHECK(s.message() == "the certificate secret has a \"password\" field that is not a string");
  s = decode(json("{\"data\":\"AA*A" + secret_text + "\",\"dataType\":\"pfx\"}"), "pfx");
  CHECK(s.message() ==
        "the \"data\" field of the certificate secret is not valid base64 (at "
        "offset 2)");
  s = decode(json("{\"data\":\"\",\"dataType\":\"pfx\"}"), "pfx");
  CHECK(s.message() == "the \"data\" field of the certificate secret is empty");
  s = decode(secret_text, "user credentials");
  CHECK(s.message() ==
        "content type \"user credentials\" is not a certificate secret's "
        "(expected \"pfx\", \"application/x-pkcs12\" or none)");
  s = decode("", "pfx");
  CHECK(s.message() == "the certificate secret is empty");
  s = decode("QUJD=", "application/x-pkcs12");
  CHECK(s.message() ==
        "the certificate secret (content type application/x-pkcs12) is not "
        "valid base64 (at offset 5)");
  s = decode("=AAA", "application/x-pkcs12");
  CHECK(s.message() ==
        "the certificate secret (content type application/x-pkcs12) is not "
        "valid base64 (at offset 1)");
}

}  // namespace
}  // namespace rotor::certs
