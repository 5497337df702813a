#include "providers/http/http_message.h"

#include "absl/strings/ascii.h"
#include "absl/strings/cord.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "base/inert_text.h"
#include "providers/http/url.h"
#include "rapidjson/document.h"

namespace rotor::http {
namespace {

constexpr absl::string_view kStatusPayload = "rotor.http/status";
constexpr absl::string_view kCodePayload = "rotor.http/code";
constexpr absl::string_view kInnerCodePayload = "rotor.http/inner-code";

// Service messages are quoted in errors; keep them to a sane length.
constexpr size_t kMaxMessage = 600;

std::string StringMember(const rapidjson::Value& object, const char* name) {
  auto it = object.FindMember(name);
  if (it == object.MemberEnd() || !it->value.IsString()) return "";
  return std::string(it->value.GetString(), it->value.GetStringLength());
}

absl::StatusCode CodeForStatus(int status) {
  switch (status) {
    case 400:
      return absl::StatusCode::kInvalidArgument;
    case 401:
      return absl::StatusCode::kUnauthenticated;
    case 403:
      return absl::StatusCode::kPermissionDenied;
    case 404:
    case 410:
      return absl::StatusCode::kNotFound;
    case 409:
    case 412:
      return absl::StatusCode::kFailedPrecondition;
    case 408:
    case 429:
    case 502:
    case 503:
    case 504:
      return absl::StatusCode::kUnavailable;
    case 501:
      return absl::StatusCode::kUnimplemented;
  }
  if (status >= 500 && status < 600) return absl::StatusCode::kInternal;
  if (status >= 400 && status < 500) return absl::StatusCode::kInvalidArgument;
  return absl::StatusCode::kUnknown;
}

}  // namespace

HttpHeaders::~HttpHeaders() {
  for (auto& [name, value] : *this) WipeString(value);
}

const std::string* HttpHeaders::Find(absl::string_view name) const {
  for (const auto& [n, v] : *this) {
    if (absl::EqualsIgnoreCase(n, name)) return &v;
  }
  return nullptr;
}

HttpRequest Get(std::string url) {
  HttpRequest r;
  r.method = "GET";
  r.url = std::move(url);
  r.idempotent = true;
  return r;
}

HttpRequest Delete(std::string url) {
  HttpRequest r;
  r.method = "DELETE";
  r.url = std::move(url);
  r.idempotent = true;
  return r;
}

HttpRequest Put(std::string url, Secret body, absl::string_view content_type) {
  HttpRequest r;
  r.method = "PUT";
  r.url = std::move(url);
  r.headers.emplace_back("Content-Type", std::string(content_type));
  r.body = std::move(body);
  r.idempotent = true;
  return r;
}

HttpRequest Post(std::string url, Secret body, absl::string_view content_type) {
  HttpRequest r;
  r.method = "POST";
  r.url = std::move(url);
  r.headers.emplace_back("Content-Type", std::string(content_type));
  r.body = std::move(body);
  r.idempotent = false;
  return r;
}

HttpResponse::HttpResponse(HttpResponse&& other) noexcept
    : status(other.status),
      headers(std::move(other.headers)),
      body(std::move(other.body)),
      peer_certificates_pem(std::move(other.peer_certificates_pem)) {
  // A short body lives in the moved-from string's inline buffer.
  WipeString(other.body);
}

HttpResponse& HttpResponse::operator=(HttpResponse&& other) noexcept {
  if (this != &other) {
    WipeString(body);
    status = other.status;
    headers = std::move(other.headers);
    body = std::move(other.body);
    peer_certificates_pem = std::move(other.peer_certificates_pem);
    WipeString(other.body);
  }
  return *this;
}

HttpResponse::~HttpResponse() { WipeString(body); }

absl::string_view HttpResponse::Header(absl::string_view name) const {
  const std::string* value = headers.Find(name);
  return value == nullptr ? absl::string_view() : absl::string_view(*value);
}

ServiceError ParseServiceError(absl::string_view body) {
  ServiceError error;
  rapidjson::Document doc;
  // Iterative: the default parser recurses once per nesting level (a
  // deeply nested error body overflowed the stack).
  doc.Parse<rapidjson::kParseIterativeFlag>(body.data(), body.size());
  if (doc.HasParseError() || !doc.IsObject()) return error;
  auto it = doc.FindMember("error");
  if (it == doc.MemberEnd()) return error;
  if (it->value.IsObject()) {  // Key Vault / ARM
    error.code = StringMember(it->value, "code");
    error.message = StringMember(it->value, "message");
    auto inner = it->value.FindMember("innererror");
    if (inner != it->value.MemberEnd() && inner->value.IsObject()) {
      error.inner_code = StringMember(inner->value, "code");
    }
  } else if (it->value.IsString()) {  // OAuth 2.0
    error.code = it->value.GetString();
    error.message = StringMember(doc, "error_description");
  }
  // The server's words reach the terminal: cut, and control characters
  // shown escaped (an escape sequence would act on the user's terminal).
  error.code = ShowInert(error.code, 200);
  error.inner_code = ShowInert(error.inner_code, 200);
  error.message = ShowInert(error.message, kMaxMessage + 3);
  return error;
}

absl::string_view ReasonPhrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 204:
      return "No Content";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 304:
      return "Not Modified";
    case 307:
      return "Temporary Redirect";
    case 308:
      return "Permanent Redirect";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 410:
      return "Gone";
    case 411:
      return "Length Required";
    case 412:
      return "Precondition Failed";
    case 413:
      return "Payload Too Large";
    case 415:
      return "Unsupported Media Type";
    case 422:
      return "Unprocessable Entity";
    case 429:
      return "Too Many Requests";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
  }
  return "";
}

