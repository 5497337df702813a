// What an HttpClient agrees to send, checked before a request is queued:
// an upper-case method; an absolute https:// URL, or http:// only for a
// loopback host with allow_insecure_loopback or for the instance metadata
// service with allow_instance_metadata; header names and values without
// line breaks (no header injection). These are the security defaults
// http_client.h promises cannot be turned off, kept in one place so that
// a change to them is seen as one.
//
// Internal to providers/http: HttpClient checks every request with it.
#ifndef ROTOR_PROVIDERS_HTTP_REQUEST_POLICY_H_
#define ROTOR_PROVIDERS_HTTP_REQUEST_POLICY_H_

#include <string>

#include "absl/status/statusor.h"
#include "providers/http/http_message.h"

namespace rotor::http {

// The two exceptions to https-only (see HttpClientOptions).
struct RequestPolicy {
  bool allow_insecure_loopback = false;
  bool allow_instance_metadata = false;
};

// Where an accepted request goes, lower-cased; the client paces requests
// per host and port.
struct RequestTarget {
  std::string scheme;  // "https", or "http" where the policy allows it
  std::string host;
  std::string port;  // the scheme's default when the URL names none
};

// The request's target when the policy allows the request; otherwise
// InvalidArgument, its message starting with the method and the redacted
// URL ("GET http://example.com/x: plain http:// is refused; ...").
absl::StatusOr<RequestTarget> CheckRequest(const HttpRequest& request, const RequestPolicy& policy);

}  // namespace rotor::http

#endif  // ROTOR_PROVIDERS_HTTP_REQUEST_POLICY_H_
