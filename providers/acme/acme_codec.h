// The JSON of RFC 8555 both ways: the server's directory, account, order,
// authorization, challenge and problem documents (§7.1, §6.7) read
// strictly, and the payloads the client posts (newAccount, newOrder,
// finalize) written. RapidJSON stays in acme_codec.cc.
//
// An answer is refused when it is larger than kMaxAcmeAnswerBytes, is not
// a JSON object, lacks a field the protocol requires, has a known field of
// the wrong type or a status outside the RFC's list. Each refusal names the
// URL the answer came from and the field; text the server chose (URLs,
// statuses, problem details) reaches messages only through ShowInert.
#ifndef ROTOR_PROVIDERS_ACME_ACME_CODEC_H_
#define ROTOR_PROVIDERS_ACME_ACME_CODEC_H_

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace rotor::acme {

// The most an ACME answer may hold (a directory, an order of 100 names, a
// certificate chain are all far smaller).
inline constexpr size_t kMaxAcmeAnswerBytes = 1 << 20;
// An order covers at most this many names (Let's Encrypt's limit).
inline constexpr size_t kMaxOrderIdentifiers = 100;
// RFC 8555 §6.7's namespace of error types.
inline constexpr char kAcmeErrorPrefix[] = "urn:ietf:params:acme:error:";

// A problem document (RFC 7807 as RFC 8555 §6.7 uses it).
struct Problem {
  std::string type;        // "urn:ietf:params:acme:error:badNonce"; "" when absent
  std::string detail;      // as sent
  int status = 0;          // the document's own "status", 0 when absent
  std::string identifier;  // a subproblem's identifier value
  std::vector<Problem> subproblems;

  // Whether type is kAcmeErrorPrefix + `name` ("badNonce").
  bool Is(absl::string_view name) const;
  // One line, inert and bounded: "TYPE: DETAIL", then each subproblem as
  // "; IDENTIFIER: TYPE: DETAIL".
  std::string Describe() const;
};

struct Directory {
  std::string new_nonce;
  std::string new_account;
  std::string new_order;
  std::string terms_of_service;  // meta.termsOfService, may be empty
  bool external_account_required = false;
};

struct Account {
  std::string status;  // valid, deactivated, revoked
};

struct Order {
  std::string status;  // pending, ready, processing, valid, invalid
  std::vector<std::string> authorizations;
  std::string finalize;
  std::string certificate;  // once valid
  std::optional<Problem> error;
};

struct Challenge {
  std::string type;  // "dns-01", "http-01", ...
  std::string url;
  std::string token;   // "" when absent
  std::string status;  // pending, processing, valid, invalid
  std::optional<Problem> error;
};

struct Authorization {
  std::string identifier_type;  // "dns"
  std::string identifier;       // "registry.example.com" (no "*." for a wildcard)
  std::string status;           // pending, valid, invalid, deactivated, expired, revoked
  bool wildcard = false;
  std::vector<Challenge> challenges;
};

// A URL the CA chose, as messages show it: inert and at most 300 bytes.
std::string ShowUrl(absl::string_view url);

// `url` is where the answer came from, for messages.
absl::StatusOr<Directory> ParseDirectory(absl::string_view url, absl::string_view body);
absl::StatusOr<Account> ParseAccount(absl::string_view url, absl::string_view body);
absl::StatusOr<Order> ParseOrder(absl::string_view url, absl::string_view body);
absl::StatusOr<Authorization> ParseAuthorization(absl::string_view url, absl::string_view body);
absl::StatusOr<Challenge> ParseChallenge(absl::string_view url, absl::string_view body);
// An error answer's body; an error when it is not a problem document (an
// HTML page from a proxy, say).
absl::StatusOr<Problem> ParseProblem(absl::string_view url, absl::string_view body);

// newAccount (§7.3): termsOfServiceAgreed, "mailto:" contact when `email`
// is not empty, and the externalAccountBinding JWS when not empty.
std::string NewAccountPayload(absl::string_view email, absl::string_view eab_jws);
// newOrder (§7.4): one "dns" identifier per name.
std::string NewOrderPayload(const std::vector<std::string>& dns_names);
// finalize (§7.4): the CSR's DER, base64url.
std::string FinalizePayload(absl::string_view csr_der);

}  // namespace rotor::acme

#endif  // ROTOR_PROVIDERS_ACME_ACME_CODEC_H_
