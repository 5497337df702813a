#include "providers/auth/credentials.h"

#include <algorithm>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "providers/http/checked_read.h"
#include "providers/http/url.h"

namespace rotor::auth {
namespace {

constexpr char kAssertionType[] = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

const Clock& ClockOr(const Clock* clock) { return clock != nullptr ? *clock : RealClock::Get(); }

std::string ShowLifetime(absl::Duration d) {
  int64_t s = absl::ToInt64Seconds(d);
  if (s >= 3600) return absl::StrCat(s / 3600, "h", (s % 3600) / 60, "m");
  if (s >= 60) return absl::StrCat(s / 60, "m", s % 60, "s");
  return absl::StrCat(s, "s");
}

// Sends a token request and turns the answer into a token or an error that
// names the endpoint and the service's own error (never the request body).
absl::StatusOr<AccessToken> Exchange(http::HttpSender& http, http::HttpRequest request,
                                     absl::string_view what, absl::Time now) {
  const std::string method = request.method;
  const std::string url = request.url;
  // A token request changes nothing: an unreadable answer is asked again
  // (http::SendCheckedRead), then reported naming the field and the URL.
  auto make = [&] {
    http::HttpRequest copy;
    copy.method = request.method;
    copy.url = request.url;
    copy.headers = request.headers;
    copy.body = request.body.Clone();
    copy.idempotent = request.idempotent;
    copy.max_response_bytes = kMaxTokenAnswerBytes;
    return copy;
  };
  std::optional<AccessToken> parsed;
  auto response = http::SendCheckedRead(
      http, make,
      [&](const http::HttpResponse& answer) -> absl::Status {
        ASSIGN_OR_RETURN(parsed, ParseTokenResponse(answer.body, now));
        return absl::OkStatus();
      },
      http::CheckedReadOptions{});
  if (!response.ok()) {
    return absl::Status(response.status().code(),
                        absl::StrCat(what, ": ", response.status().message()));
  }
  if (!response->ok()) {
    absl::Status error = http::HttpErrorToStatus(method, url, *response);
    // A refused credential is Unauthenticated whatever the status (AAD
    // answers 400/401 for a wrong secret, AD FS 400/401).
    absl::StatusCode code = error.code();
    http::ServiceError service = http::ParseServiceError(response->body);
    if (service.code == "invalid_client" || service.code == "unauthorized_client") {
      code = absl::StatusCode::kUnauthenticated;
    }
    return absl::Status(code, absl::StrCat(what, ": ", error.message()));
  }
  return *std::move(parsed);
}

}  // namespace

std::string NormalizeAudience(absl::string_view audience) {
  while (absl::EndsWith(audience, "/")) audience.remove_suffix(1);
  return absl::AsciiStrToLower(audience);
}

// --- ServicePrincipalCredential

ServicePrincipalCredential::ServicePrincipalCredential(std::shared_ptr<http::HttpSender> http,
                                                       Options options)
    : http_(std::move(http)), options_(std::move(options)) {}

std::string ServicePrincipalCredential::Describe() const {
  return absl::StrCat(options_.certificate ? "certificate " : "client secret ",
                      options_.certificate ? options_.certificate->thumbprint() : "",
                      options_.certificate ? " " : "", "of service principal ", options_.client_id,
                      " at ", options_.token_endpoint, " (", TokenProtocolName(options_.protocol),
                      ")");
}

absl::StatusOr<AccessToken> ServicePrincipalCredential::FetchToken(absl::string_view audience) {
  const absl::Time now = ClockOr(options_.clock).Now();
  std::string scope;
  std::vector<http::FormField> fields = {{"grant_type", "client_credentials"},
                                         {"client_id", options_.client_id}};
  if (options_.protocol == TokenProtocol::kAadV2) {
    scope = ScopeForAudience(audience);
    fields.push_back({"scope", scope});
  } else {
    fields.push_back({"resource", audience});
  }
  Secret assertion;
  if (options_.certificate) {
    ASSIGN_OR_RETURN(assertion, options_.certificate->MakeAssertion(options_.client_id,
                                                                    options_.token_endpoint, now));
    fields.push_back({"client_assertion_type", kAssertionType});
    fields.push_back({"client_assertion", assertion.Reveal()});
  } else if (options_.client_secret.has_value()) {
    fields.push_back({"client_secret", options_.client_secret->Reveal()});
  } else {
    return absl::FailedPreconditionError(
        "the service principal has neither a secret nor a certificate");
  }
  http::HttpRequest request = http::Post(options_.token_endpoint, http::FormEncode(fields),
                                         "application/x-www-form-urlencoded");
  request.headers.emplace_back("Accept", "application/json");
  // A token request changes nothing: it may be retried.
  request.idempotent = true;
  return Exchange(*http_, std::move(request),
                  absl::StrCat("getting a token for ", audience, " with the ", Describe()), now);
}

// --- ManagedIdentityCredential

ManagedIdentityCredential::ManagedIdentityCredential(std::shared_ptr<http::HttpSender> http,
                                                     Options options)
    : http_(std::move(http)), options_(std::move(options)) {}

std::string ManagedIdentityCredential::Describe() const {
  return absl::StrCat("managed identity",
                      options_.client_id.empty() ? "" : absl::StrCat(" ", options_.client_id),
                      " at ", options_.endpoint);
}

absl::StatusOr<AccessToken> ManagedIdentityCredential::FetchToken(absl::string_view audience) {
  const absl::Time now = ClockOr(options_.clock).Now();
  std::string url = absl::StrCat(options_.endpoint,
                                 "?api-version=2018-02-01&resource=", http::UrlEncode(audience));
  if (!options_.client_id.empty()) {
    absl::StrAppend(&url, "&client_id=", http::UrlEncode(options_.client_id));
  }
  http::HttpRequest request = http::Get(url);
  request.headers.emplace_back("Metadata", "true");
  return Exchange(*http_, std::move(request),
                  absl::StrCat("getting a token for ", audience, " from the ", Describe()), now);
}

// --- MakeCredential

absl::StatusOr<std::unique_ptr<TokenCredential>> MakeCredential(
    const SignInOptions& options, const CloudEndpoints& endpoints, absl::string_view tenant,
    std::shared_ptr<http::HttpSender> http, const Clock* clock) {
  ServicePrincipalCredential::Options sp;
  sp.token_endpoint = endpoints.TokenEndpoint(tenant);
  sp.protocol = endpoints.protocol;
  sp.clock = clock;
  sp.client_id = options.client_id;
  switch (options.method) {
    case SignInOptions::Method::kClientSecret: {
      if (!options.client_secret.has_value()) {
        return absl::InvalidArgumentError(
            "auth.client_secret is required with method = \"client_secret\"");
      }
      sp.client_secret = options.client_secret->Clone();
      break;
    }
    case SignInOptions::Method::kClientCertificate: {
      ASSIGN_OR_RETURN(
          ClientCertificate cert,
          ClientCertificate::Load(options.client_certificate, options.client_certificate_password));
      sp.certificate = std::make_shared<const ClientCertificate>(std::move(cert));
      break;
    }
    case SignInOptions::Method::kManagedIdentity: {
      if (endpoints.adfs) {
        return absl::FailedPreconditionError(
            "auth.method = \"managed_identity\" is not available on Azure Stack Hub (it has no "
            "managed identities); use a service principal");
      }
      ManagedIdentityCredential::Options mi;
      mi.client_id = options.client_id;
      mi.clock = clock;
      return std::unique_ptr<TokenCredential>(
          std::make_unique<ManagedIdentityCredential>(std::move(http), std::move(mi)));
    }
  }
  if (sp.client_id.empty()) {
    return absl::InvalidArgumentError("auth.client_id is empty");
  }
  return std::unique_ptr<TokenCredential>(
      std::make_unique<ServicePrincipalCredential>(std::move(http), std::move(sp)));
}

// --- TokenCache

TokenCache::TokenCache(std::shared_ptr<TokenCredential> credential, const Clock* clock,
                       http::LogSink log)
    : credential_(std::move(credential)), clock_(clock), log_(std::move(log)) {}

TokenCache::Entry& TokenCache::EntryFor(absl::string_view audience) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& slot = entries_[NormalizeAudience(audience)];
  if (slot == nullptr) slot = std::make_unique<Entry>();
  return *slot;
}

