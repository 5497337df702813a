// The executor's safety properties, against the shared fakes (FakeVault,
// FakeDeployments):
// nothing is deleted when a write failed, and a redeploy is never sent with
// a thumbprint that does not match the PFX at the URL it passes.
#include "engine/apply/apply.h"

#include <doctest/doctest.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/json_text.h"
#include "certs/keyvault_secret.h"
#include "certs/pfx.h"
#include "certs/testing/make_certs.h"
#include "engine/config/desired.h"
#include "engine/diff/diff.h"
#include "engine/model/value_set.h"
#include "engine/refresh/refresh.h"
#include "tests/fakes/fake_deployments.h"
#include "tests/fakes/fake_vault.h"

namespace rotor {
namespace {

constexpr char kTemplate[] = R"({"parameters": {
  "pfxKeyVaultResourceId": {"type": "string"}, "pfxKeyVaultSecretUrl": {"type": "string"},
  "pfxThumbprint": {"type": "string"}}, "resources": []})";

struct Env {
  FakeClock clock{absl::FromUnixSeconds(1780000000)};
  fakes::FakeVault vault{clock};
  fakes::FakeDeployments deployments{clock, {"rg"}};
};

class NullObserver : public ApplyObserver {};

TEST_CASE("a failed write stops the apply before any delete") {
  Env env;
  SetSecretRequest old;
  old.value = Secret("old-password-123");
  old.content_type = kUserContentType;
  REQUIRE(env.vault.model().Set("admin", old).ok());

  DesiredState desired;
  desired.config_path = "rotor.toml";
  DesiredUser& user = desired.users.emplace_back();
  user.name = "admin1";
  user.password = Secret("new-password-456");
  user.source = "env X";

  // Writes to admin1 fail, to observe what the executor does after a failure.
  env.vault.FailCall("set admin1", absl::UnavailableError("injected write failure"));
  auto actual = Refresh(desired, env.vault, nullptr);
  REQUIRE(actual.ok());
  auto plan = ComputePlan(desired, *actual, env.clock.Now());
  REQUIRE(plan.ok());
  REQUIRE(plan->changes.size() == 2);  // create admin1, delete admin

  NullObserver observer;
  ApplyOptions options;
  options.clock = &env.clock;
  MapValueSet values;
  values.Set("user.admin1", Secret("new-password-456"));
  auto result = ApplyPlan(*plan, values, env.vault, nullptr, options, observer);
  REQUIRE_FALSE(result.ok());
  CHECK(result.status().message() == "user.admin1: injected write failure");
  CHECK(env.vault.CountCalls("set admin1") == 1);
  CHECK(env.vault.CountCalls("delete ") == 0);
  CHECK(env.vault.model().Get("admin").ok());  // the old login still works
}

TEST_CASE("a redeploy whose thumbprint does not match the PFX at the URL is never sent") {
  Env env;
  certs::testing::TestPki pki(env.clock.Now());
  auto cert_a = pki.IssueLeaf({});
  auto cert_b = pki.IssueLeaf({});
  std::string pfx_a = cert_a.ToPfx("pw");
  std::string thumb_a = certs::Pfx::Open(pfx_a, Secret("pw"), "a")->Thumbprint();
  std::string thumb_b = certs::Pfx::Open(cert_b.ToPfx("pw"), Secret("pw"), "b")->Thumbprint();
  SetSecretRequest stored;
  stored.value = *certs::EncodeCertificateSecret(pfx_a, Secret("pw"));
  stored.content_type = certs::kCertificateContentType;
  auto live = env.vault.model().Set("containersecret", stored);
  REQUIRE(live.ok());

  // An existing deployment that points at A.
  DeploymentRequest first;
  first.name = "registry";
  first.template_json = kTemplate;
  first.parameters["pfxKeyVaultResourceId"] = Secret(JsonQuote(env.vault.info().resource_id));
  first.parameters["pfxKeyVaultSecretUrl"] = Secret(JsonQuote(live->id));
  first.parameters["pfxThumbprint"] = Secret(JsonQuote(thumb_a));
  REQUIRE(env.deployments.Seed("rg", first).ok());

  // The desired state claims B, but (as if the vault moved under a stale
  // plan) the secret still holds A and no certificate write is planned.
  DesiredState desired;
  desired.certificate.emplace();
  desired.certificate->secret_name = "containersecret";
  desired.certificate->thumbprint = thumb_b;
  desired.deployment.emplace();
  desired.deployment->resource_group = "rg";
  desired.deployment->name = "latest";
  Plan plan;
  Change redeploy;
  redeploy.address = "deployment.registry";
  redeploy.action = Action::kRedeploy;
  PlannedDeployment& d = redeploy.deployment.emplace();
  d.resource_group = "rg";
  d.name = "registry-2";
  d.base = "registry";
  d.certificate_secret = "containersecret";
  d.certificate_url = live->id;
  d.certificate_thumbprint = thumb_b;
  plan.changes.push_back(redeploy);

  NullObserver observer;
  ApplyOptions options;
  options.clock = &env.clock;
  MapValueSet values;
  auto result = ApplyPlan(plan, values, env.vault, &env.deployments, options, observer);
  REQUIRE_FALSE(result.ok());
  CHECK(
      result.status().message() ==
      absl::StrCat("deployment.registry: the PFX at ", live->id, " has thumbprint ", thumb_a,
                   ", not ", thumb_b,
                   "; a redeploy with this pair would fail on the registry VM, so none was sent"));
  CHECK(env.deployments.started().empty());
  CHECK(env.deployments.ListDeployments("rg")->size() == 1);
}

TEST_CASE("deployment names derive from the previous one plus a UTC stamp and a suffix") {
  absl::Time t = absl::FromUnixSeconds(1795000000);  // 2026-11-18T11:06:40Z
  std::string name = DeriveDeploymentName("registry", t);
  CHECK(name == "registry-20261118T110640Z");
  CHECK(DeriveDeploymentName(name, t + absl::Hours(1)) == "registry-20261118T120640Z");
  std::string with_suffix = DeriveDeploymentName("registry", t, "3f9a");
  CHECK(with_suffix == "registry-20261118T110640Z-3f9a");
  // Both of rotor's suffixes are dropped before a new one is added.
  CHECK(DeriveDeploymentName(with_suffix, t + absl::Hours(1), "00b1") ==
        "registry-20261118T120640Z-00b1");
  // A name that only looks like a suffix is kept.
  CHECK(DeriveDeploymentName("my-registry", t) == "my-registry-20261118T110640Z");
  // Two plans in the same second with different suffixes differ.
  CHECK(DeriveDeploymentName("registry", t, "aaaa") != DeriveDeploymentName("registry", t, "bbbb"));
  std::string long_name(70, 'x');
  CHECK(DeriveDeploymentName(long_name, t).size() == 64);
  CHECK(DeriveDeploymentName(long_name, t, "abcd").size() == 64);
}

TEST_CASE("JsonQuoteSecret quotes a credential as JsonQuote does") {
  for (const char* text : {"", "short", "Quote\"Back\\slash/Ctl\x01-Ünïcode-and-a-longer-tail"}) {
    CHECK(JsonQuoteSecret(Secret(text)).Reveal() == JsonQuote(text));
  }
}

}  // namespace
}  // namespace rotor
