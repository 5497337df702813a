// TLS and plain http:// end to end, with the real rotor:
//  - rotor-emulator serving an untrusted, a wrong-host and an expired
//    certificate (--tls-cert-profile) is refused with a message that says
//    which, while the valid profile works with the same config;
//  - http:// endpoints work only for a loopback host with
//    cloud.allow_insecure_loopback = true, and are refused (before any
//    request is sent) otherwise.
#include <doctest/doctest.h>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "base/files.h"
#include "providers/http/testing/https_test_server.h"
#include "tests/hostile/workspace.h"

namespace rotor::hostile {
namespace {

// rotor-emulator with a certificate profile, started without the harness
// (whose readiness probe trusts only valid certificates).
class ProfiledEmulator {
 public:
  explicit ProfiledEmulator(const std::string& profile) {
    state_ = temp_.Path("state");
    auto proc = BackgroundProcess::Start(
        {rotor::testing::BuildDir() + "/rotor-emulator", "--state", state_, "--listen",
         "127.0.0.1:0", "--vault", "newregkv", "--resource-group", "newregreg", "--quiet",
         "--tls-cert-profile", profile},
        {}, temp_.Path("emulator.log"));
    REQUIRE(proc.ok());
    process_.emplace(*std::move(proc));
    const absl::Time deadline = absl::Now() + absl::Seconds(20);
    while (absl::Now() < deadline && port_ == 0) {
      auto text = ReadFile(state_ + "/port");
      int port = 0;
      if (text.ok() && absl::SimpleAtoi(absl::StripAsciiWhitespace(*text), &port)) port_ = port;
      REQUIRE(process_->Running());
      absl::SleepFor(absl::Milliseconds(20));
    }
    REQUIRE(port_ > 0);
  }
  ~ProfiledEmulator() { process_->Stop(); }
  int port() const { return port_; }
  std::string ca_path() const { return state_ + "/ca.pem"; }

