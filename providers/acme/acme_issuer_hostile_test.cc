// AcmeIssuer against a scripted ACME server on loopback HTTPS: what a CA
// (or what stands in front of it) can answer that Pebble never does, and
// the protocol's retry paths made deterministic.
#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/clock.h"
#include "doctest/doctest.h"
#include "providers/acme/acme_issuer.h"
#include "providers/acme/jws.h"
#include "providers/acme/testing/test_csr.h"
#include "providers/http/http_client.h"
#include "providers/http/testing/https_test_server.h"
#include "tests/fakes/fake_vault.h"

namespace rotor::acme {
namespace {

using http::testing::HttpsTestServer;
using Response = HttpsTestServer::Response;
using Request = HttpsTestServer::Request;

constexpr char kName[] = "registry.example.test";
constexpr char kRecord[] = "_acme-challenge.registry.example.test";
constexpr char kChain[] =
    "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
    "-----BEGIN CERTIFICATE-----\nMIIC\n-----END CERTIFICATE-----\n";

// A solver that keeps the records in memory.
class MemorySolver : public Dns01Solver {
 public:
  absl::Status Present(absl::string_view record_name, absl::string_view txt_value) override {
    std::lock_guard<std::mutex> lock(mu_);
    records_[std::string(record_name)].insert(std::string(txt_value));
    history_.push_back(absl::StrCat(record_name, " ", txt_value));
    return absl::OkStatus();
  }
  absl::Status CleanUp(absl::string_view record_name) override {
    std::lock_guard<std::mutex> lock(mu_);
    ++cleanups_;
    if (!cleanup_error_.ok()) return cleanup_error_;
    records_.erase(std::string(record_name));
    return absl::OkStatus();
  }
  std::map<std::string, std::set<std::string>> records() const {
    std::lock_guard<std::mutex> lock(mu_);
    return records_;
  }
  int cleanups() const {
    std::lock_guard<std::mutex> lock(mu_);
    return cleanups_;
  }
  // Every Present() as "NAME VALUE".
  std::vector<std::string> history() const {
    std::lock_guard<std::mutex> lock(mu_);
    return history_;
  }
  void FailCleanUp(absl::Status error) { cleanup_error_ = std::move(error); }

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::set<std::string>> records_;
  std::vector<std::string> history_;
  int cleanups_ = 0;
  absl::Status cleanup_error_;
};

// A small ACME server: the happy path of RFC 8555 with one authorization,
// every answer carrying a fresh Replay-Nonce. Tests replace handlers to
// make it misbehave.
class ScriptedCa {
 public:
  ScriptedCa() {
    auto server = HttpsTestServer::Start();
    REQUIRE(server.ok());
    server_ = *std::move(server);
    // The directory carries no nonce: the first comes from newNonce.
    server_->Handle("GET", "/dir", [this](const Request&) {
      return Json(200, absl::StrCat(R"({"newNonce":")", Url("/nonce"), R"(","newAccount":")",
                                    Url("/acct"), R"(","newOrder":")", Url("/order"), R"("})"));
    });
    Handle("GET", "/nonce", [this](const Request&) { return Json(200, ""); });
    Handle("POST", "/acct", [this](const Request&) {
      Response r = Json(201, R"({"status":"valid"})");
      r.headers.emplace_back("Location", Url("/acct/1"));
      return r;
    });
    Handle("POST", "/order", [this](const Request&) {
      Response r = Json(201, Order("pending"));
      r.headers.emplace_back("Location", Url("/order/1"));
      return r;
    });
    Handle("POST", "/authz/1", [this](const Request&) {
      return Json(200, Authorization(challenged_ ? "valid" : "pending", kName));
    });
    Handle("POST", "/chal/1", [this](const Request&) {
      challenged_ = true;
      return Json(200, absl::StrCat(R"({"type":"dns-01","url":")", Url("/chal/1"),
                                    R"(","token":"tok-1","status":"processing"})"));
    });
    Handle("POST", "/order/1", [this](const Request&) {
      return Json(200, Order(finalized_ ? "valid" : challenged_ ? "ready" : "pending"));
    });
    Handle("POST", "/finalize/1", [this](const Request&) {
      finalized_ = true;
      return Json(200, Order("processing"));
    });
    Handle("POST", "/cert/1", [](const Request&) {
      Response r;
      r.status = 200;
      r.body = kChain;
      r.content_type = "application/pem-certificate-chain";
      return r;
    });
  }

