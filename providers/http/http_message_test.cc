#include "providers/http/http_message.h"

#include <doctest/doctest.h>

namespace rotor::http {
namespace {

HttpResponse Response(int status, std::string body) {
  return HttpResponse(status, {}, std::move(body));
}

TEST_CASE("HttpResponse header lookup is case-insensitive") {
  HttpResponse r(200, {{"Content-Type", "application/json"}, {"Retry-After", "3"}}, "{}");
  CHECK(r.Header("content-type") == "application/json");
  CHECK(r.Header("RETRY-AFTER") == "3");
  CHECK(r.Header("x-missing").empty());
  CHECK(r.headers.Find("x-missing") == nullptr);
  CHECK(r.ok());
  HttpResponse moved = std::move(r);
  CHECK(moved.body == "{}");
  CHECK(r.body.empty());
}

TEST_CASE("request helpers") {
  HttpRequest get = Get("https://h/x");
  CHECK(get.method == "GET");
  CHECK(get.idempotent);
  HttpRequest post = Post("https://h/t", Secret("a=b"), "application/x-www-form-urlencoded");
  CHECK(post.method == "POST");
  CHECK_FALSE(post.idempotent);
  CHECK(*post.headers.Find("content-type") == "application/x-www-form-urlencoded");
  CHECK(post.body.Reveal() == "a=b");
  CHECK(Put("https://h/x", Secret("{}")).idempotent);
  CHECK(Delete("https://h/x").method == "DELETE");
}

TEST_CASE("ParseServiceError: Key Vault, ARM, OAuth, other") {
  ServiceError kv = ParseServiceError(
      R"({"error":{"code":"Conflict","message":"Secret x is currently in a deleted but recoverable state","innererror":{"code":"ObjectIsDeletedButRecoverable"}}})");
  CHECK(kv.code == "Conflict");
  CHECK(kv.inner_code == "ObjectIsDeletedButRecoverable");
  CHECK(kv.message == "Secret x is currently in a deleted but recoverable state");

  ServiceError arm = ParseServiceError(
      R"({"error":{"code":"InvalidTemplate","message":"Deployment template validation failed","details":[]}})");
  CHECK(arm.code == "InvalidTemplate");
  CHECK(arm.inner_code.empty());

  ServiceError oauth = ParseServiceError(
      R"({"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided.","error_codes":[7000215]})");
  CHECK(oauth.code == "invalid_client");
  CHECK(oauth.message == "AADSTS7000215: Invalid client secret provided.");

  CHECK(ParseServiceError("<html>oops</html>").code.empty());
  CHECK(ParseServiceError("").code.empty());
  CHECK(ParseServiceError(R"({"error":42})").code.empty());
  CHECK(ParseServiceError(R"([1,2])").code.empty());
}

TEST_CASE("HttpErrorToStatus maps codes and names the request") {
  HttpRequest req = Get("https://kv.vault.localhost:8443/secrets/admin?api-version=7.4&sig=abc");
  absl::Status st = HttpErrorToStatus(
      req, Response(403, R"({"error":{"code":"ForbiddenByPolicy","message":"Access denied"}})"));
  CHECK(st.code() == absl::StatusCode::kPermissionDenied);
  CHECK(st.message() ==
        "GET https://kv.vault.localhost:8443/secrets/admin?api-version=7.4&"
        "sig=REDACTED: 403 Forbidden (code: ForbiddenByPolicy): Access denied");
  CHECK(HttpStatusOf(st) == 403);
  CHECK(ServiceCodeOf(st) == "ForbiddenByPolicy");

  absl::Status conflict = HttpErrorToStatus(
      req,
      Response(
          409,
          R"({"error":{"code":"Conflict","message":"m","innererror":{"code":"ObjectIsBeingRecovered"}}})"));
  CHECK(conflict.code() == absl::StatusCode::kFailedPrecondition);
  CHECK(ServiceInnerCodeOf(conflict) == "ObjectIsBeingRecovered");
  CHECK(conflict.message() ==
        "GET https://kv.vault.localhost:8443/secrets/admin?api-version=7.4&"
        "sig=REDACTED: 409 Conflict (code: Conflict, innererror: "
        "ObjectIsBeingRecovered): m");

  struct Case {
    int status;
    absl::StatusCode code;
  };
  for (Case c :
       {Case{400, absl::StatusCode::kInvalidArgument},
        Case{401, absl::StatusCode::kUnauthenticated},
        Case{403, absl::StatusCode::kPermissionDenied}, Case{404, absl::StatusCode::kNotFound},
        Case{409, absl::StatusCode::kFailedPrecondition},
        Case{412, absl::StatusCode::kFailedPrecondition}, Case{408, absl::StatusCode::kUnavailable},
        Case{429, absl::StatusCode::kUnavailable}, Case{500, absl::StatusCode::kInternal},
        Case{501, absl::StatusCode::kUnimplemented}, Case{502, absl::StatusCode::kUnavailable},
        Case{503, absl::StatusCode::kUnavailable}, Case{504, absl::StatusCode::kUnavailable},
        Case{507, absl::StatusCode::kInternal}, Case{418, absl::StatusCode::kInvalidArgument},
        Case{302, absl::StatusCode::kUnknown}}) {
    CAPTURE(c.status);
    CHECK(HttpErrorToStatus(req, Response(c.status, "")).code() == c.code);
  }
}

TEST_CASE("HttpErrorToStatus: OAuth body and bodies that are not quoted") {
  HttpRequest req = Post("https://login.localhost/t/oauth2/token", Secret("x"));
  absl::Status st = HttpErrorToStatus(
      req,
      Response(
          401,
          R"({"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided."})"));
  CHECK(st.code() == absl::StatusCode::kUnauthenticated);
  CHECK(st.message() ==
        "POST https://login.localhost/t/oauth2/token: 401 Unauthorized (code: "
        "invalid_client): AADSTS7000215: Invalid client secret provided.");
  // A non-JSON body may echo anything: it is not quoted.
  absl::Status html = HttpErrorToStatus(req, Response(502, "<html>s3cr3t-value</html>"));
  CHECK(html.message() == "POST https://login.localhost/t/oauth2/token: 502 Bad Gateway");
  CHECK(ServiceCodeOf(html).empty());
  CHECK(HttpStatusOf(absl::InternalError("x")) == 0);
}

}  // namespace
}  // namespace rotor::http
