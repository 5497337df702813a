// Start-up, restart persistence and SIGTERM of the real binary.
#include <doctest/doctest.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/files.h"
#include "tests/emulator/emulator_harness.h"
#include "tests/support/testing.h"

namespace rotor::emulator::testing {
namespace {

TEST_CASE("state survives a restart: vaults, deployments, the CA and issued tokens") {
  rotor::testing::TempDir dir;
  const std::string state = dir.Path("state");
  std::vector<std::string> args = {
      "--vault",           "newregkv", "--resource-group",
      "newregreg",         "--client", absl::StrCat(kClientId, ":", kClientSecret),
      "--deploy-duration", "0s",       "--verbose-test"};
  std::string ca, vault_token, arm_token, version_id;
  {
    Emulator emu(args, state);
    ca = rotor::testing::ReadFileOrDie(emu.ca_path());
    vault_token = emu.VaultToken();
    arm_token = emu.ArmToken();
    HttpResult r = emu.Send("PUT", emu.VaultUrl("newregkv", "/secrets/admin?api-version=7.4"),
                            R"({"value":"survives-restart"})", vault_token);
    REQUIRE(r.status == 200);
    version_id = JsonString(r.Json(), "id");
    version_id = version_id.substr(version_id.rfind('/') + 1);
    r = emu.Send("PUT",
                 emu.ArmUrl("/subscriptions/s/resourcegroups/newregreg/providers/"
                            "Microsoft.Resources/deployments/kept?api-version=2019-10-01"),
                 R"({"properties":{"mode":"Incremental","template":{"resources":[]}}})", arm_token);
    REQUIRE_MESSAGE(r.status == 201, r.body);
    CHECK(WaitForOperation(emu, r.Header("Azure-AsyncOperation"), arm_token) == "Succeeded");

    // SIGTERM: a clean stop, exit 0, the port file removed.
    CHECK(emu.Stop(15) == 0);
    CHECK_FALSE(PathExists(state + "/port"));
    const std::string log = emu.Log();
    CHECK(absl::StrContains(log, "rotor-emulator: listening https://127.0.0.1:"));
    CHECK(
        absl::StrContains(log, "rotor-emulator: vault newregkv https://newregkv.vault.localhost:"));
    CHECK(absl::StrContains(log, "rotor-emulator: stopped"));
    // Requests are logged, secret values never.
    CHECK(absl::StrContains(log, "PUT newregkv.vault.localhost:"));
    CHECK_FALSE(absl::StrContains(log, "survives-restart"));
    CHECK_FALSE(absl::StrContains(log, kClientSecret));
  }
  // The vault file is LocalVault's store, private.
  CHECK(PathExists(state + "/vaults/newregkv.json"));

  // Restart without --vault: the stored vault is served again.
  Emulator emu(
      {"--resource-group", "newregreg", "--client", absl::StrCat(kClientId, ":", kClientSecret)},
      state);
  CHECK(rotor::testing::ReadFileOrDie(emu.ca_path()) == ca);
  // Tokens issued before the restart are still valid (the signing key is kept)
  // but carry the old port in their audience, so fetch fresh ones too.
  const std::string token = emu.VaultToken();
  HttpResult r =
      emu.Get(emu.VaultUrl("newregkv", "/secrets/admin/" + version_id + "?api-version=7.4"), token);
  REQUIRE(r.status == 200);
  CHECK(JsonString(r.Json(), "value") == "survives-restart");
  r = emu.Get(emu.ArmUrl("/subscriptions/s/resourcegroups/newregreg/providers/"
                         "Microsoft.Resources/deployments/kept?api-version=2019-10-01"),
              emu.ArmToken());
  REQUIRE(r.status == 200);
  CHECK(JsonString(r.Json(), "properties/provisioningState") == "Succeeded");
  CHECK_FALSE(JsonString(r.Json(), "properties/correlationId").empty());
}

TEST_CASE("a fixed --listen port, endpoints.json, and SIGINT") {
  rotor::testing::TempDir dir;
  // Find a free port by starting once on port 0.
  int port = 0;
  {
    Emulator probe({}, dir.Path("probe"));
    port = probe.port();
  }
  Emulator emu({"--listen", absl::StrCat("127.0.0.1:", port), "--vault", "v"}, dir.Path("state"));
  CHECK(emu.port() == port);
  auto endpoints = ParseJson(rotor::testing::ReadFileOrDie(dir.Path("state/endpoints.json")));
  CHECK(JsonString(endpoints, "port") == absl::StrCat(port));
  CHECK(JsonString(endpoints, "vaults/v") == absl::StrCat("https://v.vault.localhost:", port));
  CHECK(JsonString(endpoints, "arm") == absl::StrCat("https://management.localhost:", port));
  CHECK(emu.Stop(2) == 0);
}

TEST_CASE("command-line errors exit 2 with a message - --help exits 0") {
  const std::string bin = rotor::testing::BuildDir() + "/rotor-emulator";
  auto r = RunProcess({bin, "--help"});
  REQUIRE(r.ok());
  CHECK(r->exit_code == 0);
  CHECK(absl::StrContains(r->stdout_data, "--throttle-no-retry-after"));
  r = RunProcess({bin, "--state", "/tmp/x", "--throttle", "lots"});
  REQUIRE(r.ok());
  CHECK(r->exit_code == 2);
  CHECK(absl::StrContains(r->stderr_data, "--throttle"));
  r = RunProcess({bin, "--vault", "v"});
  REQUIRE(r.ok());
  CHECK(r->exit_code == 2);  // --state is required
  r = RunProcess({bin, "--state", "/tmp/x", "--client", "no-colon-secret"});
  REQUIRE(r.ok());
  CHECK(r->exit_code == 2);
  CHECK_FALSE(absl::StrContains(r->stderr_data, "no-colon-secret"));
}

}  // namespace
}  // namespace rotor::emulator::testing