  // Registers `handler`, adding a fresh Replay-Nonce to each answer.
  void Handle(const char* method, const char* path, HttpsTestServer::Handler handler) {
    server_->Handle(method, path, [this, handler](const Request& request) {
      Response r = handler(request);
      r.headers.emplace_back("Replay-Nonce", absl::StrCat("nonce-", ++nonces_));
      return r;
    });
  }
  static Response Json(int status, std::string body) {
    return http::testing::Json(status, std::move(body));
  }
  static Response ProblemAnswer(int status, absl::string_view type, absl::string_view detail) {
    Response r = Json(status, absl::StrCat(R"({"type":"urn:ietf:params:acme:error:)", type,
                                           R"(","detail":")", detail, R"("})"));
    r.content_type = "application/problem+json";
    return r;
  }
  std::string Order(absl::string_view status) const {
    return absl::StrCat(
        R"({"status":")", status, R"(","authorizations":[")", Url("/authz/1"), R"("],"finalize":")",
        Url("/finalize/1"), R"(")",
        status == "valid" ? absl::StrCat(R"(,"certificate":")", Url("/cert/1"), R"(")") : "", "}");
  }
  std::string Authorization(absl::string_view status, absl::string_view name) const {
    return absl::StrCat(R"({"status":")", status, R"(","identifier":{"type":"dns","value":")", name,
                        R"("},"challenges":[{"type":"dns-01","url":")", Url("/chal/1"),
                        R"(","token":"tok-1","status":"pending"}]})");
  }
  std::string Url(absl::string_view path) const { return server_->Url(path); }
  HttpsTestServer& server() { return *server_; }

 private:
  std::unique_ptr<HttpsTestServer> server_;
  std::atomic<int> nonces_{0};
  std::atomic<bool> challenged_{false};
  std::atomic<bool> finalized_{false};
};

// An issuer of `ca` with a vault-backed account store and a memory solver.
struct Client {
  explicit Client(ScriptedCa& ca, AcmeOptions options = {}) : vault(RealClock::Get()) {
    http::HttpClientOptions http_options;
    http_options.ca_bundle_pem = ca.server().ca_pem();
    http_options.trust_system_store = false;
    http_options.time_scale = 0.001;
    auto client = http::HttpClient::Create(std::move(http_options));
    REQUIRE(client.ok());
    http = *std::move(client);
    options.directory_url = ca.Url("/dir");
    options.email = "ops@example.test";
    options.poll_interval = absl::Milliseconds(50);
    options.log = [this](http::LogLevel, absl::string_view line) {
      std::lock_guard<std::mutex> lock(mu);
      log.emplace_back(line);
    };
    store = std::make_unique<VaultAccountKeyStore>(vault, options.directory_url);
    issuer =
        std::make_unique<AcmeIssuer>(*http, std::move(options), *store, solver, RealClock::Get());
  }
  absl::StatusOr<std::string> Issue() {
    auto csr = testing::MakeTestCsr({kName});
    REQUIRE(csr.ok());
    IssueRequest request;
    request.secret_name = "containersecret";
    request.dns_names = {kName};
    request.csr_pem = *csr;
    return issuer->Issue(request);
  }

  fakes::FakeVault vault;
  std::unique_ptr<http::HttpClient> http;
  std::unique_ptr<VaultAccountKeyStore> store;
  MemorySolver solver;
  std::unique_ptr<AcmeIssuer> issuer;
  std::mutex mu;
  std::vector<std::string> log;
};