 private:
  rotor::testing::TempDir temp_;
  std::string state_;
  std::optional<BackgroundProcess> process_;
  int port_ = 0;
};

std::string Config(const std::string& arm_endpoint, const std::string& cloud_extra) {
  return absl::StrCat(R"([cloud]
kind = "azurestack"
arm_endpoint = ")",
                      arm_endpoint, R"("
tenant_id = ")",
                      emulator::testing::kTenant, R"("
subscription_id = "0a1b2c3d-0000-4000-8000-000000000008"
)",
                      cloud_extra, R"(
[auth]
method = "client_secret"
client_id = "rotor-ci"
client_secret = { env = "ROTOR_CLIENT_SECRET" }

[vault]
name = "newregkv"
resource_group = "newregreg"
)");
}

const std::map<std::string, std::optional<std::string>> kEnv = {
    {"ROTOR_CLIENT_SECRET", emulator::testing::kClientSecret}};

TEST_CASE("TLS: an untrusted, wrong-host or expired server certificate is refused") {
  struct Case {
    std::string profile;
    std::string expected;  // "" for the valid profile: plan works
  };
  const std::vector<Case> cases = {
      {"valid", ""},
      {"untrusted",
       "TLS: the server certificate is not trusted (its issuer is not in the trust store; "
       "configure the CA with ca_bundle)"},
      {"wrong-host", "TLS: the server certificate is not issued for this host name"},
      {"expired", "TLS: the server certificate has expired"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.profile);
    ProfiledEmulator emu(c.profile);
    rotor::testing::TempDir dir;
    const std::string arm = absl::StrCat("https://management.localhost:", emu.port());
    dir.Write("rotor.toml", Config(arm, absl::StrCat("ca_bundle = \"", emu.ca_path(), "\"\n")));
    ProcessResult r = RunRotor(dir.path(), {"plan"}, kEnv);
    CAPTURE(r.stdout_data);
    CAPTURE(r.stderr_data);
    if (c.expected.empty()) {
      CHECK(r.exit_code == 0);
      continue;
    }
    CHECK(r.exit_code == 1);
    // The message names the request (the first one: endpoint discovery)
    // and says what is wrong with the certificate.
    CHECK(absl::StrContains(r.stderr_data, absl::StrCat("GET ", arm, "/metadata/endpoints")));
    CHECK(absl::StrContains(r.stderr_data, c.expected));
  }
}

TEST_CASE("TLS: without ca_bundle the emulator's CA is not trusted") {
  ProfiledEmulator emu("valid");
  rotor::testing::TempDir dir;
  dir.Write("rotor.toml", Config(absl::StrCat("https://management.localhost:", emu.port()), ""));
  ProcessResult r = RunRotor(dir.path(), {"plan"}, kEnv);
  CAPTURE(r.stderr_data);
  CHECK(r.exit_code == 1);
  CHECK(absl::StrContains(r.stderr_data, "TLS: the server certificate is not trusted"));
}

TEST_CASE("http:// works only for loopback with allow_insecure_loopback, end to end") {
  http::testing::HttpsTestServer::Options options;
  options.plain_http = true;
  auto server = http::testing::HttpsTestServer::Start(options);
  REQUIRE(server.ok());
  // The stamp's metadata answers with an error (one that is not retried):
  // enough to see that rotor's first request went out over plain http.
  (*server)->Script("GET", "/metadata/endpoints", {},
                    http::testing::ErrorJson(400, "BadRequest", "no metadata here"));
  const std::string loopback = absl::StrCat("http://management.localhost:", (*server)->port());
  rotor::testing::TempDir dir;

  SUBCASE("loopback with the flag: the request is sent") {
    dir.Write("rotor.toml", Config(loopback, "allow_insecure_loopback = true\n"));
    ProcessResult r = RunRotor(dir.path(), {"plan"}, kEnv);
    CAPTURE(r.stderr_data);
    CHECK(r.exit_code == 1);
    CHECK((*server)->RequestCount("GET", "/metadata/endpoints") >= 1);
    CHECK(absl::StrContains(r.stderr_data, absl::StrCat("GET ", loopback, "/metadata/endpoints")));
    CHECK(absl::StrContains(r.stderr_data, "400"));
  }
  SUBCASE("loopback without the flag: refused before any request") {
    dir.Write("rotor.toml", Config(loopback, ""));
    ProcessResult r = RunRotor(dir.path(), {"plan"}, kEnv);
    CAPTURE(r.stderr_data);
    CHECK(r.exit_code == 1);
    CHECK(absl::StrContains(r.stderr_data,
                            "http:// is only allowed for a loopback host (localhost, 127.0.0.1, "
                            "[::1]) with allow_insecure_loopback = true; use https://"));
    CHECK((*server)->RequestCount() == 0);
  }
  SUBCASE("127.0.0.1 with the flag: the request is sent") {
    const std::string ip = absl::StrCat("http://127.0.0.1:", (*server)->port());
    dir.Write("rotor.toml", Config(ip, "allow_insecure_loopback = true\n"));
    ProcessResult r = RunRotor(dir.path(), {"plan"}, kEnv);
    CAPTURE(r.stderr_data);
    CHECK(r.exit_code == 1);
    CHECK((*server)->RequestCount("GET", "/metadata/endpoints") >= 1);
  }
  SUBCASE("a host that is not loopback, even with the flag: refused") {
    dir.Write("rotor.toml",
              Config("http://management.example.com", "allow_insecure_loopback = true\n"));
    ProcessResult r = RunRotor(dir.path(), {"plan"}, kEnv);
    CAPTURE(r.stderr_data);
    CHECK(r.exit_code == 1);
    CHECK(absl::StrContains(r.stderr_data, "http:// is only allowed for a loopback host"));
    CHECK((*server)->RequestCount() == 0);
  }
  SUBCASE("a login_endpoint over http to a non-loopback host: refused") {
    dir.Write("rotor.toml", Config(loopback,
                                   "allow_insecure_loopback = true\n"
                                   "login_endpoint = \"http://login.example.com\"\n"));
    ProcessResult r = RunRotor(dir.path(), {"plan"}, kEnv);
    CAPTURE(r.stderr_data);
    CHECK(r.exit_code == 1);
    CHECK(absl::StrContains(r.stderr_data, "login_endpoint"));
    CHECK(absl::StrContains(r.stderr_data, "http:// is only allowed for a loopback host"));
    CHECK((*server)->RequestCount() == 0);
  }
}

}  // namespace
}  // namespace rotor::hostile
