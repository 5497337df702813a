#include "certs/issuance.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/files.h"
#include "base/inert_text.h"
#include "base/status_macros.h"
#include "certs/openssl_util.h"
#include "certs/pfx.h"

namespace rotor::certs {
namespace {

using internal::BioPtr;
using internal::EvpPkeyPtr;
using internal::TakeOpenSslErrors;
using internal::X509Ptr;

using X509ReqPtr = std::unique_ptr<X509_REQ, internal::OpenSslFree<X509_REQ_free>>;
struct ExtensionsFree {
  void operator()(STACK_OF(X509_EXTENSION) * exts) const {
    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
  }
};
using ExtensionsPtr = std::unique_ptr<STACK_OF(X509_EXTENSION), ExtensionsFree>;
struct X509StackFree {
  void operator()(STACK_OF(X509) * certs) const { sk_X509_pop_free(certs, X509_free); }
};
using X509StackPtr = std::unique_ptr<STACK_OF(X509), X509StackFree>;

// An encrypted key would make OpenSSL prompt on the terminal: refuse.
int NoPassword(char*, int, int, void*) { return -1; }

// The key of a PEM text held as a Secret. Errors carry OpenSSL's reasons,
// never the text.
absl::StatusOr<EvpPkeyPtr> ReadPrivateKey(const Secret& pem) {
  ERR_clear_error();
  BioPtr bio(BIO_new_mem_buf(pem.Reveal().data(), static_cast<int>(pem.size())));
  EvpPkeyPtr key(bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, NoPassword, nullptr) : nullptr);
  if (!key) {
    const std::string errors = TakeOpenSslErrors();
    return absl::InvalidArgumentError(
        absl::StrCat("cannot read the private key (an unencrypted PEM key)",
                     errors.empty() ? "" : ": ", errors));
  }
  return key;
}

absl::StatusOr<X509Ptr> ReadCertificate(absl::string_view pem, absl::string_view what) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  X509Ptr cert(bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  if (!cert) {
    const std::string errors = TakeOpenSslErrors();
    return absl::InvalidArgumentError(
        absl::StrCat(what, " is not a valid certificate", errors.empty() ? "" : ": ", errors));
  }
  return cert;
}

// "CN=registry.local (thumbprint 3F2A...)": which certificate, all public.
std::string Describe(X509* cert) {
  return absl::StrCat(internal::NameToString(X509_get_subject_name(cert)), " (thumbprint ",
                      internal::Thumbprint(cert), ")");
}

absl::Status CheckDnsNames(const std::vector<std::string>& names) {
  if (names.empty()) {
    return absl::InvalidArgumentError("a certificate request needs at least one DNS name");
  }
  if (names.size() > kMaxCsrDnsNames) {
    return absl::InvalidArgumentError(absl::StrCat("a certificate request may carry at most ",
                                                   kMaxCsrDnsNames, " DNS names, not ",
                                                   names.size()));
  }
  for (size_t i = 0; i < names.size(); ++i) {
    const std::string& name = names[i];
    const std::string which = absl::StrCat("DNS name ", i + 1, " (\"", ShowInert(name, 80), "\")");
    if (name.empty())
      return absl::InvalidArgumentError(absl::StrCat("DNS name ", i + 1, " is empty"));
    if (name.size() > kMaxDnsNameLength) {
      return absl::InvalidArgumentError(absl::StrCat(which, " is ", name.size(),
                                                     " characters long; a DNS name has at most ",
                                                     kMaxDnsNameLength));
    }
    // A dNSName is an IA5String of an ASCII host name.
    const bool printable_ascii =
        std::all_of(name.begin(), name.end(), [](char c) { return c > ' ' && c < 0x7f; });
    if (!printable_ascii) {
      return absl::InvalidArgumentError(
          absl::StrCat(which, " holds a space, a control or a non-ASCII character (write an ",
                       "international name in its xn-- form)"));
    }
  }
  return absl::OkStatus();
}

absl::Status AddExtension(STACK_OF(X509_EXTENSION) * *exts, int nid, const char* value) {
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, nullptr, nid, value);
  if (ext == nullptr || X509v3_add_ext(exts, ext, -1) == nullptr) {
    X509_EXTENSION_free(ext);
    return absl::InternalError(
        absl::StrCat("cannot add ", OBJ_nid2sn(nid), " to the request: ", TakeOpenSslErrors()));
  }
  X509_EXTENSION_free(ext);
  return absl::OkStatus();
}