absl::Status HttpErrorToStatus(absl::string_view method, absl::string_view url,
                               const HttpResponse& response, absl::string_view suffix) {
  ServiceError error = ParseServiceError(response.body);
  std::string message = absl::StrCat(method, " ", RedactUrl(url), ": ", response.status);
  absl::string_view reason = ReasonPhrase(response.status);
  if (!reason.empty()) absl::StrAppend(&message, " ", reason);
  if (!error.code.empty()) {
    absl::StrAppend(&message, " (code: ", error.code);
    if (!error.inner_code.empty() && error.inner_code != error.code) {
      absl::StrAppend(&message, ", innererror: ", error.inner_code);
    }
    absl::StrAppend(&message, ")");
  }
  if (!error.message.empty()) absl::StrAppend(&message, ": ", error.message);
  absl::StrAppend(&message, suffix);
  absl::Status status(CodeForStatus(response.status), message);
  status.SetPayload(kStatusPayload, absl::Cord(absl::StrCat(response.status)));
  if (!error.code.empty()) status.SetPayload(kCodePayload, absl::Cord(error.code));
  if (!error.inner_code.empty()) {
    status.SetPayload(kInnerCodePayload, absl::Cord(error.inner_code));
  }
  return status;
}

absl::Status HttpErrorToStatus(const HttpRequest& request, const HttpResponse& response) {
  return HttpErrorToStatus(request.method, request.url, response);
}

int HttpStatusOf(const absl::Status& status) {
  auto payload = status.GetPayload(kStatusPayload);
  int value = 0;
  if (!payload.has_value() || !absl::SimpleAtoi(std::string(*payload), &value)) {
    return 0;
  }
  return value;
}

std::string ServiceCodeOf(const absl::Status& status) {
  auto payload = status.GetPayload(kCodePayload);
  return payload.has_value() ? std::string(*payload) : std::string();
}

std::string ServiceInnerCodeOf(const absl::Status& status) {
  auto payload = status.GetPayload(kInnerCodePayload);
  return payload.has_value() ? std::string(*payload) : std::string();
}

}  // namespace rotor::http
