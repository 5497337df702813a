// HttpsTestServer: a real HTTPS server on 127.0.0.1 for tests, with a CA and
// a server certificate made at run time (no key is ever committed).
//
// Tests register handlers per method and path, or script a sequence of
// answers ("429 twice, then 200"); the server records every request (with
// the client's source port, so tests can count TCP connections) and can
// delay an answer or drop the connection without answering. Built on
// cpp-httplib, whose types stay inside the .cc.
//
//   auto server = HttpsTestServer::Start().value();
//   server->Script("GET", "/x", {Status(429), Status(429)}, Json(200, "{}"));
//   client options: ca_bundle_pem = server->ca_pem(); url = server->Url("/x")
#ifndef ROTOR_PROVIDERS_HTTP_TESTING_HTTPS_TEST_SERVER_H_
#define ROTOR_PROVIDERS_HTTP_TESTING_HTTPS_TEST_SERVER_H_

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace rotor::http::testing {

// A certificate and its private key, PEM.
struct TestCertificate {
  std::string cert_pem;
  std::string key_pem;
};

// A throw-away certificate authority (EC P-256).
class TestCa {
 public:
  static absl::StatusOr<TestCa> Create(absl::string_view common_name = "rotor test CA");
  // A server certificate signed by this CA for `names`: each entry that
  // parses as an IPv4/IPv6 address becomes an IP SAN, any other a DNS SAN
  // (wildcards such as "*.vault.localhost" allowed). Validity is
  // [not_before, not_after], which may lie in the past for expiry tests.
  absl::StatusOr<TestCertificate> Issue(const std::vector<std::string>& names,
                                        absl::Time not_before, absl::Time not_after) const;
  const std::string& cert_pem() const { return ca_.cert_pem; }

 private:
  TestCertificate ca_;
};

class HttpsTestServer {
 public:
  struct Options {
    // Names the server certificate covers.
    std::vector<std::string> names = {"localhost", "127.0.0.1"};
    // Certificate validity relative to now; a negative end makes an
    // expired certificate.
    absl::Duration valid_from = -absl::Hours(1);
    absl::Duration valid_until = absl::Hours(24);
    // Issuer; a fresh CA when null. Must outlive Start().
    const TestCa* ca = nullptr;
    // Worker threads: the most connections served at once.
    int threads = 64;
    // Serve plain HTTP instead (for the insecure-loopback tests).
    bool plain_http = false;
  };

  struct Request {
    std::string method;
    std::string path;    // without the query
    std::string target;  // path and query as sent
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    int remote_port = 0;
    // First header of that name (case-insensitive), "" if none.
    std::string Header(absl::string_view name) const;
    // Query parameter as sent (not decoded), "" if none.
    std::string Param(absl::string_view name) const;
  };

  struct Response {
    int status = 200;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    std::string content_type = "application/json";
    // Wait this long before answering.
    absl::Duration delay;
    // Close the connection without answering.
    bool drop = false;
  };
  using Handler = std::function<Response(const Request&)>;

  static absl::StatusOr<std::unique_ptr<HttpsTestServer>> Start(Options options);
  static absl::StatusOr<std::unique_ptr<HttpsTestServer>> Start() { return Start(Options()); }
  ~HttpsTestServer();
  HttpsTestServer(const HttpsTestServer&) = delete;
  HttpsTestServer& operator=(const HttpsTestServer&) = delete;

  int port() const { return port_; }
  // "https://localhost:PORT" (http:// with plain_http).
  std::string base_url() const;
  // base_url() + path_and_query; `host` replaces "localhost".
  std::string Url(absl::string_view path_and_query, absl::string_view host = "localhost") const;
  // The CA certificate to trust (PEM).
  const std::string& ca_pem() const { return ca_pem_; }
  // The certificate the server presents (PEM; empty with plain_http).
  const std::string& cert_pem() const { return cert_pem_; }

  // Answers `method` ("*" = any) on exactly `path` (query ignored). A later
  // registration for the same method and path replaces the earlier one.
  // Unhandled requests get 404 {"error":{"code":"NotFound",...}}.
  void Handle(absl::string_view method, absl::string_view path, Handler handler);
  // Answers the first requests with `first` in order, then always `then`.
  void Script(absl::string_view method, absl::string_view path, std::vector<Response> first,
              Response then);

  int RequestCount() const;
  int RequestCount(absl::string_view method, absl::string_view path) const;
  std::vector<Request> requests() const;
  // Distinct client connections seen so far (by source port).
  int ConnectionCount() const;

 private:
  class Impl;
  explicit HttpsTestServer(std::unique_ptr<Impl> impl, int port, std::string ca_pem,
                           bool plain_http);
  std::unique_ptr<Impl> impl_;
  int port_;
  std::string ca_pem_;
  std::string cert_pem_;
  bool plain_http_;
};

// Response helpers.
HttpsTestServer::Response Status(int status);
HttpsTestServer::Response Json(int status, std::string body);
// {"error":{"code":code,"message":message}} with `status`.
HttpsTestServer::Response ErrorJson(int status, absl::string_view code, absl::string_view message);

}  // namespace rotor::http::testing

#endif  // ROTOR_PROVIDERS_HTTP_TESTING_HTTPS_TEST_SERVER_H_