absl::Status AddSubjectAltNames(STACK_OF(X509_EXTENSION) * *exts,
                                const std::vector<std::string>& names) {
  GENERAL_NAMES* sans = GENERAL_NAMES_new();
  for (const std::string& name : names) {
    GENERAL_NAME* entry = GENERAL_NAME_new();
    ASN1_IA5STRING* dns = ASN1_IA5STRING_new();
    if (entry == nullptr || dns == nullptr ||
        ASN1_STRING_set(dns, name.data(), static_cast<int>(name.size())) != 1) {
      GENERAL_NAME_free(entry);
      ASN1_IA5STRING_free(dns);
      GENERAL_NAMES_free(sans);
      return absl::InternalError(
          absl::StrCat("cannot encode the request's DNS names: ", TakeOpenSslErrors()));
    }
    GENERAL_NAME_set0_value(entry, GEN_DNS, dns);
    sk_GENERAL_NAME_push(sans, entry);
  }
  const int added = X509V3_add1_i2d(exts, NID_subject_alt_name, sans, 0, X509V3_ADD_DEFAULT);
  GENERAL_NAMES_free(sans);
  if (added != 1) {
    return absl::InternalError(
        absl::StrCat("cannot add subjectAltName to the request: ", TakeOpenSslErrors()));
  }
  return absl::OkStatus();
}

// Where a block or stray text starts, for ParsePemChain's errors.
std::string Position(absl::string_view pem, size_t offset) {
  const size_t line = 1 + static_cast<size_t>(std::count(pem.begin(), pem.begin() + offset, '\n'));
  return absl::StrCat("line ", line);
}

bool IsBase64Text(absl::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
    return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/' || c == '=';
  });
}

// What stray text looks like in an error: a few inert characters, but
// nothing of a line of base64 (it may be a key pasted without its header).
std::string ShowStray(absl::string_view line) {
  line = absl::StripTrailingAsciiWhitespace(line);
  if (line.size() >= 16 && IsBase64Text(line)) return "base64 text outside a PEM block";
  return absl::StrCat("\"", ShowInert(line, 24), "\"");
}

}  // namespace

absl::string_view KeyTypeName(KeyType type) {
  switch (type) {
    case KeyType::kRsa2048:
      return "rsa-2048";
    case KeyType::kRsa3072:
      return "rsa-3072";
    case KeyType::kEcP256:
      return "ec-p256";
  }
  return "unknown";
}

bool ParseKeyType(absl::string_view name, KeyType* type) {
  for (KeyType t : {KeyType::kRsa2048, KeyType::kRsa3072, KeyType::kEcP256}) {
    if (name == KeyTypeName(t)) {
      *type = t;
      return true;
    }
  }
  return false;
}

absl::StatusOr<Secret> GeneratePrivateKey(KeyType type) {
  ERR_clear_error();
  EvpPkeyPtr key(
      type == KeyType::kEcP256
          ? EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256")
          : EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA",
                              static_cast<size_t>(type == KeyType::kRsa2048 ? 2048 : 3072)));
  if (!key) {
    return absl::InternalError(
        absl::StrCat("cannot generate a ", KeyTypeName(type), " key: ", TakeOpenSslErrors()));
  }
  Secret pem = internal::PrivateKeyPkcs8Pem(key.get());
  if (pem.empty()) {
    return absl::InternalError(
        absl::StrCat("cannot write the new ", KeyTypeName(type), " key as PKCS#8"));
  }
  return pem;
}

absl::StatusOr<KeyType> KeyTypeOf(const Secret& private_key_pem) {
  ASSIGN_OR_RETURN(EvpPkeyPtr key, ReadPrivateKey(private_key_pem));
  const std::string type = internal::KeyTypeName(key.get());
  const int bits = EVP_PKEY_get_bits(key.get());
  if (type == "RSA" && bits == 2048) return KeyType::kRsa2048;
  if (type == "RSA" && bits == 3072) return KeyType::kRsa3072;
  const std::string curve = internal::EcCurveName(key.get());
  if (curve == "P-256") return KeyType::kEcP256;
  return absl::InvalidArgumentError(
      absl::StrCat("the private key is ", type, curve.empty() ? "" : " ", curve, " (", bits,
                   " bits); rotor issues certificates for rsa-2048, rsa-3072 or ec-p256 keys"));
}

