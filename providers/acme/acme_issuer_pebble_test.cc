// AcmeIssuer against real Pebble validating DNS-01 through real
// pebble-challtestsrv: each case starts its own pair (PebbleServer).
#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/clock.h"
#include "doctest/doctest.h"
#include "engine/model/secret_kind.h"
#include "providers/acme/acme_issuer.h"
#include "providers/acme/testing/pebble_server.h"
#include "providers/acme/testing/test_csr.h"
#include "providers/http/http_client.h"
#include "tests/fakes/fake_vault.h"

namespace rotor::acme {
namespace {

using testing::ChallTestSrvSolver;
using testing::PebbleServer;

std::unique_ptr<PebbleServer> StartPebble(PebbleServer::Options options = {}) {
  auto pebble = PebbleServer::Start(std::move(options));
  REQUIRE_MESSAGE(pebble.ok(), pebble.status().ToString());
  return *std::move(pebble);
}

// A random MAC key as CAs hand them out: 48 bytes, base64url unpadded.
std::string RandomMacKey() {
  unsigned char bytes[48];
  REQUIRE(RAND_bytes(bytes, sizeof bytes) == 1);
  std::string out;
  absl::WebSafeBase64Escape(absl::string_view(reinterpret_cast<char*>(bytes), sizeof bytes), &out);
  return out;
}

// One rotor installation: a vault holding the account key, an HTTP client
// trusting Pebble's TLS CA, and challtestsrv as the DNS zone.
struct Installation {
  explicit Installation(const PebbleServer& pebble)
      : vault(RealClock::Get()),
        store(vault, pebble.directory_url()),
        solver(pebble.challtestsrv_url()),
        directory_url(pebble.directory_url()) {
    http::HttpClientOptions options;
    options.ca_bundle_pem = pebble.tls_ca_pem();
    options.trust_system_store = false;
    auto client = http::HttpClient::Create(std::move(options));
    REQUIRE(client.ok());
    http = *std::move(client);
  }
  // A new issuer each time, as each rotor run makes one.
  absl::StatusOr<std::string> Issue(const std::vector<std::string>& names,
                                    std::optional<ExternalAccountBinding> eab = std::nullopt) {
    AcmeOptions options;
    options.directory_url = directory_url;
    options.email = "ops@example.com";
    options.eab = std::move(eab);
    options.order_timeout = absl::Seconds(60);
    options.poll_interval = absl::Milliseconds(200);
    options.log = [this](http::LogLevel, absl::string_view line) {
      std::lock_guard<std::mutex> lock(mu);
      log.emplace_back(line);
    };
    AcmeIssuer issuer(*http, std::move(options), store, solver, RealClock::Get());
    auto csr = testing::MakeTestCsr(names);
    REQUIRE(csr.ok());
    IssueRequest request;
    request.secret_name = "containersecret";
    request.dns_names = names;
    request.csr_pem = *csr;
    return issuer.Issue(request);
  }
  std::string Log() {
    std::lock_guard<std::mutex> lock(mu);
    return absl::StrJoin(log, "\n");
  }

