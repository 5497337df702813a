#include "providers/http/curl_errors.h"

#include <curl/curl.h>
#include <doctest/doctest.h>
#include <openssl/x509_vfy.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace rotor::http {
namespace {

absl::Status Map(int code, long verify_result = 0, absl::string_view error_buffer = "",
                 bool too_large = false) {
  TransportFailure failure;
  failure.curl_code = code;
  failure.verify_result = verify_result;
  failure.error_buffer = error_buffer;
  failure.response_too_large = too_large;
  return TransportFailureToStatus("GET", "https://h/x", failure, 1024);
}

TEST_CASE("a rejected server certificate is FailedPrecondition with the reason") {
  absl::Status expired =
      Map(CURLE_PEER_FAILED_VERIFICATION, X509_V_ERR_CERT_HAS_EXPIRED, "SSL certificate problem");
  CHECK(expired.code() == absl::StatusCode::kFailedPrecondition);
  CHECK(expired.message() ==
        "GET https://h/x: TLS: the server certificate has expired [SSL certificate problem]");
  absl::Status untrusted =
      Map(CURLE_PEER_FAILED_VERIFICATION, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY);
  CHECK(untrusted.code() == absl::StatusCode::kFailedPrecondition);
  CHECK(absl::StrContains(untrusted.message(), "not trusted"));
  CHECK(absl::StrContains(untrusted.message(), "ca_bundle"));
  // libcurl reports a host name mismatch only in its message.
  absl::Status other_host = Map(CURLE_PEER_FAILED_VERIFICATION, X509_V_OK,
                                "SSL: no alternative certificate subject name matches");
  CHECK(absl::StrContains(other_host.message(), "not issued for this host name"));
}

TEST_CASE("connection problems are Unavailable, libcurl's words are kept") {
  absl::Status refused = Map(CURLE_COULDNT_CONNECT, 0, "Failed to connect");
  CHECK(refused.code() == absl::StatusCode::kUnavailable);
  CHECK(refused.message() == "GET https://h/x: cannot connect [Failed to connect]");
  // Without an error buffer, libcurl's description of the code.
  CHECK(Map(CURLE_OPERATION_TIMEDOUT).message() ==
        absl::StrCat("GET https://h/x: timed out [", curl_easy_strerror(CURLE_OPERATION_TIMEDOUT),
                     "]"));
  CHECK(Map(CURLE_RECV_ERROR).code() == absl::StatusCode::kUnavailable);
  CHECK(Map(CURLE_COULDNT_RESOLVE_HOST).code() == absl::StatusCode::kUnavailable);
}

TEST_CASE("a response over max_response_bytes is ResourceExhausted") {
  absl::Status big = Map(CURLE_WRITE_ERROR, 0, "", true);
  CHECK(big.code() == absl::StatusCode::kResourceExhausted);
  CHECK(absl::StrContains(big.message(),
                          "the answer is larger than 1 KiB, the limit for this request"));
  // Another write error is not about the size.
  CHECK(Map(CURLE_WRITE_ERROR).code() == absl::StatusCode::kUnavailable);
}

TEST_CASE("a malformed URL is InvalidArgument") {
  CHECK(Map(CURLE_URL_MALFORMAT).code() == absl::StatusCode::kInvalidArgument);
  CHECK(Map(CURLE_UNSUPPORTED_PROTOCOL).code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("only connection-level failures are retried") {
  for (int code : {CURLE_COULDNT_CONNECT, CURLE_OPERATION_TIMEDOUT, CURLE_SSL_CONNECT_ERROR,
                   CURLE_GOT_NOTHING, CURLE_SEND_ERROR, CURLE_RECV_ERROR, CURLE_PARTIAL_FILE}) {
    CAPTURE(code);
    CHECK(IsRetryableTransportFailure(code));
  }
  for (int code : {CURLE_PEER_FAILED_VERIFICATION, CURLE_URL_MALFORMAT, CURLE_WRITE_ERROR,
                   CURLE_COULDNT_RESOLVE_HOST, CURLE_SSL_CACERT_BADFILE}) {
    CAPTURE(code);
    CHECK_FALSE(IsRetryableTransportFailure(code));
  }
}

}  // namespace
}  // namespace rotor::http
