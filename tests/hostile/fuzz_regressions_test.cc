// What the fuzzers (tests/fuzz) found, kept as regressions:
//  - every parser of what a server (or a saved plan file) sends survives
//    JSON nested a million levels deep: RapidJSON's default parser recursed
//    once per level, so a 200 KB body of '[' overflowed the stack
//    (keyvault_codec_fuzzer);
//  - a PFX whose certificate has an unreadable notAfter opens, and counts
//    as expired, without converting -infinity days to an int (pfx_fuzzer,
//    certificate_secret_fuzzer). Its key is made here, never committed.
#include <doctest/doctest.h>
#include <openssl/evp.h>
#include <openssl/pkcs12.h>
#include <openssl/x509.h>

#include <climits>
#include <string>

#include "absl/time/time.h"
#include "certs/keyvault_secret.h"
#include "certs/pfx.h"
#include "engine/render/render.h"
#include "providers/arm/arm_codec.h"
#include "providers/auth/cloud.h"
#include "providers/auth/token.h"
#include "providers/http/http_message.h"
#include "providers/keyvault/keyvault_codec.h"

namespace rotor {
namespace {

const std::string& Deep() {
  static const std::string text = std::string(1000000, '[') + std::string(1000000, ']');
  return text;
}
const std::string& DeepInValue() {
  static const std::string text =
      "{\"value\":" + std::string(1000000, '[') + std::string(1000000, ']') + "}";
  return text;
}

TEST_CASE("JSON nested a million levels deep is refused, not a stack overflow") {
  for (const std::string* body : {&Deep(), &DeepInValue()}) {
    CHECK_FALSE(keyvault::ParseSecretBundle(*body).ok());
    CHECK_FALSE(keyvault::ParseSecretList(*body).ok());
    CHECK_FALSE(keyvault::ParseDeletedSecretList(*body).ok());
    CHECK_FALSE(arm::ParseDeploymentList(*body, "rg").ok());
    CHECK_FALSE(arm::ParseOperationStatus(*body).ok());
    CHECK(arm::FormatArmError(*body).empty());
    CHECK_FALSE(auth::ParseTokenResponse(*body, absl::UnixEpoch()).ok());
    CHECK_FALSE(auth::ParseMetadataEndpoints(*body).ok());
    CHECK(http::ParseServiceError(*body).code.empty());
    CHECK_FALSE(ParsePlanJson(*body).ok());
  }
}

TEST_CASE("a deployment whose parameter value nests too deeply is refused") {
  const std::string deep_parameter =
      R"({"name":"registry","properties":{"parameters":{"p":{"type":"Array","value":)" +
      std::string(100000, '[') + std::string(100000, ']') + "}}}}";
  CHECK_FALSE(arm::ParseDeployment(deep_parameter, "rg").ok());
  const std::string shallow =
      R"({"name":"registry","properties":{"parameters":{"p":{"type":"Array","value":[[1]]}}}})";
  auto d = arm::ParseDeployment(shallow, "rg");
  REQUIRE(d.ok());
  CHECK(d->parameters["p"].value_json == "[[1]]");
}

TEST_CASE("a certificate secret holding deeply nested JSON is refused") {
  // base64 of 300,000 '[': "W1tb" encodes "[[[".
  std::string value;
  for (int i = 0; i < 100000; ++i) value += "W1tb";
  auto decoded = certs::DecodeCertificateSecret(Secret(value), "pfx");
  CHECK_FALSE(decoded.ok());
}

// A self-signed EC certificate whose notAfter says month 13, in a PFX.
std::string PfxWithUnreadableNotAfter(const char* password) {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  REQUIRE(key != nullptr);
  X509* cert = X509_new();
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
  REQUIRE(ASN1_STRING_set(X509_getm_notAfter(cert), "301301000000Z", -1) == 1);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("myreg.localhost"), -1, -1, 0);
  X509_set_issuer_name(cert, name);
  X509_set_pubkey(cert, key);
  REQUIRE(X509_sign(cert, key, EVP_sha256()) > 0);
  PKCS12* p12 = PKCS12_create(password, nullptr, key, cert, nullptr, 0, 0, 0, 0, 0);
  REQUIRE(p12 != nullptr);
  unsigned char* der = nullptr;
  const int length = i2d_PKCS12(p12, &der);
  REQUIRE(length > 0);
  std::string out(reinterpret_cast<const char*>(der), static_cast<size_t>(length));
  OPENSSL_free(der);
  PKCS12_free(p12);
  X509_free(cert);
  EVP_PKEY_free(key);
  return out;
}

TEST_CASE("a PFX whose certificate has an unreadable notAfter counts as expired") {
  auto pfx = certs::Pfx::Open(PfxWithUnreadableNotAfter("pw"), Secret("pw"), "odd.pfx");
  REQUIRE_MESSAGE(pfx.ok(), pfx.status());
  const certs::CertificateInfo info = pfx->Info(absl::Now());
  CHECK(info.not_after == absl::InfinitePast());
  CHECK(info.days_left == INT_MIN);
}

}  // namespace
}  // namespace rotor
