#include "providers/auth/client_certificate.h"

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/files.h"
#include "base/status_macros.h"
#include "certs/pfx.h"

namespace rotor::auth {

struct ClientCertificate::Impl {
  std::string source;
  std::string x5t;
  std::string thumbprint;
  EVP_PKEY* key = nullptr;
  ~Impl() { EVP_PKEY_free(key); }
};

namespace {

std::string OpenSslErrors() {
  std::string out;
  unsigned long e;
  while ((e = ERR_get_error()) != 0) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out.empty() ? "unknown OpenSSL error" : out;
}

int PasswordCallback(char* buf, int size, int /*rwflag*/, void* user) {
  const Secret* password = static_cast<const Secret*>(user);
  if (password == nullptr) return 0;
  absl::string_view p = password->Reveal();
  if (static_cast<int>(p.size()) > size) return 0;
  memcpy(buf, p.data(), p.size());
  return static_cast<int>(p.size());
}

struct BioDeleter {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct X509Deleter {
  void operator()(X509* x) const { X509_free(x); }
};
using BioPtr = std::unique_ptr<BIO, BioDeleter>;
using X509Ptr = std::unique_ptr<X509, X509Deleter>;

BioPtr MemBio(absl::string_view data) {
  return BioPtr(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
}

std::string UuidV4() {
  unsigned char b[16];
  if (RAND_bytes(b, sizeof b) != 1) {
    // Fall back on the address of the stack and the time: the jti need only
    // be unique, not secret.
    uint64_t t = static_cast<uint64_t>(absl::ToUnixNanos(absl::Now()));
    memcpy(b, &t, 8);
    uint64_t s = reinterpret_cast<uintptr_t>(&b);
    memcpy(b + 8, &s, 8);
  }
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  std::string hex = absl::BytesToHexString(absl::string_view(reinterpret_cast<char*>(b), 16));
  return absl::StrCat(hex.substr(0, 8), "-", hex.substr(8, 4), "-", hex.substr(12, 4), "-",
                      hex.substr(16, 4), "-", hex.substr(20));
}

}  // namespace

std::string Base64UrlEncode(absl::string_view data) {
  std::string out;
  absl::WebSafeBase64Escape(data, &out);  // no padding
  return out;
}

ClientCertificate::ClientCertificate(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ClientCertificate::ClientCertificate(ClientCertificate&&) noexcept = default;
ClientCertificate& ClientCertificate::operator=(ClientCertificate&&) noexcept = default;
ClientCertificate::~ClientCertificate() = default;

const std::string& ClientCertificate::x5t() const { return impl_->x5t; }
const std::string& ClientCertificate::thumbprint() const { return impl_->thumbprint; }
const std::string& ClientCertificate::source() const { return impl_->source; }

absl::StatusOr<ClientCertificate> ClientCertificate::Load(const std::string& path,
                                                          const Secret& password) {
  auto bytes = ReadFile(
      path, ReadLimit{.max_bytes = certs::kMaxPfxBytes, .what = "a client certificate file"});
  if (!bytes.ok()) {
    return absl::Status(bytes.status().code(),
                        absl::StrCat("client certificate: ", bytes.status().message()));
  }
  Secret held(*std::move(bytes));
  return FromBytes(held.Reveal(), password, path);
}

absl::StatusOr<ClientCertificate> ClientCertificate::FromBytes(absl::string_view bytes,
                                                               const Secret& password,
                                                               const std::string& source) {
  ERR_clear_error();
  X509Ptr cert;
  EVP_PKEY* key = nullptr;
  if (absl::StrContains(bytes, "-----BEGIN")) {
    BioPtr cert_bio = MemBio(bytes);
    cert.reset(PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr));
    if (cert == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("client certificate ", source, " holds no PEM certificate"));
    }
    BioPtr key_bio = MemBio(bytes);
    key = PEM_read_bio_PrivateKey(key_bio.get(), nullptr, PasswordCallback,
                                  const_cast<Secret*>(&password));
    if (key == nullptr) {
      ERR_clear_error();
      return absl::InvalidArgumentError(absl::StrCat(
          "client certificate ", source,
          " holds no private key that could be read (a PEM file needs the certificate and its "
          "key; an encrypted key needs auth.client_certificate_password)"));
    }
  } else {
    ASSIGN_OR_RETURN(certs::Pfx pfx, certs::Pfx::Open(bytes, password,
                                                      absl::StrCat("client certificate ", source)));
    std::string pem = pfx.LeafCertificatePem();
    BioPtr cert_bio = MemBio(pem);
    cert.reset(PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr));
    Secret key_pem = pfx.PrivateKeyPem();
    BioPtr key_bio = MemBio(key_pem.Reveal());
    key = PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr);
    if (cert == nullptr || key == nullptr) {
      EVP_PKEY_free(key);
      return absl::InternalError(
          absl::StrCat("client certificate ", source, ": ", OpenSslErrors()));
    }
  }
  auto impl = std::make_unique<Impl>();
  impl->key = key;
  impl->source = source;
  if (EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA) {
    return absl::InvalidArgumentError(
        absl::StrCat("client certificate ", source,
                     " has a non-RSA key; the assertion is signed RS256, which needs an RSA key"));
  }
  if (X509_check_private_key(cert.get(), key) != 1) {
    ERR_clear_error();
    return absl::InvalidArgumentError(absl::StrCat("the private key in client certificate ", source,
                                                   " does not match its certificate"));
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (X509_digest(cert.get(), EVP_sha1(), digest, &length) != 1) {
    return absl::InternalError(absl::StrCat("client certificate ", source, ": ", OpenSslErrors()));
  }
  absl::string_view raw(reinterpret_cast<const char*>(digest), length);
  impl->x5t = Base64UrlEncode(raw);
  impl->thumbprint = absl::AsciiStrToUpper(absl::BytesToHexString(raw));
  return ClientCertificate(std::move(impl));
}

absl::StatusOr<Secret> ClientCertificate::MakeAssertion(absl::string_view client_id,
                                                        absl::string_view token_endpoint,
                                                        absl::Time now) const {
  const std::string signing_input =
      absl::StrCat(Base64UrlEncode(JwtHeaderJson(impl_->x5t)), ".",
                   Base64UrlEncode(JwtClaimsJson(token_endpoint, client_id, UuidV4(), now,
                                                 now + kAssertionLifetime)));
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  if (ctx == nullptr) return absl::ResourceExhaustedError("EVP_MD_CTX_new");
  size_t sig_len = 0;
  std::string signature;
  bool ok = EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, impl_->key) == 1 &&
            EVP_DigestSign(ctx, nullptr, &sig_len,
                           reinterpret_cast<const unsigned char*>(signing_input.data()),
                           signing_input.size()) == 1;
  if (ok) {
    signature.resize(sig_len);
    ok = EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(signature.data()), &sig_len,
                        reinterpret_cast<const unsigned char*>(signing_input.data()),
                        signing_input.size()) == 1;
    signature.resize(sig_len);
  }
  EVP_MD_CTX_free(ctx);
  if (!ok) {
    return absl::InternalError(
        absl::StrCat("signing the client assertion with ", impl_->source, ": ", OpenSslErrors()));
  }
  return Secret(absl::StrCat(signing_input, ".", Base64UrlEncode(signature)));
}

}  // namespace rotor::auth
