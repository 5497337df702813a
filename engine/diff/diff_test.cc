#include "engine/diff/diff.h"

#include <doctest/doctest.h>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/json_text.h"
#include "engine/model/apply_history.h"
#include "engine/model/registry_vm.h"
#include "engine/render/render.h"

namespace rotor {
namespace {

const absl::Time kNow = absl::FromUnixSeconds(1790000000);  // 2026-09-21

SecretVersion Live(const std::string& name, absl::Time updated, bool by_rotor = true,
                   const std::string& content_type = kUserContentType) {
  SecretVersion v;
  v.name = name;
  v.version = "0123456789abcdef0123456789abcdef";
  v.id = absl::StrCat("https://kv.vault.local/secrets/", name, "/", v.version);
  v.content_type = content_type;
  if (by_rotor) v.tags = {{kManagedByTag, kManagedByValue}, {kRoleTag, kRoleUser}};
  v.created = v.updated = updated;
  return v;
}

struct Fixture {
  DesiredState desired;
  ActualState actual;

  Fixture() {
    desired.config_path = "rotor.toml";
    actual.vault.name = "kv";
    actual.deployments_read = true;
  }
  void DeclareUser(const std::string& name, const std::string& password) {
    DesiredUser& u = desired.users.emplace_back();
    u.name = name;
    u.password = Secret(password);
    u.source = absl::StrCat("env ", name, "_PASSWORD");
  }
  void AddLive(const SecretVersion& v, const std::string& value) {
    actual.secrets[SecretKey(v.name)] = v;
    actual.values[SecretKey(v.name)] = Secret(value);
  }
  void WithDeployment(absl::Time timestamp, const std::string& state = kStateSucceeded) {
    desired.deployment.emplace();
    desired.deployment->resource_group = "rg";
    desired.deployment->name = "latest";
    Deployment d;
    d.name = "registry";
    d.resource_group = "rg";
    d.timestamp = timestamp;
    d.provisioning_state = state;
    actual.deployments.push_back(d);
    actual.base_deployment = d;
    // The template declares the certificate's parameters (with defaults,
    // so configs without [certificate] redeploy it too).
    TemplateInfo tpl;
    for (const char* name : {"pfxKeyVaultResourceId", "pfxKeyVaultSecretUrl", "pfxThumbprint"}) {
      tpl.parameters[absl::AsciiStrToLower(name)] = {name, "string", true};
    }
    actual.base_template = tpl;
    if (state == kStateSucceeded) actual.last_successful_deployment = d;
  }
  Plan Compute() {
    auto plan = ComputePlan(desired, actual, kNow);
    REQUIRE_MESSAGE(plan.ok(), plan.status().ToString());
    return *std::move(plan);
  }
};

std::vector<std::string> Addresses(const Plan& plan) {
  std::vector<std::string> out;
  for (const auto& c : plan.changes)
    out.push_back(absl::StrCat(ActionName(c.action), " ", c.address));
  return out;
}

TEST_CASE("a converged vault plans nothing") {
  Fixture f;
  f.DeclareUser("admin", "s3cret-admin");
  f.AddLive(Live("admin", kNow - absl::Hours(48)), "s3cret-admin");
  f.WithDeployment(kNow - absl::Hours(24));
  Plan plan = f.Compute();
  CHECK_FALSE(plan.HasChanges());
  CHECK(plan.warnings.empty());
}

TEST_CASE("names compare case-insensitively, as in Key Vault") {
  Fixture f;
  f.DeclareUser("Admin", "pw-1234567890");
  f.AddLive(Live("admin", kNow - absl::Hours(48)), "pw-1234567890");
  f.WithDeployment(kNow - absl::Hours(24));
  CHECK_FALSE(f.Compute().HasChanges());
}

TEST_CASE("a missing user is created and the registry redeployed") {
  Fixture f;
  f.DeclareUser("admin", "pw-1234567890");
  f.WithDeployment(kNow - absl::Hours(24));
  Plan plan = f.Compute();
  CHECK(Addresses(plan) ==
        std::vector<std::string>{"create user.admin", "redeploy deployment.registry"});
  CHECK(plan.changes[0].cause == Cause::kConfig);
  CHECK(plan.changes[0].reasons[0] == "declared in rotor.toml but absent from vault kv");
  CHECK(plan.changes[1].reasons[0] ==
        "this plan changes 1 secret that the registry VM reads only at deployment time");
  CHECK(plan.changes[1].cause == Cause::kConfig);
  Plan::Summary s = plan.Summarize();
  CHECK(s.add == 1);
  CHECK(s.redeploy == 1);
}

TEST_CASE("a changed value is an update - its cause depends on who wrote the latest version") {
  Fixture f;
  f.DeclareUser("admin", "new-password-1");
  f.DeclareUser("ci", "ci-password-22");
  f.AddLive(Live("admin", kNow - absl::Hours(48)), "old-password-1");
  // Changed by hand after the registry was deployed: drift.
  f.AddLive(Live("ci", kNow - absl::Hours(12), /*by_rotor=*/false), "changed-by-hand");
  f.WithDeployment(kNow - absl::Hours(24));
  Plan plan = f.Compute();
  REQUIRE(plan.changes.size() == 3);
  CHECK(plan.changes[0].address == "user.admin");
  CHECK(plan.changes[0].action == Action::kUpdate);
  CHECK(plan.changes[0].cause == Cause::kConfig);
  CHECK(plan.changes[0].reasons[0] ==
        "the value from env admin_PASSWORD differs from the latest version in the vault");
  CHECK(plan.changes[1].address == "user.ci");
  CHECK(plan.changes[1].cause == Cause::kDrift);
  CHECK(plan.changes[1].reasons[0] ==
        "the latest version (written 2026-09-21T02:13:20Z) was not written by rotor and differs "
        "from the value from env ci_PASSWORD");
  // Values never reach the plan.
  for (const auto& c : plan.changes) {
    for (const auto& a : c.attributes) {
      CHECK(a.before.find("password") == std::string::npos);
      CHECK(a.after.find("password") == std::string::npos);
    }
  }
}

TEST_CASE("a soft-deleted declared user is recovered") {
  Fixture f;
  f.DeclareUser("admin", "pw-1234567890");
  DeletedSecret d;
  d.latest = Live("admin", kNow - absl::Hours(72));
  d.deleted_date = kNow - absl::Hours(1);
  f.actual.deleted[SecretKey("admin")] = d;
  Plan plan = f.Compute();
  REQUIRE(plan.changes.size() == 1);
  CHECK(plan.changes[0].action == Action::kRecover);
  CHECK(plan.changes[0].cause == Cause::kDrift);
}

TEST_CASE("stale users are deleted, or kept with a warning when the policy says so") {
  Fixture f;
  f.DeclareUser("admin1", "pw-1234567890");
  f.AddLive(Live("admin1", kNow - absl::Hours(48)), "pw-1234567890");
  f.AddLive(Live("admin", kNow - absl::Hours(48), /*by_rotor=*/false), "old");
  f.WithDeployment(kNow - absl::Hours(24));
  Plan plan = f.Compute();
  CHECK(Addresses(plan) ==
        std::vector<std::string>{"delete stale_user.admin", "redeploy deployment.registry"});
  CHECK(plan.changes[0].reasons[0] ==
        "not declared in rotor.toml, and its content type \"user credentials\" marks it a "
        "registry user; while it exists it stays a valid registry login");

  f.desired.policy.delete_stale_users = false;
  Plan kept = f.Compute();
  CHECK_FALSE(kept.HasChanges());
  REQUIRE(kept.warnings.size() == 1);
  CHECK(kept.warnings[0].subject == "secret.admin");
}

TEST_CASE("an undeclared short secret of another kind warns and is never deleted") {
  Fixture f;
  f.AddLive(Live("dbpassword", kNow - absl::Hours(48), false, "text/plain"), "short");
  SecretVersion big = Live("blob", kNow - absl::Hours(48), false, "");
  f.AddLive(big, std::string(300, 'x'));
  Plan plan = f.Compute();
  CHECK_FALSE(plan.HasChanges());
  REQUIRE(plan.warnings.size() == 1);
  CHECK(plan.warnings[0].message ==
        "not declared, and its value is short enough (5 characters) for the registry VM to turn "
        "it into a login named \"dbpassword\"; declare it as a [[user]] or delete it");
}

TEST_CASE("generated passwords rotate only after rotate_after") {
  Fixture f;
  DesiredUser& u = f.desired.users.emplace_back();
  u.name = "ci";
  u.generated = true;
  u.generate_length = 32;
  u.rotate_after = absl::Hours(24 * 90);
  u.source = "generate 32";
  f.actual.secrets[SecretKey("ci")] = Live("ci", kNow - absl::Hours(24 * 89));
  CHECK_FALSE(f.Compute().HasChanges());

  f.actual.secrets[SecretKey("ci")] = Live("ci", kNow - absl::Hours(24 * 91));
  Plan plan = f.Compute();
  REQUIRE(plan.changes.size() == 1);
  CHECK(plan.changes[0].action == Action::kUpdate);
  CHECK(plan.changes[0].reasons[0] ==
        "rotate_after = \"90d\" has elapsed: last rotated 2026-06-22T14:13:20Z (91 days ago)");
}

TEST_CASE("a disabled latest version is replaced") {
  Fixture f;
  f.DeclareUser("admin", "pw-1234567890");
  SecretVersion v = Live("admin", kNow - absl::Hours(48));
  v.enabled = false;
  f.actual.secrets[SecretKey("admin")] = v;
  Plan plan = f.Compute();
  REQUIRE(plan.changes.size() == 1);
  CHECK(plan.changes[0].action == Action::kUpdate);
  CHECK(plan.changes[0].cause == Cause::kDrift);
}

TEST_CASE("redeploy when a user secret changed after the last successful deployment") {
  Fixture f;
  f.DeclareUser("admin", "pw-1234567890");
  SUBCASE("by rotor (an apply that stopped before its redeploy): pending config") {
    f.AddLive(Live("admin", kNow - absl::Hours(1)), "pw-1234567890");
    f.WithDeployment(kNow - absl::Hours(2));
    Plan plan = f.Compute();
    REQUIRE(plan.changes.size() == 1);
    CHECK(plan.changes[0].action == Action::kRedeploy);
    CHECK(plan.changes[0].cause == Cause::kConfig);
    CHECK(plan.changes[0].reasons[0] ==
          "secret admin was written at 2026-09-21T13:13:20Z by rotor, after the last successful "
          "deployment (registry at 2026-09-21T12:13:20Z)");
  }
  SUBCASE("by someone else: drift") {
    f.AddLive(Live("admin", kNow - absl::Hours(1), /*by_rotor=*/false), "pw-1234567890");
    f.WithDeployment(kNow - absl::Hours(2));
    Plan plan = f.Compute();
    REQUIRE(plan.changes.size() == 1);
    CHECK(plan.changes[0].cause == Cause::kDrift);
    CHECK(plan.changes[0].reasons[0] ==
          "secret admin was written at 2026-09-21T13:13:20Z, after the last successful "
          "deployment (registry at 2026-09-21T12:13:20Z)");
  }
}

TEST_CASE("redeploy when a user secret was deleted after the last successful deployment") {
  Fixture f;
  f.WithDeployment(kNow - absl::Hours(2));
  DeletedSecret d;
  d.latest = Live("old", kNow - absl::Hours(72));
  d.deleted_date = kNow - absl::Hours(1);
  f.actual.deleted[SecretKey("old")] = d;
  Plan plan = f.Compute();
  REQUIRE(plan.changes.size() == 1);
  CHECK(plan.changes[0].reasons[0] ==
        "secret old was deleted at 2026-09-21T13:13:20Z, after the last successful deployment "
        "(registry at 2026-09-21T12:13:20Z)");
}

TEST_CASE("redeploy when the latest deployment failed") {
  Fixture f;
  f.WithDeployment(kNow - absl::Hours(5));
  Deployment failed = f.actual.deployments[0];
  failed.name = "registry-20260921T130000Z";
  failed.timestamp = kNow - absl::Hours(1);
  failed.provisioning_state = kStateFailed;
  f.actual.deployments.insert(f.actual.deployments.begin(), failed);
  f.actual.base_deployment = failed;
  Plan plan = f.Compute();
  REQUIRE(plan.changes.size() == 1);
  CHECK(plan.changes[0].action == Action::kRedeploy);
  CHECK(plan.changes[0].reasons.back() ==
        "the latest deployment registry-20260921T130000Z is Failed");
}

TEST_CASE("a running deployment is said by every plan - with nothing else to do too") {
  Fixture f;
  f.DeclareUser("admin", "s3cret-admin");
  f.AddLive(Live("admin", kNow - absl::Hours(48)), "s3cret-admin");
  f.WithDeployment(kNow - absl::Hours(24));
  Deployment running = f.actual.deployments[0];
  running.name = "registry-by-hand";
  running.timestamp = absl::FromUnixSeconds(1790000000);
  running.provisioning_state = "Running";
  f.actual.deployments.insert(f.actual.deployments.begin(), running);
  f.actual.base_deployment = running;
  Plan plan = f.Compute();
  CHECK_FALSE(plan.HasChanges());
  REQUIRE(plan.warnings.size() == 1);
  CHECK(plan.warnings[0].subject == "deployment");
  CHECK(plan.warnings[0].message ==
        "deployment registry-by-hand is Running since 2026-09-21T14:13:20Z; apply waits for it "
        "to finish before redeploying");
  // Not the base (a named one), and with a change planned: said as well.
  f.desired.deployment->name = "registry";
  f.actual.base_deployment = f.actual.deployments[1];
  f.actual.values[SecretKey("admin")] = Secret("another-value");
  Plan with_change = f.Compute();
  CHECK(with_change.HasChanges());
  bool said = false;
  for (const auto& w : with_change.warnings) {
    said = said || absl::StrContains(w.message, "deployment registry-by-hand is Running since");
  }
  CHECK(said);
}

TEST_CASE("a resource group without deployments needs a template") {
  Fixture f;
  f.desired.deployment.emplace();
  f.desired.deployment->resource_group = "rg";
  auto plan = ComputePlan(f.desired, f.actual, kNow);
  REQUIRE_FALSE(plan.ok());
  CHECK(plan.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(std::string(plan.status().message()).rfind("resource group rg has no deployment yet", 0) ==
        0);

  f.desired.deployment->template_json = "{}";
  f.desired.deployment->template_file = "/x/registry-template.json";
  f.desired.deployment->template_info = TemplateInfo{};
  auto first = ComputePlan(f.desired, f.actual, kNow);
  REQUIRE(first.ok());
  REQUIRE(first->changes.size() == 1);
  CHECK(first->changes[0].action == Action::kCreate);
  CHECK(first->changes[0].address == "deployment.registry");
}

TEST_CASE("certificates compare by thumbprint, and stale deployment parameters redeploy") {
  Fixture f;
  // A login that sorts before the certificate secret (the VM's login check).
  f.DeclareUser("admin", "pw-1234567890");
  f.AddLive(Live("admin", kNow - absl::Hours(48)), "pw-1234567890");
  f.desired.certificate.emplace();
  f.desired.certificate->secret_name = "containersecret";
  f.desired.certificate->pfx_path = "registry.pfx";
  f.desired.certificate->thumbprint = "AAAA";
  f.desired.certificate->not_after = kNow + absl::Hours(24 * 365);
  SecretVersion cert = Live("containersecret", kNow - absl::Hours(48), true, "pfx");
  cert.tags[kRoleTag] = kRoleCertificate;
  f.actual.secrets[SecretKey("containersecret")] = cert;
  ActualCertificate current;
  current.thumbprint = "AAAA";
  current.not_after = kNow + absl::Hours(24 * 365);
  f.actual.certificates[SecretKey("containersecret")] = current;
  f.WithDeployment(kNow - absl::Hours(24));
  f.actual.base_deployment->parameters["pfxKeyVaultSecretUrl"] = {"String", JsonQuote(cert.id)};
  f.actual.base_deployment->parameters["pfxThumbprint"] = {"String", JsonQuote("AAAA")};
  CHECK_FALSE(f.Compute().HasChanges());

  CHECK(f.Compute().warnings.empty());

  // The deployment still points at another thumbprint: redeploy only, and
  // a warning that the deployment as it is cannot work.
  f.actual.base_deployment->parameters["pfxThumbprint"] = {"String", JsonQuote("BBBB")};
  Plan stale = f.Compute();
  REQUIRE(stale.changes.size() == 1);
  CHECK(stale.changes[0].action == Action::kRedeploy);
  CHECK(stale.changes[0].cause == Cause::kDrift);
  REQUIRE(stale.warnings.size() == 1);
  CHECK(stale.warnings[0].subject == "certificate.containersecret");
  CHECK(stale.warnings[0].message.find("has thumbprint AAAA but deployment registry passes "
                                       "pfxThumbprint = BBBB") != std::string::npos);

  // A new PFX: a new version, then a redeploy with the URL known after apply.
  f.desired.certificate->thumbprint = "CCCC";
  Plan rotate = f.Compute();
  CHECK(Addresses(rotate) == std::vector<std::string>{"update certificate.containersecret",
                                                      "redeploy deployment.registry"});
  CHECK(rotate.changes[0].After("thumbprint") == "CCCC");
  CHECK(rotate.changes[1].After("pfxKeyVaultSecretUrl") == kKnownAfterApply);
  CHECK(rotate.changes[1].After("pfxThumbprint") == "CCCC");
}

TEST_CASE("an old certificate secret is deleted only when the policy says so and rotor wrote it") {
  Fixture f;
  f.desired.certificate.emplace();
  f.desired.certificate->secret_name = "newcert";
  f.desired.certificate->thumbprint = "AAAA";
  SecretVersion live = Live("newcert", kNow - absl::Hours(48), true, "pfx");
  live.tags[kRoleTag] = kRoleCertificate;
  f.actual.secrets[SecretKey("newcert")] = live;
  ActualCertificate current;
  current.thumbprint = "AAAA";
  f.actual.certificates[SecretKey("newcert")] = current;
  SecretVersion old = Live("oldcert", kNow - absl::Hours(480), true, "pfx");
  old.tags[kRoleTag] = kRoleCertificate;
  f.actual.secrets[SecretKey("oldcert")] = old;
  SecretVersion foreign = Live("handmade", kNow - absl::Hours(480), false, "pfx");
  f.actual.secrets[SecretKey("handmade")] = foreign;
  CHECK_FALSE(f.Compute().HasChanges());  // default: kept

  f.desired.policy.delete_stale_certificates = true;
  Plan plan = f.Compute();
  CHECK(Addresses(plan) == std::vector<std::string>{"delete stale_certificate.oldcert"});
}

TEST_CASE("more than 25 secrets warns that the registry reads only the first page") {
  Fixture f;
  for (int i = 0; i < 26; ++i) {
    std::string name = absl::StrCat("user", i);
    f.DeclareUser(name, "pw-1234567890");
    f.AddLive(Live(name, kNow - absl::Hours(48)), "pw-1234567890");
  }
  Plan plan = f.Compute();
  REQUIRE(plan.warnings.size() == 1);
  CHECK(plan.warnings[0].subject == "vault");
}

TEST_CASE("changes are ordered recover, write, delete, deploy") {
  Fixture f;
  f.DeclareUser("zed", "pw-1234567890");
  f.DeclareUser("back", "pw-1234567890");
  DeletedSecret d;
  d.latest = Live("back", kNow - absl::Hours(72));
  d.deleted_date = kNow - absl::Hours(1);
  f.actual.deleted[SecretKey("back")] = d;
  f.AddLive(Live("aaa-stale", kNow - absl::Hours(48)), "x");
  f.WithDeployment(kNow - absl::Hours(24));
  CHECK(Addresses(f.Compute()) == std::vector<std::string>{"recover user.back", "create user.zed",
                                                           "delete stale_user.aaa-stale",
                                                           "redeploy deployment.registry"});
}

}  // namespace
}  // namespace rotor

namespace rotor {
namespace {

// --- causes: one rule (docs/DESIGN.md, "Drift and redeploy")

TEST_CASE("causes: an edit of the file after adopting a registry is config, not drift") {
  Fixture f;
  // As rotor init leaves it: the PowerShell procedure's user, deployed.
  f.DeclareUser("admin", "new-password-1");
  f.AddLive(Live("admin", kNow - absl::Hours(48), /*by_rotor=*/false), "adopted-password");
  f.WithDeployment(kNow - absl::Hours(24));
  Plan plan = f.Compute();
  REQUIRE(plan.changes.size() == 2);
  CHECK(plan.changes[0].cause == Cause::kConfig);
  CHECK(plan.changes[1].cause == Cause::kConfig);
  CHECK_FALSE(plan.HasDrift());
}

TEST_CASE("causes: a login added by hand after the deployment is drift") {
  Fixture f;
  f.DeclareUser("admin", "pw-1234567890");
  f.AddLive(Live("admin", kNow - absl::Hours(48)), "pw-1234567890");
  f.WithDeployment(kNow - absl::Hours(24));
  // Set-RegistryAccessSecret by hand, an hour ago.
  f.actual.secrets[SecretKey("intruder")] =
      Live("intruder", kNow - absl::Hours(1), /*by_rotor=*/false);
  Plan plan = f.Compute();
  CHECK(Addresses(plan) ==
        std::vector<std::string>{"delete stale_user.intruder", "redeploy deployment.registry"});
  CHECK(plan.changes[0].cause == Cause::kDrift);
  CHECK(plan.HasDrift());
}

TEST_CASE("causes: re-declaring a user rotor deleted (and deployed) is config") {
  Fixture f;
  f.DeclareUser("admin", "pw-1234567890");
  f.DeclareUser("back", "pw-1234567890");
  f.AddLive(Live("admin", kNow - absl::Hours(48)), "pw-1234567890");
  DeletedSecret d;
  d.latest = Live("back", kNow - absl::Hours(72));
  d.deleted_date = kNow - absl::Hours(48);  // before the last deployment
  f.actual.deleted[SecretKey("back")] = d;
  f.WithDeployment(kNow - absl::Hours(24));
  Plan plan = f.Compute();
  REQUIRE(plan.changes.size() == 2);
  CHECK(plan.changes[0].address == "user.back");
  CHECK(plan.changes[0].action == Action::kRecover);
  CHECK(plan.changes[0].cause == Cause::kConfig);
  // Deleted after the deployment (by hand): drift.
  f.actual.deleted[SecretKey("back")].deleted_date = kNow - absl::Hours(1);
  CHECK(f.Compute().changes[0].cause == Cause::kDrift);
}

TEST_CASE("causes: an interrupted apply's own certificate write is pending config") {
  Fixture f;
  f.DeclareUser("admin", "pw-1234567890");
  f.AddLive(Live("admin", kNow - absl::Hours(48)), "pw-1234567890");
  f.desired.certificate.emplace();
  f.desired.certificate->secret_name = "containersecret";
  f.desired.certificate->thumbprint = "CCCC";
  f.desired.certificate->not_after = kNow + absl::Hours(24 * 365);
  SecretVersion cert = Live("containersecret", kNow - absl::Hours(1), true, "pfx");
  cert.tags[kRoleTag] = kRoleCertificate;
  f.actual.secrets[SecretKey("containersecret")] = cert;
  ActualCertificate current;
  current.thumbprint = "CCCC";
  current.not_after = kNow + absl::Hours(24 * 365);
  f.actual.certificates[SecretKey("containersecret")] = current;
  f.WithDeployment(kNow - absl::Hours(24));
  f.actual.base_deployment->parameters["pfxThumbprint"] = {"String", JsonQuote("AAAA")};
  Plan plan = f.Compute();
  REQUIRE(plan.changes.size() == 1);
  CHECK(plan.changes[0].action == Action::kRedeploy);
  CHECK(plan.changes[0].cause == Cause::kConfig);
}

TEST_CASE("the VM's logins: a login set that differs from the deployment's record redeploys") {
  Fixture f;
  f.DeclareUser("admin", "pw-1234567890");
  f.AddLive(Live("admin", kNow - absl::Hours(48)), "pw-1234567890");
  f.WithDeployment(kNow - absl::Hours(24));
  // rotor's last deployment recorded admin and ops; ops was deleted since,
  // in a vault without soft delete (no trace but the record).
  std::map<std::string, std::string> then = {{"admin", LoginStamp(f.actual.secrets["admin"])},
                                             {"ops", "updated:1789000000"}};
  f.actual.last_successful_deployment->tags[kLoginsTag] = LoginDigest(then);
  Plan plan = f.Compute();
  REQUIRE(plan.changes.size() == 1);
  CHECK(plan.changes[0].action == Action::kRedeploy);
  CHECK(plan.changes[0].cause == Cause::kDrift);
  CHECK(plan.changes[0].reasons[0] ==
        "the vault's logins are not the ones the registry VM took at deployment registry (a user "
        "secret was added, written or deleted since)");
  // The record matches: nothing to do.
  then.erase("ops");
  f.actual.last_successful_deployment->tags[kLoginsTag] = LoginDigest(then);
  CHECK_FALSE(f.Compute().HasChanges());
}

// --- what the registry VM would break on

std::string PlanError(Fixture& f) {
  auto plan = ComputePlan(f.desired, f.actual, kNow);
  REQUIRE_FALSE(plan.ok());
  CHECK(plan.status().code() == absl::StatusCode::kFailedPrecondition);
  return std::string(plan.status().message());
}

TEST_CASE("the VM's login check: the first secret listed must be an enabled login") {
  Fixture f;
  f.DeclareUser("zz-admin", "new-password-1");
  f.AddLive(Live("zz-admin", kNow - absl::Hours(48)), "old-password-1");
  f.WithDeployment(kNow - absl::Hours(24));
  SUBCASE("a certificate sorts first") {
    SecretVersion cert = Live("aaa-cert", kNow - absl::Hours(48), true, "pfx");
    cert.tags[kRoleTag] = kRoleCertificate;
    f.actual.secrets[SecretKey("aaa-cert")] = cert;
    const std::string error = PlanError(f);
    CHECK(absl::StrContains(error,
                            "secret aaa-cert is the first secret the registry VM will "
                            "list"));
    CHECK(absl::StrContains(error, "a certificate"));
    CHECK(absl::StrContains(error, "exit code 50"));
    CHECK(absl::StrContains(error, "Rename it so a user sorts first ([certificate] secret_name)"));
  }
  SUBCASE("a disabled user sorts first") {
    f.desired.policy.delete_stale_users = false;  // kept
    SecretVersion disabled = Live("aaa-old", kNow - absl::Hours(48), false);
    disabled.enabled = false;
    f.actual.secrets[SecretKey("aaa-old")] = disabled;
    CHECK(absl::StrContains(PlanError(f), "secret aaa-old is the first secret"));
  }
}

TEST_CASE("passwords the VM would break: whitespace and patterns, a 72-byte prefix") {
  Fixture f;
  f.WithDeployment(kNow - absl::Hours(24));
  SUBCASE("whitespace") {
    f.DeclareUser("admin", "two words");
    CHECK(absl::StrContains(PlanError(f),
                            "user[admin].password (env admin_PASSWORD): the "
                            "password has whitespace or one of '*', '?', '['"));
  }
  SUBCASE("a file name pattern") {
    f.DeclareUser("admin", "pass*word");
    CHECK(absl::StrContains(PlanError(f), "the registry VM passes it to htpasswd unquoted"));
  }
  SUBCASE("the same first 72 bytes") {
    const std::string prefix(72, 'a');
    f.DeclareUser("admin", prefix + "-new");
    f.AddLive(Live("admin", kNow - absl::Hours(48)), prefix + "-old");
    CHECK(absl::StrContains(PlanError(f), "the new password's first 72 bytes are the old one's"));
  }
  SUBCASE("longer than 72 bytes: a warning") {
    f.DeclareUser("admin", std::string(80, 'b'));
    Plan plan = f.Compute();
    bool warned = false;
    for (const auto& w : plan.warnings)
      warned |= absl::StrContains(w.message, "reads only the first 72");
    CHECK(warned);
  }
}

TEST_CASE("logins beyond the first page are named") {
  Fixture f;
  for (int i = 0; i < 27; ++i) {
    std::string name = absl::StrFormat("user%02d", i);
    f.DeclareUser(name, "pw-1234567890");
    f.AddLive(Live(name, kNow - absl::Hours(48)), "pw-1234567890");
  }
  Plan plan = f.Compute();
  REQUIRE(plan.warnings.size() == 1);
  CHECK(plan.warnings[0].subject == "vault");
  CHECK(plan.warnings[0].message ==
        "2 logins fall beyond the first page of 25 secrets the registry VM reads, so they get no "
        "login: user25, user26");
  // What a monitor reads: the page as the vault is now.
  CHECK(plan.observed.at == kNow);
  CHECK(plan.observed.vault_secrets == 27);
  CHECK(plan.observed.vm_first_page_logins == 25);
  CHECK(plan.observed.vm_logins_beyond_first_page == 2);
  REQUIRE(plan.observed.logins.size() == 27);
  CHECK(plan.observed.logins[0].name == "user00");
  CHECK(plan.observed.logins[0].updated == kNow - absl::Hours(48));
}

TEST_CASE("a short secret of another kind: refused before a redeploy, or per policy") {
  Fixture f;
  f.DeclareUser("admin", "new-password-1");
  f.AddLive(Live("admin", kNow - absl::Hours(48)), "old-password-1");
  f.WithDeployment(kNow - absl::Hours(24));
  SecretVersion note = Live("note", kNow - absl::Hours(48), false, "text/plain");
  f.AddLive(note, "short-value");
  SUBCASE("refuse (default)") {
    const std::string error = PlanError(f);
    CHECK(absl::StrContains(error, "secret note is not declared, yet short enough"));
    CHECK(absl::StrContains(error, "policy.other_short_secrets = \"delete\""));
  }
  SUBCASE("delete") {
    f.desired.policy.other_short_secrets = PolicyConfig::OtherShortSecrets::kDelete;
    CHECK(Addresses(f.Compute()) == std::vector<std::string>{"update user.admin",
                                                             "delete stale_secret.note",
                                                             "redeploy deployment.registry"});
  }
  SUBCASE("keep") {
    f.desired.policy.other_short_secrets = PolicyConfig::OtherShortSecrets::kKeep;
    Plan plan = f.Compute();
    CHECK(plan.changes.size() == 2);
    REQUIRE_FALSE(plan.warnings.empty());
    CHECK(plan.warnings[0].subject == "secret.note");
  }
}

}  // namespace
}  // namespace rotor

namespace rotor {
namespace {

TEST_CASE("--replace: a new generated password, a re-upload, or a clear refusal") {
  Fixture f;
  f.DeclareUser("admin", "pw-1234567890");
  f.AddLive(Live("admin", kNow - absl::Hours(48)), "pw-1234567890");
  DesiredUser& robot = f.desired.users.emplace_back();
  robot.name = "robot";
  robot.generated = true;
  robot.generate_length = 32;
  robot.source = "generate 32";
  f.actual.secrets[SecretKey("robot")] = Live("robot", kNow - absl::Hours(48));
  f.WithDeployment(kNow - absl::Hours(24));
  CHECK_FALSE(f.Compute().HasChanges());

  PlanOptions options;
  options.replace = {"user.robot"};
  auto plan = ComputePlan(f.desired, f.actual, kNow, options);
  REQUIRE(plan.ok());
  CHECK(Addresses(*plan) ==
        std::vector<std::string>{"update user.robot", "redeploy deployment.registry"});
  CHECK(plan->changes[0].write->generate_length == 32);
  CHECK(plan->changes[0].reasons[0] == "--replace: a new generated password");

  options.replace = {"user.admin"};
  auto declared = ComputePlan(f.desired, f.actual, kNow, options);
  REQUIRE_FALSE(declared.ok());
  CHECK(declared.status().message() ==
        "--replace user.admin: its password comes from env admin_PASSWORD: give that source a new "
        "value instead; the resources --replace writes anew are user.robot (users with { generate "
        "= N }, and the certificate)");
  options.replace = {"deployment.registry"};
  CHECK(absl::StrContains(ComputePlan(f.desired, f.actual, kNow, options).status().message(),
                          "it is not a resource this configuration declares"));
}

TEST_CASE("every version a plan writes and its deployment carry the plan's apply id") {
  Fixture f;
  f.DeclareUser("admin", "pw-1234567890");
  f.AddLive(Live("old", kNow - absl::Hours(48), /*by_rotor=*/false), "old-pw-12345");
  f.WithDeployment(kNow - absl::Hours(24));
  PlanOptions options;
  options.apply_id = "20260921T000000Z-ab12";
  auto plan = ComputePlan(f.desired, f.actual, kNow, options);
  REQUIRE(plan.ok());
  CHECK(plan->apply_id == "20260921T000000Z-ab12");
  CHECK(Addresses(*plan) == std::vector<std::string>{"create user.admin", "delete stale_user.old",
                                                     "redeploy deployment.registry"});
  CHECK(plan->changes[0].write->tags.at(kApplyIdTag) == "20260921T000000Z-ab12");
  const PlannedDeployment& d = *plan->changes[2].deployment;
  CHECK(d.tags.at(kApplyIdTag) == "20260921T000000Z-ab12");
  CHECK(d.tags.at(kDeletedTag) == "old");
}

TEST_CASE("retire_after: a user no longer declared retires, then is deleted after its deadline") {
  Fixture f;
  f.DeclareUser("admin1", "pw-1234567890");
  f.AddLive(Live("admin", kNow - absl::Hours(48), /*by_rotor=*/false), "admin-pw-1234");
  f.WithDeployment(kNow - absl::Hours(24));
  f.desired.policy.retire_after = absl::Hours(24);
  Plan plan = f.Compute();
  REQUIRE(Addresses(plan) == std::vector<std::string>{"create user.admin1", "retire user.admin",
                                                      "redeploy deployment.registry"});
  const Change& retire = plan.changes[1];
  CHECK(retire.cause == Cause::kConfig);
  CHECK(retire.After(kRetiresAttribute) == "2026-09-22 14:13 UTC");
  CHECK(retire.write->tags.at(kRetireAtTag) == "2026-09-22T14:13:20Z");
  CHECK(retire.write->value_key == "version.admin/0123456789abcdef0123456789abcdef");
  CHECK(plan.FindValue(retire.write->value_key) != nullptr);
  CHECK(absl::StrContains(RenderPlanText(plan, TextStyle{false}),
                          "  - user.admin (retires 2026-09-22 14:13 UTC)\n"));
  Plan::Summary s = plan.Summarize();
  CHECK(s.add == 1);
  CHECK(s.change == 1);
  CHECK(s.destroy == 0);

  // The retiring version as apply writes it: nothing to do until the
  // deadline, then a delete (cause config) and a redeploy.
  SecretVersion retiring = Live("admin", kNow, /*by_rotor=*/true);
  retiring.tags[kRetireAtTag] = "2026-09-22T14:13:20Z";
  f.AddLive(retiring, "admin-pw-1234");
  f.AddLive(Live("admin1", kNow), "pw-1234567890");
  f.actual.last_successful_deployment->timestamp = kNow + absl::Seconds(5);
  f.actual.base_deployment->timestamp = kNow + absl::Seconds(5);
  auto during = ComputePlan(f.desired, f.actual, kNow + absl::Hours(23));
  REQUIRE(during.ok());
  CHECK_FALSE(during->HasChanges());
  auto after = ComputePlan(f.desired, f.actual, kNow + absl::Hours(25));
  REQUIRE(after.ok());
  CHECK(Addresses(*after) ==
        std::vector<std::string>{"delete stale_user.admin", "redeploy deployment.registry"});
  CHECK(after->changes[0].cause == Cause::kConfig);
  CHECK(absl::StrContains(after->changes[0].reasons[0], "retired: its deadline"));
}

TEST_CASE("retire_after does not keep a login added by hand: drift is deleted at once") {
  Fixture f;
  f.DeclareUser("admin", "pw-1234567890");
  f.AddLive(Live("admin", kNow - absl::Hours(48)), "pw-1234567890");
  f.WithDeployment(kNow - absl::Hours(24));
  f.AddLive(Live("intruder", kNow - absl::Hours(1), /*by_rotor=*/false), "intruder-pw-1");
  f.desired.policy.retire_after = absl::Hours(24);
  Plan plan = f.Compute();
  CHECK(Addresses(plan) ==
        std::vector<std::string>{"delete stale_user.intruder", "redeploy deployment.registry"});
  CHECK(plan.changes[0].cause == Cause::kDrift);
}

TEST_CASE("a user with publish sinks is handed over when the plan writes it") {
  Fixture f;
  f.DeclareUser("admin", "new-password-1");
  f.desired.users[0].publish.push_back({"/home/ci/.docker/config.json", {}});
  f.desired.users[0].publish.push_back({"", {"/usr/local/bin/sink", "-n"}});
  f.desired.registry_url = "https://MyReg.example:5000/";
  f.AddLive(Live("admin", kNow - absl::Hours(48)), "old-password-1");
  f.WithDeployment(kNow - absl::Hours(24));
  Plan plan = f.Compute();
  REQUIRE(plan.publishes.size() == 2);
  CHECK(plan.publishes[0].user == "admin");
  CHECK(plan.publishes[0].registry == "myreg.example:5000");
  CHECK(plan.publishes[0].Describe() == "docker_config /home/ci/.docker/config.json");
  CHECK(plan.publishes[1].Describe() == "command [\"/usr/local/bin/sink\", \"-n\"]");
  // Unchanged: nothing to hand over.
  f.actual.values[SecretKey("admin")] = Secret("new-password-1");
  CHECK(f.Compute().publishes.empty());
}

// ---------------------------------------------------------------------------
// A certificate an issuer makes ([certificate.acme] or [certificate.issuer]):
// created when absent, renewed when due by its own expiry (renew_before as a
// time or a share of its lifetime), nothing otherwise; and the ACME account
// secret is rotor's, never planned.

constexpr char kSecret[] = "containersecret";
constexpr char kIssuer[] = "command [\"/usr/local/bin/issue\"]";

// A version rotor wrote with rotor-role = `role`.
SecretVersion Tagged(const std::string& name, absl::Time updated, const std::string& role,
                     const std::string& content_type) {
  SecretVersion v = Live(name, updated, /*by_rotor=*/true, content_type);
  v.tags[kRoleTag] = role;
  return v;
}

// [certificate] with an issuer, and a login that sorts before it (the VM's
// login check).
struct IssuedFixture : Fixture {
  SecretVersion cert_version;

