#include "certs/pfx.h"

#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/pkcs7.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <climits>
#include <cmath>
#include <utility>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/status_macros.h"
#include "certs/openssl_util.h"
#include "certs/pfx_internal.h"

namespace rotor::certs {
namespace {

using internal::EvpPkeyPtr;
using internal::TakeOpenSslErrors;
using internal::X509Ptr;

absl::Status OpenFailure(absl::Status status, absl::string_view check) {
  status.SetPayload(kOpenFailureCheckPayload, absl::Cord(check));
  return status;
}

absl::Status ParseError(absl::string_view message) {
  return OpenFailure(absl::InvalidArgumentError(message), kParsePfxCheck);
}

absl::Status KeyError(absl::string_view message) {
  return OpenFailure(absl::InvalidArgumentError(message), kPrivateKeyCheck);
}

struct SafeBagsFree {
  void operator()(STACK_OF(PKCS12_SAFEBAG) * bags) const {
    sk_PKCS12_SAFEBAG_pop_free(bags, PKCS12_SAFEBAG_free);
  }
};
using SafeBagsPtr = std::unique_ptr<STACK_OF(PKCS12_SAFEBAG), SafeBagsFree>;

struct Pkcs7StackFree {
  void operator()(STACK_OF(PKCS7) * safes) const { sk_PKCS7_pop_free(safes, PKCS7_free); }
};
using Pkcs7StackPtr = std::unique_ptr<STACK_OF(PKCS7), Pkcs7StackFree>;

// What the bags of a PKCS#12 file hold, in file order.
struct Contents {
  std::vector<X509Ptr> certificates;
  std::vector<EvpPkeyPtr> keys;
};

// Why a decryption failed, for the legacy-provider retry.
struct DecryptFailure {
  bool unsupported = false;
};

absl::Status DecryptError(const std::string& source, const char* what, DecryptFailure* failure) {
  std::string errors = TakeOpenSslErrors(&failure->unsupported);
  return ParseError(absl::StrCat("cannot decrypt the ", what, " in ", source,
                                 errors.empty() ? "" : ": ", errors));
}

absl::Status ReadBags(const STACK_OF(PKCS12_SAFEBAG) * bags, const char* pass, int passlen,
                      const std::string& source, Contents* out, DecryptFailure* failure) {
  for (int i = 0; i < sk_PKCS12_SAFEBAG_num(bags); ++i) {
    const PKCS12_SAFEBAG* bag = sk_PKCS12_SAFEBAG_value(bags, i);
    switch (PKCS12_SAFEBAG_get_nid(bag)) {
      case NID_keyBag: {
        EvpPkeyPtr key(EVP_PKCS82PKEY(PKCS12_SAFEBAG_get0_p8inf(bag)));
        if (!key) {
          return ParseError(
              absl::StrCat("cannot read the private key in ", source, ": ", TakeOpenSslErrors()));
        }
        out->keys.push_back(std::move(key));
        break;
      }
      case NID_pkcs8ShroudedKeyBag: {
        internal::Pkcs8Ptr p8(PKCS12_decrypt_skey(bag, pass, passlen));
        if (!p8) return DecryptError(source, "private key", failure);
        EvpPkeyPtr key(EVP_PKCS82PKEY(p8.get()));
        if (!key) {
          return ParseError(
              absl::StrCat("cannot read the private key in ", source, ": ", TakeOpenSslErrors()));
        }
        out->keys.push_back(std::move(key));
        break;
      }
      case NID_certBag: {
        if (PKCS12_SAFEBAG_get_bag_nid(bag) != NID_x509Certificate) break;
        X509Ptr cert(PKCS12_SAFEBAG_get1_cert(bag));
        if (!cert) {
          return ParseError(
              absl::StrCat("cannot read a certificate in ", source, ": ", TakeOpenSslErrors()));
        }
        out->certificates.push_back(std::move(cert));
        break;
      }
      case NID_safeContentsBag:
        RETURN_IF_ERROR(
            ReadBags(PKCS12_SAFEBAG_get0_safes(bag), pass, passlen, source, out, failure));
        break;
      default:  // CRLs, secrets: nothing rotor uses.
        break;
    }
  }
  return absl::OkStatus();
}

// Verifies the MAC and reads every bag. `failure` says whether a decryption
// failed for want of an algorithm.
absl::StatusOr<Contents> ReadPkcs12(absl::string_view der, const Secret& password,
                                    const std::string& source, DecryptFailure* failure) {
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
  internal::Pkcs12Ptr p12(der.empty() ? nullptr
                                      : d2i_PKCS12(nullptr, &p, static_cast<long>(der.size())));
  if (!p12) {
    TakeOpenSslErrors();
    return ParseError(absl::StrCat(source, " is not a PKCS#12 file"));
  }

  // As PKCS12_parse does: an empty password may have been encoded as no
  // password at all (NULL) or as an empty string; the MAC tells which.
  const char* pass = password.Reveal().data();
  int passlen = static_cast<int>(password.size());
  if (PKCS12_mac_present(p12.get())) {
    bool verified = false;
    if (password.empty()) {
      if (PKCS12_verify_mac(p12.get(), nullptr, 0)) {
        pass = nullptr;
        verified = true;
      } else if (PKCS12_verify_mac(p12.get(), "", 0)) {
        pass = "";
        verified = true;
      }
    } else {
      verified = PKCS12_verify_mac(p12.get(), pass, passlen) == 1;
    }
    if (!verified) {
      // A mismatch leaves no error; a MAC that cannot be computed does.
      std::string errors = TakeOpenSslErrors();
      if (!errors.empty()) {
        return ParseError(
            absl::StrCat("cannot verify the integrity (MAC) of ", source, ": ", errors));
      }
      return ParseError(absl::StrCat("wrong password for ", source));
    }
  } else if (password.empty()) {
    pass = nullptr;
  }

  Pkcs7StackPtr safes(PKCS12_unpack_authsafes(p12.get()));
  if (!safes) {
    return ParseError(
        absl::StrCat("cannot read the contents of ", source, ": ", TakeOpenSslErrors()));
  }
  Contents contents;
  for (int i = 0; i < sk_PKCS7_num(safes.get()); ++i) {
    PKCS7* p7 = sk_PKCS7_value(safes.get(), i);
    SafeBagsPtr bags;
    switch (OBJ_obj2nid(p7->type)) {
      case NID_pkcs7_data:
        bags.reset(PKCS12_unpack_p7data(p7));
        if (!bags) {
          return ParseError(
              absl::StrCat("cannot read the contents of ", source, ": ", TakeOpenSslErrors()));
        }
        break;
      case NID_pkcs7_encrypted:
        bags.reset(PKCS12_unpack_p7encdata(p7, pass, passlen));
        if (!bags) return DecryptError(source, "certificates", failure);
        break;
      default:
        return ParseError(absl::StrCat(source, " uses an unsupported PKCS#12 content type (",
                                       OBJ_nid2sn(OBJ_obj2nid(p7->type)),
                                       "); export it with password-based encryption"));
    }
    RETURN_IF_ERROR(ReadBags(bags.get(), pass, passlen, source, &contents, failure));
  }
  return contents;
}

// The issuer of `subject` among `certificates` (not `used`), or -1.
int FindIssuer(X509* subject, const std::vector<X509Ptr>& certificates,
               const std::vector<bool>& used) {
  for (size_t i = 0; i < certificates.size(); ++i) {
    if (used[i]) continue;
    X509* candidate = certificates[i].get();
    if (X509_check_issued(candidate, subject) == X509_V_OK &&
        X509_verify(subject, X509_get0_pubkey(candidate)) == 1) {
      TakeOpenSslErrors();
      return static_cast<int>(i);
    }
  }
  TakeOpenSslErrors();
  return -1;
}

absl::StatusOr<std::unique_ptr<Pfx::Impl>> Build(Contents contents, const std::string& source) {
  if (contents.certificates.empty()) {
    return ParseError(absl::StrCat(source, " holds no certificate"));
  }
  if (contents.keys.empty()) {
    return KeyError(absl::StrCat(source, " holds no private key"));
  }
  if (contents.keys.size() > 1) {
    return KeyError(absl::StrCat(source, " holds ", contents.keys.size(),
                                 " private keys; rotor needs exactly one"));
  }
  auto impl = std::make_unique<Pfx::Impl>();
  impl->source_name = source;
  impl->key = std::move(contents.keys.front());
  impl->certificates = std::move(contents.certificates);

  int leaf = -1;
  for (size_t i = 0; i < impl->certificates.size() && leaf < 0; ++i) {
    if (X509_check_private_key(impl->At(i), impl->key.get()) == 1) {
      leaf = static_cast<int>(i);
    }
  }
  TakeOpenSslErrors();
  if (leaf < 0) {
    std::vector<std::string> subjects;
    for (const X509Ptr& cert : impl->certificates) {
      subjects.push_back(internal::NameToString(X509_get_subject_name(cert.get())));
    }
    return KeyError(absl::StrCat("the private key in ", source,
                                 " matches none of its certificates (",
                                 absl::StrJoin(subjects, "; "), ")"));
  }
  impl->leaf = static_cast<size_t>(leaf);

  std::vector<bool> used(impl->certificates.size(), false);
  used[impl->leaf] = true;
  X509* current = impl->Leaf();
  while (!internal::IsSelfIssued(current)) {
    const int issuer = FindIssuer(current, impl->certificates, used);
    if (issuer < 0) break;
    used[issuer] = true;
    impl->chain.push_back(static_cast<size_t>(issuer));
    current = impl->At(issuer);
  }
  impl->chain_complete = internal::IsSelfIssued(current);
  for (size_t i = 0; i < used.size(); ++i) {
    if (!used[i]) impl->unrelated.push_back(i);
  }
  return impl;
}

std::vector<std::string> DnsNames(X509* cert) {
  std::vector<std::string> names;
  auto* sans =
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  if (sans == nullptr) return names;
  for (int i = 0; i < sk_GENERAL_NAME_num(sans); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(sans, i);
    if (name->type != GEN_DNS) continue;
    const ASN1_IA5STRING* dns = name->d.dNSName;
    names.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(dns)),
                       static_cast<size_t>(ASN1_STRING_length(dns)));
  }
  GENERAL_NAMES_free(sans);
  return names;
}

