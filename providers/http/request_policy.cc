#include "providers/http/request_policy.h"

#include <curl/curl.h>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "base/loopback.h"
#include "base/status_macros.h"
#include "providers/http/url.h"

namespace rotor::http {
namespace {

// The instance metadata service's link-local address: it serves managed
// identity tokens only over plain http.
constexpr absl::string_view kInstanceMetadataHost = "169.254.169.254";

// Parsed with libcurl's own URL parser, so the host checked here is the
// host libcurl connects to.
absl::StatusOr<RequestTarget> ParseUrl(const std::string& url, absl::string_view what) {
  CURLU* handle = curl_url();
  if (handle == nullptr) return absl::ResourceExhaustedError("curl_url");
  RequestTarget parts;
  CURLUcode code = curl_url_set(handle, CURLUPART_URL, url.c_str(), 0);
  auto get = [&](CURLUPart part, std::string& out, unsigned flags) {
    char* value = nullptr;
    CURLUcode c = curl_url_get(handle, part, &value, flags);
    if (c == CURLUE_OK) out = value;
    curl_free(value);
    return c;
  };
  if (code == CURLUE_OK) code = get(CURLUPART_SCHEME, parts.scheme, 0);
  if (code == CURLUE_OK) code = get(CURLUPART_HOST, parts.host, 0);
  if (code == CURLUE_OK) code = get(CURLUPART_PORT, parts.port, CURLU_DEFAULT_PORT);
  curl_url_cleanup(handle);
  if (code != CURLUE_OK) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": not a valid absolute URL (", curl_url_strerror(code), ")"));
  }
  parts.scheme = absl::AsciiStrToLower(parts.scheme);
  parts.host = absl::AsciiStrToLower(parts.host);
  return parts;
}

bool HasLineBreak(absl::string_view s) {
  return s.find_first_of("\r\n") != absl::string_view::npos;
}

}  // namespace

absl::StatusOr<RequestTarget> CheckRequest(const HttpRequest& request,
                                           const RequestPolicy& policy) {
  std::string what = absl::StrCat(request.method.empty() ? "(no method)" : request.method, " ",
                                  RedactUrl(request.url));
  if (request.method.empty() ||
      request.method.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ") != std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": the method must be upper-case letters"));
  }
  ASSIGN_OR_RETURN(RequestTarget target, ParseUrl(request.url, what));
  const bool instance_metadata =
      policy.allow_instance_metadata && target.host == kInstanceMetadataHost;
  if (target.scheme == "http") {
    if (instance_metadata) {
      // IMDS: plain http on its link-local address, by design.
    } else if (!IsLoopbackHost(target.host)) {
      return absl::InvalidArgumentError(
          absl::StrCat(what,
                       ": plain http:// is refused; use https:// (http is accepted "
                       "only for a loopback host with allow_insecure_loopback)"));
    } else if (!policy.allow_insecure_loopback) {
      return absl::InvalidArgumentError(
          absl::StrCat(what,
                       ": plain http:// is refused; use https:// (for a loopback "
                       "test server set allow_insecure_loopback)"));
    }
  } else if (target.scheme != "https") {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": unsupported scheme '", target.scheme, "', only https:// is allowed"));
  }
  for (const auto& [name, value] : request.headers) {
    if (name.empty() || HasLineBreak(name) || HasLineBreak(value) ||
        name.find(':') != std::string::npos) {
      return absl::InvalidArgumentError(absl::StrCat(what, ": invalid header name or value ('",
                                                     HasLineBreak(name) ? "(line break)" : name,
                                                     "')"));
    }
  }
  return target;
}

}  // namespace rotor::http
