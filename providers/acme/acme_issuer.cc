#include "providers/acme/acme_issuer.h"

#include <algorithm>
#include <functional>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/cord.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "base/inert_text.h"
#include "base/status_context.h"
#include "base/status_macros.h"
#include "providers/acme/acme_codec.h"
#include "providers/acme/csr.h"
#include "providers/acme/jws.h"
#include "providers/http/retry.h"

namespace rotor::acme {
namespace {

constexpr char kProblemTypePayload[] = "rotor.acme/problem-type";
constexpr char kJoseJson[] = "application/jose+json";
constexpr char kPemChain[] = "application/pem-certificate-chain";
constexpr size_t kMaxNonceBytes = 512;
constexpr size_t kMaxTokenBytes = 512;
// Sends of a POST-as-GET that failed in transport or with a 5xx.
constexpr int kMaxReadAttempts = 3;

bool IsBase64UrlText(absl::string_view s, size_t max) {
  if (s.empty() || s.size() > max) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
  });
}

// The error for a non-2xx answer: the HTTP status's code, the URL, and the
// problem document when there is one (its type also as a payload).
absl::Status AnswerError(absl::string_view method, absl::string_view url,
                         const http::HttpResponse& response, const Problem* problem,
                         absl::string_view suffix = "") {
  const absl::Status http_error = http::HttpErrorToStatus(method, url, response);
  const absl::string_view reason = http::ReasonPhrase(response.status);
  std::string message = absl::StrCat(method, " ", ShowUrl(url), ": ", response.status,
                                     reason.empty() ? "" : " ", reason);
  if (problem != nullptr) absl::StrAppend(&message, ": ", problem->Describe());
  absl::StrAppend(&message, suffix);
  absl::Status status(http_error.code(), message);
  if (problem != nullptr) status.SetPayload(kProblemTypePayload, absl::Cord(problem->type));
  return status;
}

// An error the CA reported inside a document (a failed challenge, an
// invalid order), with its problem type as a payload.
absl::Status ProblemError(absl::StatusCode code, absl::string_view message,
                          const std::optional<Problem>& problem) {
  absl::Status status(code, problem.has_value() ? absl::StrCat(message, ": ", problem->Describe())
                                                : std::string(message));
  if (problem.has_value()) status.SetPayload(kProblemTypePayload, absl::Cord(problem->type));
  return status;
}

std::string Lower(absl::string_view s) { return absl::AsciiStrToLower(s); }

}  // namespace

std::string AcmeProblemTypeOf(const absl::Status& status) {
  auto type = status.GetPayload(kProblemTypePayload);
  return type.has_value() ? std::string(*type) : std::string();
}

// What one issuer learns and keeps: the directory, the account, the last
// nonce. One Issue() at a time uses it.
class AcmeIssuer::Session {
 public:
  explicit Session(AcmeIssuer& issuer) : issuer_(issuer), options_(issuer.options_) {}

  absl::StatusOr<std::string> Issue(const IssueRequest& request);

 private:
  // A POST's answer, 2xx.
  absl::StatusOr<http::HttpResponse> Post(const std::string& url, absl::string_view payload,
                                          absl::string_view accept = "");
  absl::StatusOr<http::HttpResponse> PostAsGet(const std::string& url,
                                               absl::string_view accept = "") {
    return Post(url, "", accept);
  }
  absl::Status EnsureDirectory();
  absl::Status EnsureAccount();
  absl::StatusOr<std::string> TakeNonce();
  void KeepNonce(const http::HttpResponse& response);
  http::HttpRequest Request(std::string method, std::string url) const;
  // Sleeps before the next poll of `url` (Retry-After, bounded, else
  // poll_interval); DeadlineExceeded when that would pass the deadline.
  absl::Status WaitToPoll(const http::HttpResponse& response, absl::string_view what,
                          absl::string_view url, absl::string_view status);
  absl::StatusOr<std::string> RunOrder(const IssueRequest& request, absl::string_view csr_der,
                                       std::set<std::string>* presented);
  absl::Status Authorize(const std::vector<std::string>& authorization_urls,
                         const std::vector<std::string>& names, std::set<std::string>* presented);
  absl::StatusOr<Order> PollOrder(const std::string& url, std::function<bool(const Order&)> done);
  absl::Status CleanUp(const std::set<std::string>& presented);
  void Log(http::LogLevel level, absl::string_view line) const {
    if (options_.log) options_.log(level, line);
  }