// The first certificate of a PEM text.
absl::StatusOr<X509Ptr> ReadPemCertificate(absl::string_view pem, absl::string_view source_name) {
  internal::BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  X509Ptr cert(bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  if (!cert) {
    TakeOpenSslErrors();
    return absl::InvalidArgumentError(absl::StrCat("no PEM certificate in ", source_name));
  }
  return cert;
}

}  // namespace

absl::StatusOr<Pfx> Pfx::Open(absl::string_view der_bytes, const Secret& password,
                              const std::string& source_name) {
  ERR_clear_error();
  DecryptFailure failure;
  absl::StatusOr<Contents> contents = ReadPkcs12(der_bytes, password, source_name, &failure);
  if (!contents.ok() && failure.unsupported && !internal::LegacyProvidersLoaded()) {
    // RC2-40 (and other legacy ciphers) live in OpenSSL's legacy provider.
    absl::Status loaded = internal::EnsureLegacyProvidersLoaded();
    if (!loaded.ok()) {
      return OpenFailure(
          absl::FailedPreconditionError(
              absl::StrCat(source_name, " uses a legacy cipher (RC2-40?) and ", loaded.message())),
          kParsePfxCheck);
    }
    failure = DecryptFailure();
    contents = ReadPkcs12(der_bytes, password, source_name, &failure);
  }
  if (!contents.ok()) return contents.status();
  ASSIGN_OR_RETURN(std::unique_ptr<Impl> impl, Build(*std::move(contents), source_name));
  return Pfx(std::move(impl));
}

