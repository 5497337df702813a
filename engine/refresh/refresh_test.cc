// Refresh's request budget and what it learns, against the real local
// provider seen through a vault whose list carries no versions (as Key
// Vault's does not): one list pass, one read per secret whose value the diff
// needs, the exact version of each read secret; the fingerprint; the hint
// that spares the convergence check after an apply from reading again.
#include "engine/refresh/refresh.h"

#include <doctest/doctest.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/json_text.h"
#include "certs/keyvault_secret.h"
#include "certs/pfx.h"
#include "certs/testing/make_certs.h"
#include "engine/apply/apply.h"
#include "engine/diff/diff.h"
#include "providers/local/local_deployments.h"
#include "providers/local/local_vault.h"
#include "tests/support/testing.h"

namespace rotor {
namespace {

constexpr char kTemplate[] = R"({"parameters": {
  "pfxKeyVaultResourceId": {"type": "string"}, "pfxKeyVaultSecretUrl": {"type": "string"},
  "pfxThumbprint": {"type": "string"}}, "resources": []})";

// Key Vault's list as the client returns it: no version, unversioned id.
// Counts what the engine asks for.
class KeyVaultLikeVault : public Vault {
 public:
  explicit KeyVaultLikeVault(Vault& inner) : inner_(inner) {}
  const VaultInfo& info() const override { return inner_.info(); }
  absl::StatusOr<std::vector<SecretVersion>> ListSecrets() override {
    ++lists;
    auto listed = inner_.ListSecrets();
    if (!listed.ok()) return listed;
    for (auto& s : *listed) {
      s.version.clear();
      s.id = absl::StrCat(info().base_url, "/secrets/", s.name);
    }
    return listed;
  }
  absl::StatusOr<std::vector<SecretVersion>> ListSecretVersions(absl::string_view n) override {
    ++version_lists;
    return inner_.ListSecretVersions(n);
  }
  absl::StatusOr<SecretBundle> GetSecret(absl::string_view n, absl::string_view v) override {
    reads.push_back(std::string(n));
    return inner_.GetSecret(n, v);
  }
  absl::StatusOr<SecretVersion> SetSecret(absl::string_view n, const SetSecretRequest& r) override {
    return inner_.SetSecret(n, r);
  }
  absl::StatusOr<SecretVersion> SetVersionEnabled(absl::string_view n, absl::string_view v,
                                                  bool e) override {
    return inner_.SetVersionEnabled(n, v, e);
  }
  absl::StatusOr<DeletedSecret> DeleteSecret(absl::string_view n) override {
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

  int lists = 0;
  int version_lists = 0;
  std::vector<std::string> reads;

 private:
  Vault& inner_;
};

class NullObserver : public ApplyObserver {};

struct Env {
  testing::TempDir dir;
  FakeClock clock{absl::FromUnixSeconds(1780000000)};
  std::unique_ptr<local::LocalVault> local;
  std::unique_ptr<local::LocalDeployments> deployments;
  std::unique_ptr<KeyVaultLikeVault> vault;
  certs::testing::TestPki pki{clock.Now()};
  DesiredState desired;
  SecretVersion certificate_version;

  Env() {
    local::LocalVaultOptions v;
    v.state_dir = dir.Path("state");
    v.name = "kv";
    v.resource_group = "rg";
    v.clock = &clock;
    local = *local::LocalVault::Open(v);
    local::LocalDeploymentsOptions d;
    d.state_dir = dir.Path("state");
    d.clock = &clock;
    d.resource_groups = {"rg"};
    deployments = *local::LocalDeployments::Open(d);
    vault = std::make_unique<KeyVaultLikeVault>(*local);

    // The vault: two users with old passwords, a generated one, an
    // undeclared short secret of unknown kind, the certificate, and a
    // deployment that passes it.
    for (const char* name : {"admin", "ci"}) Put(name, "old-password-1234", kUserContentType);
    Put("robot", "generated-earlier-0123456789", kUserContentType);
    Put("notes", "short", "");
    auto leaf = pki.IssueLeaf({.common_name = "reg.localhost", .dns_names = {"reg.localhost"}});
    std::string pfx = leaf.ToPfx("pw");
    SetSecretRequest cert;
    cert.value = *certs::EncodeCertificateSecret(pfx, Secret("pw"));
    cert.content_type = certs::kCertificateContentType;
    certificate_version = *local->SetSecret("containersecret", cert);
    auto opened = certs::Pfx::Open(pfx, Secret("pw"), "registry.pfx");
    REQUIRE(opened.ok());
    DeploymentRequest first;
    first.name = "registry";
    first.template_json = kTemplate;
    first.parameters["pfxKeyVaultResourceId"] = Secret(JsonQuote(local->info().resource_id));
    first.parameters["pfxKeyVaultSecretUrl"] = Secret(JsonQuote(certificate_version.id));
    first.parameters["pfxThumbprint"] = Secret(JsonQuote(opened->Thumbprint()));
    REQUIRE(deployments->StartDeployment("rg", first).ok());

    desired.config_path = "rotor.toml";
    for (const char* name : {"admin", "ci"}) {
      DesiredUser& user = desired.users.emplace_back();
      user.name = name;
      user.password = Secret(absl::StrCat("new-password-", name));
      user.source = "env X";
    }
    DesiredUser& robot = desired.users.emplace_back();
    robot.name = "robot";
    robot.generated = true;
    robot.generate_length = 32;
    DesiredCertificate& c = desired.certificate.emplace();
    c.secret_name = "containersecret";
    c.secret_value = cert.value.Clone();
    c.content_type = certs::kCertificateContentType;
    c.thumbprint = opened->Thumbprint();
    desired.deployment.emplace();
    desired.deployment->resource_group = "rg";
    desired.deployment->name = "latest";
    clock.Advance(absl::Minutes(5));
  }

