// rotor-emulator --seed-registry: what Microsoft's manual procedure leaves
// behind, with a real docker-registry behind the deployment.
#include <doctest/doctest.h>
#include <sys/stat.h>

#include <map>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "base/files.h"
#include "certs/keyvault_secret.h"
#include "certs/pfx.h"
#include "tests/emulator/emulator_harness.h"
#include "tests/support/testing.h"

namespace rotor::emulator::testing {
namespace {

// "rotor-emulator: KEY VALUE" lines of the log.
std::map<std::string, std::string> Printed(const std::string& log) {
  std::map<std::string, std::string> out;
  for (absl::string_view line : absl::StrSplit(log, '\n')) {
    if (!absl::ConsumePrefix(&line, "rotor-emulator: ")) continue;
    const size_t space = line.find(' ');
    if (space == absl::string_view::npos) continue;
    out[std::string(line.substr(0, space))] = std::string(line.substr(space + 1));
  }
  return out;
}

std::map<std::string, std::string> EnvFile(const std::string& path) {
  std::map<std::string, std::string> out;
  for (absl::string_view line : absl::StrSplit(rotor::testing::ReadFileOrDie(path), '\n')) {
    if (!absl::ConsumePrefix(&line, "export ")) continue;
    const size_t eq = line.find('=');
    absl::string_view value = line.substr(eq + 1);
    absl::ConsumePrefix(&value, "'");
    absl::ConsumeSuffix(&value, "'");
    out[std::string(line.substr(0, eq))] = std::string(value);
  }
  return out;
}

TEST_CASE("--seed-registry stands up the manual procedure's registry once, with a real registry") {
  REQUIRE_MESSAGE(PathExists("/usr/bin/docker-registry"),
                  "docker-registry is installed by scripts/bootstrap.sh");
  rotor::testing::TempDir dir;
  const std::string state = dir.Path("state");
  const std::string registry_dir = dir.Path("registry");
  const int port = rotor::testing::FreeLoopbackPort();
  const std::string script = rotor::testing::SourceDir() + "/tests/e2e/run-registry.sh";
  const std::vector<std::string> args = {"--seed-registry",
                                         "--registry-dir",
                                         registry_dir,
                                         "--registry-cmd",
                                         "bash " + script + " " + std::to_string(port),
                                         "--registry-port",
                                         std::to_string(port),
                                         "--bcrypt-cost",
                                         "4"};

  std::string env_text;
  std::string deployed_at;
  {
    Emulator emu(args, state);
    const std::map<std::string, std::string> printed = Printed(emu.Log());
    CHECK(printed.at("seeded") == "now");
    CHECK(printed.at("arm-endpoint") == emu.ArmUrl(""));
    CHECK(printed.at("ca-bundle") == emu.ca_path());
    CHECK(printed.at("tenant") == kTenant);
    CHECK_FALSE(printed.at("subscription").empty());
    CHECK(printed.at("client-id") == "registry-spn");
    CHECK(printed.at("client-secret-env") == "REGISTRY_SPN_CLIENT_SECRET");
    CHECK(printed.at("resource-group") == "newregreg");
    CHECK(printed.at("vault-name") == "newregkv");
    CHECK(printed.at("deployment") == "registry");
    CHECK(printed.at("certificate-secret") == "containersecret");
    CHECK(printed.at("users") == "admin,ci");
    CHECK(printed.at("registry-url") ==
          absl::StrCat("https://myreg.local.cloudapp.localhost:", port));
    CHECK(printed.at("registry-ca") == state + "/registry-ca.pem");
    CHECK(printed.at("seed-env") == state + "/seed.env");

    // The passwords are in seed.env (0600), never on stdout.
    struct stat st {};
    REQUIRE(::stat((state + "/seed.env").c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    env_text = rotor::testing::ReadFileOrDie(state + "/seed.env");
    const auto env = EnvFile(state + "/seed.env");
    for (const char* name : {"REGISTRY_USER_ADMIN_PASSWORD", "REGISTRY_USER_CI_PASSWORD",
                             "REGISTRY_SPN_CLIENT_ID", "REGISTRY_SPN_CLIENT_SECRET"}) {
      CAPTURE(name);
      REQUIRE(env.count(name) == 1);
      CHECK_FALSE(env.at(name).empty());
      if (absl::StrContains(name, "PASSWORD") || absl::StrContains(name, "SECRET")) {
        CHECK_FALSE(absl::StrContains(emu.Log(), env.at(name)));
      }
    }
    CHECK(env.at("REGISTRY_SPN_CLIENT_ID") == "registry-spn");

    // The vault: users with the procedure's content type; the certificate
    // in the template's envelope.
    const std::string token = emu.VaultToken();
    HttpResult r =
        emu.Get(emu.VaultUrl("newregkv", "/secrets/admin?api-version=2016-10-01"), token);
    REQUIRE(r.status == 200);
    CHECK(JsonString(r.Json(), "contentType") == "user credentials");
    CHECK(JsonString(r.Json(), "value") == env.at("REGISTRY_USER_ADMIN_PASSWORD"));
    r = emu.Get(emu.VaultUrl("newregkv", "/secrets/containersecret?api-version=2016-10-01"), token);
    REQUIRE(r.status == 200);
    CHECK(JsonString(r.Json(), "contentType") == "pfx");
    auto decoded = certs::DecodeCertificateSecret(Secret(JsonString(r.Json(), "value")), "pfx");
    REQUIRE(decoded.ok());
    const std::string secret_id = JsonString(r.Json(), "id");

    // The deployment: the gallery template, succeeded, naming that version
    // and the registry's fqdn.
    r = emu.Get(emu.ArmUrl(absl::StrCat("/subscriptions/", printed.at("subscription"),
                                        "/resourcegroups/newregreg/providers/"
                                        "Microsoft.Resources/deployments/registry"
                                        "?api-version=2019-10-01")),
                emu.ArmToken());
    REQUIRE(r.status == 200);
    auto d = r.Json();
    CHECK(JsonString(d, "properties/provisioningState") == "Succeeded");
    CHECK(JsonString(d, "properties/parameters/pfxKeyVaultSecretUrl/value") == secret_id);
    CHECK(JsonString(d, "properties/outputs/registryFqdn/value") ==
          "myreg.local.cloudapp.localhost");
    CHECK(JsonString(d, "properties/parameters/servicePrincipalClientSecret/type") ==
          "SecureString");
    deployed_at = JsonString(d, "properties/timestamp");
    const std::string thumbprint = JsonString(d, "properties/parameters/pfxThumbprint/value");
    CHECK(PathExists(absl::StrCat(registry_dir, "/", thumbprint, ".crt")));

    // The real registry answers on the printed URL, trusting the printed
    // CA, with the seeded users' passwords.
    auto login = [&](const std::string& user_pass) {
      for (int i = 0; i < 100; ++i) {
        auto run = RunProcess({"curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--cacert",
                               printed.at("registry-ca"), "-u", user_pass,
                               printed.at("registry-url") + "/v2/"});
        if (run.ok() && run->stdout_data != "000") return run->stdout_data;
        absl::SleepFor(absl::Milliseconds(50));
      }
      return std::string("000");
    };
    CHECK(login("admin:" + env.at("REGISTRY_USER_ADMIN_PASSWORD")) == "200");
    CHECK(login("ci:" + env.at("REGISTRY_USER_CI_PASSWORD")) == "200");
    CHECK(login("admin:wrong") == "401");
  }

  // A restart finds it all and does nothing again.
  Emulator emu(args, state);
  const std::map<std::string, std::string> printed = Printed(emu.Log());
  CHECK(printed.at("seeded") == "earlier");
  CHECK(printed.at("client-id") == "registry-spn");
  CHECK(rotor::testing::ReadFileOrDie(state + "/seed.env") == env_text);
  HttpResult r = emu.Get(emu.ArmUrl(absl::StrCat("/subscriptions/", printed.at("subscription"),
                                                 "/resourcegroups/newregreg/providers/"
                                                 "Microsoft.Resources/deployments/registry"
                                                 "?api-version=2019-10-01")),
                         emu.ArmToken());
  CHECK(JsonString(r.Json(), "properties/timestamp") == deployed_at);
  r = emu.Get(emu.VaultUrl("newregkv", "/secrets/admin/versions?api-version=2016-10-01"),
              emu.VaultToken());
  CHECK(r.Json()["value"].Size() == 1);
}

TEST_CASE("--seed-registry uses the first --vault, --resource-group and --client") {
  Emulator emu({"--seed-registry", "--vault", "myvault", "--resource-group", "myrg", "--client",
                absl::StrCat(kClientId, ":", kClientSecret), "--bcrypt-cost", "4", "--dns-zone",
                "local.cloudapp.localhost"});
  const std::map<std::string, std::string> printed = Printed(emu.Log());
  // The zone that holds the registry's name, in the seeded group.
  CHECK(printed.at("dns-zone") == "local.cloudapp.localhost");
  CHECK(emu.Get(emu.ArmUrl("/subscriptions/s/resourceGroups/myrg/providers/Microsoft.Network/"
                           "dnsZones/local.cloudapp.localhost?api-version=2018-05-01"),
                emu.ArmToken())
            .status == 200);
  CHECK(printed.at("vault-name") == "myvault");
  CHECK(printed.at("resource-group") == "myrg");
  CHECK(printed.at("client-id") == kClientId);
  CHECK(printed.at("registry-url") == "https://myreg.local.cloudapp.localhost");
  const auto env = EnvFile(emu.state_dir() + "/seed.env");
  CHECK(env.at("REGISTRY_SPN_CLIENT_SECRET") == kClientSecret);
  CHECK_FALSE(absl::StrContains(emu.Log(), kClientSecret));
  HttpResult r = emu.Get(emu.VaultUrl("myvault", "/secrets/ci?api-version=7.4"), emu.VaultToken());
  CHECK(r.status == 200);
}

}  // namespace
}  // namespace rotor::emulator::testing