  AcmeIssuer& issuer_;
  const AcmeOptions& options_;
  std::optional<Directory> directory_;
  std::optional<AccountKey> key_;
  std::string account_url_;
  std::string nonce_;
  absl::Time deadline_;
};

AcmeIssuer::AcmeIssuer(http::HttpSender& http, AcmeOptions options, AccountKeyStore& store,
                       Dns01Solver& solver, const Clock& clock)
    : http_(http),
      options_(std::move(options)),
      store_(store),
      solver_(solver),
      clock_(clock),
      session_(std::make_unique<Session>(*this)) {}

AcmeIssuer::~AcmeIssuer() = default;

absl::StatusOr<std::string> AcmeIssuer::Issue(const IssueRequest& request) {
  absl::StatusOr<std::string> chain = session_->Issue(request);
  if (!chain.ok()) {
    return WithContext(chain.status(),
                       absl::StrCat("ACME issuance of certificate secret ", request.secret_name,
                                    " from ", ShowUrl(options_.directory_url)));
  }
  return chain;
}

http::HttpRequest AcmeIssuer::Session::Request(std::string method, std::string url) const {
  http::HttpRequest request;
  request.method = std::move(method);
  request.url = std::move(url);
  request.max_response_bytes = kMaxAcmeAnswerBytes;
  return request;
}

void AcmeIssuer::Session::KeepNonce(const http::HttpResponse& response) {
  const std::string* nonce = response.headers.Find("Replay-Nonce");
  if (nonce != nullptr && IsBase64UrlText(*nonce, kMaxNonceBytes)) nonce_ = *nonce;
}

absl::StatusOr<std::string> AcmeIssuer::Session::TakeNonce() {
  if (nonce_.empty()) {
    http::HttpRequest head = Request("HEAD", directory_->new_nonce);
    head.idempotent = true;
    ASSIGN_OR_RETURN(http::HttpResponse response, issuer_.http_.Send(std::move(head)));
    if (!response.ok()) {
      return AnswerError("HEAD", directory_->new_nonce, response, nullptr);
    }
    KeepNonce(response);
    if (nonce_.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("HEAD ", ShowUrl(directory_->new_nonce), ": no usable Replay-Nonce header"));
    }
  }
  return std::exchange(nonce_, std::string());
}

