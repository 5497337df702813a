#include "providers/http/request_policy.h"

#include <doctest/doctest.h>

#include "absl/strings/match.h"

namespace rotor::http {
namespace {

absl::StatusCode CodeOf(const HttpRequest& request, const RequestPolicy& policy = {}) {
  return CheckRequest(request, policy).status().code();
}

TEST_CASE("CheckRequest: https is accepted, the target is lower-cased, with its port") {
  auto target = CheckRequest(Get("HTTPS://Vault.Example:8443/x"), {});
  REQUIRE(target.ok());
  CHECK(target->scheme == "https");
  CHECK(target->host == "vault.example");
  CHECK(target->port == "8443");
  target = CheckRequest(Get("https://vault.example/x"), {});
  REQUIRE(target.ok());
  CHECK(target->port == "443");
}

TEST_CASE("CheckRequest: plain http only on loopback, and only when allowed") {
  RequestPolicy loopback;
  loopback.allow_insecure_loopback = true;
  CHECK(CodeOf(Get("http://127.0.0.1:8080/x")) == absl::StatusCode::kInvalidArgument);
  CHECK(CodeOf(Get("http://127.0.0.1:8080/x"), loopback) == absl::StatusCode::kOk);
  CHECK(CodeOf(Get("http://emulator.localhost/x"), loopback) == absl::StatusCode::kOk);
  CHECK(CodeOf(Get("http://10.1.2.3/x"), loopback) == absl::StatusCode::kInvalidArgument);
  auto refused = CheckRequest(Get("http://example.com/x?client_secret=s3cr3t"), loopback);
  CHECK(refused.status().message() ==
        "GET http://example.com/x?client_secret=REDACTED: plain http:// is "
        "refused; use https:// (http is accepted only for a loopback host "
        "with allow_insecure_loopback)");
}

TEST_CASE("CheckRequest: the instance metadata service over http when allowed") {
  HttpRequest imds = Get("http://169.254.169.254/metadata/identity/oauth2/token");
  CHECK(CodeOf(imds) == absl::StatusCode::kInvalidArgument);
  RequestPolicy metadata;
  metadata.allow_instance_metadata = true;
  CHECK(CodeOf(imds, metadata) == absl::StatusCode::kOk);
  // No other link-local address.
  CHECK(CodeOf(Get("http://169.254.169.253/x"), metadata) == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("CheckRequest: bad methods, schemes, URLs and headers") {
  HttpRequest lower = Get("https://h/x");
  lower.method = "get";
  CHECK(CodeOf(lower) == absl::StatusCode::kInvalidArgument);
  HttpRequest none = Get("https://h/x");
  none.method = "";
  CHECK(absl::StartsWith(CheckRequest(none, {}).status().message(), "(no method) https://h/x"));
  CHECK(CodeOf(Get("ftp://h/x")) == absl::StatusCode::kInvalidArgument);
  CHECK(CodeOf(Get("not a url")) == absl::StatusCode::kInvalidArgument);
  HttpRequest injected = Get("https://h/x");
  injected.headers.push_back({"X-Evil", "a\r\nInjected: yes"});
  CHECK(CodeOf(injected) == absl::StatusCode::kInvalidArgument);
  HttpRequest colon = Get("https://h/x");
  colon.headers.push_back({"X:Y", "v"});
  CHECK(CodeOf(colon) == absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace rotor::http
