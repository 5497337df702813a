#include "engine/diff/rollback.h"

#include <doctest/doctest.h>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/json_text.h"
#include "engine/model/apply_history.h"
#include "engine/model/registry_vm.h"

namespace rotor {
namespace {

const absl::Time kNow = absl::FromUnixSeconds(1790000000);  // 2026-09-21T14:13:20Z
const char kApply[] = "20260921T130000Z-ab12";              // an hour and 13 minutes ago
const absl::Time kApplyTime = absl::FromUnixSeconds(1790000000 - 4400);

SecretVersion Version(const std::string& name, const std::string& version, absl::Time created,
                      const std::string& apply_id = "") {
  SecretVersion v;
  v.name = name;
  v.version = version;
  v.id = absl::StrCat("https://kv.vault.local/secrets/", name, "/", version);
  v.content_type = kUserContentType;
  if (!apply_id.empty()) {
    v.tags = {{kManagedByTag, kManagedByValue}, {kRoleTag, kRoleUser}, {kApplyIdTag, apply_id}};
  }
  v.created = v.updated = created;
  return v;
}

Deployment Deployed(const std::string& name, absl::Time at, const std::string& url,
                    const std::string& thumbprint, const std::string& apply_id = "") {
  Deployment d;
  d.name = name;
  d.resource_group = "rg";
  d.timestamp = at;
  d.provisioning_state = kStateSucceeded;
  d.parameters["pfxKeyVaultSecretUrl"] = {"String", JsonQuote(url)};
  d.parameters["pfxThumbprint"] = {"String", JsonQuote(thumbprint)};
  if (!apply_id.empty()) d.tags = {{kManagedByTag, kManagedByValue}, {kApplyIdTag, apply_id}};
  return d;
}

struct Fixture {
  DesiredState desired;
  ActualState actual;
  History history;

  Fixture() {
    desired.config_path = "rotor.toml";
    desired.deployment.emplace();
    desired.deployment->resource_group = "rg";
    actual.vault.name = "kv";
    actual.vault.base_url = "https://kv.vault.local";
    actual.deployments_read = true;
    TemplateInfo tpl;
    for (const char* name : {"pfxKeyVaultResourceId", "pfxKeyVaultSecretUrl", "pfxThumbprint"}) {
      tpl.parameters[absl::AsciiStrToLower(name)] = {name, "string", true};
    }
    actual.base_template = tpl;
  }
  void Live(std::vector<SecretVersion> versions) {
    const std::string key = SecretKey(versions.front().name);
    actual.secrets[key] = versions.back();
    history.versions[key] = std::move(versions);
  }
  void Deploy(Deployment d) {
    actual.deployments.push_back(d);
    actual.base_deployment = d;
    actual.last_successful_deployment = d;
  }
};

std::vector<std::string> Addresses(const Plan& plan) {
  std::vector<std::string> out;
  for (const auto& c : plan.changes) {
    out.push_back(absl::StrCat(ActionName(c.action), " ", c.address));
  }
  return out;
}

TEST_CASE("rollback restores passwords, recovers deleted users, deletes created ones") {
  Fixture f;
  const std::string old_url = "https://kv.vault.local/secrets/cert/1111";
  const std::string new_url = "https://kv.vault.local/secrets/cert/2222";
  f.Deploy(Deployed("registry", kApplyTime - absl::Hours(1), old_url, "AAAA"));
  // admin: the seed's version, then the apply's.
  f.Live({Version("admin", "a1", kApplyTime - absl::Hours(2)),
          Version("admin", "a2", kApplyTime, kApply)});
  // ci: created by the apply.
  f.Live({Version("ci", "c1", kApplyTime, kApply)});
  // old: deleted by the apply.
  DeletedSecret old;
  old.latest = Version("old", "o1", kApplyTime - absl::Hours(3));
  old.deleted_date = kApplyTime + absl::Seconds(1);
  f.actual.deleted[SecretKey("old")] = old;
  f.Deploy(Deployed("registry-2", kApplyTime + absl::Seconds(30), new_url, "BBBB", kApply));

  RollbackOptions options;
  options.apply_id = "20260921T141320Z-cd34";
  auto plan = ComputeRollbackPlan(f.desired, f.actual, f.history, kNow, options);
  REQUIRE_MESSAGE(plan.ok(), plan.status().ToString());
  CHECK(plan->rollback_of == kApply);
  CHECK(Addresses(*plan) == std::vector<std::string>{"recover user.old", "update user.admin",
                                                     "delete user.ci",
                                                     "redeploy deployment.registry"});
  const Change& admin = plan->changes[1];
  CHECK(admin.write->value_key == "version.admin/a1");
  CHECK(admin.write->tags.at(kApplyIdTag) == "20260921T141320Z-cd34");
  for (const auto& c : plan->changes) CHECK(c.cause == Cause::kConfig);
  const PlannedDeployment& d = *plan->changes[3].deployment;
  CHECK(d.certificate_url == old_url);
  CHECK(d.certificate_thumbprint == "AAAA");
  CHECK(d.tags.at(kRollbackOfTag) == kApply);
  CHECK(d.tags.at(kDeletedTag) == "ci");
}

TEST_CASE("rollback without any apply, or --to an unknown one, says so") {
  Fixture f;
  f.Deploy(Deployed("registry", kApplyTime, "https://kv.vault.local/secrets/cert/1", "AA"));
  f.Live({Version("admin", "a1", kApplyTime)});
  auto none = ComputeRollbackPlan(f.desired, f.actual, f.history, kNow, {});
  CHECK(absl::IsNotFound(none.status()));
  CHECK(absl::StrContains(none.status().message(), "no apply by rotor found in vault kv"));

  f.Live({Version("admin", "a1", kApplyTime - absl::Hours(1)),
          Version("admin", "a2", kApplyTime, kApply)});
  RollbackOptions to;
  to.to = "20250101T000000Z-zz99";
  auto unknown = ComputeRollbackPlan(f.desired, f.actual, f.history, kNow, to);
  CHECK(absl::IsNotFound(unknown.status()));
  CHECK(absl::StrContains(unknown.status().message(),
                          absl::StrCat("the applies found are ", kApply)));
}

TEST_CASE("apply ids carry their time and the deleted tag fits Azure's 256 characters") {
  CHECK(ApplyIdTime("20261205T201142Z-k3f9") == absl::FromUnixSeconds(1796501502));
  CHECK(ApplyIdTime("20261205T201142Z") == absl::FromUnixSeconds(1796501502));
  CHECK_FALSE(ApplyIdTime("20261305T201142Z").has_value());
  CHECK_FALSE(ApplyIdTime("not-an-id").has_value());
  CHECK(MakeApplyId(absl::FromUnixSeconds(1796501502), "k3f9") == "20261205T201142Z-k3f9");
  std::vector<std::string> names(40, std::string(20, 'u'));
  const std::string tag = DeletedTagValue(names);
  CHECK(tag.size() <= kMaxTagValueLength);
  CHECK(absl::EndsWith(tag, ",+29"));
  CHECK(DeletedTagValue({"a", "b"}) == "a,b");
}

}  // namespace
}  // namespace rotor
