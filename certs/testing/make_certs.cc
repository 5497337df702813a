#include "certs/testing/make_certs.h"

#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/civil_time.h"
#include "certs/openssl_util.h"

namespace rotor::certs::testing {

using internal::EvpPkeyPtr;
using internal::TakeOpenSslErrors;
using internal::X509Ptr;

struct TestCert::Impl {
  X509Ptr cert;
  EvpPkeyPtr key;
  KeyType key_type = KeyType::kRsa;
  int key_bits = 0;
  // The issuer, its issuer, ... up to the root; empty for self-signed.
  std::vector<std::shared_ptr<const Impl>> issuers;
};

namespace {

[[noreturn]] void Fail(absl::string_view what) {
  throw std::runtime_error(absl::StrCat("make_certs: ", what, ": ", TakeOpenSslErrors()));
}

void Check(int ok, absl::string_view what) {
  if (ok != 1) Fail(what);
}

// The build's pool of RSA-2048 keys (make_key_pool.sh), read once per
// process; each key is handed out once.
class KeyPool {
 public:
  static KeyPool& Get() {
    static KeyPool* pool = new KeyPool();
    return *pool;
  }

  int Left() const {
    const size_t taken = std::min(next_.load(), pems_.size());
    return static_cast<int>(pems_.size() - taken);
  }

  // The next unused key of the pool; null once it is used up (or missing).
  EvpPkeyPtr Take() {
    const size_t i = next_.fetch_add(1);
    if (i >= pems_.size()) return nullptr;
    BIO* bio = BIO_new_mem_buf(pems_[i].data(), static_cast<int>(pems_[i].size()));
    EvpPkeyPtr key(PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr));
    BIO_free(bio);
    if (!key) Fail("read a key of the test key pool " ROTOR_TEST_KEY_POOL);
    return key;
  }

 private:
  KeyPool() {
    std::ifstream in(ROTOR_TEST_KEY_POOL, std::ios::binary);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const std::string kEnd = "-----END PRIVATE KEY-----";
    size_t start = 0;
    for (size_t end = text.find(kEnd); end != std::string::npos; end = text.find(kEnd, start)) {
      pems_.push_back(text.substr(start, end + kEnd.size() - start));
      start = end + kEnd.size();
    }
  }

  std::vector<std::string> pems_;
  std::atomic<size_t> next_{0};
};

EvpPkeyPtr NewKey(KeyType type, int bits) {
  EvpPkeyPtr key;
  if (type == KeyType::kRsa && bits == 2048) key = KeyPool::Get().Take();
  if (key) return key;
  if (type == KeyType::kRsa) {
    key.reset(EVP_RSA_gen(static_cast<unsigned int>(bits)));
  } else {
    key.reset(EVP_EC_gen(absl::StrCat("P-", bits).c_str()));
  }
  if (!key) Fail(absl::StrCat("generate a ", bits, "-bit key"));
  return key;
}

void AddName(X509_NAME* name, const char* field, const std::string& value) {
  if (value.empty()) return;
  Check(X509_NAME_add_entry_by_txt(name, field, MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>(value.data()),
                                   static_cast<int>(value.size()), -1, 0),
        absl::StrCat("set ", field));
}

void AddExtension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (ext == nullptr) Fail(absl::StrCat("make extension ", OBJ_nid2sn(nid)));
  const int ok = X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
  Check(ok, "add extension");
}

struct Spec {
  std::string common_name;
  std::string organization;
  std::vector<std::string> dns_names;
  absl::Time not_before;
  absl::Time not_after;
  KeyType key_type = KeyType::kRsa;
  int key_bits = 2048;
  bool ca = false;
  bool sha1 = false;
  bool server_auth = true;
  bool usage_extensions = true;
};

