// The Key Vault and ARM clients, as rotor builds them (HTTP client, tokens
// from the stamp's login endpoint, bearer senders), pass the same contract
// tests as the fakes, against a real rotor-emulator.
#include <doctest/doctest.h>

#include "absl/strings/str_cat.h"
#include "providers/arm/arm_client.h"
#include "providers/auth/bearer_sender.h"
#include "providers/auth/credentials.h"
#include "providers/http/http_client.h"
#include "providers/keyvault/keyvault_client.h"
#include "tests/emulator/emulator_harness.h"
#include "tests/fakes/contracts.h"

namespace rotor::fakes {
namespace {

namespace emu = emulator::testing;

constexpr char kSubscription[] = "0a1b2c3d-0000-4000-8000-000000000000";

struct Clients {
  std::shared_ptr<http::HttpSender> http;
  std::shared_ptr<auth::TokenCache> tokens;
};

Clients Connect(const emu::Emulator& emulator) {
  http::HttpClientOptions options;
  options.ca_bundle_path = emulator.ca_path();
  auto created = http::HttpClient::Create(options);
  REQUIRE(created.ok());
  Clients c;
  c.http = std::shared_ptr<http::HttpSender>(*std::move(created));
  auth::ServicePrincipalCredential::Options sp;
  sp.token_endpoint =
      emulator.Url("login.localhost", absl::StrCat("/", emu::kTenant, "/oauth2/token"));
  sp.client_id = emu::kClientId;
  sp.client_secret = Secret(emu::kClientSecret);
  c.tokens = std::make_shared<auth::TokenCache>(
      std::make_shared<auth::ServicePrincipalCredential>(c.http, std::move(sp)));
  return c;
}

TEST_CASE("contract: the Key Vault client against rotor-emulator") {
  emu::Emulator emulator({"--vault", "kv", "--resource-group", "rg"});
  Clients c = Connect(emulator);
  auth::BearerSender::Options bearer;
  bearer.fallback_audience = emulator.VaultResource();
  keyvault::KeyVaultOptions options;
  options.name = "kv";
  options.base_url = emulator.VaultUrl("kv", "");
  options.time_scale = 0.01;
  auto vault = keyvault::KeyVaultClient::Create(
      std::make_shared<auth::BearerSender>(c.http, c.tokens, bearer), options);
  REQUIRE_MESSAGE(vault.ok(), vault.status().ToString());
  CheckVaultContract(**vault, /*soft_delete=*/true);
}

TEST_CASE("contract: the ARM deployments client against rotor-emulator") {
  emu::Emulator emulator({"--vault", "kv", "--resource-group", "rg"});
  Clients c = Connect(emulator);
  auth::BearerSender::Options bearer;
  bearer.audience = emulator.ArmAudience();
  arm::ArmOptions options;
  options.arm_endpoint = emulator.ArmUrl("");
  options.subscription_id = kSubscription;
  options.time_scale = 0.01;
  options.min_poll_interval = absl::Milliseconds(50);
  auto deployments = arm::ArmDeploymentClient::Create(
      std::make_shared<auth::BearerSender>(c.http, c.tokens, bearer), options);
  REQUIRE_MESSAGE(deployments.ok(), deployments.status().ToString());
  CheckDeploymentsContract(**deployments, "rg", "missing");
}

}  // namespace
}  // namespace rotor::fakes
