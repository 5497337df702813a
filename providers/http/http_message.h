// HTTP requests and responses as plain data, and the one place where an HTTP
// status becomes an absl::Status (HttpErrorToStatus).
//
// Bodies and header values may hold credentials (bearer tokens, client
// secrets, secret values), so every buffer here is wiped with
// OPENSSL_cleanse when it is destroyed: the request body is a Secret, the
// header list and the response wipe themselves. Copies are the caller's
// responsibility (HttpResponse is move-only for that reason).
#ifndef ROTOR_PROVIDERS_HTTP_HTTP_MESSAGE_H_
#define ROTOR_PROVIDERS_HTTP_HTTP_MESSAGE_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "base/secret.h"

namespace rotor::http {

// Header name/value pairs in order. A std::vector that wipes the values when
// destroyed; Find() looks a name up case-insensitively.
class HttpHeaders : public std::vector<std::pair<std::string, std::string>> {
 public:
  using vector::vector;
  HttpHeaders() = default;
  HttpHeaders(const HttpHeaders&) = default;
  HttpHeaders(HttpHeaders&&) = default;
  HttpHeaders& operator=(const HttpHeaders&) = default;
  HttpHeaders& operator=(HttpHeaders&&) = default;
  ~HttpHeaders();

  // The value of the first header named `name` (ASCII case-insensitive), or
  // nullptr when there is none.
  const std::string* Find(absl::string_view name) const;
};

struct HttpRequest {
  std::string method;  // "GET", "PUT", "POST", "DELETE", "PATCH", "HEAD"
  // Absolute https:// URL (http:// only on loopback, see HttpClientOptions).
  std::string url;
  HttpHeaders headers;
  Secret body;
  // May the client send this request again after a retryable failure
  // (408/500/502/503/504, connection errors)? Not-idempotent requests
  // come back to the caller as they are (a 429, which the server did not
  // process, is sent again whatever the method, paced by its host's lane);
  // they are also never sent on a reused connection (libcurl silently
  // resends a request whose reused connection turns out to be dead).
  bool idempotent = false;
  // Send the request again after a 429 (when Retry-After allows, see
  // RetryPolicy)? A request that cannot be replayed as it is (an ACME JWS
  // carries a single-use nonce, RFC 8555 §6.5) sets false and gets the 429
  // back, for the caller to build a new request after the wait.
  bool resend_throttled = true;
  // Ask for the server's certificate chain (HttpResponse::
  // peer_certificates_pem); the request then uses a fresh connection, since
  // only a handshake reveals the chain.
  bool capture_peer_certificates = false;
  // A larger answer body fails the request (ResourceExhausted, naming the
  // URL and the limit); 0: the client's HttpClientOptions::
  // max_response_bytes. Each client sets the bound its service documents.
  size_t max_response_bytes = 0;
};

// Convenience constructors: GET/DELETE/PUT are idempotent by HTTP's
// definition, POST is not.
HttpRequest Get(std::string url);
HttpRequest Delete(std::string url);
HttpRequest Put(std::string url, Secret body, absl::string_view content_type = "application/json");
HttpRequest Post(std::string url, Secret body, absl::string_view content_type = "application/json");

// A response as received. Any status (including 404 or 500) is a response;
// only transport failures are errors at this layer.
class HttpResponse {
 public:
  HttpResponse() = default;
  HttpResponse(int status, HttpHeaders headers, std::string body)
      : status(status), headers(std::move(headers)), body(std::move(body)) {}
  HttpResponse(HttpResponse&& other) noexcept;
  HttpResponse& operator=(HttpResponse&& other) noexcept;
  HttpResponse(const HttpResponse&) = delete;
  HttpResponse& operator=(const HttpResponse&) = delete;
  ~HttpResponse();

  // The value of the first header named `name` (case-insensitive), "" when
  // absent; use headers.Find() to tell absent from empty.
  absl::string_view Header(absl::string_view name) const;
  bool ok() const { return status >= 200 && status < 300; }

  int status = 0;
  HttpHeaders headers;
  std::string body;
  // The server's certificates as PEM, leaf first, when the request asked.
  std::vector<std::string> peer_certificates_pem;
};

// The service's own error, from a JSON body shaped like Key Vault / ARM
// (`{"error":{"code","message","innererror":{"code"}}}`) or OAuth
// (`{"error":"invalid_client","error_description":"..."}`). Empty fields when
// the body is not one of these.
struct ServiceError {
  std::string code;
  std::string message;
  std::string inner_code;  // innererror.code (Key Vault), may be empty
};
ServiceError ParseServiceError(absl::string_view body);

// "Forbidden" for 403, "" when unknown.
absl::string_view ReasonPhrase(int status);

// The absl::Status for a response that the caller treats as a failure:
//   400 InvalidArgument, 401 Unauthenticated, 403 PermissionDenied,
//   404/410 NotFound, 409/412 FailedPrecondition, 408/429/502/503/504
//   Unavailable, 501 Unimplemented, other 5xx Internal, other 4xx
//   InvalidArgument, anything else Unknown.
// The message names the request with a redacted URL and quotes the service's
// error code and message, never the body itself:
//   GET https://kv.vault.localhost:8443/secrets/admin: 403 Forbidden
//   (code: ForbiddenByPolicy): Access denied
// The status carries payloads readable with HttpStatusOf / ServiceCodeOf.
absl::Status HttpErrorToStatus(const HttpRequest& request, const HttpResponse& response);
// The same from the parts (the client uses it for its final retry error).
absl::Status HttpErrorToStatus(absl::string_view method, absl::string_view url,
                               const HttpResponse& response, absl::string_view suffix = "");

// The HTTP status behind an error made by HttpErrorToStatus (0 if none).
int HttpStatusOf(const absl::Status& status);
// The service error code / inner code behind such an error ("" if none).
std::string ServiceCodeOf(const absl::Status& status);
std::string ServiceInnerCodeOf(const absl::Status& status);

}  // namespace rotor::http

#endif  // ROTOR_PROVIDERS_HTTP_HTTP_MESSAGE_H_