Pfx::Pfx(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Pfx::Pfx(Pfx&& other) noexcept = default;
Pfx& Pfx::operator=(Pfx&& other) noexcept = default;
Pfx::~Pfx() = default;

const std::string& Pfx::source_name() const { return impl_->source_name; }

std::string Pfx::Thumbprint() const { return internal::Thumbprint(impl_->Leaf()); }

CertificateInfo Pfx::Info(absl::Time now) const {
  X509* leaf = impl_->Leaf();
  CertificateInfo info;
  info.thumbprint = internal::Thumbprint(leaf);
  info.subject = internal::NameToString(X509_get_subject_name(leaf));
  info.issuer = internal::NameToString(X509_get_issuer_name(leaf));
  info.dns_names = DnsNames(leaf);
  info.not_before = internal::Asn1TimeToAbsl(X509_get0_notBefore(leaf));
  info.not_after = internal::Asn1TimeToAbsl(X509_get0_notAfter(leaf));
  // A validity time OpenSSL cannot read is InfinitePast (so: expired), and
  // a far one may not fit an int: clamp before converting (pfx_fuzzer found
  // the cast of -inf, which is undefined behaviour).
  const double days = std::floor(absl::FDivDuration(info.not_after - now, absl::Hours(24)));
  info.days_left = std::isnan(days)
                       ? 0
                       : static_cast<int>(std::clamp(days, static_cast<double>(INT_MIN),
                                                     static_cast<double>(INT_MAX)));
  info.self_signed = internal::IsSelfIssued(leaf);
  info.key_type = internal::KeyTypeName(impl_->key.get());
  info.key_bits = EVP_PKEY_get_bits(impl_->key.get());
  info.ec_curve = internal::EcCurveName(impl_->key.get());
  info.signature_algorithm = OBJ_nid2ln(X509_get_signature_nid(leaf));
  info.chain_length = 1 + static_cast<int>(impl_->chain.size());
  return info;
}

std::string Pfx::LeafCertificatePem() const { return internal::CertificatePem(impl_->Leaf()); }

Secret Pfx::PrivateKeyPem() const { return internal::PrivateKeyPkcs8Pem(impl_->key.get()); }

std::vector<std::string> Pfx::ChainPem() const {
  std::vector<std::string> pems;
  for (size_t i : impl_->chain) {
    pems.push_back(internal::CertificatePem(impl_->At(i)));
  }
  return pems;
}

absl::StatusOr<std::string> ThumbprintOfPem(absl::string_view pem, absl::string_view source_name) {
  ASSIGN_OR_RETURN(X509Ptr cert, ReadPemCertificate(pem, source_name));
  return internal::Thumbprint(cert.get());
}

absl::StatusOr<absl::Time> NotAfterOfPem(absl::string_view pem, absl::string_view source_name) {
  ASSIGN_OR_RETURN(X509Ptr cert, ReadPemCertificate(pem, source_name));
  return internal::Asn1TimeToAbsl(X509_get0_notAfter(cert.get()));
}

absl::StatusOr<std::string> ThumbprintOfDer(absl::string_view der, absl::string_view source_name) {
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
  X509Ptr cert(der.empty() ? nullptr : d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  if (!cert) {
    TakeOpenSslErrors();
    return absl::InvalidArgumentError(absl::StrCat(source_name, " is not a DER certificate"));
  }
  return internal::Thumbprint(cert.get());
}

}  // namespace rotor::certs