  fakes::FakeVault vault;
  VaultAccountKeyStore store;
  ChallTestSrvSolver solver;
  std::string directory_url;
  std::unique_ptr<http::HttpClient> http;
  std::mutex mu;
  std::vector<std::string> log;
};

// Whether `chain` (leaf first) verifies up to `root_pem`.
bool ChainVerifies(const std::string& chain, const std::string& root_pem) {
  auto read_all = [](const std::string& pem) {
    std::vector<X509*> certs;
    BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
    while (X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr)) certs.push_back(cert);
    BIO_free(bio);
    return certs;
  };
  std::vector<X509*> certs = read_all(chain);
  std::vector<X509*> roots = read_all(root_pem);
  REQUIRE(certs.size() >= 2);
  REQUIRE(roots.size() == 1);
  X509_STORE* store = X509_STORE_new();
  X509_STORE_add_cert(store, roots[0]);
  STACK_OF(X509)* intermediates = sk_X509_new_null();
  for (size_t i = 1; i < certs.size(); ++i) sk_X509_push(intermediates, certs[i]);
  X509_STORE_CTX* ctx = X509_STORE_CTX_new();
  X509_STORE_CTX_init(ctx, store, certs[0], intermediates);
  const bool ok = X509_verify_cert(ctx) == 1;
  X509_STORE_CTX_free(ctx);
  sk_X509_free(intermediates);
  X509_STORE_free(store);
  for (X509* c : certs) X509_free(c);
  for (X509* c : roots) X509_free(c);
  return ok;
}

TEST_CASE("Pebble issues a certificate for the name, and the account is reused next time") {
  auto pebble = StartPebble();
  Installation rotor(*pebble);
  auto chain = rotor.Issue({"registry.example.com"});
  REQUIRE_MESSAGE(chain.ok(), chain.status().ToString(), "\n", pebble->Logs());
  auto names = testing::LeafDnsNames(*chain);
  REQUIRE(names.ok());
  CHECK(*names == std::vector<std::string>{"registry.example.com"});
  auto root = pebble->IssuingRootPem();
  REQUIRE(root.ok());
  CHECK(ChainVerifies(*chain, *root));
  CHECK(rotor.solver.presented() == std::set<std::string>{"_acme-challenge.registry.example.com"});
  CHECK(rotor.solver.live().empty());
  CHECK(absl::StrContains(rotor.Log(), "(created)"));
  // The key was written once, as rotor's acme-account secret.
  CHECK(rotor.vault.CountCalls("set ") == 1);
  auto versions = rotor.vault.ListSecretVersions(kAcmeAccountSecretName);
  REQUIRE(versions.ok());
  CHECK(versions->size() == 1);
  CHECK(versions->front().tags == RotorTags(kRoleAcmeAccount));

  // A second run: the stored key, the existing account, no new key.
  chain = rotor.Issue({"registry.example.com", "www.example.com"});
  REQUIRE_MESSAGE(chain.ok(), chain.status().ToString(), "\n", pebble->Logs());
  names = testing::LeafDnsNames(*chain);
  REQUIRE(names.ok());
  CHECK(std::set<std::string>(names->begin(), names->end()) ==
        std::set<std::string>{"registry.example.com", "www.example.com"});
  CHECK(absl::StrContains(rotor.Log(), "(existing)"));
  CHECK(rotor.vault.CountCalls("set ") == 1);
  CHECK(rotor.solver.live().empty());
}

TEST_CASE("a name and its wildcard: two TXT values under one record, both validated") {
  auto pebble = StartPebble();
  Installation rotor(*pebble);
  auto chain = rotor.Issue({"example.com", "*.example.com"});
  REQUIRE_MESSAGE(chain.ok(), chain.status().ToString(), "\n", pebble->Logs());
  auto names = testing::LeafDnsNames(*chain);
  REQUIRE(names.ok());
  CHECK(std::set<std::string>(names->begin(), names->end()) ==
        std::set<std::string>{"example.com", "*.example.com"});
  CHECK(rotor.solver.presented() == std::set<std::string>{"_acme-challenge.example.com"});
  CHECK(rotor.solver.live().empty());
}

TEST_CASE("Pebble rejecting 30% of good nonces still issues") {
  PebbleServer::Options options;
  options.nonce_reject = 30;
  auto pebble = StartPebble(std::move(options));
  Installation rotor(*pebble);
  for (int i = 0; i < 2; ++i) {
    auto chain = rotor.Issue({absl::StrCat("n", i, ".example.com")});
    REQUIRE_MESSAGE(chain.ok(), chain.status().ToString(), "\n", rotor.Log());
  }
  CHECK(rotor.solver.live().empty());
}

TEST_CASE("a wrong TXT value: Pebble's problem type in the error, and the record removed") {
  auto pebble = StartPebble();
  Installation rotor(*pebble);
  rotor.solver.set_present_wrong_values(true);
  auto chain = rotor.Issue({"registry.example.com"});
  REQUIRE_FALSE(chain.ok());
  const std::string m(chain.status().message());
  CHECK(absl::StartsWith(AcmeProblemTypeOf(chain.status()), "urn:ietf:params:acme:error:"));
  CHECK(absl::StrContains(m, AcmeProblemTypeOf(chain.status())));
  CHECK(absl::StrContains(m, "the CA did not accept the DNS-01 record for registry.example.com"));
  CHECK(absl::StrContains(m, "containersecret"));
  CHECK(chain.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(rotor.solver.presented() == std::set<std::string>{"_acme-challenge.registry.example.com"});
  CHECK(rotor.solver.live().empty());
  CHECK(rotor.solver.cleanups() == 1);
}

TEST_CASE("external account binding: the right key issues, a wrong one fails clearly") {
  const std::string mac_key = RandomMacKey();
  PebbleServer::Options options;
  options.eab_keys = {{"kid-1", mac_key}};
  auto pebble = StartPebble(std::move(options));

  {
    Installation rotor(*pebble);
    auto chain = rotor.Issue({"registry.example.com"});
    REQUIRE_FALSE(chain.ok());
    CHECK(chain.status().code() == absl::StatusCode::kFailedPrecondition);
    CHECK(absl::StrContains(chain.status().message(), "requires an external account binding"));
  }
  {
    Installation rotor(*pebble);
    auto chain = rotor.Issue({"registry.example.com"},
                             ExternalAccountBinding{"kid-1", Secret(RandomMacKey())});
    REQUIRE_FALSE(chain.ok());
    const std::string m(chain.status().message());
    CHECK(absl::StartsWith(AcmeProblemTypeOf(chain.status()), "urn:ietf:params:acme:error:"));
    CHECK(absl::StrContains(m, "POST " + pebble->directory_url().substr(0, 22)));
    CHECK_FALSE(absl::StrContains(m, mac_key));
    CHECK(rotor.solver.presented().empty());
  }
  {
    Installation rotor(*pebble);
    auto chain =
        rotor.Issue({"registry.example.com"}, ExternalAccountBinding{"kid-1", Secret(mac_key)});
    REQUIRE_MESSAGE(chain.ok(), chain.status().ToString(), "\n", pebble->Logs());
    auto names = testing::LeafDnsNames(*chain);
    REQUIRE(names.ok());
    CHECK(*names == std::vector<std::string>{"registry.example.com"});
  }
}

}  // namespace
}  // namespace rotor::acme
