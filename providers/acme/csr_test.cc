#include "providers/acme/csr.h"

#include <openssl/x509.h>

#include "absl/strings/match.h"
#include "doctest/doctest.h"
#include "providers/acme/testing/test_csr.h"

namespace rotor::acme {
namespace {

TEST_CASE("a PEM CSR becomes the DER finalize carries") {
  auto pem = testing::MakeTestCsr({"registry.example.test", "www.example.test"});
  REQUIRE(pem.ok());
  auto der = CsrDerFromPem(*pem);
  REQUIRE(der.ok());
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der->data());
  X509_REQ* req = d2i_X509_REQ(nullptr, &p, static_cast<long>(der->size()));
  REQUIRE(req != nullptr);
  CHECK(p == reinterpret_cast<const unsigned char*>(der->data()) + der->size());
  X509_REQ_free(req);
}

TEST_CASE("what is not a CSR, or one whose signature fails, is refused") {
  CHECK(absl::StrContains(CsrDerFromPem("hello").status().message(), "not a PEM certificate"));
  auto pem = testing::MakeTestCsr({"a.example.test"});
  REQUIRE(pem.ok());
  // Flip one base64 character in the middle of the body.
  std::string broken = *pem;
  const size_t at = broken.size() / 2;
  broken[at] = broken[at] == 'A' ? 'B' : 'A';
  auto refused = CsrDerFromPem(broken);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.status().code() == absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace rotor::acme
