#include "providers/http/curl_errors.h"

#include <curl/curl.h>
#include <openssl/x509_vfy.h>

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/files.h"

namespace rotor::http {

absl::Status TransportFailureToStatus(absl::string_view method, absl::string_view redacted_url,
                                      const TransportFailure& failure, size_t max_response_bytes) {
  const CURLcode code = static_cast<CURLcode>(failure.curl_code);
  long verify_result = failure.verify_result;
  std::string detail =
      !failure.error_buffer.empty() ? std::string(failure.error_buffer) : curl_easy_strerror(code);
  std::string prefix = absl::StrCat(method, " ", redacted_url, ": ");
  switch (code) {
    case CURLE_PEER_FAILED_VERIFICATION: {
      std::string why;
      // libcurl checks the host name itself once the chain is good, and
      // reports a mismatch only in its message.
      bool host_mismatch = absl::StrContains(detail, "subject name") ||
                           absl::StrContains(detail, "target host name");
      if (host_mismatch) verify_result = X509_V_ERR_HOSTNAME_MISMATCH;
      switch (verify_result) {
        case X509_V_ERR_CERT_HAS_EXPIRED:
          why = "the server certificate has expired";
          break;
        case X509_V_ERR_CERT_NOT_YET_VALID:
          why = "the server certificate is not valid yet";
          break;
        case X509_V_ERR_HOSTNAME_MISMATCH:
        case X509_V_ERR_IP_ADDRESS_MISMATCH:
          why = "the server certificate is not issued for this host name";
          break;
        case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
        case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
        case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
        case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
        case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
        case X509_V_ERR_CERT_UNTRUSTED:
          why =
              "the server certificate is not trusted (its issuer is not in "
              "the trust store; configure the CA with ca_bundle)";
          break;
        default:
          why = absl::StrCat("the server certificate was rejected (",
                             X509_verify_cert_error_string(verify_result), ")");
      }
      return absl::FailedPreconditionError(absl::StrCat(prefix, "TLS: ", why, " [", detail, "]"));
    }
    case CURLE_SSL_CACERT_BADFILE:
      return absl::FailedPreconditionError(
          absl::StrCat(prefix, "TLS: cannot load the trust store [", detail, "]"));
    case CURLE_WRITE_ERROR:
      if (failure.response_too_large) {
        return absl::ResourceExhaustedError(absl::StrCat(prefix, "the answer is larger than ",
                                                         ShowBytes(max_response_bytes),
                                                         ", the limit for this request"));
      }
      break;
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
      return absl::InvalidArgumentError(absl::StrCat(prefix, detail));
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
      return absl::UnavailableError(
          absl::StrCat(prefix, "cannot resolve the host name [", detail, "]"));
    case CURLE_COULDNT_CONNECT:
      return absl::UnavailableError(absl::StrCat(prefix, "cannot connect [", detail, "]"));
    case CURLE_OPERATION_TIMEDOUT:
      return absl::UnavailableError(absl::StrCat(prefix, "timed out [", detail, "]"));
    case CURLE_SSL_CONNECT_ERROR:
      return absl::UnavailableError(absl::StrCat(prefix, "TLS handshake failed [", detail, "]"));
    case CURLE_GOT_NOTHING:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_PARTIAL_FILE:
      return absl::UnavailableError(
          absl::StrCat(prefix, "the connection was closed or reset [", detail, "]"));
    default:
      break;
  }
  return absl::UnavailableError(absl::StrCat(prefix, detail));
}

bool IsRetryableTransportFailure(int curl_code) {
  switch (static_cast<CURLcode>(curl_code)) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
      return true;
    default:
      return false;
  }
}

}  // namespace rotor::http