absl::StatusOr<http::HttpResponse> AcmeIssuer::Session::Post(const std::string& url,
                                                             absl::string_view payload,
                                                             absl::string_view accept) {
  int bad_nonces = 0;
  int read_failures = 0;
  while (true) {
    ASSIGN_OR_RETURN(std::string nonce, TakeNonce());
    JwsSigner signer{&*key_, account_url_};
    ASSIGN_OR_RETURN(std::string jws, SignJws(signer, nonce, url, payload));
    http::HttpRequest request = Request("POST", url);
    request.headers.emplace_back("Content-Type", kJoseJson);
    if (!accept.empty()) request.headers.emplace_back("Accept", std::string(accept));
    request.body = Secret(std::move(jws));
    // The nonce is single use: the client must hand back a 429 as it is.
    request.idempotent = false;
    request.resend_throttled = false;
    absl::StatusOr<http::HttpResponse> sent = issuer_.http_.Send(std::move(request));
    // A POST-as-GET changes nothing: after a transport failure or a 5xx it
    // is signed again with a new nonce and sent, a few times.
    const bool read_failed = !sent.ok() ? absl::IsUnavailable(sent.status()) : sent->status >= 500;
    if (payload.empty() && read_failed && ++read_failures < kMaxReadAttempts &&
        issuer_.clock_.Now() + options_.poll_interval <= deadline_) {
      if (sent.ok()) KeepNonce(*sent);
      Log(http::LogLevel::kInfo, absl::StrCat("ACME: ",
                                              sent.ok() ? absl::StrCat("HTTP ", sent->status)
                                                        : std::string(sent.status().message()),
                                              " on POST-as-GET ", ShowUrl(url), ", reading again"));
      absl::SleepFor(options_.poll_interval);
      continue;
    }
    if (!sent.ok()) return sent.status();
    http::HttpResponse response = *std::move(sent);
    KeepNonce(response);
    if (response.ok()) return response;
    absl::StatusOr<Problem> problem = ParseProblem(url, response.body);
    const Problem* p = problem.ok() ? &*problem : nullptr;
    if (p != nullptr && p->Is("badNonce") && bad_nonces < options_.max_bad_nonce_retries) {
      ++bad_nonces;
      Log(http::LogLevel::kInfo,
          absl::StrCat("ACME: badNonce from POST ", ShowUrl(url), ", sending again (", bad_nonces,
                       "/", options_.max_bad_nonce_retries, ")"));
      continue;
    }
    if (response.status == 429 || (p != nullptr && p->Is("rateLimited"))) {
      const absl::Time now = issuer_.clock_.Now();
      const std::optional<absl::Duration> wait = http::ParseRetryAfter(response.headers, now);
      if (wait.has_value() && *wait <= options_.max_retry_after && now + *wait <= deadline_) {
        Log(http::LogLevel::kInfo, absl::StrCat("ACME: rate limited on POST ", ShowUrl(url),
                                                ", waiting ", http::ShowDuration(*wait)));
        absl::SleepFor(std::max(*wait, options_.poll_interval));
        continue;
      }
      const std::string when =
          wait.has_value()
              ? absl::StrCat(
                    "; the CA asks to retry after ",
                    absl::FormatTime("%Y-%m-%d %H:%M:%S UTC", now + *wait, absl::UTCTimeZone()),
                    " (in ", absl::FormatDuration(*wait), "), beyond ",
                    *wait > options_.max_retry_after
                        ? absl::StrCat("max_retry_after (",
                                       absl::FormatDuration(options_.max_retry_after), ")")
                        : std::string("the order's deadline (order_timeout)"))
              : std::string("; the CA names no time to retry after");
      return AnswerError("POST", url, response, p, when);
    }
    return AnswerError("POST", url, response, p);
  }
}

absl::Status AcmeIssuer::Session::EnsureDirectory() {
  if (directory_.has_value()) return absl::OkStatus();
  const std::string& url = options_.directory_url;
  http::HttpRequest get = Request("GET", url);
  get.idempotent = true;
  ASSIGN_OR_RETURN(http::HttpResponse response, issuer_.http_.Send(std::move(get)));
  KeepNonce(response);
  if (!response.ok()) {
    absl::StatusOr<Problem> problem = ParseProblem(url, response.body);
    return AnswerError("GET", url, response, problem.ok() ? &*problem : nullptr);
  }
  ASSIGN_OR_RETURN(directory_, ParseDirectory(url, response.body));
  if (directory_->external_account_required && !options_.eab.has_value()) {
    absl::Status missing = absl::FailedPreconditionError(
        absl::StrCat("the CA at ", ShowUrl(url),
                     " requires an external account binding (a key id and HMAC key from the "
                     "CA), and none is configured"));
    directory_.reset();
    return missing;
  }
  return absl::OkStatus();
}

