// Refresh's request budget and what it learns, against a FakeVault whose
// list carries no versions (as Key Vault's does not), counted from its
// recorded calls: one list pass, one read per secret whose value the diff
// needs, the exact version of each read secret; the fingerprint; the hint
// that spares the convergence check after an apply from reading again.
#include "engine/refresh/refresh.h"

#include <doctest/doctest.h>

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/json_text.h"
#include "certs/keyvault_secret.h"
#include "certs/pfx.h"
#include "certs/testing/make_certs.h"
#include "engine/apply/apply.h"
#include "engine/diff/diff.h"
#include "engine/model/desired_values.h"
#include "tests/fakes/fake_deployments.h"
#include "tests/fakes/fake_vault.h"

namespace rotor {
namespace {

constexpr char kTemplate[] = R"({"parameters": {
  "pfxKeyVaultResourceId": {"type": "string"}, "pfxKeyVaultSecretUrl": {"type": "string"},
  "pfxThumbprint": {"type": "string"}}, "resources": []})";

// The names GetSecret was asked for, in order, without versions ("get
// NAME[/VERSION]" calls).
std::vector<std::string> Reads(const fakes::FakeVault& vault) {
  std::vector<std::string> reads;
  for (const std::string& call : vault.calls()) {
    if (!absl::StartsWith(call, "get ")) continue;
    std::string name = call.substr(4);
    reads.push_back(name.substr(0, name.find('/')));
  }
  return reads;
}

// The ListSecrets calls ("list"; not "list-deleted").
int Lists(const fakes::FakeVault& vault) {
  const std::vector<std::string> calls = vault.calls();
  return static_cast<int>(std::count(calls.begin(), calls.end(), "list"));
}

class NullObserver : public ApplyObserver {};

struct Env {
  FakeClock clock{absl::FromUnixSeconds(1780000000)};
  // Key Vault's list as the client returns it: no version, unversioned id.
  fakes::FakeVault vault{clock, fakes::FakeVaultOptions{.list_without_versions = true}};
  fakes::FakeDeployments deployments{clock, {"rg"}};
  certs::testing::TestPki pki{clock.Now()};
  DesiredState desired;
  SecretVersion certificate_version;

  Env() {
    // The vault: two users with old passwords, a generated one, an
    // undeclared short secret of unknown kind (kept: a login), the
    // certificate, and a deployment that passes it.
    desired.policy.other_short_secrets = PolicyConfig::OtherShortSecrets::kKeep;
    for (const char* name : {"admin", "ci"}) Put(name, "old-password-1234", kUserContentType);
    Put("robot", "generated-earlier-0123456789", kUserContentType);
    Put("notes", "short", "");
    auto leaf = pki.IssueLeaf({.common_name = "reg.localhost", .dns_names = {"reg.localhost"}});
    std::string pfx = leaf.ToPfx("pw");
    SetSecretRequest cert;
    cert.value = *certs::EncodeCertificateSecret(pfx, Secret("pw"));
    cert.content_type = certs::kCertificateContentType;
    certificate_version = *vault.model().Set("containersecret", cert);
    auto opened = certs::Pfx::Open(pfx, Secret("pw"), "registry.pfx");
    REQUIRE(opened.ok());
    DeploymentRequest first;
    first.name = "registry";
    first.template_json = kTemplate;
    first.parameters["pfxKeyVaultResourceId"] = Secret(JsonQuote(vault.info().resource_id));
    first.parameters["pfxKeyVaultSecretUrl"] = Secret(JsonQuote(certificate_version.id));
    first.parameters["pfxThumbprint"] = Secret(JsonQuote(opened->Thumbprint()));
    // Made outside rotor, before this run; it succeeded.
    REQUIRE(deployments.Seed("rg", first).ok());

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
    REQUIRE(vault.model().Set(name, r).ok());
  }
};

std::vector<std::string> Sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}

