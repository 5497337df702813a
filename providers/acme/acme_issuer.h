// AcmeIssuer: the engine's CertificateIssuer over ACME (RFC 8555) with the
// DNS-01 challenge, for Let's Encrypt or any ACME CA ([certificate.acme]).
//
// One Issue() runs the whole protocol:
//  - the directory (GET), a nonce (HEAD newNonce; afterwards the
//    Replay-Nonce of every answer);
//  - the account: the key comes from the AccountKeyStore, or is generated
//    and SAVED BEFORE newAccount, so that a run killed in between never
//    leaves an account whose key is lost; newAccount agrees to the terms,
//    gives the mailto: contact and, when configured, the external account
//    binding (HS256); for a known key the CA returns the existing account;
//  - newOrder for the request's names; for each pending authorization (its
//    identifier must be one of them) the dns-01 TXT value is presented at
//    "_acme-challenge.<name>" through the Dns01Solver, every challenge is
//    answered ({}), and each authorization is polled until valid or invalid
//    (invalid: an error carrying the CA's problem type and detail);
//  - finalize with the CSR (DER), the order polled until valid, the chain
//    downloaded (application/pem-certificate-chain) and returned as it
//    came (the engine parses and checks it against its key);
//  - every record presented is cleaned up, always: on failure too. A
//    cleanup failure is added to the first error, never replaces it; after
//    a successful issuance it is logged as a warning and the chain returned.
//
// Every POST is a JWS (ES256) with a fresh nonce and is never resent by the
// HTTP client (a nonce is single use): badNonce is retried here with the
// nonce the error carries, up to max_bad_nonce_retries times; rateLimited
// (or a 429) is waited out when its Retry-After is within max_retry_after
// and the deadline, and otherwise fails naming when to retry. A POST-as-GET
// (a read) that fails in transport or with a 5xx is signed and sent again,
// up to three sends. Polls honour Retry-After, bounded by max_retry_after. The whole Issue() ends
// by order_timeout (DeadlineExceeded naming what was still pending).
//
// Answers larger than kMaxAcmeAnswerBytes are refused (acme_codec.h).
// Errors name the URL, the HTTP status and the ACME problem type and detail
// (AcmeProblemTypeOf reads the type back); neither the account key nor the
// HMAC key ever reaches a message or the log. Not thread-safe: one Issue()
// at a time.
#ifndef ROTOR_PROVIDERS_ACME_ACME_ISSUER_H_
#define ROTOR_PROVIDERS_ACME_ACME_ISSUER_H_

#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "base/clock.h"
#include "base/secret.h"
#include "engine/model/certificate_issuer.h"
#include "providers/acme/account_key_store.h"
#include "providers/acme/dns01_solver.h"
#include "providers/http/http_client.h"

namespace rotor::acme {

// RFC 8555 §7.3.4: the key id and MAC key an ACME CA hands out for binding
// a new account to an existing customer account.
struct ExternalAccountBinding {
  std::string key_id;
  Secret hmac_key;  // base64url, as the CA gives it
};

struct AcmeOptions {
  // "https://acme-v02.api.letsencrypt.org/directory"
  std::string directory_url;
  // Contact, sent as "mailto:<email>"; empty: none.
  std::string email;
  std::optional<ExternalAccountBinding> eab;
  // The most one Issue() may take, waits included.
  absl::Duration order_timeout = absl::Minutes(5);
  int max_bad_nonce_retries = 8;
  // A longer Retry-After (rateLimited, or on a poll) fails the issuance (a
  // rate limit) or is shortened to it (a poll).
  absl::Duration max_retry_after = absl::Minutes(2);
  // Between polls when the server names no Retry-After.
  absl::Duration poll_interval = absl::Seconds(1);
  // info: each step; warning: a record left behind after a successful
  // issuance.
  http::LogSink log;
};

// The ACME problem type ("urn:ietf:params:acme:error:unauthorized") behind
// an error of AcmeIssuer, "" when the error carries none.
std::string AcmeProblemTypeOf(const absl::Status& status);

class AcmeIssuer : public CertificateIssuer {
 public:
  // Every reference must outlive the issuer. `http` should not trust more
  // than the CA needs; its retry policy applies to the GET and HEAD
  // requests only.
  AcmeIssuer(http::HttpSender& http, AcmeOptions options, AccountKeyStore& store,
             Dns01Solver& solver, const Clock& clock);
  ~AcmeIssuer() override;

  absl::StatusOr<std::string> Issue(const IssueRequest& request) override;

 private:
  class Session;
  http::HttpSender& http_;
  AcmeOptions options_;
  AccountKeyStore& store_;
  Dns01Solver& solver_;
  const Clock& clock_;
  // Kept across Issue() calls: the directory, and the account once known.
  std::unique_ptr<Session> session_;
};

}  // namespace rotor::acme

#endif  // ROTOR_PROVIDERS_ACME_ACME_ISSUER_H_