int64_t TokenCache::fetches() const {
  std::lock_guard<std::mutex> lock(mu_);
  return fetches_;
}

absl::StatusOr<Secret> TokenCache::Token(absl::string_view audience) {
  Entry& entry = EntryFor(audience);
  std::lock_guard<std::mutex> lock(entry.fetch_mu);
  const absl::Time now = ClockOr(clock_).Now();
  if (entry.token.has_value()) {
    absl::Duration margin = std::min(absl::Minutes(5), (entry.expires - entry.fetched) / 2);
    if (now < entry.expires - margin) return entry.token->Clone();
  }
  ASSIGN_OR_RETURN(AccessToken fresh, credential_->FetchToken(audience));
  {
    std::lock_guard<std::mutex> count(mu_);
    ++fetches_;
  }
  if (log_) {
    log_(http::LogLevel::kInfo, absl::StrCat("got a token for ", audience, " (valid for ",
                                             ShowLifetime(fresh.expires_on - now), ")"));
  }
  entry.fetched = now;
  entry.expires = fresh.expires_on;
  entry.token = std::move(fresh.token);
  return entry.token->Clone();
}

void TokenCache::Invalidate(absl::string_view audience, const Secret& rejected) {
  Entry& entry = EntryFor(audience);
  std::lock_guard<std::mutex> lock(entry.fetch_mu);
  if (entry.token.has_value() && entry.token->Equals(rejected)) entry.token.reset();
}

}  // namespace rotor::auth
