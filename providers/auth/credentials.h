// Credentials that fetch tokens (service principal with a client secret or
// a certificate, managed identity) and the per-audience token cache every
// provider shares.
#ifndef ROTOR_PROVIDERS_AUTH_CREDENTIALS_H_
#define ROTOR_PROVIDERS_AUTH_CREDENTIALS_H_

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "base/clock.h"
#include "base/secret.h"
#include "providers/auth/client_certificate.h"
#include "providers/auth/cloud.h"
#include "providers/auth/token.h"
#include "providers/http/http_client.h"

namespace rotor::auth {

// A service principal signing in with the client-credentials grant at one
// token endpoint: AAD v1 / AD FS send resource=AUDIENCE, AAD v2 sends
// scope=AUDIENCE/.default. Proves itself with a client secret or a
// certificate (a fresh JWT assertion per request).
class ServicePrincipalCredential : public TokenCredential {
 public:
  struct Options {
    std::string token_endpoint;  // CloudEndpoints::TokenEndpoint(tenant)
    TokenProtocol protocol = TokenProtocol::kAadV1;
    std::string client_id;
    // Exactly one of these.
    std::optional<Secret> client_secret;
    std::shared_ptr<const ClientCertificate> certificate;
    const Clock* clock = nullptr;  // nullptr: the real clock
  };
  ServicePrincipalCredential(std::shared_ptr<http::HttpSender> http, Options options);

  absl::StatusOr<AccessToken> FetchToken(absl::string_view audience) override;
  std::string Describe() const override;

 private:
  std::shared_ptr<http::HttpSender> http_;
  Options options_;
};

// Managed identity through the instance metadata service (IMDS):
// GET {endpoint}?api-version=2018-02-01&resource=AUDIENCE[&client_id=ID]
// with "Metadata: true". Azure Stack Hub has no managed identities.
class ManagedIdentityCredential : public TokenCredential {
 public:
  static constexpr char kImdsEndpoint[] = "http://169.254.169.254/metadata/identity/oauth2/token";
  struct Options {
    std::string endpoint = kImdsEndpoint;
    std::string client_id;  // user-assigned identity; empty: system-assigned
    const Clock* clock = nullptr;
  };
  ManagedIdentityCredential(std::shared_ptr<http::HttpSender> http, Options options);

  absl::StatusOr<AccessToken> FetchToken(absl::string_view audience) override;
  std::string Describe() const override;

 private:
  std::shared_ptr<http::HttpSender> http_;
  Options options_;
};

// How rotor signs in, as plain options: the composition root (cli/) fills
// them from [auth], resolving its value sources and, for method =
// "environment", the AZURE_CLIENT_* variables.
struct SignInOptions {
  enum class Method { kClientSecret, kClientCertificate, kManagedIdentity };
  Method method = Method::kClientSecret;
  // The service principal's application id; a user-assigned identity's
  // client id for managed identity (empty: system-assigned).
  std::string client_id;
  std::optional<Secret> client_secret;  // kClientSecret
  std::string client_certificate;       // kClientCertificate: PFX or PEM path
  Secret client_certificate_password;   // may be empty
};

// The credential `options` describe. Errors name the option, never a value;
// managed identity is FailedPrecondition on AD FS (Azure Stack Hub has none).
absl::StatusOr<std::unique_ptr<TokenCredential>> MakeCredential(
    const SignInOptions& options, const CloudEndpoints& endpoints, absl::string_view tenant,
    std::shared_ptr<http::HttpSender> http, const Clock* clock = nullptr);

// Tokens per audience, shared by every provider of a run. A cached token is
// used until it is within its refresh margin of expiring (5 minutes, or
// half its lifetime when that is shorter); one fetch per audience at a time
// (concurrent callers wait for it). Invalidate drops a token a server
// refused (401) so the next Token() fetches a new one.
class TokenCache {
 public:
  TokenCache(std::shared_ptr<TokenCredential> credential, const Clock* clock = nullptr,
             http::LogSink log = nullptr);

  absl::StatusOr<Secret> Token(absl::string_view audience);
  // Drops the cached token for `audience` if it is still `rejected`.
  void Invalidate(absl::string_view audience, const Secret& rejected);

  int64_t fetches() const;
  const TokenCredential& credential() const { return *credential_; }

 private:
  struct Entry {
    std::mutex fetch_mu;  // one fetch at a time; guards the fields below
    std::optional<Secret> token;
    absl::Time fetched = absl::InfinitePast();
    absl::Time expires = absl::InfinitePast();
  };
  Entry& EntryFor(absl::string_view audience);

  std::shared_ptr<TokenCredential> credential_;
  const Clock* clock_;
  http::LogSink log_;
  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<Entry>> entries_;
  int64_t fetches_ = 0;
};

// Lower-cased, without trailing slashes: audiences that name the same
// resource compare equal.
std::string NormalizeAudience(absl::string_view audience);

}  // namespace rotor::auth

#endif  // ROTOR_PROVIDERS_AUTH_CREDENTIALS_H_
