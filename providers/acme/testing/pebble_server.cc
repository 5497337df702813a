#include "providers/acme/testing/pebble_server.h"

#include <unistd.h>

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "base/files.h"
#include "base/inert_text.h"
#include "base/json_text.h"
#include "base/process.h"
#include "base/status_macros.h"
#include "providers/http/testing/https_test_server.h"
#include "tests/support/testing.h"

namespace rotor::acme::testing {
namespace {

constexpr absl::Duration kStartTimeout = absl::Seconds(30);

std::unique_ptr<http::HttpClient> LoopbackClient(const std::string& ca_pem) {
  http::HttpClientOptions options;
  options.allow_insecure_loopback = true;
  options.ca_bundle_pem = ca_pem;
  options.trust_system_store = ca_pem.empty();
  options.retry.max_attempts = 1;
  options.connect_timeout = absl::Seconds(2);
  options.request_timeout = absl::Seconds(10);
  auto client = http::HttpClient::Create(std::move(options));
  return client.ok() ? *std::move(client) : nullptr;
}

// Distinct free loopback ports.
std::vector<int> FreePorts(int count) {
  std::vector<int> ports;
  while (static_cast<int>(ports.size()) < count) {
    const int port = rotor::testing::FreeLoopbackPort();
    if (std::find(ports.begin(), ports.end(), port) == ports.end()) ports.push_back(port);
  }
  return ports;
}

}  // namespace

struct PebbleServer::State {
  rotor::testing::TempDir dir;
  int acme_port = 0, management_port = 0, dns_port = 0, challtestsrv_port = 0;
  std::string tls_ca_pem;
  std::optional<BackgroundProcess> challtestsrv;
  std::optional<BackgroundProcess> pebble;
  std::unique_ptr<http::HttpClient> http;

  std::string Log(const char* name) const {
    auto text = ReadFile(dir.Path(name));
    return text.ok() ? *text : std::string();
  }
};

PebbleServer::PebbleServer(std::unique_ptr<State> state) : state_(std::move(state)) {}

PebbleServer::~PebbleServer() {
  // Process groups, SIGTERM then SIGKILL.
  if (state_->pebble) state_->pebble->Stop(15, absl::Seconds(5));
  if (state_->challtestsrv) state_->challtestsrv->Stop(15, absl::Seconds(5));
}

absl::StatusOr<std::unique_ptr<PebbleServer>> PebbleServer::Start(Options options) {
  for (const char* binary : {kPebbleBinary, kChallTestSrvBinary}) {
    if (::access(binary, X_OK) != 0) {
      return absl::NotFoundError(
          absl::StrCat(binary, " is missing: install the Debian package pebble"));
    }
  }
  // A port picked free can be taken before the server binds it (other tests
  // run beside this one): then start again on other ports.
  absl::StatusOr<std::unique_ptr<PebbleServer>> server;
  for (int attempt = 0; attempt < 3; ++attempt) {
    server = StartOnce(options);
    if (server.ok() || !absl::IsAborted(server.status())) break;
  }
  return server;
}

absl::StatusOr<std::unique_ptr<PebbleServer>> PebbleServer::StartOnce(const Options& options) {
  auto state = std::make_unique<State>();
  const std::vector<int> ports = FreePorts(4);
  state->acme_port = ports[0];
  state->management_port = ports[1];
  state->dns_port = ports[2];
  state->challtestsrv_port = ports[3];

  // Pebble's HTTPS certificate, from a CA made now.
  ASSIGN_OR_RETURN(http::testing::TestCa ca, http::testing::TestCa::Create("rotor pebble TLS CA"));
  ASSIGN_OR_RETURN(http::testing::TestCertificate tls,
                   ca.Issue({"localhost", "127.0.0.1"}, absl::Now() - absl::Hours(1),
                            absl::Now() + absl::Hours(24)));
  state->tls_ca_pem = ca.cert_pem();
  const std::string cert_path = state->dir.Write("tls/cert.pem", tls.cert_pem);
  const std::string key_path = state->dir.Write("tls/key.pem", tls.key_pem);

  std::vector<std::string> eab;
  for (const auto& [kid, key] : options.eab_keys) {
    eab.push_back(absl::StrCat(JsonQuote(kid), ":", JsonQuote(key)));
  }
  const std::string config =
      absl::StrCat(R"({"pebble":{"listenAddress":"127.0.0.1:)", state->acme_port,
                   R"(","managementListenAddress":"127.0.0.1:)", state->management_port,
                   R"(","certificate":)", JsonQuote(cert_path), R"(,"privateKey":)",
                   JsonQuote(key_path), R"(,"httpPort":5002,"tlsPort":5001,"ocspResponderURL":"")",
                   R"(,"externalAccountBindingRequired":)", eab.empty() ? "false" : "true",
                   R"(,"externalAccountMACKeys":{)", absl::StrJoin(eab, ","), "}}}");
  const std::string config_path = state->dir.Write("pebble-config.json", config);

  ASSIGN_OR_RETURN(BackgroundProcess challtestsrv,
                   BackgroundProcess::Start({kChallTestSrvBinary, "-management",
                                             absl::StrCat("127.0.0.1:", state->challtestsrv_port),
                                             "-dns01", absl::StrCat("127.0.0.1:", state->dns_port),
                                             "-http01", "", "-https01", "", "-tlsalpn01", ""},
                                            {}, state->dir.Path("challtestsrv.log")));
  state->challtestsrv.emplace(std::move(challtestsrv));

  ProcessOptions pebble_env;
  // Real validation, without Pebble's random sleeps between attempts.
  pebble_env.env = {{"PEBBLE_VA_NOSLEEP", std::string("1")},
                    {"PEBBLE_VA_ALWAYS_VALID", std::nullopt}};
  if (options.nonce_reject) {
    pebble_env.env["PEBBLE_WFE_NONCEREJECT"] = absl::StrCat(*options.nonce_reject);
  }
  if (options.authz_reuse) pebble_env.env["PEBBLE_AUTHZREUSE"] = absl::StrCat(*options.authz_reuse);
  ASSIGN_OR_RETURN(
      BackgroundProcess pebble,
      BackgroundProcess::Start({kPebbleBinary, "-config", config_path, "-dnsserver",
                                absl::StrCat("127.0.0.1:", state->dns_port), "-strict"},
                               pebble_env, state->dir.Path("pebble.log")));
  state->pebble.emplace(std::move(pebble));

  state->http = LoopbackClient(state->tls_ca_pem);
  if (state->http == nullptr) return absl::InternalError("cannot create the HTTP client");
  std::unique_ptr<PebbleServer> server(new PebbleServer(std::move(state)));
  State& s = *server->state_;

  // Up once Pebble serves its directory and challtestsrv its API.
  const absl::Time deadline = absl::Now() + kStartTimeout;
  bool pebble_up = false, challtestsrv_up = false;
  while (absl::Now() < deadline && !(pebble_up && challtestsrv_up)) {
    if (!s.pebble->Running() || !s.challtestsrv->Running()) break;
    if (!pebble_up) {
      auto r = s.http->Send(http::Get(server->directory_url()));
      pebble_up = r.ok() && r->status == 200;
    }
    if (!challtestsrv_up) {
      auto r = s.http->Send(http::Post(absl::StrCat(server->challtestsrv_url(), "/clear-txt"),
                                       Secret(R"({"host":"up.rotor.test."})")));
      challtestsrv_up = r.ok() && r->status == 200;
    }
    if (!(pebble_up && challtestsrv_up)) absl::SleepFor(absl::Milliseconds(100));
  }
  // pebble-challtestsrv keeps running when its DNS port is taken, and Pebble
  // would then ask whoever holds it.
  const std::string logs = server->Logs();
  if (absl::StrContains(logs, "address already in use")) {
    return absl::AbortedError(absl::StrCat("a port was taken before the server bound it:\n",
                                           ShowInert(logs, 8000, true)));
  }
  if (!pebble_up || !challtestsrv_up) {
    return absl::UnavailableError(absl::StrCat(
        !pebble_up ? "pebble" : "pebble-challtestsrv", " did not come up within ",
        absl::FormatDuration(kStartTimeout), ":\n", ShowInert(server->Logs(), 8000, true)));
  }
  return server;
}

