// BearerSender: an HttpSender that signs requests with a bearer token from
// the shared TokenCache, for one service (ARM, or one Key Vault).
//
//  - Fixed audience (ARM: the metadata audience): every request carries a
//    token for it.
//  - Challenge mode (Key Vault): the audience is learnt from the service's
//    401 challenge, as the Azure SDKs do. The first request goes out without
//    a token (and without its body); the 401's
//    `WWW-Authenticate: Bearer authorization=..., resource=...|scope=...`
//    names the audience, which must be the vault host or a parent domain of
//    it (otherwise the request fails: a server asking for a token for some
//    other resource is not given one). Without a usable challenge the
//    fallback audience is used. Concurrent first requests wait for the one
//    that asks.
//  - A 401 answered to a request that carried a token drops that token and
//    the request is sent once more with a fresh one (a changed challenge
//    audience is honoured then too). A second 401 is returned as is.
#ifndef ROTOR_PROVIDERS_AUTH_BEARER_SENDER_H_
#define ROTOR_PROVIDERS_AUTH_BEARER_SENDER_H_

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "providers/auth/credentials.h"
#include "providers/http/http_client.h"

namespace rotor::auth {

class BearerSender : public http::HttpSender {
 public:
  struct Options {
    // Fixed audience; empty selects challenge mode.
    std::string audience;
    // Challenge mode: the audience when a 401 carries no usable challenge.
    std::string fallback_audience;
    // Short name of the service for messages ("Key Vault newregkv", "ARM").
    std::string service = "the service";
    http::LogSink log;
  };
  BearerSender(std::shared_ptr<http::HttpSender> inner, std::shared_ptr<TokenCache> tokens,
               Options options);

  absl::StatusOr<http::HttpResponse> Send(http::HttpRequest request) override;
  std::vector<absl::StatusOr<http::HttpResponse>> SendAll(
      std::vector<http::HttpRequest> requests) override;

  // The audience in use ("" while not yet learnt).
  std::string audience() const;
  // 401s answered to requests that carried a token (each caused a refresh).
  int64_t refreshed_after_401() const;

 private:
  absl::StatusOr<std::string> Audience(const http::HttpRequest& probe);
  // Learns the audience from a challenge in `response` (challenge mode);
  // returns the new audience if it changed.
  absl::StatusOr<std::string> FromChallenge(const http::HttpRequest& request,
                                            const http::HttpResponse& response);
  static http::HttpRequest Copy(const http::HttpRequest& request);
  static void SetToken(http::HttpRequest& request, const Secret& token);

  std::shared_ptr<http::HttpSender> inner_;
  std::shared_ptr<TokenCache> tokens_;
  Options options_;
  std::mutex discover_mu_;
  mutable std::mutex mu_;
  std::string audience_;
  int64_t refreshed_ = 0;
};

}  // namespace rotor::auth

#endif  // ROTOR_PROVIDERS_AUTH_BEARER_SENDER_H_
