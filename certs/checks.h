// Certificate readiness checks for the registry's PFX, in the manner of
// Azure Stack Hub's certificate readiness checker: a list of named results,
// each OK, WARNING or ERROR with a one-line detail, printed one per line as
// "Name: LEVEL (detail)".
//
// The checks, in order (names are part of rotor's output):
//   Parse PFX            the file opens with its password
//   Private Key          present, and matches the leaf certificate
//   Expiry Date          valid at `now` (not before not_before, not after
//                        not_after: ERROR) with at least min_valid_days left
//                        (fewer: ERROR)
//   Signature Algorithm  no SHA-1/MD5 signature on the leaf or the chain
//                        certificates; a self-signed root's signature on
//                        itself is not judged (nobody verifies it)
//   Key Size             RSA >= 2048 bits, or EC on P-256, P-384 or P-521
//   Key Usage            keyUsage digitalSignature (+ keyEncipherment for
//                        RSA) and extendedKeyUsage serverAuth (or
//                        anyExtendedKeyUsage); a missing bit
//                        is an ERROR, a missing extension (meaning "any use")
//                        a WARNING
//   Cert Chain           the leaf's issuers up to a self-signed root are in
//                        the PFX. A chain that stops at a certificate whose
//                        issuer is absent is a WARNING, not an ERROR: the
//                        missing certificate is usually a root that clients
//                        already trust, which the PFX need not carry; set
//                        ca_bundle_path to have "CA Trust" decide.
//   Chain Order          the PFX lists leaf, issuer, issuer's issuer, ...
//   Other Certificates   nothing else in the PFX (an unrelated certificate
//                        would be served to clients: ERROR)
//   DNS Names            dns_name is covered by a subjectAltName DNS entry
//                        (TLS wildcard rules: "*" only as the whole
//                        left-most label); without dns_name, the leaf must
//                        have DNS entries at all
//   CA Trust             only with ca_bundle_path: the leaf verifies to a
//                        CA in that PEM bundle at `now`, with the PFX's other
//                        certificates as intermediates
//   Issuer               WARNING for a self-signed leaf: clients must trust
//                        this certificate explicitly
#ifndef ROTOR_CERTS_CHECKS_H_
#define ROTOR_CERTS_CHECKS_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "base/secret.h"
#include "certs/pfx.h"

namespace rotor::certs {

struct CheckOptions {
  // Fewer whole days than this before not_after is an ERROR.
  int min_valid_days = 30;
  // The registry's host name; "" skips matching (but not the SAN presence).
  std::string dns_name;
  // A PEM file of trusted CA certificates; "" skips "CA Trust".
  std::string ca_bundle_path;
  // The moment the checks are made for. Required: pass Clock::Now() (tests
  // pass a fixed time). The default (the Unix epoch) is almost surely wrong.
  absl::Time now;
};

enum class CheckLevel { kOk, kWarning, kError };

struct CheckResult {
  std::string name;
  CheckLevel level = CheckLevel::kOk;
  // One line, no secret: what was found or what is wrong. May be empty.
  std::string detail;
};

// "OK", "WARNING", "ERROR".
absl::string_view CheckLevelName(CheckLevel level);

// Every check above, for an opened PFX ("Parse PFX" and "Private Key" are
// then OK: Open() already enforced them).
std::vector<CheckResult> CheckCertificate(const Pfx& pfx, const CheckOptions& options);

// The checks for a PFX that Pfx::Open refused: "Parse PFX: ERROR (...)", or
// "Parse PFX: OK" then "Private Key: ERROR (...)" when only the key was
// wrong. The detail is the status message.
std::vector<CheckResult> CheckOpenFailure(const absl::Status& open_error);

// Opens the PFX and checks it: CheckCertificate or CheckOpenFailure.
std::vector<CheckResult> CheckPfx(absl::string_view der_bytes, const Secret& password,
                                  const std::string& source_name, const CheckOptions& options);

// The worst level among `results` (kOk for none).
CheckLevel WorstLevel(const std::vector<CheckResult>& results);

// "Name: OK", "Name: ERROR (detail)" (no newline).
std::string FormatCheck(const CheckResult& result);
// Each result on its own line, each line ending in '\n'.
std::string FormatChecks(const std::vector<CheckResult>& results);

}  // namespace rotor::certs

#endif  // ROTOR_CERTS_CHECKS_H_
