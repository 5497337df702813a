#include "providers/auth/bearer_sender.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "providers/http/url.h"

namespace rotor::auth {
namespace {

// Whether a token for `audience` may be sent to `request_url`: the
// audience's host is the request's host or one of its parent domains
// (ports are not compared: the audience is an identifier, not an address).
bool AudienceCoversHost(absl::string_view audience, absl::string_view request_url) {
  auto a = SplitUrl(audience);
  auto r = SplitUrl(request_url);
  if (!a.ok() || !r.ok() || a->host.empty()) return false;
  return r->host == a->host || absl::EndsWith(r->host, absl::StrCat(".", a->host));
}

}  // namespace

BearerSender::BearerSender(std::shared_ptr<http::HttpSender> inner,
                           std::shared_ptr<TokenCache> tokens, Options options)
    : inner_(std::move(inner)), tokens_(std::move(tokens)), options_(std::move(options)) {}

std::string BearerSender::audience() const {
  if (!options_.audience.empty()) return options_.audience;
  std::lock_guard<std::mutex> lock(mu_);
  return audience_;
}

int64_t BearerSender::refreshed_after_401() const {
  std::lock_guard<std::mutex> lock(mu_);
  return refreshed_;
}

http::HttpRequest BearerSender::Copy(const http::HttpRequest& request) {
  http::HttpRequest copy;
  copy.method = request.method;
  copy.url = request.url;
  copy.headers = request.headers;
  copy.body = request.body.Clone();
  copy.idempotent = request.idempotent;
  return copy;
}

void BearerSender::SetToken(http::HttpRequest& request, const Secret& token) {
  for (auto it = request.headers.begin(); it != request.headers.end();) {
    if (absl::EqualsIgnoreCase(it->first, "Authorization")) {
      // erase() frees the old token's buffer without the headers' wipe.
      WipeString(it->second);
      it = request.headers.erase(it);
    } else {
      ++it;
    }
  }
  request.headers.emplace_back("Authorization", absl::StrCat("Bearer ", token.Reveal()));
}

absl::StatusOr<std::string> BearerSender::FromChallenge(const http::HttpRequest& request,
                                                        const http::HttpResponse& response) {
  std::string current = audience();
  if (!options_.audience.empty()) return current;
  const std::string* header = response.headers.Find("WWW-Authenticate");
  std::optional<BearerChallenge> challenge;
  if (header != nullptr) challenge = ParseBearerChallenge(*header);
  std::string wanted = challenge.has_value() ? challenge->Audience() : "";
  if (wanted.empty()) {
    if (!current.empty()) return current;
    wanted = options_.fallback_audience;
    if (options_.log) {
      options_.log(http::LogLevel::kInfo, absl::StrCat(options_.service,
                                                       " answered 401 without a usable Bearer "
                                                       "challenge; using the audience ",
                                                       wanted));
    }
  } else if (!AudienceCoversHost(wanted, request.url)) {
    return absl::PermissionDeniedError(absl::StrCat(
        options_.service, " at ", http::RedactUrl(request.url), " asked for a token for \"", wanted,
        "\", whose host is neither the vault's nor a parent domain of it; rotor does not send "
        "it one. If that audience is right for this cloud, set cloud.keyvault_audience = \"",
        wanted, "\""));
  }
  if (wanted.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("no token audience is known for ", options_.service));
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (audience_ != wanted) {
    if (options_.log) {
      options_.log(http::LogLevel::kInfo,
                   absl::StrCat(options_.service, " asks for tokens for ", wanted));
    }
    audience_ = wanted;
  }
  return audience_;
}

absl::StatusOr<std::string> BearerSender::Audience(const http::HttpRequest& probe) {
  if (!options_.audience.empty()) return options_.audience;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!audience_.empty()) return audience_;
  }
  std::lock_guard<std::mutex> discovering(discover_mu_);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!audience_.empty()) return audience_;
  }
  // The request as it is, without a token and without its body (the
  // service answers 401 before it reads one).
  http::HttpRequest bare;
  bare.method = probe.method;
  bare.url = probe.url;
  for (const auto& [name, value] : probe.headers) {
    if (!absl::EqualsIgnoreCase(name, "Authorization")) bare.headers.emplace_back(name, value);
  }
  bare.idempotent = true;
  auto response = inner_->Send(std::move(bare));
  if (!response.ok()) return response.status();
  if (response->status != 401 && options_.log) {
    options_.log(http::LogLevel::kInfo,
                 absl::StrCat(options_.service, " answered ", response->status,
                              " to a request without a token; using the audience ",
                              options_.fallback_audience));
  }
  return FromChallenge(probe, *response);
}

absl::StatusOr<http::HttpResponse> BearerSender::Send(http::HttpRequest request) {
  ASSIGN_OR_RETURN(std::string aud, Audience(request));
  ASSIGN_OR_RETURN(Secret token, tokens_->Token(aud));
  http::HttpRequest again = Copy(request);
  SetToken(request, token);
  auto response = inner_->Send(std::move(request));
  if (!response.ok() || response->status != 401) return response;
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++refreshed_;
  }
  if (options_.log) {
    options_.log(http::LogLevel::kInfo, absl::StrCat(options_.service, " refused the token for ",
                                                     aud, " (401); getting a new one"));
  }
  tokens_->Invalidate(aud, token);
  ASSIGN_OR_RETURN(std::string next, FromChallenge(again, *response));
  ASSIGN_OR_RETURN(Secret fresh, tokens_->Token(next));
  SetToken(again, fresh);
  return inner_->Send(std::move(again));
}

std::vector<absl::StatusOr<http::HttpResponse>> BearerSender::SendAll(
    std::vector<http::HttpRequest> requests) {
  std::vector<absl::StatusOr<http::HttpResponse>> results;
  if (requests.empty()) return results;
  auto fail_all = [&](const absl::Status& status) {
    std::vector<absl::StatusOr<http::HttpResponse>> failed;
    for (size_t i = 0; i < requests.size(); ++i) failed.emplace_back(status);
    return failed;
  };
  auto aud = Audience(requests[0]);
  if (!aud.ok()) return fail_all(aud.status());
  auto token = tokens_->Token(*aud);
  if (!token.ok()) return fail_all(token.status());
  std::vector<http::HttpRequest> copies;
  copies.reserve(requests.size());
  for (auto& r : requests) {
    copies.push_back(Copy(r));
    SetToken(r, *token);
  }
  results = inner_->SendAll(std::move(requests));
  std::vector<size_t> refused;
  for (size_t i = 0; i < results.size(); ++i) {
    if (results[i].ok() && results[i]->status == 401) refused.push_back(i);
  }
  if (refused.empty()) return results;
  {
    std::lock_guard<std::mutex> lock(mu_);
    refreshed_ += static_cast<int64_t>(refused.size());
  }
  tokens_->Invalidate(*aud, *token);
  auto next = FromChallenge(copies[refused[0]], *results[refused[0]]);
  absl::StatusOr<Secret> fresh = next.ok() ? tokens_->Token(*next) : next.status();
  if (!fresh.ok()) {
    for (size_t i : refused) results[i] = fresh.status();
    return results;
  }
  std::vector<http::HttpRequest> again;
  for (size_t i : refused) {
    SetToken(copies[i], *fresh);
    again.push_back(std::move(copies[i]));
  }
  auto second = inner_->SendAll(std::move(again));
  for (size_t k = 0; k < refused.size(); ++k) results[refused[k]] = std::move(second[k]);
  return results;
}

}  // namespace rotor::auth
