#include "certs/testing/make_certs.h"

#include <doctest/doctest.h>

#include <set>
#include <string>

#include "absl/strings/match.h"
#include "base/process.h"
#include "tests/support/testing.h"

namespace rotor::certs::testing {
namespace {

// What `openssl pkcs12 -info` says about a PFX file's encryption.
std::string Pkcs12Info(const std::string& pfx) {
  rotor::testing::TempDir dir;
  const std::string path = dir.Write("x.pfx", pfx);
  auto run = RunProcess(
      {"openssl", "pkcs12", "-in", path, "-info", "-noout", "-passin", "pass:pw", "-legacy"});
  REQUIRE(run.ok());
  REQUIRE_MESSAGE(run->exit_code == 0, run->stderr_data);
  return run->stdout_data + run->stderr_data;
}

TEST_CASE("Test RSA keys come from the build's pool, then are made afresh, and never repeat") {
  const std::string pool = rotor::testing::ReadFileOrDie(ROTOR_TEST_KEY_POOL);
  const int left = RsaKeysLeftInPool();
  CHECK(left <= ROTOR_TEST_KEY_POOL_SIZE);
  std::set<std::string> seen;
  for (int i = 0; i < left + 2; ++i) {
    const std::string key = NewRsa2048KeyPem();
    CAPTURE(i);
    CHECK(absl::StartsWith(key, "-----BEGIN PRIVATE KEY-----"));
    CHECK((pool.find(key) != std::string::npos) == (i < left));
    CHECK(seen.insert(key).second);
  }
  CHECK(RsaKeysLeftInPool() == 0);
  // A certificate's key is one of a kind too.
  const TestPki pki;
  CHECK(seen.insert(pki.root().KeyPem()).second);
}

TEST_CASE("Test PFX files use the encryption they claim") {
  const TestPki pki;
  const TestCert leaf = pki.IssueLeaf({.key_type = KeyType::kEc, .key_bits = 256});

  const std::string aes = Pkcs12Info(leaf.ToPfx("pw", PfxEncryption::kAes256));
  CHECK(aes.find("MAC: sha256") != std::string::npos);
  CHECK(aes.find("PKCS7 Encrypted data: PBES2, PBKDF2, AES-256-CBC") != std::string::npos);
  CHECK(aes.find("Shrouded Keybag: PBES2, PBKDF2, AES-256-CBC") != std::string::npos);

  const std::string des = Pkcs12Info(leaf.ToPfx("pw", PfxEncryption::kTripleDes));
  CHECK(des.find("MAC: sha1") != std::string::npos);
  CHECK(des.find("PKCS7 Encrypted data: pbeWithSHA1And3-KeyTripleDES-CBC") != std::string::npos);
  CHECK(des.find("Shrouded Keybag: pbeWithSHA1And3-KeyTripleDES-CBC") != std::string::npos);

  const std::string legacy = Pkcs12Info(leaf.ToPfx("pw", PfxEncryption::kLegacy));
  CHECK(legacy.find("MAC: sha1") != std::string::npos);
  CHECK(legacy.find("PKCS7 Encrypted data: pbeWithSHA1And40BitRC2-CBC") != std::string::npos);
  CHECK(legacy.find("Shrouded Keybag: pbeWithSHA1And3-KeyTripleDES-CBC") != std::string::npos);
}

TEST_CASE("The root PEM verifies a leaf with the openssl command") {
  const TestPki pki;
  const TestCert intermediate = pki.IssueIntermediate("Issuing CA");
  const TestCert leaf = pki.IssueLeaf({.dns_names = {"registry.local"}}, intermediate);
  rotor::testing::TempDir dir;
  auto run = RunProcess({"openssl", "verify", "-attime", "1748736000",  // TestNow()
                         "-purpose", "sslserver", "-CAfile",
                         dir.Write("ca.pem", pki.root().CertificatePem()), "-untrusted",
                         dir.Write("int.pem", intermediate.CertificatePem()),
                         dir.Write("leaf.pem", leaf.CertificatePem())});
  REQUIRE(run.ok());
  CHECK_MESSAGE(run->exit_code == 0, run->stdout_data, run->stderr_data);
  CHECK(absl::ToUnixSeconds(TestNow()) == 1748736000);
}

}  // namespace
}  // namespace rotor::certs::testing
