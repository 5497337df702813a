#include "tests/emulator/tls.h"

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/files.h"
#include "base/status_macros.h"

namespace rotor::emulator {
namespace {

template <auto kFree>
struct Free {
  template <typename T>
  void operator()(T* p) const {
    kFree(p);
  }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, Free<EVP_PKEY_free>>;
using X509Ptr = std::unique_ptr<X509, Free<X509_free>>;
using BioPtr = std::unique_ptr<BIO, Free<BIO_free_all>>;

std::string OpenSslErrors() {
  std::string out;
  unsigned long e;
  while ((e = ERR_get_error()) != 0) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out;
}

absl::Status OpenSslError(absl::string_view what) {
  return absl::InternalError(absl::StrCat(what, ": ", OpenSslErrors()));
}

std::string BioText(BIO* bio) {
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  return std::string(data, n > 0 ? static_cast<size_t>(n) : 0);
}

absl::StatusOr<PkeyPtr> NewRsaKey(int bits) {
  PkeyPtr key(EVP_RSA_gen(bits));
  if (!key) return OpenSslError("generate an RSA key");
  return key;
}

absl::StatusOr<PkeyPtr> NewEcKey() {
  PkeyPtr key(EVP_EC_gen("P-256"));
  if (!key) return OpenSslError("generate an EC key");
  return key;
}

absl::StatusOr<std::string> KeyPem(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr)) {
    return OpenSslError("write a private key");
  }
  return BioText(bio.get());
}

absl::StatusOr<std::string> CertPem(X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!PEM_write_bio_X509(bio.get(), cert)) return OpenSslError("write a certificate");
  return BioText(bio.get());
}

absl::StatusOr<PkeyPtr> ReadKey(const std::string& path) {
  ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  BioPtr bio(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
  PkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  std::fill(text.begin(), text.end(), '\0');
  if (!key) return OpenSslError(absl::StrCat("read the key ", path));
  return key;
}

absl::StatusOr<X509Ptr> ReadCert(const std::string& path) {
  ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  BioPtr bio(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
  X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!cert) return OpenSslError(absl::StrCat("read the certificate ", path));
  return cert;
}

absl::Status AddExtension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (ext == nullptr) return OpenSslError(absl::StrCat("make extension ", value));
  int ok = X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
  if (!ok) return OpenSslError("add an extension");
  return absl::OkStatus();
}

absl::Status SetSerial(X509* cert) {
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof bytes) != 1) return OpenSslError("RAND_bytes");
  bytes[0] &= 0x7f;
  BIGNUM* bn = BN_bin2bn(bytes, sizeof bytes, nullptr);
  if (bn == nullptr) return OpenSslError("BN_bin2bn");
  ASN1_INTEGER* serial = BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert));
  BN_free(bn);
  if (serial == nullptr) return OpenSslError("set the serial number");
  return absl::OkStatus();
}

