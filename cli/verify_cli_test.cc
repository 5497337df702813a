// rotor verify against a real docker-registry (Debian's docker-registry)
// serving what the local provider's redeploy rendered: htpasswd and
// <THUMBPRINT>.crt/.prv.
#include <doctest/doctest.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/files.h"
#include "base/process.h"
#include "certs/pfx.h"
#include "certs/testing/make_certs.h"
#include "tests/e2e/azure_workspace.h"
#include "tests/support/testing.h"

namespace rotor {
namespace {

constexpr char kAdminPw[] = "Verify-Admin-Distinctive-1";
constexpr char kAdmin1Pw[] = "Verify-Admin1-Distinctive-2";

class RegistryWorkspace {
 public:
  RegistryWorkspace() : pki_(absl::Now()), port_(testing::FreeLoopbackPort()) {
    dir_.Write("ca.pem", pki_.root().CertificatePem());
    dir_.Write("pfx-password.txt", "pfx-pw\n");
    dir_.Write("template.json", R"({"parameters": {
      "pfxKeyVaultResourceId": {"type": "string"}, "pfxKeyVaultSecretUrl": {"type": "string"},
      "pfxThumbprint": {"type": "string"}, "servicePrincipalClientId": {"type": "string"},
      "servicePrincipalClientSecret": {"type": "securestring"}}, "resources": []})");
    WriteConfig("admin", "ADMIN_PW");
    env_["ADMIN_PW"] = kAdminPw;
    env_["ADMIN1_PW"] = kAdmin1Pw;
    env_["NO_COLOR"] = "1";
  }
  ~RegistryWorkspace() {
    if (registry_.has_value()) registry_->Stop();
  }

