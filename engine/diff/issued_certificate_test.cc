// The plan for a certificate an issuer makes ([certificate.acme] or
// [certificate.issuer]): created when absent, renewed when due by its own
// expiry (renew_before as a time or a share of its lifetime), nothing
// otherwise; and the ACME account secret is rotor's, never planned.
#include <doctest/doctest.h>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/json_text.h"
#include "engine/diff/diff.h"
#include "engine/model/registry_vm.h"
#include "engine/render/render.h"

namespace rotor {
namespace {

const absl::Time kNow = absl::FromUnixSeconds(1790000000);  // 2026-09-21T14:13:20Z
constexpr char kSecret[] = "containersecret";
constexpr char kIssuer[] = "command [\"/usr/local/bin/issue\"]";

SecretVersion Live(const std::string& name, absl::Time updated, const std::string& role,
                   const std::string& content_type) {
  SecretVersion v;
  v.name = name;
  v.version = "0123456789abcdef0123456789abcdef";
  v.id = absl::StrCat("https://kv.vault.local/secrets/", name, "/", v.version);
  v.content_type = content_type;
  v.tags = {{kManagedByTag, kManagedByValue}, {kRoleTag, role}};
  v.created = v.updated = updated;
  return v;
}

struct Fixture {
  DesiredState desired;
  ActualState actual;
  SecretVersion cert_version;

  Fixture() {
    desired.config_path = "rotor.toml";
    actual.vault.name = "kv";
    actual.vault.resource_id =
        "/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv";
    actual.deployments_read = true;
    // A login that sorts before the certificate (the VM's login check).
    DesiredUser& u = desired.users.emplace_back();
    u.name = "admin";
    u.password = Secret("pw-1234567890");
    u.source = "env ADMIN_PASSWORD";
    actual.secrets["admin"] =
        Live("admin", kNow - absl::Hours(24 * 60), kRoleUser, kUserContentType);
    actual.values["admin"] = Secret("pw-1234567890");
    DesiredCertificate& c = desired.certificate.emplace();
    c.secret_name = kSecret;
    c.content_type = "pfx";
    DesiredIssuance& i = c.issuance.emplace();
    i.kind = "command";
    i.describe = kIssuer;
    i.dns_names = {"myreg.local.cloudapp.azurestack.external"};
    i.key_type = "ec-p256";
  }
  // The vault holds a certificate valid from `not_before` to `not_after`,
  // which the deployment passes.
  void Holds(absl::Time not_before, absl::Time not_after, const std::string& thumbprint = "AAAA",
             const std::string& role = kRoleCertificate) {
    cert_version = Live(kSecret, not_before, role, "pfx");
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
  void WithDeployment() {
    desired.deployment.emplace();
    desired.deployment->resource_group = "rg";
    desired.deployment->name = "latest";
    Deployment d;
    d.name = "registry";
    d.resource_group = "rg";
    d.timestamp = kNow - absl::Hours(24 * 50);
    d.provisioning_state = kStateSucceeded;
    d.tags = {{kManagedByTag, kManagedByValue}};
    actual.deployments.push_back(d);
    actual.base_deployment = d;
    actual.last_successful_deployment = d;
    TemplateInfo tpl;
    for (const char* name : {"pfxKeyVaultResourceId", "pfxKeyVaultSecretUrl", "pfxThumbprint"}) {
      tpl.parameters[absl::AsciiStrToLower(name)] = {name, "string", true};
    }
    actual.base_template = tpl;
  }
  DesiredIssuance& issuance() { return *desired.certificate->issuance; }
  Plan Compute() {
    auto plan = ComputePlan(desired, actual, kNow);
    REQUIRE_MESSAGE(plan.ok(), plan.status().ToString());
    return *std::move(plan);
  }
};

std::vector<std::string> Addresses(const Plan& plan) {
  std::vector<std::string> out;
  for (const auto& c : plan.changes) {
    out.push_back(absl::StrCat(ActionName(c.action), " ", c.address));
  }
  return out;
}

const PlannedParameter* FindParameter(const PlannedDeployment& d, absl::string_view name) {
  for (const auto& p : d.parameters) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

TEST_CASE("issued certificate: none in the vault yet - the plan creates it from the issuer") {
  Fixture f;
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
  Fixture f;
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
  Fixture f;
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
  Fixture f;
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
  Fixture f;
  f.WithDeployment();
  f.Holds(kNow - absl::Hours(24 * 10), kNow + absl::Hours(24 * 80), "AAAA");
  f.actual.base_deployment->parameters["pfxThumbprint"] = {"String", JsonQuote("BBBB")};
  Plan plan = f.Compute();
  REQUIRE(Addresses(plan) == std::vector<std::string>{"redeploy deployment.registry"});
  CHECK(plan.changes[0].After("pfxThumbprint") == "AAAA");
  CHECK(plan.changes[0].deployment->certificate_thumbprint == "AAAA");
}

TEST_CASE("issued certificate: names default to the registry's name from pipDomainNameLabel") {
  Fixture f;
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

TEST_CASE("the ACME account secret is rotor's: never deleted, warned about or counted as a login") {
  Fixture f;
  f.WithDeployment();
  f.Holds(kNow - absl::Hours(24 * 10), kNow + absl::Hours(24 * 80));
  SecretVersion account =
      Live(kAcmeAccountSecretName, kNow - absl::Hours(2), kRoleAcmeAccount, "application/json");
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
