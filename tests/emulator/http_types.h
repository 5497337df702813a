// The emulator's request and response, independent of the HTTP server
// library (cpp-httplib stays in server.cc).
#ifndef ROTOR_TESTS_EMULATOR_HTTP_TYPES_H_
#define ROTOR_TESTS_EMULATOR_HTTP_TYPES_H_

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/string_view.h"

namespace rotor::emulator {

struct HttpRequest {
  std::string method;  // upper case
  std::string path;    // percent-decoded, no query
  std::string target;  // path and query as received
  // Query parameters, names and values percent-decoded; later duplicates
  // are ignored.
  std::map<std::string, std::string> query;
  // Header names lower-cased.
  std::map<std::string, std::string> headers;
  std::string body;
  std::string host;  // the Host header ("newregkv.vault.localhost:8443")

  std::string Header(absl::string_view name) const {
    auto it = headers.find(absl::AsciiStrToLower(name));
    return it == headers.end() ? std::string() : it->second;
  }
  bool HasQuery(absl::string_view name) const { return query.count(std::string(name)) > 0; }
  std::string Query(absl::string_view name) const {
    auto it = query.find(std::string(name));
    return it == query.end() ? std::string() : it->second;
  }
};

struct HttpResponse {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string content_type;  // empty: no body / no Content-Type
  // Close the connection without answering (--drop-rate).
  bool drop = false;

  void SetHeader(std::string name, std::string value) {
    for (auto& h : headers) {
      if (absl::EqualsIgnoreCase(h.first, name)) {
        h.second = std::move(value);
        return;
      }
    }
    headers.emplace_back(std::move(name), std::move(value));
  }
  std::string Header(absl::string_view name) const {
    for (const auto& h : headers) {
      if (absl::EqualsIgnoreCase(h.first, name)) return h.second;
    }
    return std::string();
  }
  void Json(int code, std::string json) {
    status = code;
    body = std::move(json);
    content_type = "application/json; charset=utf-8";
  }
};

}  // namespace rotor::emulator

#endif  // ROTOR_TESTS_EMULATOR_HTTP_TYPES_H_