TEST_CASE("refresh: one list pass and one read per secret whose value the diff needs") {
  Env env;
  auto actual = Refresh(env.desired, env.vault, &env.deployments);
  REQUIRE_MESSAGE(actual.ok(), actual.status().ToString());
  CHECK(Lists(env.vault) == 1);
  CHECK(env.vault.CountCalls("versions ") == 0);
  // Declared values and the certificate, and the undeclared secret of
  // unknown kind; never the generated password.
  CHECK(Sorted(Reads(env.vault)) ==
        std::vector<std::string>{"admin", "ci", "containersecret", "notes"});
  // And nothing else: the deleted-secret list once, no write.
  CHECK(env.vault.CountCalls("list-deleted") == 1);
  CHECK(env.vault.calls().size() == 6);
  // A read secret carries its exact version; an unread one what the list gave.
  const SecretVersion* cert = actual->FindSecret("containersecret");
  REQUIRE(cert != nullptr);
  CHECK(cert->version == env.certificate_version.version);
  CHECK(cert->id == env.certificate_version.id);
  CHECK(actual->FindSecret("admin")->version.size() == 32);
  CHECK(actual->FindSecret("robot")->version.empty());
  CHECK(actual->FindSecret("robot")->id ==
        absl::StrCat(env.vault.info().base_url, "/secrets/robot"));

  // The certificate is unchanged, so the deployment is compared with the
  // exact URL: two user updates and one redeploy, no certificate change.
  auto plan = ComputePlan(env.desired, *actual, env.clock.Now());
  REQUIRE_MESSAGE(plan.ok(), plan.status().ToString());
  std::vector<std::string> addresses;
  for (const auto& c : plan->changes) addresses.push_back(c.address);
  CHECK(addresses == std::vector<std::string>{"user.admin", "user.ci", "deployment.registry"});
  for (const auto& c : plan->changes) {
    for (const auto& r : c.reasons) CHECK_FALSE(absl::StrContains(r, "pfxKeyVaultSecretUrl"));
  }
}

TEST_CASE("refresh: the fingerprint follows what the list shows, and versions where read") {
  Env env;
  auto first = Refresh(env.desired, env.vault, &env.deployments);
  auto second = Refresh(env.desired, env.vault, &env.deployments);
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
    REQUIRE(env.vault.model().Set("robot", r).ok());
  }
  SUBCASE("a new version of a read secret in the same second") {
    env.Put("admin", "old-password-1234", kUserContentType);
  }
  auto moved = Refresh(env.desired, env.vault, &env.deployments);
  REQUIRE(moved.ok());
  CHECK(StateFingerprint(*moved) != StateFingerprint(*first));
}

TEST_CASE("refresh after an apply: what it wrote and read is not read again") {
  Env env;
  auto actual = Refresh(env.desired, env.vault, &env.deployments);
  REQUIRE(actual.ok());
  auto plan = ComputePlan(env.desired, *actual, env.clock.Now());
  REQUIRE_MESSAGE(plan.ok(), plan.status().ToString());
  NullObserver observer;
  ApplyOptions options;
  options.clock = &env.clock;
  DesiredValues values(env.desired);
  auto outputs = ApplyPlan(*plan, values, env.vault, &env.deployments, options, observer);
  REQUIRE_MESSAGE(outputs.ok(), outputs.status().ToString());
  CHECK(outputs->written_versions.size() == 2);
  CHECK(env.deployments.started().size() == 1);  // the redeploy

  RefreshHint hint = HintAfterApply(env.desired, *actual, *outputs);
  CHECK(hint.secrets.size() == 4);  // admin, ci (written), containersecret, notes (read)
  env.vault.ClearCalls();
  auto after = Refresh(env.desired, env.vault, &env.deployments, &hint);
  REQUIRE(after.ok());
  CHECK(Reads(env.vault).empty());
  // The same state a full read gives.
  auto full = Refresh(env.desired, env.vault, &env.deployments);
  REQUIRE(full.ok());
  CHECK(StateFingerprint(*after) == StateFingerprint(*full));
  auto converged = ComputePlan(env.desired, *after, env.clock.Now());
  REQUIRE(converged.ok());
  CHECK_FALSE(converged->HasChanges());

  // Someone writes a new version after the apply: the list no longer shows
  // the known one, so it is read, and the plan sees the change.
  env.clock.Advance(absl::Seconds(1));
  env.Put("ci", "changed-behind-rotor", kUserContentType);
  env.vault.ClearCalls();
  auto moved = Refresh(env.desired, env.vault, &env.deployments, &hint);
  REQUIRE(moved.ok());
  CHECK(Reads(env.vault) == std::vector<std::string>{"ci"});
  auto drift = ComputePlan(env.desired, *moved, env.clock.Now());
  REQUIRE(drift.ok());
  CHECK(drift->HasChanges());
}

}  // namespace
}  // namespace rotor
