#include "certs/pfx.h"

#include <doctest/doctest.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"
#include "base/process.h"
#include "certs/openssl_util.h"
#include "certs/testing/make_certs.h"
#include "tests/support/testing.h"

namespace rotor::certs {
namespace {

using testing::CertOptions;
using testing::PfxContents;
using testing::PfxEncryption;
using testing::TestCert;
using testing::TestNow;
using testing::TestPki;

constexpr char kSource[] = "certs/registry.pfx";

// One PKI and leaf for the file: RSA key generation is the slow part.
const TestPki& Pki() {
  static const TestPki pki;
  return pki;
}

const TestCert& Leaf() {
  static const TestCert leaf =
      Pki().IssueLeaf({.common_name = "registry.local",
                       .organization = "Contoso",
                       .dns_names = {"registry.local", "*.registry.local"}});
  return leaf;
}

std::string OpenSslFingerprint(const std::string& pem) {
  auto run = RunProcess({"openssl", "x509", "-noout", "-fingerprint", "-sha1"},
                        ProcessOptions{.stdin_data = pem, .env = {}, .working_dir = {}});
  REQUIRE(run.ok());
  REQUIRE(run->exit_code == 0);
  // "SHA1 Fingerprint=AB:CD:...\n" (the label's case varies by version).
  absl::string_view out = run->stdout_data;
  const size_t eq = out.find('=');
  REQUIRE(eq != absl::string_view::npos);
  out = absl::StripTrailingAsciiWhitespace(out.substr(eq + 1));
  return absl::StrReplaceAll(out, {{":", ""}});
}

void CheckOpensAsLeaf(const std::string& pfx_bytes, const Secret& password) {
  auto pfx = Pfx::Open(pfx_bytes, password, kSource);
  REQUIRE_MESSAGE(pfx.ok(), pfx.status().ToString());
  const CertificateInfo info = pfx->Info(TestNow());
  CHECK(info.subject == "CN=registry.local, O=Contoso");
  CHECK(info.issuer == "CN=Rotor Test Root CA");
  CHECK(info.dns_names == std::vector<std::string>{"registry.local", "*.registry.local"});
  CHECK(info.not_before == TestNow() - absl::Hours(24));
  CHECK(info.not_after == TestNow() + absl::Hours(24 * 365));
  CHECK(info.days_left == 365);
  CHECK_FALSE(info.self_signed);
  CHECK(info.key_type == "RSA");
  CHECK(info.key_bits == 2048);
  CHECK(info.ec_curve.empty());
  CHECK(info.signature_algorithm == "sha256WithRSAEncryption");
  CHECK(info.chain_length == 2);
  CHECK(info.thumbprint == pfx->Thumbprint());
  CHECK(pfx->LeafCertificatePem() == Leaf().CertificatePem());
  CHECK(pfx->ChainPem() == std::vector<std::string>{Pki().root().CertificatePem()});
  const Secret key = pfx->PrivateKeyPem();
  CHECK(key.Reveal().substr(0, 27) == "-----BEGIN PRIVATE KEY-----");
  CHECK(key.Equals(Leaf().KeyPem()));
}

TEST_CASE("Pfx opens AES-256, 3DES and legacy RC2-40 files") {
  const Secret password("correct horse");
  SUBCASE("AES-256") {
    CheckOpensAsLeaf(Leaf().ToPfx("correct horse", PfxEncryption::kAes256), password);
  }
  SUBCASE("3DES") {
    CheckOpensAsLeaf(Leaf().ToPfx("correct horse", PfxEncryption::kTripleDes), password);
  }
  SUBCASE("legacy RC2-40") {
    CheckOpensAsLeaf(Leaf().ToPfx("correct horse", PfxEncryption::kLegacy), password);
  }
}

TEST_CASE("Pfx opens PFX files written by the openssl command") {
  rotor::testing::TempDir dir;
  const std::string cert = dir.Write("leaf.pem", Leaf().CertificatePem());
  const std::string key = dir.Write("leaf.key", Leaf().KeyPem());
  const std::string ca = dir.Write("ca.pem", Pki().root().CertificatePem());
  for (const std::vector<std::string>& extra :
       {std::vector<std::string>{"-legacy"}, std::vector<std::string>{}}) {
    for (const std::string& password : {std::string("pw"), std::string()}) {
      CAPTURE(password);
      std::vector<std::string> argv = {
          "openssl",          "pkcs12", "-export",          "-in", cert,
          "-inkey",           key,      "-certfile",        ca,    "-passout",
          "pass:" + password, "-out",   dir.Path("out.pfx")};
      argv.insert(argv.end(), extra.begin(), extra.end());
      auto run = RunProcess(argv);
      REQUIRE(run.ok());
      REQUIRE_MESSAGE(run->exit_code == 0, run->stderr_data);
      CheckOpensAsLeaf(dir.Read("out.pfx"), Secret(password));
    }
  }
}

// Opening an RC2-40 file must load the legacy provider by itself. Other
// cases in this binary load it (writing legacy files needs it too), so this
// one re-runs itself in a fresh process where nothing has loaded it yet.
TEST_CASE("Pfx loads the legacy provider on demand in a fresh process") {
  const char* child_pfx = std::getenv("ROTOR_CERTS_LEGACY_PFX");
  if (child_pfx == nullptr) {
    rotor::testing::TempDir dir;
    const std::string path = dir.Write("legacy.pfx", Leaf().ToPfx("pw", PfxEncryption::kLegacy));
    auto run = RunProcess(
        {"/proc/self/exe",
         "--test-case=Pfx loads the legacy provider on demand in a fresh "
         "process"},
        ProcessOptions{
            .stdin_data = {}, .env = {{"ROTOR_CERTS_LEGACY_PFX", path}}, .working_dir = {}});
    REQUIRE(run.ok());
    CHECK_MESSAGE(run->exit_code == 0, run->stdout_data, run->stderr_data);
    CHECK(run->stdout_data.find("1 passed") != std::string::npos);
    return;
  }
  REQUIRE_FALSE(internal::LegacyProvidersLoaded());
  auto pfx = Pfx::Open(rotor::testing::ReadFileOrDie(child_pfx), Secret("pw"), kSource);
  REQUIRE_MESSAGE(pfx.ok(), pfx.status().ToString());
  CHECK(internal::LegacyProvidersLoaded());
  CHECK(pfx->Info(TestNow()).subject == "CN=registry.local, O=Contoso");
}

TEST_CASE("Pfx::Open errors name the source and say what is wrong") {
  const std::string pfx = Leaf().ToPfx("right");

  SUBCASE("wrong password") {
    auto opened = Pfx::Open(pfx, Secret("wrong"), kSource);
    REQUIRE_FALSE(opened.ok());
    CHECK(opened.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(opened.status().message() == "wrong password for certs/registry.pfx");
    auto empty = Pfx::Open(pfx, Secret(), kSource);
    CHECK(empty.status().message() == "wrong password for certs/registry.pfx");
  }
  SUBCASE("not PKCS#12") {
    for (const std::string& bytes : {std::string("garbage bytes, not DER"), std::string(),
                                     Leaf().CertificateDer(), pfx.substr(0, pfx.size() / 2)}) {
      auto opened = Pfx::Open(bytes, Secret("right"), kSource);
      REQUIRE_FALSE(opened.ok());
      CHECK(opened.status().code() == absl::StatusCode::kInvalidArgument);
      CHECK(opened.status().message() == "certs/registry.pfx is not a PKCS#12 file");
    }
  }
  SUBCASE("no private key") {
    auto opened = Pfx::Open(Leaf().ToPfx("right", PfxEncryption::kAes256, {.no_key = true}),
                            Secret("right"), kSource);
    REQUIRE_FALSE(opened.ok());
    CHECK(opened.status().message() == "certs/registry.pfx holds no private key");
  }
  SUBCASE("private key of another certificate") {
    auto opened = Pfx::Open(Leaf().ToPfx("right", PfxEncryption::kAes256, {.wrong_key = true}),
                            Secret("right"), kSource);
    REQUIRE_FALSE(opened.ok());
    CHECK(opened.status().message() ==
          "the private key in certs/registry.pfx matches none of its "
          "certificates (CN=registry.local, O=Contoso; CN=Rotor Test Root CA)");
  }
}

TEST_CASE("Pfx accepts empty and non-ASCII passwords") {
  CheckOpensAsLeaf(Leaf().ToPfx(""), Secret());
  CheckOpensAsLeaf(Leaf().ToPfx("p\xC3\xA4ss \"w\xC3\xB6rd\" \\"),
                   Secret("p\xC3\xA4ss \"w\xC3\xB6rd\" \\"));
  auto wrong = Pfx::Open(Leaf().ToPfx("p\xC3\xA4ss"), Secret("pass"), kSource);
  CHECK(wrong.status().message() == "wrong password for certs/registry.pfx");
}

TEST_CASE("The thumbprint is what openssl x509 -fingerprint -sha1 prints") {
  const std::string expected = OpenSslFingerprint(Leaf().CertificatePem());
  REQUIRE(expected.size() == 40);
  auto pfx = Pfx::Open(Leaf().ToPfx("pw"), Secret("pw"), kSource);
  REQUIRE(pfx.ok());
  CHECK(pfx->Info(TestNow()).thumbprint == expected);
  CHECK(pfx->Thumbprint() == expected);
  CHECK(*ThumbprintOfPem(Leaf().CertificatePem(), "leaf.pem") == expected);
  CHECK(*ThumbprintOfDer(Leaf().CertificateDer(), "leaf.der") == expected);

  CHECK(ThumbprintOfPem("not a pem", "leaf.pem").status().message() ==
        "no PEM certificate in leaf.pem");
  CHECK(ThumbprintOfDer("not der", "leaf.der").status().message() ==
        "leaf.der is not a DER certificate");
}

TEST_CASE("NotAfterOfPem reads the first certificate's validity end") {
  auto pfx = Pfx::Open(Leaf().ToPfx("pw"), Secret("pw"), kSource);
  REQUIRE(pfx.ok());
  auto not_after = NotAfterOfPem(Leaf().CertificatePem(), "leaf.pem");
  REQUIRE(not_after.ok());
  CHECK(*not_after == pfx->Info(TestNow()).not_after);
  CHECK(NotAfterOfPem("not a pem", "served").status().message() == "no PEM certificate in served");
}

TEST_CASE("Re-exporting a certificate keeps its thumbprint") {
  const std::string first = Leaf().ToPfx("one", PfxEncryption::kAes256);
  const std::string second =
      Leaf().ToPfx("two", PfxEncryption::kTripleDes, {.include_chain = false});
  CHECK(first != second);
  auto a = Pfx::Open(first, Secret("one"), "a.pfx");
  auto b = Pfx::Open(second, Secret("two"), "b.pfx");
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  CHECK(a->Thumbprint() == b->Thumbprint());
  CHECK(b->Info(TestNow()).chain_length == 1);
  CHECK(b->ChainPem().empty());

  // A new certificate for the same name is another thumbprint.
  const TestCert renewed = Pki().IssueLeaf({.common_name = "registry.local"});
  auto c = Pfx::Open(renewed.ToPfx("pw"), Secret("pw"), "c.pfx");
  REQUIRE(c.ok());
  CHECK(c->Thumbprint() != a->Thumbprint());
}

TEST_CASE("Pfx builds the chain by issuer, whatever the file order") {
  const TestCert intermediate = Pki().IssueIntermediate("Rotor Test Issuing CA");
  const TestCert leaf = Pki().IssueLeaf(
      {.common_name = "registry.local", .key_type = testing::KeyType::kEc, .key_bits = 256},
      intermediate);
  for (bool reversed : {false, true}) {
    CAPTURE(reversed);
    auto pfx = Pfx::Open(leaf.ToPfx("pw", PfxEncryption::kAes256, {.chain_out_of_order = reversed}),
                         Secret("pw"), kSource);
    REQUIRE(pfx.ok());
    const CertificateInfo info = pfx->Info(TestNow());
    CHECK(info.chain_length == 3);
    CHECK(info.issuer == "CN=Rotor Test Issuing CA");
    CHECK(info.key_type == "EC");
    CHECK(info.key_bits == 256);
    CHECK(info.ec_curve == "P-256");
    CHECK(pfx->LeafCertificatePem() == leaf.CertificatePem());
    CHECK(pfx->ChainPem() ==
          std::vector<std::string>{intermediate.CertificatePem(), Pki().root().CertificatePem()});
  }
}

TEST_CASE("Pfx describes a self-signed EC certificate and counts days left") {
  const TestCert self = Pki().SelfSigned({.common_name = "self.local",
                                          .valid_from = -absl::Hours(24 * 400),
                                          .valid_until = -absl::Hours(36),
                                          .key_type = testing::KeyType::kEc,
                                          .key_bits = 384});
  auto pfx = Pfx::Open(self.ToPfx("pw"), Secret("pw"), kSource);
  REQUIRE(pfx.ok());
  const CertificateInfo info = pfx->Info(TestNow());
  CHECK(info.self_signed);
  CHECK(info.subject == "CN=self.local");
  CHECK(info.issuer == "CN=self.local");
  CHECK(info.dns_names.empty());
  CHECK(info.signature_algorithm == "ecdsa-with-SHA256");
  CHECK(info.ec_curve == "P-384");
  CHECK(info.chain_length == 1);
  CHECK(info.days_left == -2);  // expired 36 hours ago: rounded down
}

TEST_CASE("Pfx moves") {
  auto opened = Pfx::Open(Leaf().ToPfx("pw"), Secret("pw"), kSource);
  REQUIRE(opened.ok());
  const std::string thumbprint = opened->Thumbprint();
  Pfx moved(std::move(*opened));
  CHECK(moved.Thumbprint() == thumbprint);
  CHECK(moved.source_name() == kSource);
  auto other = Pfx::Open(Leaf().ToPfx("x"), Secret("x"), "other.pfx");
  REQUIRE(other.ok());
  moved = std::move(*other);
  CHECK(moved.source_name() == "other.pfx");
  CHECK(moved.Thumbprint() == thumbprint);
}

}  // namespace
}  // namespace rotor::certs
