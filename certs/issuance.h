// What apply needs to turn an issuer's answer into the PFX the registry VM
// reads: a fresh private key, a CSR for it, and the PFX built from the key
// and the PEM chain the issuer returned (checked to be for that key).
// The private key never leaves rotor: issuers see only the CSR.
#ifndef ROTOR_CERTS_ISSUANCE_H_
#define ROTOR_CERTS_ISSUANCE_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "base/secret.h"

namespace rotor::certs {

// The keys the registry VM (waagent) and docker-registry accept.
enum class KeyType { kRsa2048, kRsa3072, kEcP256 };
// "rsa-2048", "rsa-3072", "ec-p256": the names of [certificate] key.
absl::string_view KeyTypeName(KeyType type);
bool ParseKeyType(absl::string_view name, KeyType* type);

// The most an issuer's PEM chain may hold, and how many certificates.
inline constexpr size_t kMaxChainPemBytes = 1 << 20;
inline constexpr int kMaxChainCertificates = 10;

// A new private key, PKCS#8 PEM.
absl::StatusOr<Secret> GeneratePrivateKey(KeyType type);

// The key's type, from a PKCS#8 PEM (to reuse a key: [certificate] reuse_key).
absl::StatusOr<KeyType> KeyTypeOf(const Secret& private_key_pem);

// The most DNS names a request may carry, and the longest name.
inline constexpr size_t kMaxCsrDnsNames = 100;
inline constexpr size_t kMaxDnsNameLength = 253;

// A PKCS#10 request (PEM) signed with `private_key_pem` (SHA-256), for
// `dns_names` (subjectAltName, and the first as the subject's CN when it
// fits the CN's 64 characters; else the subject is empty, as CAs accept).
// It also asks for keyUsage and extendedKeyUsage serverAuth, which a CA
// copying the request's extensions keeps. Refuses an empty list, more than
// kMaxCsrDnsNames names, and a name that is empty, longer than
// kMaxDnsNameLength or holds a space, a control or a non-ASCII character,
// naming the entry.
absl::StatusOr<std::string> MakeCsr(const Secret& private_key_pem,
                                    const std::vector<std::string>& dns_names);

// Parses an issuer's answer: one or more PEM certificates, leaf first, at
// most kMaxChainPemBytes / kMaxChainCertificates, nothing else but
// whitespace between them. `source` names where it came from in errors
// ("the issuer command's output", "the ACME certificate URL ...").
// Returns the certificates in order, each as PEM.
absl::StatusOr<std::vector<std::string>> ParsePemChain(absl::string_view pem,
                                                       absl::string_view source);

// OK when the leaf (`chain[0]`, PEM) is for the public key of `csr_pem`;
// else InvalidArgument naming `source` and the leaf (subject, thumbprint).
// For issuers, to refuse a chain for another key before apply does.
absl::Status LeafMatchesCsr(absl::string_view csr_pem, const std::vector<std::string>& chain,
                            absl::string_view source);

// A PFX (DER) holding `private_key_pem` and `chain` (leaf first; the leaf
// must be for that key), encrypted with `password`. Fails, saying so, when
// the leaf's public key is not the key's. Key and certificates are
// encrypted with pbeWithSHA1And3-KeyTripleDES-CBC and the MAC is HMAC-SHA-1
// (2048 iterations): what Azure Stack Hub asks of PFX files ("PFX
// encryption must be 3DES") and what every Windows host that unpacks the
// VM's secret imports; OpenSSL 3's AES-256 default needs Windows Server
// 2019. `password` must be UTF-8 (the Key Vault envelope is JSON).
absl::StatusOr<Secret> BuildPfx(const Secret& private_key_pem,
                                const std::vector<std::string>& chain, const Secret& password,
                                absl::string_view source);

// The private key (PKCS#8 PEM) of a PFX, for reuse_key.
absl::StatusOr<Secret> PrivateKeyOfPfx(absl::string_view pfx_der, const Secret& password);

}  // namespace rotor::certs

#endif  // ROTOR_CERTS_ISSUANCE_H_