absl::Status AcmeIssuer::Session::EnsureAccount() {
  if (!account_url_.empty()) return absl::OkStatus();
  if (!key_.has_value()) {
    absl::StatusOr<std::optional<Secret>> stored = issuer_.store_.Load();
    if (!stored.ok()) return WithContext(stored.status(), "loading the ACME account key");
    if (stored->has_value()) {
      ASSIGN_OR_RETURN(key_, AccountKey::FromPem(**stored));
    } else {
      ASSIGN_OR_RETURN(AccountKey fresh, AccountKey::Generate());
      ASSIGN_OR_RETURN(Secret pem, fresh.Pem());
      // Saved before the CA hears of it: a run killed after newAccount
      // must not leave an account whose key exists nowhere.
      absl::Status saved = issuer_.store_.Save(pem);
      if (!saved.ok()) return WithContext(saved, "saving the new ACME account key");
      Log(http::LogLevel::kInfo, "ACME: generated and saved a new account key");
      key_ = std::move(fresh);
    }
  }
  std::string eab;
  if (options_.eab.has_value()) {
    ASSIGN_OR_RETURN(eab,
                     ExternalAccountBindingJws(*key_, options_.eab->key_id, options_.eab->hmac_key,
                                               directory_->new_account));
  }
  const std::string& url = directory_->new_account;
  ASSIGN_OR_RETURN(http::HttpResponse response, Post(url, NewAccountPayload(options_.email, eab)));
  ASSIGN_OR_RETURN(Account account, ParseAccount(url, response.body));
  if (account.status != "valid") {
    return absl::FailedPreconditionError(
        absl::StrCat("POST ", ShowUrl(url), ": the ACME account is ", account.status));
  }
  const std::string* location = response.headers.Find("Location");
  if (location == nullptr || location->empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("POST ", ShowUrl(url), ": the answer has no Location (the account URL)"));
  }
  account_url_ = *location;
  Log(http::LogLevel::kInfo, absl::StrCat("ACME: account ", ShowUrl(account_url_), " (",
                                          response.status == 201 ? "created" : "existing", ")"));
  return absl::OkStatus();
}

absl::Status AcmeIssuer::Session::WaitToPoll(const http::HttpResponse& response,
                                             absl::string_view what, absl::string_view url,
                                             absl::string_view status) {
  const absl::Time now = issuer_.clock_.Now();
  absl::Duration wait = options_.poll_interval;
  if (std::optional<absl::Duration> asked = http::ParseRetryAfter(response.headers, now)) {
    wait = std::clamp(*asked, absl::Milliseconds(100), options_.max_retry_after);
  }
  if (now + wait > deadline_) {
    return absl::DeadlineExceededError(
        absl::StrCat(what, " ", ShowUrl(url), " is still ", ShowInert(status, 40), " after ",
                     absl::FormatDuration(options_.order_timeout), " (order_timeout)"));
  }
  absl::SleepFor(wait);
  return absl::OkStatus();
}