// A certificate for `key` named `cn`, signed by `issuer_key` (self-signed
// when issuer is null), valid from an hour ago for `days` days (or, with
// `expired`, from 30 days ago until yesterday).
absl::StatusOr<X509Ptr> MakeCertificate(EVP_PKEY* key, const std::string& cn, X509* issuer,
                                        EVP_PKEY* issuer_key, long days, bool ca,
                                        const std::vector<std::string>& dns,
                                        const std::vector<std::string>& ips, bool expired = false) {
  X509Ptr cert(X509_new());
  if (!cert) return OpenSslError("X509_new");
  X509_set_version(cert.get(), 2);
  RETURN_IF_ERROR(SetSerial(cert.get()));
  if (expired) {
    X509_gmtime_adj(X509_getm_notBefore(cert.get()), -30L * 24 * 3600);
    X509_gmtime_adj(X509_getm_notAfter(cert.get()), -24L * 3600);
  } else {
    X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
    X509_gmtime_adj(X509_getm_notAfter(cert.get()), days * 24 * 3600);
  }
  X509_set_pubkey(cert.get(), key);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("rotor-emulator"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509* signer = issuer != nullptr ? issuer : cert.get();
  X509_set_issuer_name(cert.get(), X509_get_subject_name(signer));
  if (ca) {
    RETURN_IF_ERROR(AddExtension(cert.get(), signer, NID_basic_constraints, "critical,CA:TRUE"));
    RETURN_IF_ERROR(
        AddExtension(cert.get(), signer, NID_key_usage, "critical,keyCertSign,cRLSign"));
    RETURN_IF_ERROR(AddExtension(cert.get(), signer, NID_subject_key_identifier, "hash"));
  } else {
    RETURN_IF_ERROR(AddExtension(cert.get(), signer, NID_basic_constraints, "critical,CA:FALSE"));
    RETURN_IF_ERROR(AddExtension(cert.get(), signer, NID_key_usage,
                                 "critical,digitalSignature,keyEncipherment"));
    RETURN_IF_ERROR(AddExtension(cert.get(), signer, NID_ext_key_usage, "serverAuth"));
    RETURN_IF_ERROR(AddExtension(cert.get(), signer, NID_subject_key_identifier, "hash"));
    RETURN_IF_ERROR(AddExtension(cert.get(), signer, NID_authority_key_identifier, "keyid:always"));
    std::vector<std::string> san;
    for (const auto& d : dns) san.push_back(absl::StrCat("DNS:", d));
    for (const auto& ip : ips) san.push_back(absl::StrCat("IP:", ip));
    RETURN_IF_ERROR(
        AddExtension(cert.get(), signer, NID_subject_alt_name, absl::StrJoin(san, ",")));
  }
  if (X509_sign(cert.get(), issuer_key, EVP_sha256()) == 0) {
    return OpenSslError("sign a certificate");
  }
  return cert;
}

bool ExpiresWithin(X509* cert, long days) {
  return X509_cmp_time(X509_get0_notAfter(cert), nullptr) < 0 ||
         X509_cmp_timeframe(nullptr, X509_get0_notBefore(cert), X509_get0_notAfter(cert)) != 0 ||
         [&] {
           ASN1_TIME* limit = X509_time_adj_ex(nullptr, days, 0, nullptr);
           bool soon = ASN1_TIME_compare(X509_get0_notAfter(cert), limit) < 0;
           ASN1_TIME_free(limit);
           return soon;
         }();
}

}  // namespace

std::vector<std::string> ServerCertificateDnsNames() {
  return {"localhost", "management.localhost", "login.localhost", "vault.localhost",
          "*.vault.localhost"};
}

std::vector<std::string> ServerCertificateProfiles() {
  return {"valid", "untrusted", "wrong-host", "expired"};
}

absl::StatusOr<TlsFiles> PrepareTls(const std::string& state_dir, absl::string_view profile) {
  if (profile != "valid" && profile != "untrusted" && profile != "wrong-host" &&
      profile != "expired") {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown TLS certificate profile \"", profile,
                     "\": use valid, untrusted, wrong-host or expired"));
  }
  TlsFiles files;
  const std::string tls_dir = absl::StrCat(state_dir, "/", kTlsDir);
  RETURN_IF_ERROR(MakeDirs(tls_dir));
  ::chmod(tls_dir.c_str(), 0700);
  files.ca_cert_path = absl::StrCat(state_dir, "/ca.pem");
  const std::string ca_key_path = absl::StrCat(tls_dir, "/ca.key");
  files.server_cert_path = absl::StrCat(tls_dir, "/server.pem");
  files.server_key_path = absl::StrCat(tls_dir, "/server.key");
  files.token_key_path = absl::StrCat(tls_dir, "/", kTokenSigningKeyFile);

  PkeyPtr ca_key;
  X509Ptr ca_cert;
  if (PathExists(ca_key_path) && PathExists(files.ca_cert_path)) {
    ASSIGN_OR_RETURN(ca_key, ReadKey(ca_key_path));
    ASSIGN_OR_RETURN(ca_cert, ReadCert(files.ca_cert_path));
    if (X509_check_private_key(ca_cert.get(), ca_key.get()) != 1 ||
        ExpiresWithin(ca_cert.get(), 30)) {
      ERR_clear_error();
      ca_key.reset();
      ca_cert.reset();
    }
  }
  if (!ca_cert) {
    ASSIGN_OR_RETURN(ca_key, NewEcKey());
    ASSIGN_OR_RETURN(ca_cert, MakeCertificate(ca_key.get(), "rotor-emulator CA", nullptr,
                                              ca_key.get(), 3650, true, {}, {}));
    ASSIGN_OR_RETURN(std::string key_pem, KeyPem(ca_key.get()));
    RETURN_IF_ERROR(WriteFileAtomic(ca_key_path, key_pem, 0600));
    std::fill(key_pem.begin(), key_pem.end(), '\0');
    ASSIGN_OR_RETURN(std::string cert_pem, CertPem(ca_cert.get()));
    RETURN_IF_ERROR(WriteFileAtomic(files.ca_cert_path, cert_pem, 0644));
  }

  if (!PathExists(files.token_key_path)) {
    ASSIGN_OR_RETURN(PkeyPtr token_key, NewRsaKey(2048));
    ASSIGN_OR_RETURN(std::string key_pem, KeyPem(token_key.get()));
    RETURN_IF_ERROR(WriteFileAtomic(files.token_key_path, key_pem, 0600));
    std::fill(key_pem.begin(), key_pem.end(), '\0');
  }

  // The issuer and names of the server certificate (see tls.h).
  if (profile == "untrusted") {
    // A CA nobody was told about, made for this start and never saved.
    ASSIGN_OR_RETURN(ca_key, NewEcKey());
    ASSIGN_OR_RETURN(ca_cert, MakeCertificate(ca_key.get(), "rotor-emulator untrusted CA", nullptr,
                                              ca_key.get(), 30, true, {}, {}));
  }
  std::vector<std::string> dns = ServerCertificateDnsNames();
  std::vector<std::string> ips = {"127.0.0.1", "::1"};
  if (profile == "wrong-host") {
    dns = {"wrong-host.example"};
    ips.clear();
  }
  ASSIGN_OR_RETURN(PkeyPtr server_key, NewEcKey());
  ASSIGN_OR_RETURN(X509Ptr server_cert,
                   MakeCertificate(server_key.get(), dns.front(), ca_cert.get(), ca_key.get(), 365,
                                   false, dns, ips, profile == "expired"));
  ASSIGN_OR_RETURN(std::string key_pem, KeyPem(server_key.get()));
  RETURN_IF_ERROR(WriteFileAtomic(files.server_key_path, key_pem, 0600));
  std::fill(key_pem.begin(), key_pem.end(), '\0');
  ASSIGN_OR_RETURN(std::string cert_pem, CertPem(server_cert.get()));
  RETURN_IF_ERROR(WriteFileAtomic(files.server_cert_path, cert_pem, 0644));
  return files;
}