absl::StatusOr<std::string> MakeCsr(const Secret& private_key_pem,
                                    const std::vector<std::string>& dns_names) {
  RETURN_IF_ERROR(CheckDnsNames(dns_names));
  ASSIGN_OR_RETURN(EvpPkeyPtr key, ReadPrivateKey(private_key_pem));
  X509ReqPtr req(X509_REQ_new());
  if (!req || X509_REQ_set_version(req.get(), X509_REQ_VERSION_1) != 1 ||
      X509_REQ_set_pubkey(req.get(), key.get()) != 1) {
    return absl::InternalError(absl::StrCat("cannot start a request: ", TakeOpenSslErrors()));
  }
  // The CN is at most 64 characters (RFC 5280's ub-common-name).
  const std::string& first = dns_names.front();
  if (first.size() <= 64 &&
      X509_NAME_add_entry_by_txt(X509_REQ_get_subject_name(req.get()), "CN", MBSTRING_ASC,
                                 reinterpret_cast<const unsigned char*>(first.c_str()),
                                 static_cast<int>(first.size()), -1, 0) != 1) {
    return absl::InternalError(absl::StrCat("cannot set the request's CN: ", TakeOpenSslErrors()));
  }
  STACK_OF(X509_EXTENSION)* exts = nullptr;
  absl::Status built = AddSubjectAltNames(&exts, dns_names);
  const bool rsa = EVP_PKEY_get_base_id(key.get()) == EVP_PKEY_RSA;
  if (built.ok()) {
    built = AddExtension(
        &exts, NID_key_usage,
        rsa ? "critical,digitalSignature,keyEncipherment" : "critical,digitalSignature");
  }
  if (built.ok()) built = AddExtension(&exts, NID_ext_key_usage, "serverAuth");
  ExtensionsPtr owned_exts(exts);
  RETURN_IF_ERROR(built);
  if (X509_REQ_add_extensions(req.get(), owned_exts.get()) != 1 ||
      X509_REQ_sign(req.get(), key.get(), EVP_sha256()) <= 0) {
    return absl::InternalError(absl::StrCat("cannot sign the request: ", TakeOpenSslErrors()));
  }
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509_REQ(bio.get(), req.get()) != 1) {
    return absl::InternalError(absl::StrCat("cannot write the request: ", TakeOpenSslErrors()));
  }
  return internal::BioContents(bio.get());
}

absl::StatusOr<std::vector<std::string>> ParsePemChain(absl::string_view pem,
                                                       absl::string_view source) {
  if (pem.size() > kMaxChainPemBytes) {
    return absl::InvalidArgumentError(absl::StrCat(source, " is ", ShowBytes(pem.size()),
                                                   ", more than the ", ShowBytes(kMaxChainPemBytes),
                                                   " a certificate chain may take"));
  }
  constexpr absl::string_view kBegin = "-----BEGIN ";
  constexpr absl::string_view kDashes = "-----";
  constexpr absl::string_view kEnd = "-----END CERTIFICATE-----";
  ERR_clear_error();
  std::vector<std::string> chain;
  size_t pos = 0;
  while (true) {
    while (pos < pem.size() && absl::ascii_isspace(static_cast<unsigned char>(pem[pos]))) ++pos;
    if (pos == pem.size()) break;
    const absl::string_view rest = pem.substr(pos);
    const absl::string_view line = rest.substr(0, rest.find('\n'));
    if (!absl::StartsWith(line, kBegin)) {
      return absl::InvalidArgumentError(absl::StrCat(source, " holds ", ShowStray(line), " at ",
                                                     Position(pem, pos),
                                                     " where a PEM certificate was expected"));
    }
    const size_t label_end = line.find(kDashes, kBegin.size());
    const absl::string_view label = line.substr(
        kBegin.size(), label_end == absl::string_view::npos ? 0 : label_end - kBegin.size());
    if (label != "CERTIFICATE") {
      const bool key = absl::StrContains(label, "PRIVATE KEY");
      return absl::InvalidArgumentError(
          absl::StrCat(source, " holds ", key ? "a private key" : "a PEM block", " (\"",
                       ShowInert(label, 40), "\") at ", Position(pem, pos),
                       key ? "; an issuer returns certificates only, and rotor makes the key"
                           : "; only CERTIFICATE blocks are expected"));
    }
    if (chain.size() == static_cast<size_t>(kMaxChainCertificates)) {
      return absl::InvalidArgumentError(absl::StrCat(source, " holds more than ",
                                                     kMaxChainCertificates,
                                                     " certificates; a chain is leaf first, then "
                                                     "its issuers"));
    }
    const size_t end = rest.find(kEnd);
    if (end == absl::string_view::npos) {
      return absl::InvalidArgumentError(absl::StrCat("the certificate at ", Position(pem, pos),
                                                     " of ", source,
                                                     " has no END CERTIFICATE line"));
    }
    const std::string what =
        absl::StrCat("the certificate at ", Position(pem, pos), " of ", source);
    ASSIGN_OR_RETURN(X509Ptr cert, ReadCertificate(rest.substr(0, end + kEnd.size()), what));
    chain.push_back(internal::CertificatePem(cert.get()));
    pos += end + kEnd.size();
  }
  if (chain.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(source, " holds no certificate"));
  }
  return chain;
}