TEST_CASE("the scripted CA issues: the record is the key authorization's digest, then removed") {
  ScriptedCa ca;
  Client client(ca);
  auto chain = client.Issue();
  REQUIRE_MESSAGE(chain.ok(), chain.status().ToString());
  CHECK(*chain == kChain);
  // The TXT value is base64url(SHA-256("tok-1." + thumbprint)) of the stored key.
  auto stored = client.store->Load();
  REQUIRE(stored.ok());
  REQUIRE(stored->has_value());
  auto key = AccountKey::FromPem(**stored);
  REQUIRE(key.ok());
  CHECK(client.solver.history() ==
        std::vector<std::string>{absl::StrCat(kRecord, " ", Dns01TxtValue("tok-1", *key))});
  CHECK(client.solver.records().empty());
  CHECK(client.solver.cleanups() == 1);
  // Every POST is JOSE; the first signed with the JWK, the rest with the kid.
  int posts = 0;
  for (const auto& r : ca.server().requests()) {
    if (r.method != "POST") continue;
    ++posts;
    CHECK(r.Header("Content-Type") == "application/jose+json");
  }
  CHECK(posts >= 7);
  CHECK(ca.server().RequestCount("HEAD", "/nonce") + ca.server().RequestCount("GET", "/nonce") ==
        1);
}

TEST_CASE("an answer past 1 MiB is refused, naming the URL") {
  ScriptedCa ca;
  ca.server().Handle("GET", "/dir", [](const Request&) {
    return ScriptedCa::Json(200, absl::StrCat(R"({"pad":")", std::string(2 << 20, 'x'), "\"}"));
  });
  Client client(ca);
  auto chain = client.Issue();
  REQUIRE_FALSE(chain.ok());
  CHECK(chain.status().code() == absl::StatusCode::kResourceExhausted);
  CHECK(absl::StrContains(chain.status().message(), ca.Url("/dir")));
  CHECK(absl::StrContains(chain.status().message(), "containersecret"));
}

TEST_CASE("malformed JSON and missing fields name the URL and the field") {
  {
    ScriptedCa ca;
    ca.Handle("POST", "/order", [](const Request&) {
      return ScriptedCa::Json(201, R"({"status":"pending","authorizations":[)");
    });
    Client client(ca);
    auto chain = client.Issue();
    REQUIRE_FALSE(chain.ok());
    CHECK(absl::StrContains(chain.status().message(),
                            absl::StrCat("ACME answer of ", ca.Url("/order"), ": not JSON")));
  }
  {
    ScriptedCa ca;
    ca.Handle("POST", "/authz/1", [](const Request&) {
      return ScriptedCa::Json(
          200,
          R"({"status":"pending","identifier":{"type":"dns","value":"registry.example.test"}})");
    });
    Client client(ca);
    auto chain = client.Issue();
    REQUIRE_FALSE(chain.ok());
    CHECK(absl::StrContains(chain.status().message(), ca.Url("/authz/1")));
    CHECK(absl::StrContains(chain.status().message(), R"(field "challenges" is missing)"));
    CHECK(client.solver.cleanups() == 0);  // nothing was presented
  }
  {
    // Text the server chose reaches the message inert.
    ScriptedCa ca;
    ca.Handle("POST", "/order", [](const Request&) {
      return ScriptedCa::ProblemAnswer(400, "rejectedIdentifier", "no \\u001b]0;owned\\u0007");
    });
    Client client(ca);
    auto chain = client.Issue();
    REQUIRE_FALSE(chain.ok());
    const std::string m(chain.status().message());
    CHECK(
        absl::StrContains(m, "urn:ietf:params:acme:error:rejectedIdentifier: no \\e]0;owned\\x07"));
    CHECK(m.find('\x1b') == std::string::npos);
    CHECK(AcmeProblemTypeOf(chain.status()) == "urn:ietf:params:acme:error:rejectedIdentifier");
    CHECK(chain.status().code() == absl::StatusCode::kInvalidArgument);
  }
}

TEST_CASE("an authorization for a name nobody asked for is refused before any record") {
  ScriptedCa ca;
  ca.Handle("POST", "/authz/1", [&](const Request&) {
    return ScriptedCa::Json(200, ca.Authorization("pending", "bank.example.test"));
  });
  Client client(ca);
  auto chain = client.Issue();
  REQUIRE_FALSE(chain.ok());
  CHECK(absl::StrContains(chain.status().message(), "bank.example.test"));
  CHECK(absl::StrContains(chain.status().message(), "did not ask for"));
  CHECK(client.solver.records().empty());
  CHECK(client.solver.cleanups() == 0);
}

