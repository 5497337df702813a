// Test certificates made at run time with OpenSSL (no key or PFX is ever
// committed): a small PKI with a self-signed root, optional intermediates,
// leaves with the properties the checks judge, and PFX files in the three
// encryptions found in the wild.
//
//   rotor::certs::testing::TestPki pki;   // root "CN=Rotor Test Root CA"
//   TestCert leaf = pki.IssueLeaf({.common_name = "registry.local",
//                                  .dns_names = {"registry.local"}});
//   std::string pfx = leaf.ToPfx("password", PfxEncryption::kLegacy);
//   std::string ca_pem = pki.root().CertificatePem();
//
// Times are relative to the TestPki's `now` (TestNow() unless given), so
// expiry tests are deterministic when the checks use the same `now`.
// Library rotor_certs_testing; for tests only.
//
// Keys: making an RSA key costs a tenth to half a CPU second, and the suite
// needs a few hundred. RSA-2048 keys therefore come first from a pool the
// build makes once (make_key_pool.sh, 48 keys), each handed out once per
// process, then are made afresh: within one test process no two keys are
// ever the same; across test processes the same key recurs, which nothing
// may rely on (each test's certificates live in its own process). Other
// sizes and EC keys are always made afresh.
#ifndef ROTOR_CERTS_TESTING_MAKE_CERTS_H_
#define ROTOR_CERTS_TESTING_MAKE_CERTS_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace rotor::certs::testing {

// 2025-06-01 00:00:00 UTC: the default "now" of a TestPki.
absl::Time TestNow();

enum class KeyType { kRsa, kEc };

// An RSA-2048 private key (PKCS#8 PEM) no one else in this process has
// (see "Keys" above): for a test's own key files, such as an emulator's
// token-signing key.
std::string NewRsa2048KeyPem();

// How many keys of the pool this process has not taken yet.
int RsaKeysLeftInPool();

enum class PfxEncryption {
  kAes256,     // OpenSSL 3's default: PBES2 AES-256-CBC, HMAC-SHA-256 MAC
  kTripleDes,  // pbeWithSHA1And3-KeyTripleDES-CBC for key and certificates
  kLegacy,     // `openssl pkcs12 -export -legacy`, old Windows exports:
               // certificates RC2-40, key 3DES, SHA-1 MAC (loads OpenSSL's
               // legacy provider to write it)
};

struct CertOptions {
  std::string common_name = "registry.local";
  // (Every field has an initializer so designated initializers may skip
  // any without -Wmissing-field-initializers.)
  std::string organization{};            // O=, left out when empty
  std::vector<std::string> dns_names{};  // subjectAltName DNS entries
  // not_before = now + valid_from; not_after = now + valid_until.
  absl::Duration valid_from = -absl::Hours(24);
  absl::Duration valid_until = absl::Hours(24 * 365);
  KeyType key_type = KeyType::kRsa;
  // RSA modulus bits, or the EC curve size (224, 256, 384, 521).
  int key_bits = 2048;
  bool sha1_signature = false;  // sign with SHA-1 instead of SHA-256
  // extendedKeyUsage serverAuth; false writes clientAuth only.
  bool server_auth = true;
  // Write keyUsage and extendedKeyUsage at all.
  bool usage_extensions = true;
};

// What goes into a PFX besides the certificate.
struct PfxContents {
  bool include_chain = true;        // the issuing CAs (not for self-signed)
  bool chain_out_of_order = false;  // root first, leaf last
  bool extra_cert = false;          // plus an unrelated self-signed cert
  bool wrong_key = false;           // a fresh key instead of the cert's
  bool no_key = false;              // certificates only
};

class TestCert {
 public:
  std::string CertificatePem() const;
  std::string CertificateDer() const;
  // The private key as PKCS#8 PEM.
  std::string KeyPem() const;
  // The certificate (+ its issuers, per `contents`) and key as PKCS#12.
  std::string ToPfx(absl::string_view password, PfxEncryption encryption = PfxEncryption::kAes256,
                    const PfxContents& contents = {}) const;

  struct Impl;

 private:
  friend class TestPki;
  explicit TestCert(std::shared_ptr<const Impl> impl);
  std::shared_ptr<const Impl> impl_;
};

class TestPki {
 public:
  explicit TestPki(absl::Time now = TestNow(), const std::string& root_name = "Rotor Test Root CA");

  absl::Time now() const { return now_; }
  // The self-signed root; root().CertificatePem() is a CA bundle.
  const TestCert& root() const { return root_; }

  // A CA issued by `issuer` (the root by default).
  TestCert IssueIntermediate(const std::string& common_name) const;
  TestCert IssueIntermediate(const std::string& common_name, const TestCert& issuer) const;
  // A TLS server certificate issued by `issuer` (the root by default).
  TestCert IssueLeaf(const CertOptions& options) const;
  TestCert IssueLeaf(const CertOptions& options, const TestCert& issuer) const;
  // A self-signed TLS server certificate.
  TestCert SelfSigned(const CertOptions& options) const;

 private:
  absl::Time now_;
  TestCert root_;
};

}  // namespace rotor::certs::testing

#endif  // ROTOR_CERTS_TESTING_MAKE_CERTS_H_
