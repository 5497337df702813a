// The fakes pass the same contract tests as the embedded local provider
// (and, in emulator_contract_test.cc, the Key Vault and ARM clients).
#include <doctest/doctest.h>

#include "absl/strings/match.h"
#include "providers/local/local_deployments.h"
#include "providers/local/local_vault.h"
#include "tests/fakes/contracts.h"
#include "tests/fakes/fake_deployments.h"
#include "tests/fakes/fake_vault.h"
#include "tests/fakes/recording_sender.h"
#include "tests/support/testing.h"

namespace rotor::fakes {
namespace {

TEST_CASE("contract: FakeVault, with and without soft delete") {
  FakeClock clock(absl::FromUnixSeconds(1780000000));
  FakeVault vault(clock);
  CheckVaultContract(vault, /*soft_delete=*/true);
  FakeVault purging(clock, FakeVaultOptions{.soft_delete = false});
  CheckVaultContract(purging, /*soft_delete=*/false);
}

TEST_CASE("contract: the embedded local vault") {
  testing::TempDir dir;
  FakeClock clock(absl::FromUnixSeconds(1780000000));
  local::LocalVaultOptions options;
  options.state_dir = dir.Path("state");
  options.name = "kv";
  options.resource_group = "rg";
  options.clock = &clock;
  auto vault = local::LocalVault::Open(options);
  REQUIRE(vault.ok());
  CheckVaultContract(**vault, /*soft_delete=*/true);
}

TEST_CASE("contract: FakeDeployments and the embedded local deployments") {
  FakeClock clock(absl::FromUnixSeconds(1780000000));
  FakeDeployments fake(clock, {"rg"});
  CheckDeploymentsContract(fake, "rg", "missing");

  testing::TempDir dir;
  local::LocalDeploymentsOptions options;
  options.state_dir = dir.Path("state");
  options.clock = &clock;
  options.resource_groups = {"rg"};
  auto local = local::LocalDeployments::Open(options);
  REQUIRE(local.ok());
  CheckDeploymentsContract(**local, "rg", "missing");
}

TEST_CASE("FakeVault records calls and injects failures without changing anything") {
  FakeClock clock(absl::FromUnixSeconds(1780000000));
  FakeVault vault(clock, FakeVaultOptions{.list_without_versions = true});
  SetSecretRequest r;
  r.value = Secret("v");
  REQUIRE(vault.SetSecret("a", r).ok());
  vault.FailCall("set b", absl::UnavailableError("injected"));
  CHECK(vault.SetSecret("b", r).status().message() == "injected");
  CHECK(vault.GetSecret("b").status().code() == absl::StatusCode::kNotFound);
  auto list = vault.ListSecrets();
  REQUIRE(list.ok());
  REQUIRE(list->size() == 1);
  CHECK(list->front().version.empty());
  CHECK(list->front().id == "https://kv.vault.localhost/secrets/a");
  CHECK(vault.calls() == std::vector<std::string>{"set a", "set b", "get b", "list"});
  CHECK(vault.CountCalls("set ") == 2);
}

TEST_CASE("FakeDeployments scripts failures and records what was sent") {
  FakeClock clock(absl::FromUnixSeconds(1780000000));
  FakeDeployments deployments(clock, {"rg"});
  DeploymentRequest r;
  r.name = "d1";
  r.template_json = R"({"parameters": {"p": {"type": "securestring"}}, "resources": []})";
  r.parameters["p"] = Secret("\"s\"");
  deployments.FailNext("VMExtensionProvisioningError: exit code 50");
  REQUIRE(deployments.StartDeployment("rg", r).ok());
  auto failed = deployments.WaitForDeployment("rg", "d1", nullptr, absl::Seconds(1));
  REQUIRE(failed.ok());
  CHECK(failed->provisioning_state == kStateFailed);
  CHECK(absl::StrContains(failed->error, "exit code 50"));
  REQUIRE(deployments.started().size() == 1);
  CHECK(deployments.started()[0].parameters.at("p") == "\"s\"");
  r.parameters["unknown"] = Secret("1");
  CHECK(deployments.StartDeployment("rg", r).status().code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("RecordingSender answers from its queue, then its handler") {
  RecordingSender sender(
      [](const http::HttpRequest& request) -> absl::StatusOr<http::HttpResponse> {
        return RecordingSender::Answer(404, request.url);
      });
  sender.Enqueue(RecordingSender::Answer(200, "first"));
  sender.Enqueue(absl::UnavailableError("dropped"));
  CHECK(sender.Send(http::Get("https://a/1"))->body == "first");
  CHECK(sender.Send(http::Get("https://a/2")).status().message() == "dropped");
  auto handled = sender.Send(http::Put("https://a/3", Secret("body")));
  REQUIRE(handled.ok());
  CHECK(handled->status == 404);
  REQUIRE(sender.requests().size() == 3);
  CHECK(sender.requests()[2].method == "PUT");
  CHECK(sender.requests()[2].body == "body");
}

}  // namespace
}  // namespace rotor::fakes
