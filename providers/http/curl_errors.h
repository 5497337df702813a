// How a transfer that libcurl ended without a usable response becomes an
// absl::Status, and which of those failures are worth another attempt. The
// one place that knows what libcurl's and OpenSSL's codes mean to a rotor
// user: a rejected server certificate is FailedPrecondition with the reason
// (not trusted, expired, not for this host name), a connection problem is
// Unavailable, a malformed URL is InvalidArgument.
//
// Internal to providers/http. The codes travel as integers (a CURLcode; an
// X509_V_ERR_* value) so that this header needs neither curl/curl.h nor
// OpenSSL: only providers/http's .cc files include them.
#ifndef ROTOR_PROVIDERS_HTTP_CURL_ERRORS_H_
#define ROTOR_PROVIDERS_HTTP_CURL_ERRORS_H_

#include <cstddef>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace rotor::http {

// What libcurl reported for an attempt that failed.
struct TransportFailure {
  int curl_code = 0;  // the transfer's CURLcode
  // CURLINFO_SSL_VERIFYRESULT: OpenSSL's X509_V_ERR_* for the server's chain.
  long verify_result = 0;
  // libcurl's error buffer (CURLOPT_ERRORBUFFER); when empty, the code's
  // generic description is used.
  absl::string_view error_buffer;
  // The response outgrew max_response_bytes: the body callback refused it,
  // which libcurl reports as a write error.
  bool response_too_large = false;
};

// The error for `failure`, prefixed with the request's method and redacted
// URL, and ending with libcurl's own words in brackets:
//   GET https://h/x: TLS: the server certificate has expired [...]
absl::Status TransportFailureToStatus(absl::string_view method, absl::string_view redacted_url,
                                      const TransportFailure& failure, size_t max_response_bytes);

// A failure an idempotent request is sent again after: no connection, a
// timeout, a failed handshake, a connection closed or reset mid-transfer.
// Certificate rejections and malformed requests are final.
bool IsRetryableTransportFailure(int curl_code);

}  // namespace rotor::http

#endif  // ROTOR_PROVIDERS_HTTP_CURL_ERRORS_H_