absl::Status LeafMatchesCsr(absl::string_view csr_pem, const std::vector<std::string>& chain,
                            absl::string_view source) {
  if (chain.empty())
    return absl::InvalidArgumentError(absl::StrCat(source, " holds no certificate"));
  ERR_clear_error();
  BioPtr bio(BIO_new_mem_buf(csr_pem.data(), static_cast<int>(csr_pem.size())));
  X509ReqPtr req(bio ? PEM_read_bio_X509_REQ(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  EVP_PKEY* csr_key = req ? X509_REQ_get0_pubkey(req.get()) : nullptr;
  if (csr_key == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot read the certificate request: ", TakeOpenSslErrors()));
  }
  ASSIGN_OR_RETURN(X509Ptr leaf,
                   ReadCertificate(chain.front(), absl::StrCat("the leaf of ", source)));
  const bool same = EVP_PKEY_eq(X509_get0_pubkey(leaf.get()), csr_key) == 1;
  TakeOpenSslErrors();
  if (!same) {
    return absl::InvalidArgumentError(
        absl::StrCat("the leaf certificate of ", source, ", ", Describe(leaf.get()),
                     ", is for another key than the certificate request's"));
  }
  return absl::OkStatus();
}

absl::StatusOr<Secret> BuildPfx(const Secret& private_key_pem,
                                const std::vector<std::string>& chain, const Secret& password,
                                absl::string_view source) {
  if (chain.empty())
    return absl::InvalidArgumentError(absl::StrCat(source, " holds no certificate"));
  ASSIGN_OR_RETURN(EvpPkeyPtr key, ReadPrivateKey(private_key_pem));
  std::vector<X509Ptr> certs;
  for (size_t i = 0; i < chain.size(); ++i) {
    ASSIGN_OR_RETURN(X509Ptr cert, ReadCertificate(chain[i], absl::StrCat("certificate ", i + 1,
                                                                          " of ", source)));
    certs.push_back(std::move(cert));
  }
  if (EVP_PKEY_eq(X509_get0_pubkey(certs.front().get()), key.get()) != 1) {
    TakeOpenSslErrors();
    return absl::InvalidArgumentError(absl::StrCat(
        "the leaf certificate of ", source, ", ", Describe(certs.front().get()),
        ", is not for rotor's private key (its public key differs); the issuer answered for "
        "another request"));
  }
  X509StackPtr issuers(sk_X509_new_null());
  for (size_t i = 1; i < certs.size(); ++i) {
    if (!issuers || sk_X509_push(issuers.get(), certs[i].get()) <= 0) {
      return absl::InternalError("cannot collect the chain's certificates");
    }
    X509_up_ref(certs[i].get());
  }
  // See the header for why 3DES and a SHA-1 MAC. mac_iter -1: no MAC yet,
  // set below with its digest (PKCS12_create would use SHA-256).
  constexpr int kIterations = 2048;
  if (absl::StrContains(password.Reveal(), '\0')) {
    return absl::InvalidArgumentError("the PFX password holds a NUL character");
  }
  // A Secret's text is a std::string: NUL-terminated.
  const char* pass = password.Reveal().data();
  internal::Pkcs12Ptr p12(PKCS12_create(pass, nullptr, key.get(), certs.front().get(),
                                        issuers.get(), NID_pbe_WithSHA1And3_Key_TripleDES_CBC,
                                        NID_pbe_WithSHA1And3_Key_TripleDES_CBC, kIterations, -1,
                                        0));
  const bool mac_set =
      p12 && PKCS12_set_mac(p12.get(), pass, -1, nullptr, 0, kIterations, EVP_sha1()) == 1;
  if (!mac_set) {
    return absl::InternalError(
        absl::StrCat("cannot build the PFX for ", source, ": ", TakeOpenSslErrors()));
  }
  unsigned char* der = nullptr;
  const int len = i2d_PKCS12(p12.get(), &der);
  if (len <= 0) {
    return absl::InternalError(
        absl::StrCat("cannot encode the PFX for ", source, ": ", TakeOpenSslErrors()));
  }
  Secret out(std::string(reinterpret_cast<char*>(der), static_cast<size_t>(len)));
  OPENSSL_clear_free(der, static_cast<size_t>(len));
  return out;
}

absl::StatusOr<Secret> PrivateKeyOfPfx(absl::string_view pfx_der, const Secret& password) {
  ASSIGN_OR_RETURN(Pfx pfx, Pfx::Open(pfx_der, password, "the certificate's PFX"));
  return pfx.PrivateKeyPem();
}

}  // namespace rotor::certs
