#include "providers/local/htpasswd.h"

#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "base/clock.h"
#include "base/files.h"
#include "base/process.h"
#include "providers/local/local_deployments.h"
#include "providers/local/local_vault.h"
#include "tests/support/testing.h"

namespace rotor::local {
namespace {

constexpr int kTestCost = 4;  // fast; production uses 10

absl::Time T0() { return absl::FromUnixSeconds(1700000000); }

SetSecretRequest Req(const std::string& value) {
  SetSecretRequest r;
  r.value = Secret(value);
  r.content_type = kUserContentType;
  return r;
}

struct VaultFixture {
  testing::TempDir dir;
  FakeClock clock{T0()};
  std::unique_ptr<LocalVault> vault;
  VaultFixture() {
    LocalVaultOptions options;
    options.state_dir = dir.Path("state");
    options.name = "newregkv";
    options.resource_group = "newregreg";
    options.clock = &clock;
    auto opened = LocalVault::Open(options);
    REQUIRE(opened.ok());
    vault = std::move(*opened);
  }
  std::vector<std::string> Lines() const {
    std::vector<std::string> out;
    for (absl::string_view line :
         absl::StrSplit(dir.Read("registry/htpasswd"), '\n', absl::SkipEmpty())) {
      out.emplace_back(line);
    }
    return out;
  }
};

std::string UserOf(const std::string& line) { return line.substr(0, line.find(':')); }

TEST_CASE("BcryptHash and VerifyHtpasswd") {
  auto hash = BcryptHash("correct horse:battery", kTestCost);
  REQUIRE(hash.ok());
  CHECK(absl::StartsWith(*hash, "$2b$04$"));
  CHECK(hash->size() == 60);
  const std::string line = "alice:" + *hash;
  CHECK(VerifyHtpasswd(line, "correct horse:battery"));
  CHECK(VerifyHtpasswd(line + "\n", "correct horse:battery"));
  CHECK_FALSE(VerifyHtpasswd(line, "correct horse:batterY"));
  CHECK_FALSE(VerifyHtpasswd(line, ""));
  CHECK_FALSE(VerifyHtpasswd("alice", "x"));
  CHECK_FALSE(VerifyHtpasswd("alice:plain", "plain"));
  // Salted: the same password hashes differently each time.
  CHECK(*BcryptHash("pw", kTestCost) != *BcryptHash("pw", kTestCost));
  CHECK(absl::StartsWith(*BcryptHash("pw", 10), "$2b$10$"));
  CHECK(BcryptHash("pw", 3).status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(BcryptHash(absl::string_view("a\0b", 3), kTestCost).status().code() ==
        absl::StatusCode::kInvalidArgument);
}

TEST_CASE(
    "RenderHtpasswd: only enabled secrets of at most 255 characters become "
    "logins") {
  VaultFixture f;
  REQUIRE(f.vault->SetSecret("admin", Req("admin-pw")).ok());
  REQUIRE(f.vault->SetSecret("edge", Req(std::string(255, 'e'))).ok());
  REQUIRE(f.vault->SetSecret("containersecret", Req(std::string(256, 'p'))).ok());
  REQUIRE(f.vault->SetSecret("Disabled", Req("d")).ok());
  auto d2 = f.vault->SetSecret("Disabled", Req("d2"));
  REQUIRE(f.vault->SetVersionEnabled("disabled", d2->version, false).ok());
  REQUIRE(f.vault->SetSecret("gone", Req("g")).ok());
  REQUIRE(f.vault->DeleteSecret("gone").ok());
  // The latest version counts: a long latest hides an older short one.
  REQUIRE(f.vault->SetSecret("rotated", Req("short")).ok());
  REQUIRE(f.vault->SetSecret("rotated", Req(std::string(300, 'r'))).ok());

  REQUIRE(RenderHtpasswd(*f.vault, f.dir.Path("registry"), kTestCost).ok());
  auto lines = f.Lines();
  REQUIRE(lines.size() == 2);
  CHECK(UserOf(lines[0]) == "admin");
  CHECK(UserOf(lines[1]) == "edge");
  CHECK(VerifyHtpasswd(lines[0], "admin-pw"));
  CHECK_FALSE(VerifyHtpasswd(lines[0], "admin-pw2"));
  CHECK(VerifyHtpasswd(lines[1], std::string(255, 'e')));
  CHECK_FALSE(absl::StrContains(f.dir.Read("registry/htpasswd"), "admin-pw"));
  auto names = RegistryLoginNames(*f.vault);
  REQUIRE(names.ok());
  CHECK(*names == std::vector<std::string>{"admin", "edge"});

  struct stat st;
  REQUIRE(::stat(f.dir.Path("registry/htpasswd").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
}

TEST_CASE("RenderHtpasswd: only the first page of 25 secrets, in name order") {
  VaultFixture f;
  // 30 short secrets, created in reverse order: the page is by name.
  for (int i = 29; i >= 0; --i) {
    char name[16];
    std::snprintf(name, sizeof name, "user%02d", i);
    REQUIRE(f.vault->SetSecret(name, Req(absl::StrCat("pw-", i))).ok());
  }
  REQUIRE(RenderHtpasswd(*f.vault, f.dir.Path("registry"), kTestCost).ok());
  auto lines = f.Lines();
  REQUIRE(lines.size() == 25);
  CHECK(UserOf(lines.front()) == "user00");
  CHECK(UserOf(lines.back()) == "user24");
  CHECK(VerifyHtpasswd(lines[7], "pw-7"));
  CHECK_FALSE(VerifyHtpasswd(lines[7], "pw-8"));

  // A long secret early in the page still uses up a slot.
  REQUIRE(f.vault->SetSecret("aaa-pfx", Req(std::string(4000, 'x'))).ok());
  REQUIRE(RenderHtpasswd(*f.vault, f.dir.Path("registry"), kTestCost).ok());
  lines = f.Lines();
  REQUIRE(lines.size() == 24);
  CHECK(UserOf(lines.back()) == "user23");
}

TEST_CASE("RenderHtpasswd: an empty vault gives an empty file, a bad cost is refused") {
  VaultFixture f;
  REQUIRE(RenderHtpasswd(*f.vault, f.dir.Path("registry"), kTestCost).ok());
  CHECK(f.dir.Read("registry/htpasswd").empty());
  CHECK(RenderHtpasswd(*f.vault, f.dir.Path("registry"), 40).code() ==
        absl::StatusCode::kInvalidArgument);
}

TEST_CASE(
    "Provisioning: a deployment runs the composed steps, a failing step fails "
    "it") {
  VaultFixture f;
  REQUIRE(f.vault->SetSecret("admin", Req("admin-pw")).ok());
  bool second_ran = false;
  LocalDeploymentsOptions options;
  options.state_dir = f.dir.Path("state");
  options.clock = &f.clock;
  options.resource_groups = {"newregreg"};
  options.provisioning_hook = ComposeProvisioningSteps(
      {MakeHtpasswdStep(*f.vault, f.dir.Path("registry"), kTestCost),
       {"certificate", [&](const DeploymentRequest& request, const std::string&) {
          second_ran = true;
          auto thumbprint = StringParameter(request, "pfxThumbprint");
          if (!thumbprint.ok()) return thumbprint.status();
          if (*thumbprint != "ABC") return absl::InvalidArgumentError("thumbprint mismatch");
          return absl::OkStatus();
        }}});
  auto service = LocalDeployments::Open(options);
  REQUIRE(service.ok());
  DeploymentRequest request;
  request.name = "registry";
  request.template_json =
      R"({"parameters": {"pfxThumbprint": {"type": "string"}}, "resources": []})";
  request.parameters["pfxThumbprint"] = Secret("\"ABC\"");
  auto ok = (*service)->StartDeployment("newregreg", request);
  REQUIRE(ok.ok());
  CHECK(ok->Succeeded());
  CHECK(second_ran);
  auto lines = f.Lines();
  REQUIRE(lines.size() == 1);
  CHECK(VerifyHtpasswd(lines[0], "admin-pw"));

  request.parameters["pfxThumbprint"] = Secret("\"DEF\"");
  auto failed = (*service)->StartDeployment("newregreg", request);
  REQUIRE(failed.ok());
  CHECK(failed->provisioning_state == "Failed");
  CHECK(absl::StrContains(failed->error, "certificate: thumbprint mismatch"));
}

TEST_CASE("MakeLocalRegistryHook writes htpasswd when the registry is deployed") {
  VaultFixture f;
  REQUIRE(f.vault->SetSecret("admin", Req("admin-pw")).ok());
  LocalDeploymentsOptions options;
  options.state_dir = f.dir.Path("state");
  options.clock = &f.clock;
  options.resource_groups = {"newregreg"};
  options.provisioning_hook = MakeLocalRegistryHook(*f.vault, {f.dir.Path("registry"), kTestCost});
  auto service = LocalDeployments::Open(options);
  REQUIRE(service.ok());
  DeploymentRequest request;
  request.name = "registry";
  request.template_json = R"({"resources": []})";
  REQUIRE((*service)->StartDeployment("newregreg", request)->Succeeded());
  auto lines = f.Lines();
  REQUIRE(lines.size() == 1);
  CHECK(VerifyHtpasswd(lines[0], "admin-pw"));
}

// --- the real registry
// -----------------------------------------------------------

// The HTTP status of GET /v2/ with Basic auth (curl reads the credentials
// from stdin so they are not on a command line).
int RegistryStatus(int port, const std::string& user, const std::string& password) {
  ProcessOptions options;
  options.stdin_data = absl::StrCat("user = \"", user, ":", password, "\"\n");
  options.timeout = absl::Seconds(10);
  auto result = RunProcess({"curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-K", "-",
                            absl::StrCat("http://127.0.0.1:", port, "/v2/")},
                           options);
  REQUIRE(result.ok());
  int code = 0;
  if (!absl::SimpleAtoi(result->stdout_data, &code)) return -1;
  return code;
}

TEST_CASE("docker-registry accepts the rendered htpasswd") {
  REQUIRE_MESSAGE(PathExists("/usr/bin/docker-registry"),
                  "docker-registry is installed by scripts/bootstrap.sh");
  VaultFixture f;
  REQUIRE(f.vault->SetSecret("admin", Req("Adm1n:pass word")).ok());
  REQUIRE(f.vault->SetSecret("ci", Req("ci-password")).ok());
  REQUIRE(f.vault->SetSecret("containersecret", Req(std::string(2000, 'x'))).ok());
  REQUIRE(RenderHtpasswd(*f.vault, f.dir.Path("registry"), kTestCost).ok());

  const int port = testing::FreeLoopbackPort();
  const std::string config = f.dir.Write(
      "registry/config.yml", absl::StrCat("version: 0.1\n"
                                          "log:\n  level: error\n"
                                          "storage:\n  filesystem:\n    rootdirectory: ",
                                          f.dir.Path("registry/data"),
                                          "\n"
                                          "http:\n  addr: 127.0.0.1:",
                                          port,
                                          "\n"
                                          "auth:\n  htpasswd:\n    realm: rotor-test\n    path: ",
                                          f.dir.Path("registry/htpasswd"), "\n"));
  auto registry = BackgroundProcess::Start({"docker-registry", "serve", config}, {},
                                           f.dir.Path("registry/registry.log"));
  REQUIRE(registry.ok());

  int status = -1;
  const absl::Time deadline = absl::Now() + absl::Seconds(15);
  while (absl::Now() < deadline) {
    status = RegistryStatus(port, "admin", "wrong");
    if (status > 0) break;
    REQUIRE(registry->Running());
    absl::SleepFor(absl::Milliseconds(50));
  }
  CHECK(status == 401);
  CHECK(RegistryStatus(port, "admin", "Adm1n:pass word") == 200);
  CHECK(RegistryStatus(port, "ci", "ci-password") == 200);
  CHECK(RegistryStatus(port, "ci", "Adm1n:pass word") == 401);
  CHECK(RegistryStatus(port, "containersecret", std::string(2000, 'x')) == 401);

  // Revoking a user: delete its secret, provision again; the registry
  // re-reads htpasswd without a restart.
  REQUIRE(f.vault->DeleteSecret("ci").ok());
  REQUIRE(RenderHtpasswd(*f.vault, f.dir.Path("registry"), kTestCost).ok());
  int revoked = 200;
  for (int i = 0; i < 100 && revoked == 200; ++i) {
    revoked = RegistryStatus(port, "ci", "ci-password");
    if (revoked == 200) absl::SleepFor(absl::Milliseconds(50));
  }
  CHECK(revoked == 401);
  CHECK(RegistryStatus(port, "admin", "Adm1n:pass word") == 200);

  registry->Stop();
  CHECK_FALSE(registry->Running());
}

}  // namespace
}  // namespace rotor::local