// Issues a certificate for `spec`, signed by `issuer` (self-signed when null).
std::shared_ptr<const TestCert::Impl> Issue(const Spec& spec,
                                            const std::shared_ptr<const TestCert::Impl>& issuer) {
  auto impl = std::make_shared<TestCert::Impl>();
  impl->key = NewKey(spec.key_type, spec.key_bits);
  impl->key_type = spec.key_type;
  impl->key_bits = spec.key_bits;
  impl->cert.reset(X509_new());
  X509* cert = impl->cert.get();
  Check(X509_set_version(cert, X509_VERSION_3), "set version");

  unsigned char serial[16];
  Check(RAND_bytes(serial, sizeof serial), "random serial");
  serial[0] &= 0x7F;  // positive
  BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
  if (bn == nullptr || BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert)) == nullptr) {
    BN_free(bn);
    Fail("set serial");
  }
  BN_free(bn);

  X509_NAME* subject = X509_get_subject_name(cert);
  AddName(subject, "O", spec.organization);
  AddName(subject, "CN", spec.common_name);
  X509* signer_cert = issuer ? issuer->cert.get() : cert;
  EVP_PKEY* signer_key = issuer ? issuer->key.get() : impl->key.get();
  Check(X509_set_issuer_name(cert, X509_get_subject_name(signer_cert)), "set issuer");
  if (ASN1_TIME_set(X509_getm_notBefore(cert), absl::ToTimeT(spec.not_before)) == nullptr ||
      ASN1_TIME_set(X509_getm_notAfter(cert), absl::ToTimeT(spec.not_after)) == nullptr) {
    Fail("set validity");
  }
  Check(X509_set_pubkey(cert, impl->key.get()), "set public key");

  AddExtension(cert, signer_cert, NID_subject_key_identifier, "hash");
  AddExtension(cert, signer_cert, NID_authority_key_identifier, "keyid:always");
  if (spec.ca) {
    AddExtension(cert, signer_cert, NID_basic_constraints, "critical,CA:TRUE");
    AddExtension(cert, signer_cert, NID_key_usage, "critical,keyCertSign,cRLSign,digitalSignature");
  } else {
    AddExtension(cert, signer_cert, NID_basic_constraints, "critical,CA:FALSE");
    if (spec.usage_extensions) {
      AddExtension(cert, signer_cert, NID_key_usage,
                   spec.key_type == KeyType::kRsa ? "critical,digitalSignature,keyEncipherment"
                                                  : "critical,digitalSignature");
      AddExtension(cert, signer_cert, NID_ext_key_usage,
                   spec.server_auth ? "serverAuth,clientAuth" : "clientAuth");
    }
    if (!spec.dns_names.empty()) {
      std::vector<std::string> entries;
      for (const std::string& dns : spec.dns_names) {
        entries.push_back(absl::StrCat("DNS:", dns));
      }
      AddExtension(cert, signer_cert, NID_subject_alt_name, absl::StrJoin(entries, ","));
    }
  }
  if (X509_sign(cert, signer_key, spec.sha1 ? EVP_sha1() : EVP_sha256()) <= 0) {
    Fail("sign certificate");
  }
  if (issuer) {
    impl->issuers.push_back(issuer);
    impl->issuers.insert(impl->issuers.end(), issuer->issuers.begin(), issuer->issuers.end());
  }
  return impl;
}

Spec LeafSpec(const CertOptions& options, absl::Time now) {
  Spec spec;
  spec.common_name = options.common_name;
  spec.organization = options.organization;
  spec.dns_names = options.dns_names;
  spec.not_before = now + options.valid_from;
  spec.not_after = now + options.valid_until;
  spec.key_type = options.key_type;
  spec.key_bits = options.key_bits;
  spec.sha1 = options.sha1_signature;
  spec.server_auth = options.server_auth;
  spec.usage_extensions = options.usage_extensions;
  return spec;
}

Spec CaSpec(const std::string& name, absl::Time now) {
  Spec spec;
  spec.common_name = name;
  spec.not_before = now - absl::Hours(24 * 30);
  spec.not_after = now + absl::Hours(24 * 3650);
  spec.ca = true;
  return spec;
}

std::string Sha1(X509* cert) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  Check(X509_digest(cert, EVP_sha1(), md, &len), "digest");
  return std::string(reinterpret_cast<char*>(md), len);
}

struct BagsFree {
  void operator()(STACK_OF(PKCS12_SAFEBAG) * bags) const {
    sk_PKCS12_SAFEBAG_pop_free(bags, PKCS12_SAFEBAG_free);
  }
};
struct SafesFree {
  void operator()(STACK_OF(PKCS7) * safes) const { sk_PKCS7_pop_free(safes, PKCS7_free); }
};

}  // namespace

absl::Time TestNow() {
  return absl::FromCivil(absl::CivilSecond(2025, 6, 1, 0, 0, 0), absl::UTCTimeZone());
}

std::string NewRsa2048KeyPem() {
  return std::string(internal::PrivateKeyPkcs8Pem(NewKey(KeyType::kRsa, 2048).get()).Reveal());
}

int RsaKeysLeftInPool() { return KeyPool::Get().Left(); }

TestCert::TestCert(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}

std::string TestCert::CertificatePem() const { return internal::CertificatePem(impl_->cert.get()); }

std::string TestCert::CertificateDer() const { return internal::CertificateDer(impl_->cert.get()); }

std::string TestCert::KeyPem() const {
  return std::string(internal::PrivateKeyPkcs8Pem(impl_->key.get()).Reveal());
}