absl::StatusOr<RegistryCertificate> IssueRegistryCertificate(const std::string& host,
                                                             const std::string& pfx_password) {
  RegistryCertificate out;
  ASSIGN_OR_RETURN(PkeyPtr ca_key, NewEcKey());
  ASSIGN_OR_RETURN(X509Ptr ca_cert, MakeCertificate(ca_key.get(), "rotor-emulator registry CA",
                                                    nullptr, ca_key.get(), 365, true, {}, {}));
  ASSIGN_OR_RETURN(PkeyPtr key, NewEcKey());
  ASSIGN_OR_RETURN(X509Ptr cert, MakeCertificate(key.get(), host, ca_cert.get(), ca_key.get(), 365,
                                                 false, {host, "localhost"}, {"127.0.0.1"}));
  ASSIGN_OR_RETURN(out.ca_pem, CertPem(ca_cert.get()));
  ASSIGN_OR_RETURN(out.cert_pem, CertPem(cert.get()));
  std::unique_ptr<STACK_OF(X509), void (*)(STACK_OF(X509)*)> chain(
      sk_X509_new_null(), [](STACK_OF(X509) * s) { sk_X509_pop_free(s, X509_free); });
  if (!chain || sk_X509_push(chain.get(), X509_dup(ca_cert.get())) == 0) {
    return OpenSslError("build the PFX chain");
  }
  // OpenSSL 3's defaults: AES-256-CBC, PBKDF2, SHA-256 MAC.
  std::unique_ptr<PKCS12, Free<PKCS12_free>> p12(PKCS12_create(
      pfx_password.c_str(), host.c_str(), key.get(), cert.get(), chain.get(), 0, 0, 0, 0, 0));
  if (!p12) return OpenSslError("create the PFX");
  unsigned char* der = nullptr;
  const int len = i2d_PKCS12(p12.get(), &der);
  if (len <= 0) return OpenSslError("encode the PFX");
  out.pfx_der.assign(reinterpret_cast<const char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  unsigned char sha1[EVP_MAX_MD_SIZE];
  unsigned int sha1_len = 0;
  if (X509_digest(cert.get(), EVP_sha1(), sha1, &sha1_len) != 1) {
    return OpenSslError("fingerprint the certificate");
  }
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (unsigned int i = 0; i < sha1_len; ++i) {
    out.thumbprint.push_back(kHex[sha1[i] >> 4]);
    out.thumbprint.push_back(kHex[sha1[i] & 15]);
  }
  return out;
}

}  // namespace rotor::emulator