  void Put(const std::string& name, const std::string& value, const std::string& content_type) {
    SetSecretRequest r;
    r.value = Secret(value);
    r.content_type = content_type;
    REQUIRE(local->SetSecret(name, r).ok());
  }
};

std::vector<std::string> Sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}

TEST_CASE("refresh: one list pass and one read per secret whose value the diff needs") {
  Env env;
  auto actual = Refresh(env.desired, *env.vault, env.deployments.get());
  REQUIRE_MESSAGE(actual.ok(), actual.status().ToString());
  CHECK(env.vault->lists == 1);
  CHECK(env.vault->version_lists == 0);
  // Declared values and the certificate, and the undeclared secret of
  // unknown kind; never the generated password.
  CHECK(Sorted(env.vault->reads) ==
        std::vector<std::string>{"admin", "ci", "containersecret", "notes"});
  // A read secret carries its exact version; an unread one what the list gave.
  const SecretVersion* cert = actual->FindSecret("containersecret");
  REQUIRE(cert != nullptr);
  CHECK(cert->version == env.certificate_version.version);
  CHECK(cert->id == env.certificate_version.id);
  CHECK(actual->FindSecret("admin")->version.size() == 32);
  CHECK(actual->FindSecret("robot")->version.empty());
  CHECK(actual->FindSecret("robot")->id ==
        absl::StrCat(env.local->info().base_url, "/secrets/robot"));

  // The certificate is unchanged, so the deployment is compared with the
  // exact URL: two user updates and one redeploy, no certificate change.
  auto plan = ComputePlan(env.desired, *actual, env.clock.Now());
  REQUIRE(plan.ok());
  std::vector<std::string> addresses;
  for (const auto& c : plan->changes) addresses.push_back(c.address);
  CHECK(addresses == std::vector<std::string>{"user.admin", "user.ci", "deployment.registry"});
  for (const auto& c : plan->changes) {
    for (const auto& r : c.reasons) CHECK_FALSE(absl::StrContains(r, "pfxKeyVaultSecretUrl"));
  }
}

TEST_CASE("refresh: the fingerprint follows what the list shows, and versions where read") {
  Env env;
  auto first = Refresh(env.desired, *env.vault, env.deployments.get());
  auto second = Refresh(env.desired, *env.vault, env.deployments.get());
  REQUIRE(first.ok());
  REQUIRE(second.ok());
  CHECK(StateFingerprint(*first) == StateFingerprint(*second));

  SUBCASE("a new version of an unread secret (updated moves)") {
    env.clock.Advance(absl::Seconds(1));
    env.Put("robot", "generated-elsewhere-0123456789", kUserContentType);
  }
  SUBCASE("new tags on an unread secret") {
    // Same second, same value: only the tags differ.
    SetSecretRequest r;
    r.value = Secret("generated-earlier-0123456789");
    r.content_type = kUserContentType;
    r.tags = {{"owner", "someone"}};
    REQUIRE(env.local->SetSecret("robot", r).ok());
  }
  SUBCASE("a new version of a read secret in the same second") {
    env.Put("admin", "old-password-1234", kUserContentType);
  }
  auto moved = Refresh(env.desired, *env.vault, env.deployments.get());
  REQUIRE(moved.ok());
  CHECK(StateFingerprint(*moved) != StateFingerprint(*first));
}

TEST_CASE("refresh after an apply: what it wrote and read is not read again") {
  Env env;
  auto actual = Refresh(env.desired, *env.vault, env.deployments.get());
  REQUIRE(actual.ok());
  auto plan = ComputePlan(env.desired, *actual, env.clock.Now());
  REQUIRE(plan.ok());
  NullObserver observer;
  ApplyOptions options;
  options.clock = &env.clock;
  auto outputs =
      ApplyPlan(*plan, env.desired, *actual, *env.vault, env.deployments.get(), options, observer);
  REQUIRE_MESSAGE(outputs.ok(), outputs.status().ToString());
  CHECK(outputs->written_versions.size() == 2);

  RefreshHint hint = HintAfterApply(env.desired, *actual, *outputs);
  CHECK(hint.secrets.size() == 4);  // admin, ci (written), containersecret, notes (read)
  env.vault->reads.clear();
  auto after = Refresh(env.desired, *env.vault, env.deployments.get(), &hint);
  REQUIRE(after.ok());
  CHECK(env.vault->reads.empty());
  // The same state a full read gives.
  auto full = Refresh(env.desired, *env.vault, env.deployments.get());
  REQUIRE(full.ok());
  CHECK(StateFingerprint(*after) == StateFingerprint(*full));
  auto converged = ComputePlan(env.desired, *after, env.clock.Now());
  REQUIRE(converged.ok());
  CHECK_FALSE(converged->HasChanges());

  // Someone writes a new version after the apply: the list no longer shows
  // the known one, so it is read, and the plan sees the change.
  env.clock.Advance(absl::Seconds(1));
  env.Put("ci", "changed-behind-rotor", kUserContentType);
  env.vault->reads.clear();
  auto moved = Refresh(env.desired, *env.vault, env.deployments.get(), &hint);
  REQUIRE(moved.ok());
  CHECK(env.vault->reads == std::vector<std::string>{"ci"});
  auto drift = ComputePlan(env.desired, *moved, env.clock.Now());
  REQUIRE(drift.ok());
  CHECK(drift->HasChanges());
}

}  // namespace
}  // namespace rotor
