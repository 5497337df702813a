// Pfx: an opened PKCS#12 (PFX) file holding the registry's TLS certificate,
// its private key and (usually) the issuing chain.
//
// Open() decrypts the whole file up front; afterwards a Pfx is plain data
// (certificates and one private key) and every accessor is cheap and cannot
// fail. The leaf is the certificate that matches the private key; the chain
// is built from the other certificates in the file by issuer, not by their
// order in the file (the order is judged by checks.h). A Pfx owns its
// OpenSSL objects; it is movable, not copyable, and a moved-from Pfx may only
// be destroyed or assigned to.
#ifndef ROTOR_CERTS_PFX_H_
#define ROTOR_CERTS_PFX_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "base/secret.h"

namespace rotor::certs {

// The most a PFX (or PEM certificate and key) file rotor reads may hold.
// The registry's PFX must fit a Key Vault secret of 25,600 bytes
// (kMaxSecretValueBytes: about 18 KB of PFX after the envelope's base64),
// and a client certificate with its chain is a few KiB; 1 MiB is far above
// both and refuses a device such as /dev/zero at once.
inline constexpr size_t kMaxPfxBytes = 1 << 20;

// What rotor and `rotor validate` show about the leaf certificate.
struct CertificateInfo {
  // Upper-case hex SHA-1 of the leaf's DER encoding, no separators: the
  // registry template's `pfxThumbprint` and the VM's file names
  // (/var/lib/waagent/<THUMBPRINT>.crt/.prv). Equal to
  // `openssl x509 -fingerprint -sha1` without the colons.
  std::string thumbprint;
  // One-line RFC 2253 names, most specific first: "CN=registry.local,
  // O=Contoso".
  std::string subject;
  std::string issuer;
  // The subjectAltName DNS entries, in certificate order.
  std::vector<std::string> dns_names;
  absl::Time not_before;
  absl::Time not_after;
  // Whole days from `now` to not_after, rounded down; negative once expired.
  int days_left = 0;
  // Issued by itself (names match and its own key verifies its signature).
  bool self_signed = false;
  // "RSA", "EC", "ED25519", ... and the key size in bits (256 for P-256).
  std::string key_type;
  int key_bits = 0;
  // For EC keys the NIST name ("P-256") or OpenSSL's curve name; else "".
  std::string ec_curve;
  // OpenSSL's long name: "sha256WithRSAEncryption", "ecdsa-with-SHA256".
  std::string signature_algorithm;
  // Certificates from the leaf up its issuer chain that the PFX holds (the
  // leaf counts: 1 for a lone leaf, 3 for leaf + intermediate + root).
  int chain_length = 0;
};

class Pfx {
 public:
  // Opens a PKCS#12 file's bytes with its password. `source_name` (a file
  // name, or "Key Vault secret containersecret") names the input in every
  // error. Errors (all InvalidArgument except where noted):
  //   "wrong password for <source>"            (the MAC does not verify)
  //   "<source> is not a PKCS#12 file"         (not DER PKCS#12 at all)
  //   "<source> holds no private key"
  //   "<source> holds N private keys; rotor needs exactly one"
  //   "<source> holds no certificate"
  //   "the private key in <source> matches none of its certificates (...)"
  //   "cannot decrypt the certificates in <source>: <OpenSSL reasons>"
  //   "<source> uses a legacy cipher (RC2-40?) and cannot load OpenSSL's
  //    legacy provider ..."                    (FailedPrecondition)
  // RC2-40 ("legacy") files are opened by loading OpenSSL's legacy provider
  // on first need (see openssl_util.h). A failed Open's status carries a
  // payload that CheckOpenFailure (checks.h) uses to say which check failed.
  static absl::StatusOr<Pfx> Open(absl::string_view der_bytes, const Secret& password,
                                  const std::string& source_name);

  Pfx(Pfx&& other) noexcept;
  Pfx& operator=(Pfx&& other) noexcept;
  Pfx(const Pfx&) = delete;
  Pfx& operator=(const Pfx&) = delete;
  ~Pfx();

  const std::string& source_name() const;

  // Facts about the leaf; `now` only feeds days_left.
  CertificateInfo Info(absl::Time now) const;
  // Same as Info(now).thumbprint.
  std::string Thumbprint() const;

  // The leaf certificate as PEM ("BEGIN CERTIFICATE"): the VM's .crt file.
  std::string LeafCertificatePem() const;
  // The private key as unencrypted PKCS#8 PEM ("BEGIN PRIVATE KEY"): the
  // VM's .prv file. Handle as a credential.
  Secret PrivateKeyPem() const;
  // The leaf's issuer chain found in the PFX, as PEM, the leaf's issuer
  // first, up to the root when present. Certificates unrelated to the leaf
  // are left out (CheckCertificate reports them).
  std::vector<std::string> ChainPem() const;

  // Opaque outside certs/ (defined in certs/pfx_internal.h).
  struct Impl;

 private:
  friend struct PfxAccess;
  explicit Pfx(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The thumbprint (as in CertificateInfo) of the first certificate in `pem`.
// `source_name` names the input in errors.
absl::StatusOr<std::string> ThumbprintOfPem(absl::string_view pem, absl::string_view source_name);
// The end of the validity period (notAfter) of the first certificate in
// `pem` (what rotor verify reports about the certificate a registry serves).
absl::StatusOr<absl::Time> NotAfterOfPem(absl::string_view pem, absl::string_view source_name);
// The thumbprint of one DER-encoded certificate.
absl::StatusOr<std::string> ThumbprintOfDer(absl::string_view der, absl::string_view source_name);

}  // namespace rotor::certs

#endif  // ROTOR_CERTS_PFX_H_
