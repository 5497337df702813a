// The executor's safety properties, against the real local provider:
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
#include "engine/refresh/refresh.h"
#include "providers/local/local_deployments.h"
#include "providers/local/local_vault.h"
#include "tests/support/testing.h"

namespace rotor {
namespace {

constexpr char kTemplate[] = R"({"parameters": {
  "pfxKeyVaultResourceId": {"type": "string"}, "pfxKeyVaultSecretUrl": {"type": "string"},
  "pfxThumbprint": {"type": "string"}}, "resources": []})";

// A vault that fails writes to one name, to observe what the executor does
// after a failure.
class FailingWritesVault : public Vault {
 public:
  FailingWritesVault(Vault& inner, std::string fail_name)
      : inner_(inner), fail_name_(std::move(fail_name)) {}
  const VaultInfo& info() const override { return inner_.info(); }
  absl::StatusOr<std::vector<SecretVersion>> ListSecrets() override { return inner_.ListSecrets(); }
  absl::StatusOr<std::vector<SecretVersion>> ListSecretVersions(absl::string_view n) override {
    return inner_.ListSecretVersions(n);
  }
  absl::StatusOr<SecretBundle> GetSecret(absl::string_view n, absl::string_view v) override {
    return inner_.GetSecret(n, v);
  }
  absl::StatusOr<SecretVersion> SetSecret(absl::string_view n, const SetSecretRequest& r) override {
    if (n == fail_name_) return absl::UnavailableError("injected write failure");
    return inner_.SetSecret(n, r);
  }
  absl::StatusOr<SecretVersion> SetVersionEnabled(absl::string_view n, absl::string_view v,
                                                  bool e) override {
    return inner_.SetVersionEnabled(n, v, e);
  }
  absl::StatusOr<DeletedSecret> DeleteSecret(absl::string_view n) override {
    ++deletes;
    return inner_.DeleteSecret(n);
  }
  absl::StatusOr<std::vector<DeletedSecret>> ListDeletedSecrets() override {
    return inner_.ListDeletedSecrets();
  }
  absl::StatusOr<SecretVersion> RecoverDeletedSecret(absl::string_view n) override {
    return inner_.RecoverDeletedSecret(n);
  }
  absl::Status PurgeDeletedSecret(absl::string_view n) override {
    return inner_.PurgeDeletedSecret(n);
  }
  int deletes = 0;

 private:
  Vault& inner_;
  std::string fail_name_;
};

struct Env {
  testing::TempDir dir;
  FakeClock clock{absl::FromUnixSeconds(1780000000)};
  std::unique_ptr<local::LocalVault> vault;
  std::unique_ptr<local::LocalDeployments> deployments;
  Env() {
    local::LocalVaultOptions v;
    v.state_dir = dir.Path("state");
    v.name = "kv";
    v.resource_group = "rg";
    v.clock = &clock;
    vault = *local::LocalVault::Open(v);
    local::LocalDeploymentsOptions d;
    d.state_dir = dir.Path("state");
    d.clock = &clock;
    d.resource_groups = {"rg"};
    deployments = *local::LocalDeployments::Open(d);
  }
};

class NullObserver : public ApplyObserver {};

TEST_CASE("a failed write stops the apply before any delete") {
  Env env;
  SetSecretRequest old;
  old.value = Secret("old-password-123");
  old.content_type = kUserContentType;
  REQUIRE(env.vault->SetSecret("admin", old).ok());

  DesiredState desired;
  desired.config_path = "rotor.toml";
  DesiredUser& user = desired.users.emplace_back();
  user.name = "admin1";
  user.password = Secret("new-password-456");
  user.source = "env X";

  FailingWritesVault vault(*env.vault, "admin1");
  auto actual = Refresh(desired, vault, nullptr);
  REQUIRE(actual.ok());
  auto plan = ComputePlan(desired, *actual, env.clock.Now());
  REQUIRE(plan.ok());
  REQUIRE(plan->changes.size() == 2);  // create admin1, delete admin

  NullObserver observer;
  ApplyOptions options;
  options.clock = &env.clock;
  auto result = ApplyPlan(*plan, desired, *actual, vault, nullptr, options, observer);
  REQUIRE_FALSE(result.ok());
  CHECK(result.status().message() == "user.admin1: injected write failure");
  CHECK(vault.deletes == 0);
  CHECK(env.vault->GetSecret("admin").ok());  // the old login still works
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
  auto live = env.vault->SetSecret("containersecret", stored);
  REQUIRE(live.ok());

  // An existing deployment that points at A.
  DeploymentRequest first;
  first.name = "registry";
  first.template_json = kTemplate;
  first.parameters["pfxKeyVaultResourceId"] = Secret(JsonQuote(env.vault->info().resource_id));
  first.parameters["pfxKeyVaultSecretUrl"] = Secret(JsonQuote(live->id));
  first.parameters["pfxThumbprint"] = Secret(JsonQuote(thumb_a));
  REQUIRE(env.deployments->StartDeployment("rg", first).ok());

  // The desired state claims B, but (as if the vault moved under a stale
  // plan) the secret still holds A and no certificate write is planned.
  DesiredState desired;
  desired.certificate.emplace();
  desired.certificate->secret_name = "containersecret";
  desired.certificate->thumbprint = thumb_b;
  desired.deployment.emplace();
  desired.deployment->resource_group = "rg";
  desired.deployment->name = "latest";
  auto actual = Refresh(desired, *env.vault, env.deployments.get());
  REQUIRE(actual.ok());
  Plan plan;
  Change redeploy;
  redeploy.address = "deployment.registry";
  redeploy.action = Action::kRedeploy;
  plan.changes.push_back(redeploy);

  NullObserver observer;
  ApplyOptions options;
  options.clock = &env.clock;
  auto result =
      ApplyPlan(plan, desired, *actual, *env.vault, env.deployments.get(), options, observer);
  REQUIRE_FALSE(result.ok());
  CHECK(
      result.status().message() ==
      absl::StrCat("deployment.registry: the PFX at ", live->id, " has thumbprint ", thumb_a,
                   ", not ", thumb_b,
                   "; a redeploy with this pair would fail on the registry VM, so none was sent"));
  CHECK(env.deployments->ListDeployments("rg")->size() == 1);
}

TEST_CASE("deployment names derive from the previous one plus a UTC stamp") {
  absl::Time t = absl::FromUnixSeconds(1795000000);  // 2026-11-18T11:06:40Z
  std::string name = DeriveDeploymentName("registry", t);
  CHECK(name == "registry-20261118T110640Z");
  CHECK(DeriveDeploymentName(name, t + absl::Hours(1)) == "registry-20261118T120640Z");
  std::string long_name(70, 'x');
  CHECK(DeriveDeploymentName(long_name, t).size() == 64);
}

TEST_CASE("JsonQuoteSecret quotes a credential as JsonQuote does") {
  for (const char* text : {"", "short", "Quote\"Back\\slash/Ctl\x01-Ünïcode-and-a-longer-tail"}) {
    CHECK(JsonQuoteSecret(Secret(text)).Reveal() == JsonQuote(text));
  }
}

}  // namespace
}  // namespace rotor
