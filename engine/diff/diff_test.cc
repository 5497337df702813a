#include "engine/diff/diff.h"

#include <doctest/doctest.h>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "base/json_text.h"

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
    REQUIRE(plan.ok());
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
  f.AddLive(Live("ci", kNow - absl::Hours(48), /*by_rotor=*/false), "changed-by-hand");
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
        "the latest version (written 2026-09-19T14:13:20Z) was not written by rotor and differs "
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
  f.AddLive(Live("admin", kNow - absl::Hours(1)), "pw-1234567890");
  f.WithDeployment(kNow - absl::Hours(2));
  Plan plan = f.Compute();
  REQUIRE(plan.changes.size() == 1);
  CHECK(plan.changes[0].action == Action::kRedeploy);
  CHECK(plan.changes[0].cause == Cause::kDrift);
  CHECK(plan.changes[0].reasons[0] ==
        "secret admin was written at 2026-09-21T13:13:20Z, after the last successful deployment "
        "(registry at 2026-09-21T12:13:20Z)");
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