std::string TestCert::ToPfx(absl::string_view password, PfxEncryption encryption,
                            const PfxContents& contents) const {
  int cert_nid = NID_aes_256_cbc;
  int key_nid = NID_aes_256_cbc;
  const EVP_MD* mac_md = EVP_sha256();
  if (encryption == PfxEncryption::kTripleDes) {
    cert_nid = key_nid = NID_pbe_WithSHA1And3_Key_TripleDES_CBC;
    mac_md = EVP_sha1();
  } else if (encryption == PfxEncryption::kLegacy) {
    if (!internal::EnsureLegacyProvidersLoaded().ok()) Fail("legacy provider");
    cert_nid = NID_pbe_WithSHA1And40BitRC2_CBC;
    key_nid = NID_pbe_WithSHA1And3_Key_TripleDES_CBC;
    mac_md = EVP_sha1();
  }
  const std::string pass(password);
  constexpr int kIterations = 2048;

  // Certificates, leaf first unless asked otherwise.
  std::vector<X509*> certs = {impl_->cert.get()};
  if (contents.include_chain) {
    for (const auto& issuer : impl_->issuers) certs.push_back(issuer->cert.get());
  }
  if (contents.chain_out_of_order) std::reverse(certs.begin(), certs.end());
  std::shared_ptr<const Impl> extra;
  if (contents.extra_cert) {
    Spec spec = CaSpec("Unrelated Test Certificate", TestNow());
    spec.key_type = KeyType::kEc;
    spec.key_bits = 256;
    extra = Issue(spec, nullptr);
    certs.push_back(extra->cert.get());
  }

  const std::string key_id = Sha1(impl_->cert.get());
  std::unique_ptr<STACK_OF(PKCS12_SAFEBAG), BagsFree> cert_bags;
  for (X509* cert : certs) {
    STACK_OF(PKCS12_SAFEBAG)* bags = cert_bags.release();
    PKCS12_SAFEBAG* bag = PKCS12_add_cert(&bags, cert);
    cert_bags.reset(bags);
    if (bag == nullptr) Fail("add certificate bag");
    if (cert == impl_->cert.get()) {
      Check(PKCS12_add_localkeyid(
                bag, reinterpret_cast<unsigned char*>(const_cast<char*>(key_id.data())),
                static_cast<int>(key_id.size())),
            "add localKeyID");
    }
  }
  std::unique_ptr<STACK_OF(PKCS12_SAFEBAG), BagsFree> key_bags;
  EvpPkeyPtr other_key;
  if (!contents.no_key) {
    EVP_PKEY* key = impl_->key.get();
    if (contents.wrong_key) {
      other_key = NewKey(impl_->key_type, impl_->key_bits);
      key = other_key.get();
    }
    STACK_OF(PKCS12_SAFEBAG)* bags = nullptr;
    PKCS12_SAFEBAG* bag = PKCS12_add_key(&bags, key, 0, kIterations, key_nid, pass.c_str());
    key_bags.reset(bags);
    if (bag == nullptr) Fail("add key bag");
    Check(PKCS12_add_localkeyid(bag,
                                reinterpret_cast<unsigned char*>(const_cast<char*>(key_id.data())),
                                static_cast<int>(key_id.size())),
          "add localKeyID");
  }

  std::unique_ptr<STACK_OF(PKCS7), SafesFree> safes;
  STACK_OF(PKCS7)* raw_safes = nullptr;
  const bool certs_ok =
      PKCS12_add_safe(&raw_safes, cert_bags.get(), cert_nid, kIterations, pass.c_str()) == 1;
  safes.reset(raw_safes);
  if (!certs_ok) Fail("encrypt certificates");
  if (key_bags) {
    raw_safes = safes.release();
    // The key bag is shrouded itself; its safe is plain data.
    const bool key_ok =
        PKCS12_add_safe(&raw_safes, key_bags.get(), -1, kIterations, pass.c_str()) == 1;
    safes.reset(raw_safes);
    if (!key_ok) Fail("add key safe");
  }
  internal::Pkcs12Ptr p12(PKCS12_add_safes(safes.get(), 0));
  if (!p12) Fail("assemble PKCS#12");
  Check(PKCS12_set_mac(p12.get(), pass.c_str(), -1, nullptr, 0, kIterations, mac_md), "set MAC");
  unsigned char* der = nullptr;
  const int len = i2d_PKCS12(p12.get(), &der);
  if (len <= 0) Fail("encode PKCS#12");
  std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  return out;
}

TestPki::TestPki(absl::Time now, const std::string& root_name)
    : now_(now), root_(Issue(CaSpec(root_name, now), nullptr)) {}

TestCert TestPki::IssueIntermediate(const std::string& common_name) const {
  return IssueIntermediate(common_name, root_);
}

TestCert TestPki::IssueIntermediate(const std::string& common_name, const TestCert& issuer) const {
  return TestCert(Issue(CaSpec(common_name, now_), issuer.impl_));
}

TestCert TestPki::IssueLeaf(const CertOptions& options) const { return IssueLeaf(options, root_); }

TestCert TestPki::IssueLeaf(const CertOptions& options, const TestCert& issuer) const {
  return TestCert(Issue(LeafSpec(options, now_), issuer.impl_));
}

TestCert TestPki::SelfSigned(const CertOptions& options) const {
  return TestCert(Issue(LeafSpec(options, now_), nullptr));
}

}  // namespace rotor::certs::testing
