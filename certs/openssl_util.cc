#include "certs/openssl_util.h"

#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/provider.h>

#include <atomic>
#include <mutex>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/civil_time.h"

namespace rotor::certs::internal {
namespace {

std::atomic<bool> legacy_loaded{false};
// Kept for the life of the process (never unloaded); held here so leak
// checkers see them as reachable.
OSSL_PROVIDER* default_provider = nullptr;
OSSL_PROVIDER* legacy_provider = nullptr;

bool IsUnsupportedError(unsigned long e) {
  const int reason = ERR_GET_REASON(e);
  if (reason == ERR_R_UNSUPPORTED || reason == ERR_R_FETCH_FAILED) return true;
  return ERR_GET_LIB(e) == ERR_LIB_EVP &&
         (reason == EVP_R_UNSUPPORTED_ALGORITHM || reason == EVP_R_UNSUPPORTED_CIPHER ||
          reason == EVP_R_UNKNOWN_CIPHER);
}

}  // namespace

std::string TakeOpenSslErrors(bool* unsupported) {
  if (unsupported != nullptr) *unsupported = false;
  std::vector<std::string> parts;
  const char* data = nullptr;
  int flags = 0;
  unsigned long e;
  while ((e = ERR_get_error_all(nullptr, nullptr, nullptr, &data, &flags)) != 0) {
    if (unsupported != nullptr && IsUnsupportedError(e)) *unsupported = true;
    const char* lib = ERR_lib_error_string(e);
    const char* reason = ERR_reason_error_string(e);
    std::string text = absl::StrCat(lib ? lib : "OpenSSL",
                                    "::", reason ? std::string(reason) : absl::StrCat("error ", e));
    if ((flags & ERR_TXT_STRING) && data != nullptr && *data != '\0') {
      absl::StrAppend(&text, " (", data, ")");
    }
    if (parts.empty() || parts.back() != text) parts.push_back(std::move(text));
  }
  return absl::StrJoin(parts, "; ");
}

absl::Status EnsureLegacyProvidersLoaded() {
  static std::once_flag once;
  static absl::Status* result = nullptr;
  std::call_once(once, [] {
    // "default" first: once any provider is loaded explicitly OpenSSL stops
    // falling back to the implicit default one.
    default_provider = OSSL_PROVIDER_load(nullptr, "default");
    if (default_provider == nullptr) {
      result = new absl::Status(absl::InternalError(
          absl::StrCat("cannot load OpenSSL's default provider: ", TakeOpenSslErrors())));
      return;
    }
    legacy_provider = OSSL_PROVIDER_load(nullptr, "legacy");
    if (legacy_provider == nullptr) {
      result = new absl::Status(absl::FailedPreconditionError(
          absl::StrCat("cannot load OpenSSL's legacy provider (needed for RC2-40 PFX "
                       "files; is ossl-modules/legacy.so installed?): ",
                       TakeOpenSslErrors())));
      return;
    }
    result = new absl::Status();
    legacy_loaded.store(true);
  });
  return *result;
}

bool LegacyProvidersLoaded() { return legacy_loaded.load(); }

std::string BioContents(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  if (len <= 0 || data == nullptr) return std::string();
  return std::string(data, static_cast<size_t>(len));
}

std::string CertificatePem(X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), cert) != 1) return std::string();
  return BioContents(bio.get());
}

std::string CertificateDer(X509* cert) {
  unsigned char* der = nullptr;
  int len = i2d_X509(cert, &der);
  if (len <= 0) return std::string();
  std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  return out;
}

Secret PrivateKeyPkcs8Pem(EVP_PKEY* key) {
  // The secure-memory BIO clears its buffer when freed.
  BioPtr bio(BIO_new(BIO_s_secmem()));
  if (!bio ||
      PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    TakeOpenSslErrors();
    return Secret();
  }
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  if (len <= 0 || data == nullptr) return Secret();
  return Secret(std::string(data, static_cast<size_t>(len)));
}

std::string Thumbprint(X509* cert) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (X509_digest(cert, EVP_sha1(), md, &len) != 1) {
    TakeOpenSslErrors();
    return std::string();
  }
  return absl::AsciiStrToUpper(
      absl::BytesToHexString(absl::string_view(reinterpret_cast<const char*>(md), len)));
}

std::string NameToString(const X509_NAME* name) {
  constexpr unsigned long kFlags = (ASN1_STRFLGS_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) |
                                   XN_FLAG_SEP_CPLUS_SPC | XN_FLAG_DN_REV | XN_FLAG_FN_SN |
                                   XN_FLAG_DUMP_UNKNOWN_FIELDS;
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || name == nullptr) return std::string();
  if (X509_NAME_print_ex(bio.get(), name, 0, kFlags) < 0) {
    TakeOpenSslErrors();
    return std::string();
  }
  return BioContents(bio.get());
}

absl::Time Asn1TimeToAbsl(const ASN1_TIME* t) {
  struct tm tm = {};
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) {
    TakeOpenSslErrors();
    return absl::InfinitePast();
  }
  return absl::FromCivil(absl::CivilSecond(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                                           tm.tm_min, tm.tm_sec),
                         absl::UTCTimeZone());
}

std::string FormatUtc(absl::Time t) {
  return absl::FormatTime("%Y-%m-%d %H:%M:%S UTC", t, absl::UTCTimeZone());
}

bool IsSelfIssued(X509* cert) {
  // verify_signature = 1: same names and the certificate's own key checks its
  // signature, so a CA that renamed itself is not mistaken for a root.
  const bool self = X509_self_signed(cert, 1) == 1;
  TakeOpenSslErrors();
  return self;
}

std::string KeyTypeName(const EVP_PKEY* key) {
  const char* name = EVP_PKEY_get0_type_name(key);
  if (name != nullptr) return absl::AsciiStrToUpper(name);
  return OBJ_nid2sn(EVP_PKEY_get_base_id(key));
}

std::string EcCurveName(const EVP_PKEY* key) {
  if (EVP_PKEY_get_base_id(key) != EVP_PKEY_EC) return std::string();
  char group[80];
  size_t len = 0;
  if (EVP_PKEY_get_group_name(key, group, sizeof group, &len) != 1) {
    TakeOpenSslErrors();
    return "unknown curve";
  }
  const int nid = OBJ_txt2nid(group);
  const char* nist = nid != NID_undef ? EC_curve_nid2nist(nid) : nullptr;
  return nist != nullptr ? std::string(nist) : std::string(group, len);
}

}  // namespace rotor::certs::internal
