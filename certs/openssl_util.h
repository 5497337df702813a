// OpenSSL plumbing shared by the files of certs/ (and certs/testing/).
//
// Internal to the certs module: nothing outside certs/ includes this header,
// so OpenSSL types stay out of every other module. It holds owning pointers
// for OpenSSL objects, the one place OpenSSL's error queue becomes text, the
// thread-safe loading of the legacy provider, and small conversions (PEM,
// names, times, thumbprints) that more than one file needs.
#ifndef ROTOR_CERTS_OPENSSL_UTIL_H_
#define ROTOR_CERTS_OPENSSL_UTIL_H_

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pkcs12.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "base/secret.h"

namespace rotor::certs::internal {

// unique_ptr deleter calling an OpenSSL free function.
template <auto kFree>
struct OpenSslFree {
  template <typename T>
  void operator()(T* p) const {
    kFree(p);
  }
};

using BioPtr = std::unique_ptr<BIO, OpenSslFree<BIO_free_all>>;
using X509Ptr = std::unique_ptr<X509, OpenSslFree<X509_free>>;
using EvpPkeyPtr = std::unique_ptr<EVP_PKEY, OpenSslFree<EVP_PKEY_free>>;
using Pkcs12Ptr = std::unique_ptr<PKCS12, OpenSslFree<PKCS12_free>>;
using Pkcs8Ptr = std::unique_ptr<PKCS8_PRIV_KEY_INFO, OpenSslFree<PKCS8_PRIV_KEY_INFO_free>>;
using X509StorePtr = std::unique_ptr<X509_STORE, OpenSslFree<X509_STORE_free>>;
using X509StoreCtxPtr = std::unique_ptr<X509_STORE_CTX, OpenSslFree<X509_STORE_CTX_free>>;

// Returns OpenSSL's queued errors as "library::reason; library::reason" (as
// `openssl` prints them) and empties the queue; "" when it was empty. When
// `unsupported` is given it is set to whether an error says an algorithm is
// not available (the "digital envelope routines::unsupported" of RC2-40 PFX
// files while only the default provider is loaded).
std::string TakeOpenSslErrors(bool* unsupported = nullptr);

// Loads OpenSSL's "default" and "legacy" providers into the default library
// context, once per process, thread-safely. Both are needed: loading only
// "legacy" would switch the implicit default provider off. Returns the same
// result to every caller.
absl::Status EnsureLegacyProvidersLoaded();
// Whether EnsureLegacyProvidersLoaded() has succeeded in this process.
bool LegacyProvidersLoaded();

// Everything written to a memory BIO so far.
std::string BioContents(BIO* bio);

std::string CertificatePem(X509* cert);
std::string CertificateDer(X509* cert);

// PKCS#8 PEM ("BEGIN PRIVATE KEY"), unencrypted, held as a Secret; the
// temporary OpenSSL buffer is cleared when freed.
Secret PrivateKeyPkcs8Pem(EVP_PKEY* key);

// Upper-case hex SHA-1 of the DER certificate, no separators.
std::string Thumbprint(X509* cert);

// One-line RFC 2253 rendering, most specific first, ", " between RDNs:
// "CN=registry.local, O=Contoso". UTF-8 is kept as UTF-8.
std::string NameToString(const X509_NAME* name);

// An ASN1_TIME as absl::Time (absl::InfinitePast() when unparseable).
absl::Time Asn1TimeToAbsl(const ASN1_TIME* t);

// "2025-06-01 00:00:00 UTC"
std::string FormatUtc(absl::Time t);

// True when the certificate's issuer name and key identifiers say it issued
// itself (signature not verified).
bool IsSelfIssued(X509* cert);

// "RSA", "EC", "ED25519", ... for the key's type.
std::string KeyTypeName(const EVP_PKEY* key);
// For EC keys: "P-256", "P-384", "P-521" or OpenSSL's curve name; "" else.
std::string EcCurveName(const EVP_PKEY* key);

}  // namespace rotor::certs::internal

#endif  // ROTOR_CERTS_OPENSSL_UTIL_H_