TEST_CASE("an order that stays processing ends at order_timeout, and the record is removed") {
  ScriptedCa ca;
  // The finalized order never leaves "processing".
  ca.Handle("POST", "/finalize/1",
            [&](const Request&) { return ScriptedCa::Json(200, ca.Order("processing")); });
  ca.Handle("POST", "/order/1", [&](const Request&) {
    const bool finalized = ca.server().RequestCount("POST", "/finalize/1") > 0;
    return ScriptedCa::Json(200, ca.Order(finalized ? "processing" : "ready"));
  });
  AcmeOptions options;
  options.order_timeout = absl::Seconds(3);
  Client client(ca, std::move(options));
  const absl::Time start = absl::Now();
  auto chain = client.Issue();
  REQUIRE_FALSE(chain.ok());
  CHECK(chain.status().code() == absl::StatusCode::kDeadlineExceeded);
  CHECK(absl::StrContains(chain.status().message(),
                          absl::StrCat("the order ", ca.Url("/order/1"), " is still processing")));
  CHECK(absl::StrContains(chain.status().message(), "(order_timeout)"));
  CHECK(absl::Now() - start < absl::Seconds(10));
  CHECK(client.solver.records().empty());
  CHECK(client.solver.cleanups() == 1);
}

TEST_CASE("rateLimited: a long Retry-After fails at once naming the time, a short one is waited") {
  {
    ScriptedCa ca;
    ca.Handle("POST", "/order", [](const Request&) {
      Response r = ScriptedCa::ProblemAnswer(429, "rateLimited", "too many certificates");
      r.headers.emplace_back("Retry-After", "3600");
      return r;
    });
    Client client(ca);
    auto chain = client.Issue();
    REQUIRE_FALSE(chain.ok());
    CHECK(chain.status().code() == absl::StatusCode::kUnavailable);
    const std::string m(chain.status().message());
    CHECK(absl::StrContains(m, "urn:ietf:params:acme:error:rateLimited: too many certificates"));
    CHECK(absl::StrContains(m, "the CA asks to retry after "));
    CHECK(absl::StrContains(m, "(in 1h), beyond max_retry_after (2m)"));
    CHECK(ca.server().RequestCount("POST", "/order") == 1);  // never resent
  }
  {
    ScriptedCa ca;
    std::atomic<int> orders{0};
    ca.Handle("POST", "/order", [&](const Request&) {
      if (orders++ == 0) {
        Response r = ScriptedCa::ProblemAnswer(429, "rateLimited", "slow down");
        r.headers.emplace_back("Retry-After", "1");
        return r;
      }
      Response r = ScriptedCa::Json(201, ca.Order("pending"));
      r.headers.emplace_back("Location", ca.Url("/order/1"));
      return r;
    });
    Client client(ca);
    auto chain = client.Issue();
    REQUIRE_MESSAGE(chain.ok(), chain.status().ToString());
    CHECK(orders == 2);
  }
}

TEST_CASE("badNonce is retried with the nonce it carries, a bounded number of times") {
  {
    ScriptedCa ca;
    std::atomic<int> accounts{0};
    ca.Handle("POST", "/acct", [&](const Request&) {
      if (accounts++ < 3) return ScriptedCa::ProblemAnswer(400, "badNonce", "stale");
      Response r = ScriptedCa::Json(201, R"({"status":"valid"})");
      r.headers.emplace_back("Location", ca.Url("/acct/1"));
      return r;
    });
    Client client(ca);
    auto chain = client.Issue();
    REQUIRE_MESSAGE(chain.ok(), chain.status().ToString());
    CHECK(accounts == 4);
    // Only the first nonce came from newNonce; the rest from the answers.
    CHECK(ca.server().RequestCount("HEAD", "/nonce") + ca.server().RequestCount("GET", "/nonce") ==
          1);
  }
  {
    ScriptedCa ca;
    ca.Handle("POST", "/acct",
              [](const Request&) { return ScriptedCa::ProblemAnswer(400, "badNonce", "stale"); });
    AcmeOptions options;
    options.max_bad_nonce_retries = 2;
    Client client(ca, std::move(options));
    auto chain = client.Issue();
    REQUIRE_FALSE(chain.ok());
    CHECK(AcmeProblemTypeOf(chain.status()) == "urn:ietf:params:acme:error:badNonce");
    CHECK(ca.server().RequestCount("POST", "/acct") == 3);
    // The key was saved before the CA first saw it, and is the one used
    // next time: no second key.
    auto stored = client.store->Load();
    REQUIRE(stored.ok());
    CHECK(stored->has_value());
    chain = client.Issue();
    CHECK_FALSE(chain.ok());
    CHECK(client.vault.CountCalls("set ") == 1);
  }
}