  IssuedFixture() {
    actual.vault.resource_id =
        "/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv";
    DeclareUser("admin", "pw-1234567890");
    AddLive(Live("admin", kNow - absl::Hours(24 * 60)), "pw-1234567890");
    DesiredCertificate& c = desired.certificate.emplace();
    c.secret_name = kSecret;
    c.content_type = "pfx";
    DesiredIssuance& i = c.issuance.emplace();
    i.kind = "command";
    i.describe = kIssuer;
    i.dns_names = {"myreg.local.cloudapp.azurestack.external"};
    i.key_type = "ec-p256";
  }
  void WithDeployment() { Fixture::WithDeployment(kNow - absl::Hours(24 * 50)); }
  // The vault holds a certificate valid from `not_before` to `not_after`,
  // which the deployment passes.
  void Holds(absl::Time not_before, absl::Time not_after, const std::string& thumbprint = "AAAA",
             const std::string& role = kRoleCertificate) {
    cert_version = Tagged(kSecret, not_before, role, "pfx");
    actual.secrets[SecretKey(kSecret)] = cert_version;
    ActualCertificate current;
    current.thumbprint = thumbprint;
    current.dns_names = {"myreg.local.cloudapp.azurestack.external"};
    current.not_before = not_before;
    current.not_after = not_after;
    actual.certificates[SecretKey(kSecret)] = current;
    if (!actual.deployments.empty()) {
      for (Deployment* d : {&actual.deployments[0], &*actual.base_deployment,
                            &*actual.last_successful_deployment}) {
        d->parameters["pfxKeyVaultSecretUrl"] = {"String", JsonQuote(cert_version.id)};
        d->parameters["pfxThumbprint"] = {"String", JsonQuote(thumbprint)};
      }
    }
  }
  DesiredIssuance& issuance() { return *desired.certificate->issuance; }
};

const PlannedParameter* FindParameter(const PlannedDeployment& d, absl::string_view name) {
  for (const auto& p : d.parameters) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

TEST_CASE("issued certificate: none in the vault yet - the plan creates it from the issuer") {
  IssuedFixture f;
  f.WithDeployment();
  Plan plan = f.Compute();
  REQUIRE(Addresses(plan) == std::vector<std::string>{"create certificate.containersecret",
                                                      "redeploy deployment.registry"});
  const Change& c = plan.changes[0];
  CHECK(c.cause == Cause::kConfig);
  REQUIRE(c.write.has_value());
  CHECK(c.write->value_key.empty());
  CHECK(c.write->content_type == "pfx");
  CHECK(c.write->tags.at(kRoleTag) == kRoleCertificate);
  REQUIRE(c.write->issue.has_value());
  CHECK(c.write->issue->issuer == "command");
  CHECK(c.write->issue->describe == kIssuer);
  CHECK(c.write->issue->dns_names ==
        std::vector<std::string>{"myreg.local.cloudapp.azurestack.external"});
  CHECK(c.write->issue->key_type == "ec-p256");
  CHECK_FALSE(c.write->issue->reuse_key);  // nothing to reuse
  CHECK(c.After("issuer") == kIssuer);
  CHECK(c.After("thumbprint") == kKnownAfterApply);
  CHECK(c.reasons[0] ==
        absl::StrCat("declared in rotor.toml but absent from vault kv; rotor issues it from ",
                     kIssuer));
  // No value is planned for it: apply issues it.
  CHECK(plan.FindValue("certificate.containersecret") == nullptr);
  // The deployment passes the issued certificate's thumbprint.
  REQUIRE(plan.changes[1].deployment.has_value());
  const PlannedDeployment& d = *plan.changes[1].deployment;
  CHECK(d.certificate_thumbprint == kKnownAfterApply);
  const PlannedParameter* thumb = FindParameter(d, "pfxThumbprint");
  REQUIRE(thumb != nullptr);
  CHECK(thumb->source == PlannedParameter::Source::kCertificateThumbprint);
  CHECK(plan.changes[1].After("pfxThumbprint") == kKnownAfterApply);
}

TEST_CASE("issued certificate: due by days - renewed, with why in the heading") {
  IssuedFixture f;
  f.WithDeployment();
  f.issuance().renew_before = absl::Hours(24 * 30);
  f.issuance().renew_before_text = "30d";
  f.Holds(kNow - absl::Hours(24 * 75), kNow + absl::Hours(24 * 15) + absl::Minutes(5));
  Plan plan = f.Compute();
  REQUIRE(Addresses(plan) == std::vector<std::string>{"update certificate.containersecret",
                                                      "redeploy deployment.registry"});
  const Change& c = plan.changes[0];
  CHECK(c.cause == Cause::kConfig);
  CHECK(c.After(kRenewalAttribute) == "expires 2026-10-06, 15 days < renew_before 30d");
  REQUIRE(c.write.has_value());
  REQUIRE(c.write->issue.has_value());
  const std::string text = RenderPlanText(plan, TextStyle{});
  CAPTURE(text);
  CHECK(absl::StrContains(text,
                          "# certificate.containersecret will be renewed (expires "
                          "2026-10-06, 15 days < renew_before 30d)"));
  CHECK(absl::StrContains(text, "reason (config):"));
  CHECK(absl::StrContains(text, kIssuer));
  // The certificate's own expiry, nothing else: 31 days left is not due.
  f.Holds(kNow - absl::Hours(24 * 59), kNow + absl::Hours(24 * 31));
  CHECK_FALSE(f.Compute().HasChanges());
}

TEST_CASE("issued certificate: due by a share of its lifetime, a third by default") {
  IssuedFixture f;
  f.WithDeployment();
  // 90 days of life: a third is 30 days.
  f.Holds(kNow - absl::Hours(24 * 61), kNow + absl::Hours(24 * 29));
  Plan due = f.Compute();
  REQUIRE(Addresses(due) == std::vector<std::string>{"update certificate.containersecret",
                                                     "redeploy deployment.registry"});
  CHECK(due.changes[0].After(kRenewalAttribute) ==
        "expires 2026-10-20, 29 days < renew_before a third of its lifetime (30 days)");
  f.Holds(kNow - absl::Hours(24 * 59), kNow + absl::Hours(24 * 31));
  CHECK_FALSE(f.Compute().HasChanges());

  // renew_before = "50%": 45 days of the 90.
  f.issuance().renew_before_percent = 50;
  f.issuance().renew_before_text = "50%";
  Plan half = f.Compute();
  REQUIRE(Addresses(half) == std::vector<std::string>{"update certificate.containersecret",
                                                      "redeploy deployment.registry"});
  CHECK(half.changes[0].After(kRenewalAttribute) ==
        "expires 2026-10-22, 31 days < renew_before 50% (45 days)");
  f.Holds(kNow - absl::Hours(24 * 40), kNow + absl::Hours(24 * 50));
  CHECK_FALSE(f.Compute().HasChanges());

  // Expired already: due, said so.
  f.Holds(kNow - absl::Hours(24 * 91), kNow - absl::Hours(24));
  CHECK(f.Compute().changes[0].After(kRenewalAttribute) ==
        "expired 2026-09-20, renew_before 50% (45 days)");
}

TEST_CASE("issued certificate: switching from pfx keeps the secret and renews only when due") {
  IssuedFixture f;
  f.WithDeployment();
  // The PFX rotor uploaded before, deployed: 200 days left, not due.
  f.Holds(kNow - absl::Hours(24 * 165), kNow + absl::Hours(24 * 200), "PFX0");
  Plan plan = f.Compute();
  CHECK_FALSE(plan.HasChanges());
  CHECK(plan.warnings.empty());
  // Due by its own expiry: renewed under the same name, the key reused when
  // asked (the vault holds a readable certificate).
  f.issuance().reuse_key = true;
  f.issuance().renew_before = absl::Hours(24 * 250);
  f.issuance().renew_before_text = "250d";
  Plan renew = f.Compute();
  REQUIRE(Addresses(renew) == std::vector<std::string>{"update certificate.containersecret",
                                                       "redeploy deployment.registry"});
  CHECK(renew.changes[0].Name() == kSecret);
  CHECK(renew.changes[0].write->name == kSecret);
  CHECK(renew.changes[0].write->issue->reuse_key);
  CHECK(renew.changes[0].attributes[2].before == "PFX0");  // thumbprint
}

TEST_CASE(
    "issued certificate: a deployment that passes another thumbprint is redeployed with the "
    "current one") {
  IssuedFixture f;
  f.WithDeployment();
  f.Holds(kNow - absl::Hours(24 * 10), kNow + absl::Hours(24 * 80), "AAAA");
  f.actual.base_deployment->parameters["pfxThumbprint"] = {"String", JsonQuote("BBBB")};
  Plan plan = f.Compute();
  REQUIRE(Addresses(plan) == std::vector<std::string>{"redeploy deployment.registry"});
  CHECK(plan.changes[0].After("pfxThumbprint") == "AAAA");
  CHECK(plan.changes[0].deployment->certificate_thumbprint == "AAAA");
}

TEST_CASE("issued certificate: names default to the registry's name from pipDomainNameLabel") {
  IssuedFixture f;
  f.desired.arm_endpoint = "https://management.local.azurestack.external";
  f.issuance().dns_names.clear();
  f.WithDeployment();
  f.actual.base_deployment->parameters[kDomainLabelParameter] = {"String", JsonQuote("myreg")};
  Plan plan = f.Compute();
  REQUIRE(plan.changes[0].write->issue.has_value());
  CHECK(plan.changes[0].write->issue->dns_names ==
        std::vector<std::string>{"myreg.local.cloudapp.azurestack.external"});
  // Nothing to read it from: a plan error that says what to set.
  f.actual.base_deployment->parameters.erase(kDomainLabelParameter);
  auto failed = ComputePlan(f.desired, f.actual, kNow);
  REQUIRE_FALSE(failed.ok());
  CHECK(absl::StrContains(failed.status().message(),
                          "[certificate] dns_names: the names to issue the certificate for are "
                          "not known"));
  CHECK(absl::StrContains(failed.status().message(),
                          "set [certificate] dns_names or [registry] url"));
}

TEST_CASE("issued certificate: names that miss the registry's host are refused before apply") {
  IssuedFixture f;
  f.desired.registry_url = "https://registry.localhost";
  f.WithDeployment();
  auto plan = ComputePlan(f.desired, f.actual, kNow);
  REQUIRE_FALSE(plan.ok());
  CHECK(plan.status().message() ==
        "[certificate] dns_names: the certificate is for myreg.local.cloudapp.azurestack.external, "
        "which does not cover registry.localhost (from [registry] url); the registry would serve a "
        "certificate its clients refuse. Issue it for registry.localhost, or set [registry] url to "
        "the host it is for");
  f.issuance().dns_names.push_back("registry.localhost");
  CHECK(f.Compute().HasChanges());
}

TEST_CASE("the ACME account secret is rotor's: never deleted, warned about or counted as a login") {
  IssuedFixture f;
  f.WithDeployment();
  f.Holds(kNow - absl::Hours(24 * 10), kNow + absl::Hours(24 * 80));
  SecretVersion account =
      Tagged(kAcmeAccountSecretName, kNow - absl::Hours(2), kRoleAcmeAccount, "application/json");
  f.actual.secrets[SecretKey(kAcmeAccountSecretName)] = account;
  // Even when its value was read (a short one, which rotor never writes).
  f.actual.values[SecretKey(kAcmeAccountSecretName)] = Secret("short-value");
  f.desired.policy.delete_stale_users = true;
  f.desired.policy.other_short_secrets = PolicyConfig::OtherShortSecrets::kDelete;
  Plan plan = f.Compute();
  CHECK_FALSE(plan.HasChanges());
  CHECK(plan.warnings.empty());
  CHECK(plan.observed.vm_first_page_logins == 1);  // admin only
  CHECK(plan.observed.vault_secrets == 3);
  // Nor does it break a redeploy's login check, wherever it sorts.
  f.actual.base_deployment->provisioning_state = "Failed";
  f.actual.deployments[0].provisioning_state = "Failed";
  PlanOptions options;
  options.require_deployable = true;
  auto redeploy = ComputePlan(f.desired, f.actual, kNow, options);
  REQUIRE_MESSAGE(redeploy.ok(), redeploy.status().ToString());
  CHECK(Addresses(*redeploy) == std::vector<std::string>{"redeploy deployment.registry"});
}

}  // namespace
}  // namespace rotor