absl::Status AcmeIssuer::Session::Authorize(const std::vector<std::string>& authorization_urls,
                                            const std::vector<std::string>& names,
                                            std::set<std::string>* presented) {
  struct Pending {
    std::string authorization_url;
    std::string challenge_url;
    std::string challenge_status;
    std::string identifier;
  };
  std::vector<Pending> pending;
  for (const std::string& url : authorization_urls) {
    ASSIGN_OR_RETURN(http::HttpResponse response, PostAsGet(url));
    ASSIGN_OR_RETURN(Authorization authz, ParseAuthorization(url, response.body));
    const std::string name =
        authz.wildcard ? absl::StrCat("*.", authz.identifier) : authz.identifier;
    // The CA decides which records rotor writes into the zone: only for
    // the names asked for.
    if (authz.identifier_type != "dns" ||
        std::find(names.begin(), names.end(), Lower(name)) == names.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat("ACME answer of ", ShowUrl(url), ": the authorization is for ",
                       ShowInert(authz.identifier_type, 40), " \"", ShowInert(name, 300),
                       "\", which the order did not ask for"));
    }
    if (authz.status == "valid") continue;  // reused from an earlier order
    if (authz.status != "pending") {
      return absl::FailedPreconditionError(absl::StrCat(
          "the authorization ", ShowUrl(url), " for ", ShowInert(name, 300), " is ", authz.status));
    }
    const auto dns01 = std::find_if(authz.challenges.begin(), authz.challenges.end(),
                                    [](const Challenge& c) { return c.type == "dns-01"; });
    if (dns01 == authz.challenges.end()) {
      std::vector<std::string> offered;
      for (const auto& c : authz.challenges) offered.push_back(ShowInert(c.type, 40));
      return absl::FailedPreconditionError(
          absl::StrCat("the authorization ", ShowUrl(url), " for ", ShowInert(name, 300),
                       " offers no dns-01 challenge (offered: ",
                       offered.empty() ? "none" : absl::StrJoin(offered, ", "), ")"));
    }
    if (!IsBase64UrlText(dns01->token, kMaxTokenBytes)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "ACME answer of ", ShowUrl(url), ": the dns-01 challenge's token is not base64url"));
    }
    const std::string record = absl::StrCat(kAcmeChallengeLabel, ".", Lower(authz.identifier));
    // Recorded before Present: a half-written record is cleaned up too.
    presented->insert(record);
    Log(http::LogLevel::kInfo, absl::StrCat("ACME: presenting ", record));
    if (absl::Status s = issuer_.solver_.Present(record, Dns01TxtValue(dns01->token, *key_));
        !s.ok()) {
      return WithContext(s, absl::StrCat("presenting the DNS-01 record ", record));
    }
    pending.push_back({url, dns01->url, dns01->status, name});
  }
  for (const Pending& p : pending) {
    if (p.challenge_status != "pending") continue;  // already being validated
    ASSIGN_OR_RETURN(http::HttpResponse response, Post(p.challenge_url, "{}"));
    RETURN_IF_ERROR(ParseChallenge(p.challenge_url, response.body).status());
  }
  for (const Pending& p : pending) {
    while (true) {
      ASSIGN_OR_RETURN(http::HttpResponse response, PostAsGet(p.authorization_url));
      ASSIGN_OR_RETURN(Authorization authz, ParseAuthorization(p.authorization_url, response.body));
      if (authz.status == "valid") break;
      if (authz.status != "pending") {
        std::optional<Problem> problem;
        for (const auto& c : authz.challenges) {
          if (c.type == "dns-01" && c.error.has_value()) problem = c.error;
        }
        return ProblemError(absl::StatusCode::kFailedPrecondition,
                            absl::StrCat("the CA did not accept the DNS-01 record for ",
                                         ShowInert(p.identifier, 300), " (authorization ",
                                         ShowUrl(p.authorization_url), " is ", authz.status, ")"),
                            problem);
      }
      RETURN_IF_ERROR(WaitToPoll(response, "the authorization", p.authorization_url, authz.status));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<Order> AcmeIssuer::Session::PollOrder(const std::string& url,
                                                     std::function<bool(const Order&)> done) {
  while (true) {
    ASSIGN_OR_RETURN(http::HttpResponse response, PostAsGet(url));
    ASSIGN_OR_RETURN(Order order, ParseOrder(url, response.body));
    if (order.status == "invalid") {
      return ProblemError(absl::StatusCode::kFailedPrecondition,
                          absl::StrCat("the order ", ShowUrl(url), " is invalid"), order.error);
    }
    if (done(order)) return order;
    RETURN_IF_ERROR(WaitToPoll(response, "the order", url, order.status));
  }
}

absl::StatusOr<std::string> AcmeIssuer::Session::RunOrder(const IssueRequest& request,
                                                          absl::string_view csr_der,
                                                          std::set<std::string>* presented) {
  std::vector<std::string> names;
  for (const auto& name : request.dns_names) names.push_back(Lower(name));
  const std::string& new_order = directory_->new_order;
  ASSIGN_OR_RETURN(http::HttpResponse created, Post(new_order, NewOrderPayload(names)));
  ASSIGN_OR_RETURN(Order order, ParseOrder(new_order, created.body));
  const std::string* location = created.headers.Find("Location");
  if (location == nullptr || location->empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("POST ", ShowUrl(new_order), ": the answer has no Location (the order URL)"));
  }
  const std::string order_url = *location;
  Log(http::LogLevel::kInfo, absl::StrCat("ACME: order ", ShowUrl(order_url)));
  if (order.authorizations.empty() || order.authorizations.size() > names.size()) {
    return absl::InvalidArgumentError(absl::StrCat("ACME answer of ", ShowUrl(new_order),
                                                   ": the order has ", order.authorizations.size(),
                                                   " authorizations for ", names.size(), " names"));
  }
  if (order.status == "pending") {
    RETURN_IF_ERROR(Authorize(order.authorizations, names, presented));
  }
  ASSIGN_OR_RETURN(order,
                   PollOrder(order_url, [](const Order& o) { return o.status != "pending"; }));
  if (order.status == "ready") {
    ASSIGN_OR_RETURN(http::HttpResponse finalized, Post(order.finalize, FinalizePayload(csr_der)));
    ASSIGN_OR_RETURN(order, ParseOrder(order.finalize, finalized.body));
  }
  if (order.status != "valid") {
    ASSIGN_OR_RETURN(order,
                     PollOrder(order_url, [](const Order& o) { return o.status == "valid"; }));
  }
  if (order.certificate.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("ACME answer of ", ShowUrl(order_url),
                                                   ": the valid order has no \"certificate\""));
  }
  ASSIGN_OR_RETURN(http::HttpResponse chain, PostAsGet(order.certificate, kPemChain));
  if (chain.body.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("POST ", ShowUrl(order.certificate), ": the certificate chain is empty"));
  }
  return std::move(chain.body);
}