TEST_CASE("a read that fails with a 5xx is read again with a new nonce, a write is not") {
  {
    ScriptedCa ca;
    std::atomic<int> polls{0};
    ca.Handle("POST", "/order/1", [&](const Request&) {
      if (polls++ == 0) return ScriptedCa::ProblemAnswer(503, "serverInternal", "busy");
      return ScriptedCa::Json(
          200, ca.Order(ca.server().RequestCount("POST", "/finalize/1") > 0 ? "valid" : "ready"));
    });
    Client client(ca);
    auto chain = client.Issue();
    REQUIRE_MESSAGE(chain.ok(), chain.status().ToString());
    CHECK(polls >= 2);
  }
  {
    ScriptedCa ca;
    ca.Handle("POST", "/finalize/1", [](const Request&) {
      return ScriptedCa::ProblemAnswer(500, "serverInternal", "disk full");
    });
    Client client(ca);
    auto chain = client.Issue();
    REQUIRE_FALSE(chain.ok());
    CHECK(
        absl::StrContains(chain.status().message(),
                          "500 Internal Server Error: urn:ietf:params:acme:error:serverInternal"));
    CHECK(ca.server().RequestCount("POST", "/finalize/1") == 1);
    CHECK(client.solver.records().empty());
  }
}

TEST_CASE("a cleanup failure is added to the first error, and reported after a success") {
  {
    ScriptedCa ca;
    ca.Handle("POST", "/authz/1", [&](const Request&) {
      return ScriptedCa::Json(
          200, ca.Authorization(
                   ca.server().RequestCount("POST", "/chal/1") > 0 ? "invalid" : "pending", kName));
    });
    Client client(ca);
    client.solver.FailCleanUp(absl::UnavailableError("DNS zone unreachable"));
    auto chain = client.Issue();
    REQUIRE_FALSE(chain.ok());
    const std::string m(chain.status().message());
    CHECK(
        absl::StrContains(m, "the CA did not accept the DNS-01 record for registry.example.test"));
    CHECK(absl::StrContains(m, "then cleaning up the DNS-01 records failed"));
    CHECK(absl::StrContains(m, "DNS zone unreachable"));
    CHECK(chain.status().code() == absl::StatusCode::kFailedPrecondition);  // the first error's
  }
  {
    ScriptedCa ca;
    Client client(ca);
    client.solver.FailCleanUp(absl::UnavailableError("DNS zone unreachable"));
    auto chain = client.Issue();
    REQUIRE_MESSAGE(chain.ok(), chain.status().ToString());
    bool warned = false;
    for (const auto& line : client.log) {
      warned = warned || absl::StrContains(line, "the certificate was issued, but cleaning up");
    }
    CHECK(warned);
  }
}

TEST_CASE("no key ever reaches the log or an error") {
  ScriptedCa ca;
  ca.Handle("POST", "/order",
            [](const Request&) { return ScriptedCa::ProblemAnswer(403, "unauthorized", "no"); });
  AcmeOptions options;
  options.eab = ExternalAccountBinding{"kid-9", Secret("c2VjcmV0LW1hYy1rZXktdmFsdWUtMTIzNDU2Nzg")};
  Client client(ca, std::move(options));
  auto chain = client.Issue();
  REQUIRE_FALSE(chain.ok());
  auto stored = client.store->Load();
  REQUIRE(stored.ok());
  REQUIRE(stored->has_value());
  std::string everything(chain.status().message());
  for (const auto& line : client.log) absl::StrAppend(&everything, "\n", line);
  CHECK_FALSE(absl::StrContains(everything, "PRIVATE KEY"));
  CHECK_FALSE(absl::StrContains(everything, "c2VjcmV0LW1hYy1rZXktdmFsdWUt"));
  CHECK_FALSE(absl::StrContains(everything, "secret-mac-key"));
}

}  // namespace
}  // namespace rotor::acme
