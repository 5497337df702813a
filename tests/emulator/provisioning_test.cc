// Deploying the registry template replays the registry VM's provisioning:
// service principal sign-in, certificate from Key Vault (thumbprint check),
// htpasswd from the vault's first page, files in --registry-dir and the
// --registry-cmd.
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "base/files.h"
#include "certs/keyvault_secret.h"
#include "certs/pfx.h"
#include "certs/testing/make_certs.h"
#include "providers/local/htpasswd.h"
#include "tests/emulator/emulator_harness.h"
#include "tests/support/registry_deployment.h"
#include "tests/support/testing.h"

namespace rotor::emulator::testing {
namespace {

constexpr char kSpId[] = "registry-sp";
constexpr char kSpSecret[] = "registry-sp-secret";

struct Pki {
  certs::testing::TestPki pki{absl::Now()};
  certs::testing::TestCert leaf =
      pki.IssueLeaf({.common_name = "localhost", .dns_names = {"localhost"}});
  std::string thumbprint;
  std::string secret_value;
  Pki() {
    auto t = certs::ThumbprintOfPem(leaf.CertificatePem(), "leaf");
    REQUIRE(t.ok());
    thumbprint = *t;
    auto v = certs::EncodeCertificateSecret(leaf.ToPfx("pfx-pass"), Secret("pfx-pass"));
    REQUIRE(v.ok());
    secret_value = std::string(v->Reveal());
  }
};

std::string SetSecret(const Emulator& emu, const std::string& token, const std::string& name,
                      const std::string& value, const std::string& content_type) {
  HttpResult r = emu.Send(
      "PUT", emu.VaultUrl("newregkv", "/secrets/" + name + "?api-version=2016-10-01"),
      absl::StrCat(R"({"value":")", value, R"(","contentType":")", content_type, R"("})"), token);
  REQUIRE_MESSAGE(r.status == 200, r.body);
  return JsonString(r.Json(), "id");
}

std::string Deploy(const Emulator& emu, const std::string& name, const std::string& secret_url,
                   const std::string& thumbprint, const std::string& sp_secret = kSpSecret) {
  const std::string token = emu.ArmToken();
  std::string body = rotor::testing::RegistryDeploymentBody(
      {.vault_resource_id = rotor::testing::VaultResourceId("s", "newregreg", "newregkv"),
       .secret_url = secret_url,
       .thumbprint = thumbprint,
       .sp_client_id = kSpId,
       .sp_client_secret = sp_secret});
  HttpResult r = emu.Send("PUT",
                          emu.ArmUrl(absl::StrCat("/subscriptions/s/resourcegroups/newregreg/"
                                                  "providers/Microsoft.Resources/deployments/",
                                                  name, "?api-version=2019-10-01")),
                          body, token);
  REQUIRE_MESSAGE((r.status == 201 || r.status == 200), r.body);
  return WaitForOperation(emu, r.Header("Azure-AsyncOperation"), token);
}

rapidjson::Document GetDeployment(const Emulator& emu, const std::string& name) {
  HttpResult r = emu.Get(emu.ArmUrl(absl::StrCat("/subscriptions/s/resourcegroups/newregreg/"
                                                 "providers/Microsoft.Resources/deployments/",
                                                 name, "?api-version=2019-10-01")),
                         emu.ArmToken());
  REQUIRE(r.status == 200);
  return r.Json();
}

std::vector<std::string> Args(const std::string& registry_dir,
                              const std::vector<std::string>& more = {}) {
  std::vector<std::string> args = {"--vault",           "newregkv",
                                   "--resource-group",  "newregreg",
                                   "--client",          absl::StrCat(kClientId, ":", kClientSecret),
                                   "--client",          absl::StrCat(kSpId, ":", kSpSecret),
                                   "--deploy-duration", "50ms",
                                   "--bcrypt-cost",     "4",
                                   "--registry-dir",    registry_dir};
  args.insert(args.end(), more.begin(), more.end());
  return args;
}

TEST_CASE(
    "a registry deployment writes htpasswd and the certificate files, then runs the command") {
  rotor::testing::TempDir dir;
  Pki pki;
  const std::string registry_dir = dir.Path("registry");
  Emulator emu(Args(registry_dir, {"--registry-cmd", "sh -c 'env > \"$REGISTRY_DIR/env.txt\"'"}));
  const std::string token = emu.VaultToken();
  SetSecret(emu, token, "admin", "admin-pw", "user credentials");
  SetSecret(emu, token, "ci", "ci:pw:with:colons", "user credentials");
  SetSecret(emu, token, "longvalue", std::string(256, 'x'), "");
  const std::string url = SetSecret(emu, token, "containersecret", pki.secret_value, "pfx");

  CHECK(Deploy(emu, "registry", url, pki.thumbprint) == "Succeeded");
  auto d = GetDeployment(emu, "registry");
  CHECK(JsonString(d, "properties/outputs/thumbprint/value") == pki.thumbprint);

  // htpasswd: the short secrets only, bcrypt.
  const std::string htpasswd = rotor::testing::ReadFileOrDie(registry_dir + "/htpasswd");
  std::vector<std::string> lines = absl::StrSplit(htpasswd, '\n', absl::SkipEmpty());
  REQUIRE(lines.size() == 2);
  CHECK(absl::StartsWith(lines[0], "admin:$2b$04$"));
  CHECK(local::VerifyHtpasswd(lines[0], "admin-pw"));
  CHECK(absl::StartsWith(lines[1], "ci:"));
  CHECK(local::VerifyHtpasswd(lines[1], "ci:pw:with:colons"));
  // The certificate files named after the thumbprint.
  const std::string crt =
      rotor::testing::ReadFileOrDie(registry_dir + "/" + pki.thumbprint + ".crt");
  auto thumb = certs::ThumbprintOfPem(crt, "crt");
  REQUIRE(thumb.ok());
  CHECK(*thumb == pki.thumbprint);
  const std::string prv = registry_dir + "/" + pki.thumbprint + ".prv";
  CHECK(absl::StrContains(rotor::testing::ReadFileOrDie(prv), "BEGIN PRIVATE KEY"));
  struct stat st;
  REQUIRE(::stat(prv.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  // The command ran with the folder in its environment.
  const std::string env = rotor::testing::ReadFileOrDie(registry_dir + "/env.txt");
  CHECK(absl::StrContains(env, "REGISTRY_DIR=" + registry_dir));
  CHECK(absl::StrContains(env, "REGISTRY_THUMBPRINT=" + pki.thumbprint));

  auto stats = emu.Stats();
  CHECK(JsonString(stats, "deployments/registry_provisioned") == "1");
  CHECK(JsonString(stats, "last_provisioning/result/thumbprint") == pki.thumbprint);
  CHECK(JsonString(stats, "last_provisioning/result/logins/0") == "admin");
  CHECK(JsonString(stats, "last_provisioning/result/logins/1") == "ci");
  // No secret value reached the log.
  const std::string log = emu.Log();
  CHECK_FALSE(absl::StrContains(log, "admin-pw"));
  CHECK_FALSE(absl::StrContains(log, kSpSecret));
  CHECK_FALSE(absl::StrContains(log, kClientSecret));
}

TEST_CASE(
    "a thumbprint mismatch, a wrong service principal secret or a bad URL fail the deployment") {
  rotor::testing::TempDir dir;
  Pki pki;
  const std::string registry_dir = dir.Path("registry");
  Emulator emu(Args(registry_dir));
  const std::string token = emu.VaultToken();
  SetSecret(emu, token, "admin", "admin-pw", "user credentials");
  const std::string url = SetSecret(emu, token, "containersecret", pki.secret_value, "pfx");

  CHECK(Deploy(emu, "bad-thumb", url, std::string(40, 'A')) == "Failed");
  auto d = GetDeployment(emu, "bad-thumb");
  CHECK(JsonString(d, "properties/error/code") == "DeploymentFailed");
  CHECK(JsonString(d, "properties/error/details/0/code") == "VMExtensionProvisioningError");
  CHECK(absl::StrContains(JsonString(d, "properties/error/details/0/message"), "thumbprint"));
  CHECK_FALSE(PathExists(registry_dir + "/htpasswd"));

  CHECK(Deploy(emu, "bad-sp", url, pki.thumbprint, "not-the-secret") == "Failed");
  d = GetDeployment(emu, "bad-sp");
  CHECK(absl::StrContains(JsonString(d, "properties/error/details/0/message"), "AADSTS7000215"));
  CHECK_FALSE(
      absl::StrContains(JsonString(d, "properties/error/details/0/message"), "not-the-secret"));

  const std::string unversioned = url.substr(0, url.rfind('/'));
  CHECK(Deploy(emu, "bad-url", unversioned, pki.thumbprint) == "Failed");
  d = GetDeployment(emu, "bad-url");
  CHECK(JsonString(d, "properties/error/details/0/code") == "InvalidParameter");
  CHECK_FALSE(PathExists(registry_dir + "/htpasswd"));

  CHECK(Deploy(emu, "good", url, pki.thumbprint) == "Succeeded");
  CHECK(PathExists(registry_dir + "/htpasswd"));
}

TEST_CASE("--registry-cmd starts a real docker-registry that accepts the vault's logins") {
  REQUIRE_MESSAGE(PathExists("/usr/bin/docker-registry"),
                  "docker-registry is installed by scripts/bootstrap.sh");
  rotor::testing::TempDir dir;
  Pki pki;
  const std::string registry_dir = dir.Path("registry");
  const int port = rotor::testing::FreeLoopbackPort();
  const std::string script = dir.Write("run-registry.sh", absl::StrCat(R"(#!/bin/sh
cat > "$REGISTRY_DIR/config.yml" <<EOF
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $REGISTRY_DIR/data
http:
  addr: 127.0.0.1:)",
                                                                       port, R"(
  tls:
    certificate: $REGISTRY_CERT
    key: $REGISTRY_KEY
auth:
  htpasswd:
    realm: rotor
    path: $REGISTRY_HTPASSWD
EOF
exec docker-registry serve "$REGISTRY_DIR/config.yml"
)"));
  ::chmod(script.c_str(), 0755);
  const std::string ca = dir.Write("registry-ca.pem", pki.pki.root().CertificatePem());
  Emulator emu(Args(registry_dir, {"--registry-cmd", script}));
  const std::string token = emu.VaultToken();
  SetSecret(emu, token, "admin", "admin-pw", "user credentials");
  const std::string url = SetSecret(emu, token, "containersecret", pki.secret_value, "pfx");
  REQUIRE(Deploy(emu, "registry", url, pki.thumbprint) == "Succeeded");

  auto login = [&](const std::string& user_pass) {
    for (int i = 0; i < 100; ++i) {
      auto r = RunProcess({"curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--cacert", ca,
                           "-u", user_pass, absl::StrCat("https://localhost:", port, "/v2/")});
      if (r.ok() && r->stdout_data != "000") return r->stdout_data;
      absl::SleepFor(absl::Milliseconds(50));
    }
    return std::string("000");
  };
  CHECK(login("admin:admin-pw") == "200");
  CHECK(login("admin:wrong") == "401");
  // The emulator stops its registry when it stops.
  CHECK(emu.Stop() == 0);
  absl::SleepFor(absl::Milliseconds(200));
  auto r = RunProcess({"curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--cacert", ca,
                       absl::StrCat("https://localhost:", port, "/v2/")});
  REQUIRE(r.ok());
  CHECK(r->stdout_data == "000");
}

}  // namespace
}  // namespace rotor::emulator::testing