std::string PebbleServer::directory_url() const {
  return absl::StrCat("https://127.0.0.1:", state_->acme_port, "/dir");
}

const std::string& PebbleServer::tls_ca_pem() const { return state_->tls_ca_pem; }

std::string PebbleServer::challtestsrv_url() const {
  return absl::StrCat("http://127.0.0.1:", state_->challtestsrv_port);
}

absl::StatusOr<std::string> PebbleServer::IssuingRootPem() const {
  const std::string url = absl::StrCat("https://127.0.0.1:", state_->management_port, "/roots/0");
  ASSIGN_OR_RETURN(http::HttpResponse r, state_->http->Send(http::Get(url)));
  if (r.status != 200) return http::HttpErrorToStatus("GET", url, r);
  return r.body;
}

std::string PebbleServer::Logs() const {
  return absl::StrCat("--- pebble ---\n", state_->Log("pebble.log"), "--- challtestsrv ---\n",
                      state_->Log("challtestsrv.log"));
}

ChallTestSrvSolver::ChallTestSrvSolver(std::string challtestsrv_url)
    : url_(std::move(challtestsrv_url)), http_(LoopbackClient("")) {}

ChallTestSrvSolver::~ChallTestSrvSolver() = default;

absl::Status ChallTestSrvSolver::Call(absl::string_view action, absl::string_view record_name,
                                      absl::string_view value) {
  if (http_ == nullptr) return absl::InternalError("no HTTP client for challtestsrv");
  // challtestsrv keys records by fully qualified name (a trailing dot).
  std::string body = absl::StrCat(R"({"host":)", JsonQuote(absl::StrCat(record_name, ".")));
  if (!value.empty()) absl::StrAppend(&body, R"(,"value":)", JsonQuote(value));
  body += "}";
  const std::string url = absl::StrCat(url_, "/", action);
  ASSIGN_OR_RETURN(http::HttpResponse r, http_->Send(http::Post(url, Secret(std::move(body)))));
  if (r.status != 200) return http::HttpErrorToStatus("POST", url, r);
  return absl::OkStatus();
}

absl::Status ChallTestSrvSolver::Present(absl::string_view record_name,
                                         absl::string_view txt_value) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    live_.insert(std::string(record_name));
    presented_.insert(std::string(record_name));
  }
  return Call("set-txt", record_name,
              wrong_values_ ? absl::StrCat("wrong-", txt_value) : std::string(txt_value));
}

absl::Status ChallTestSrvSolver::CleanUp(absl::string_view record_name) {
  RETURN_IF_ERROR(Call("clear-txt", record_name, ""));
  std::lock_guard<std::mutex> lock(mu_);
  live_.erase(std::string(record_name));
  ++cleanups_;
  return absl::OkStatus();
}

std::set<std::string> ChallTestSrvSolver::live() const {
  std::lock_guard<std::mutex> lock(mu_);
  return live_;
}

std::set<std::string> ChallTestSrvSolver::presented() const {
  std::lock_guard<std::mutex> lock(mu_);
  return presented_;
}

int ChallTestSrvSolver::cleanups() const {
  std::lock_guard<std::mutex> lock(mu_);
  return cleanups_;
}

}  // namespace rotor::acme::testing