absl::Status AcmeIssuer::Session::CleanUp(const std::set<std::string>& presented) {
  std::vector<std::string> failures;
  absl::StatusCode code = absl::StatusCode::kOk;
  for (const std::string& record : presented) {
    absl::Status s = issuer_.solver_.CleanUp(record);
    if (s.ok()) continue;
    if (code == absl::StatusCode::kOk) code = s.code();
    failures.push_back(absl::StrCat(record, ": ", s.message()));
  }
  if (failures.empty()) return absl::OkStatus();
  return absl::Status(code, absl::StrCat("cleaning up the DNS-01 records failed (",
                                         absl::StrJoin(failures, "; "), ")"));
}

absl::StatusOr<std::string> AcmeIssuer::Session::Issue(const IssueRequest& request) {
  deadline_ = issuer_.clock_.Now() + options_.order_timeout;
  if (request.dns_names.empty()) {
    return absl::InvalidArgumentError("the request names no DNS name");
  }
  if (request.dns_names.size() > kMaxOrderIdentifiers) {
    return absl::InvalidArgumentError(absl::StrCat("the request names ", request.dns_names.size(),
                                                   " DNS names, more than ", kMaxOrderIdentifiers));
  }
  ASSIGN_OR_RETURN(std::string csr_der, CsrDerFromPem(request.csr_pem));
  RETURN_IF_ERROR(EnsureDirectory());
  RETURN_IF_ERROR(EnsureAccount());
  std::set<std::string> presented;
  absl::StatusOr<std::string> chain = RunOrder(request, csr_der, &presented);
  const absl::Status cleaned = CleanUp(presented);
  if (!chain.ok()) {
    if (cleaned.ok()) return chain.status();
    return WithMessage(chain.status(),
                       absl::StrCat(chain.status().message(), "; then ", cleaned.message()));
  }
  if (!cleaned.ok()) {
    Log(http::LogLevel::kWarning,
        absl::StrCat("ACME: the certificate was issued, but ", cleaned.message()));
  }
  return chain;
}

}  // namespace rotor::acme