  void WriteConfig(const std::string& user, const std::string& env) {
    dir_.Write("rotor.toml", absl::StrCat(R"([cloud]
kind = "local"

[vault]
name = "newregkv"
resource_group = "newregreg"

[[user]]
name = ")",
                                          user, R"("
password = { env = ")",
                                          env, R"(" }

[[user]]
name = "ci"
password = { generate = 24 }

[certificate]
secret_name = "containersecret"
pfx = "registry.pfx"
password = { file = "pfx-password.txt" }

[deployment]
resource_group = "newregreg"
client_id = "11111111-2222-3333-4444-555555555555"
client_secret = "local-spn-secret"
template = "template.json"

[registry]
url = "https://localhost:)",
                                          port_, R"("
ca_bundle = "ca.pem"
)"));
  }

  std::string IssuePfx() {
    certs::testing::CertOptions options;
    options.common_name = "localhost";
    options.dns_names = {"localhost"};
    std::string pfx = pki_.IssueLeaf(options).ToPfx("pfx-pw");
    dir_.Write("registry.pfx", pfx);
    return certs::Pfx::Open(pfx, Secret("pfx-pw"), "t")->Thumbprint();
  }

  // (Re)starts docker-registry on the files the last redeploy rendered; the
  // certificate is read only at start, as on the VM.
  void StartRegistry(const std::string& thumbprint) {
    if (registry_.has_value()) registry_->Stop();
    std::string reg = dir_.Path(".rotor/registry");
    std::string config = dir_.Write(
        "registry.yml",
        absl::StrCat("version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n"
                     "    rootdirectory: ",
                     dir_.Path("data"), "\nhttp:\n  addr: 127.0.0.1:", port_,
                     "\n  tls:\n    certificate: ", reg, "/", thumbprint, ".crt\n    key: ", reg,
                     "/", thumbprint, ".prv\nauth:\n  htpasswd:\n    realm: rotor\n    path: ", reg,
                     "/htpasswd\n"));
    auto started = BackgroundProcess::Start({"docker-registry", "serve", config}, {},
                                            dir_.Path("registry.log"));
    REQUIRE(started.ok());
    registry_ = *std::move(started);
    // Ready once it answers TLS.
    for (int i = 0; i < 200; ++i) {
      auto probe = RunProcess({"curl", "-sk", "-o", "/dev/null", "-w", "%{http_code}",
                               absl::StrCat("https://127.0.0.1:", port_, "/v2/")});
      if (probe.ok() && probe->stdout_data == "401") return;
      REQUIRE(registry_->Running());
      absl::SleepFor(absl::Milliseconds(25));
    }
    FAIL("docker-registry did not start");
  }

  ProcessResult Rotor(std::vector<std::string> args) {
    std::vector<std::string> argv = {testing::BuildDir() + "/rotor"};
    argv.insert(argv.end(), args.begin(), args.end());
    ProcessOptions options;
    options.working_dir = dir_.path();
    options.timeout = absl::Seconds(60);
    for (const auto& [k, v] : env_) options.env[k] = v;
    auto result = RunProcess(argv, options);
    REQUIRE(result.ok());
    const std::string leaks =
        e2e::FindSecretLeaks(result->stdout_data, result->stderr_data,
                             {kAdminPw, kAdmin1Pw, "local-spn-secret", "pfx-pw"});
    CHECK_MESSAGE(leaks.empty(), leaks);
    return *std::move(result);
  }

 private:
  testing::TempDir dir_;
  certs::testing::TestPki pki_;
  int port_;
  std::map<std::string, std::string> env_;
  std::optional<BackgroundProcess> registry_;
};

TEST_CASE("verify logs in to a real registry with every user and checks its certificate") {
  REQUIRE_MESSAGE(PathExists("/usr/bin/docker-registry"),
                  "docker-registry is installed by scripts/bootstrap.sh");
  RegistryWorkspace w;
  std::string first = w.IssuePfx();
  REQUIRE(w.Rotor({"apply", "--auto-approve"}).exit_code == 0);
  w.StartRegistry(first);

  auto ok = w.Rotor({"verify"});
  INFO(ok.stdout_data, ok.stderr_data);
  CHECK(ok.exit_code == 0);
  CHECK(absl::StrContains(ok.stdout_data, absl::StrCat("certificate  OK      serves ", first)));
  CHECK(absl::StrContains(ok.stdout_data, "user admin   OK      GET /v2/ -> 200"));
  CHECK(absl::StrContains(ok.stdout_data, "user ci      OK      GET /v2/ -> 200"));
  CHECK(absl::StrContains(ok.stdout_data, "Verified: all 3 checks hold."));

  // Replace admin by admin1: the old login must stop working.
  w.WriteConfig("admin1", "ADMIN1_PW");
  auto applied = w.Rotor({"apply", "--auto-approve", "--verify"});
  INFO(applied.stdout_data, applied.stderr_data);
  REQUIRE(applied.exit_code == 0);
  CHECK(absl::StrContains(applied.stdout_data, "user admin1     OK      GET /v2/ -> 200"));
  CHECK(absl::StrContains(applied.stdout_data, "rejected admin  OK      GET /v2/ -> 401"));
  auto renamed = w.Rotor({"verify", "--expect-rejected", "admin=ADMIN_PW", "--json"});
  INFO(renamed.stdout_data, renamed.stderr_data);
  CHECK(renamed.exit_code == 0);
  CHECK(absl::StrContains(renamed.stdout_data, "\"name\": \"rejected admin\""));
  CHECK(absl::StrContains(renamed.stdout_data, "\"detail\": \"GET /v2/ -> 401\""));

  // A new certificate is served only once the registry restarts, as on the
  // VM: until then verify fails on it.
  std::string second = w.IssuePfx();
  REQUIRE(w.Rotor({"apply", "--auto-approve"}).exit_code == 0);
  auto stale = w.Rotor({"verify"});
  CHECK(stale.exit_code == 1);
  CHECK(absl::StrContains(stale.stdout_data,
                          absl::StrCat("certificate  FAILED  serves ", first,
                                       ", but the declared certificate is ", second)));
  w.StartRegistry(second);
  CHECK(w.Rotor({"verify"}).exit_code == 0);

  auto missing = w.Rotor({"verify", "--expect-rejected", "admin"});
  CHECK(missing.exit_code == 1);
  CHECK(absl::StrContains(missing.stderr_data,
                          "--expect-rejected admin: name the environment variable"));
}

}  // namespace
}  // namespace rotor
