#include "engine/diff/rollback.h"

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/status_macros.h"
#include "engine/diff/deployment_plan.h"
#include "engine/diff/diff.h"
#include "engine/diff/publishes.h"
#include "engine/diff/vm_logins.h"
#include "engine/model/apply_history.h"
#include "engine/model/registry_vm.h"
#include "engine/model/secret_kind.h"
#include "engine/model/vault_values.h"

namespace rotor {
namespace {

class RollbackBuilder {
 public:
  RollbackBuilder(const DesiredState& desired, const ActualState& actual, const History& history,
                  absl::Time now, const RollbackOptions& options)
      : desired_(desired), actual_(actual), history_(history), now_(now), options_(options) {}

  absl::StatusOr<Plan> Build() {
    std::vector<SecretVersion> deleted;
    for (const auto& [key, d] : actual_.deleted) deleted.push_back(d.latest);
    const std::vector<ApplyRecord> applies =
        FindApplies(history_.All(deleted), actual_.deployments);
    if (applies.empty()) {
      return absl::NotFoundError(absl::StrCat(
          "no apply by rotor found in vault ", actual_.vault.name,
          " or its deployments (rotor tags every version it writes and every deployment it "
          "makes with ",
          kApplyIdTag, "): nothing to roll back"));
    }
    const ApplyRecord* target = &applies.front();
    if (!options_.to.empty()) {
      target = nullptr;
      std::vector<std::string> ids;
      for (const auto& a : applies) {
        if (a.id == options_.to) target = &a;
        ids.push_back(a.id);
      }
      if (target == nullptr) {
        return absl::NotFoundError(absl::StrCat("--to ", options_.to,
                                                ": no such apply; the applies found are ",
                                                absl::StrJoin(ids, ", "), " (see rotor show)"));
      }
    }
    target_ = target;
    time_ = target->time;

    plan_.config_path = desired_.config_path;
    plan_.config_digest = desired_.config_digest;
    plan_.vault = actual_.vault.name;
    plan_.apply_id = options_.apply_id;
    plan_.rollback_of = target->id;

    RollBackSecrets();
    RecoverDeleted();
    RETURN_IF_ERROR(RollBackDeployment());
    if (options_.require_deployable) {
      // What the registry VM will do with the vault as the rollback leaves
      // it (only the vault's shape: the values are the ones it had).
      DesiredState shape;
      shape.policy = desired_.policy;
      diff_internal::VmLoginReport report =
          diff_internal::CheckVmLogins(shape, actual_, plan_.changes);
      for (auto& w : report.warnings) plan_.warnings.push_back(std::move(w));
      if (!report.errors.empty()) {
        return absl::FailedPreconditionError(
            absl::StrCat("the registry VM would break on this rollback:\n  ",
                         absl::StrJoin(report.errors, "\n  ")));
      }
      RETURN_IF_ERROR(diff_internal::PlanPublishes(desired_, actual_, plan_));
    }
    return std::move(plan_);
  }

 private:
  // Written by the apply being undone or a later one, or by someone else
  // after its time.
  bool After(const SecretVersion& v) const {
    auto tag = v.tags.find(kApplyIdTag);
    if (tag != v.tags.end() && ApplyIdTime(tag->second).has_value()) {
      return tag->second >= target_->id;
    }
    return v.created > time_;
  }

  Change& Add(std::string address, Action action) {
    Change& c = plan_.changes.emplace_back();
    c.address = std::move(address);
    c.action = action;
    c.cause = Cause::kConfig;
    return c;
  }

  void AddValue(const std::string& key, std::string source) {
    if (plan_.FindValue(key) == nullptr) plan_.values.push_back({key, std::move(source), ""});
  }

  // The latest version, exactly: the refresh's read when it made one,
  // else the one created last.
  const SecretVersion* Latest(const std::string& key,
                              const std::vector<SecretVersion>& versions) const {
    const SecretVersion* live = actual_.FindSecret(key);
    if (live != nullptr && !live->version.empty()) {
      for (const auto& v : versions) {
        if (v.version == live->version) return &v;
      }
    }
    return versions.empty() ? nullptr : &versions.back();
  }

  void RollBackSecrets() {
    for (const auto& [key, versions] : history_.versions) {
      const SecretVersion* live = actual_.FindSecret(key);
      if (live == nullptr || ClassifySecret(*live) == SecretKind::kCertificate) continue;
      bool declared = false;
      for (const auto& u : desired_.users) declared |= SecretKey(u.name) == key;
      if (!declared && ClassifySecret(*live) != SecretKind::kUser) continue;
      const SecretVersion* latest = Latest(key, versions);
      if (latest == nullptr || !After(*latest)) continue;
      const SecretVersion* before = nullptr;
      for (const auto& v : versions) {
        if (!After(v)) before = &v;  // oldest first: the last one wins
      }
      const std::string address = absl::StrCat("user.", live->name);
      if (before == nullptr) {
        Change& c = Add(address, Action::kDelete);
        c.attributes.push_back({"value", kSensitiveValue, ""});
        c.reasons.push_back(absl::StrCat(
            "it did not exist before apply ", target_->id, " (its first version was written at ",
            FormatPlanTime(versions.front().created),
            "); rotor deletes it, and while it exists it stays a registry login"));
        continue;
      }
      Change& c = Add(address, Action::kUpdate);
      SecretWrite& w = c.write.emplace();
      w.name = live->name;
      w.content_type = before->content_type.empty() ? kUserContentType : before->content_type;
      w.tags = RotorTags(kRoleUser);
      if (!options_.apply_id.empty()) w.tags[kApplyIdTag] = options_.apply_id;
      w.value_key = VersionValueKey(live->name, before->version);
      AddValue(w.value_key, absl::StrCat("secret ", live->name, " version ", before->version,
                                         " (written ", FormatPlanTime(before->created), ")"));
      c.attributes.push_back({"version", latest->version, before->version});
      c.attributes.push_back({"value", kSensitiveValue, kSensitiveValue});
      c.reasons.push_back(absl::StrCat("restores the value it had before apply ", target_->id,
                                       ": version ", before->version,
                                       " is written again as a new version"));
    }
  }

  void RecoverDeleted() {
    for (const auto& [key, deleted] : actual_.deleted) {
      if (deleted.deleted_date < time_) continue;
      const SecretKind kind = ClassifySecret(deleted.latest);
      bool declared = false;
      for (const auto& u : desired_.users) declared |= SecretKey(u.name) == key;
      if (kind == SecretKind::kOther && !declared) continue;
      if (After(deleted.latest)) {
        // Its last version is from after the apply's time: whether it
        // existed before cannot be told without recovering it.
        plan_.warnings.push_back(
            {absl::StrCat("secret.", deleted.latest.name),
             absl::StrCat("deleted at ", FormatPlanTime(deleted.deleted_date),
                          " after a version written by apply ", target_->id,
                          " or later; not recovered: recover it by hand if it existed before")});
        continue;
      }
      Change& c = Add(absl::StrCat(kind == SecretKind::kCertificate ? "certificate." : "user.",
                                   deleted.latest.name),
                      Action::kRecover);
      c.attributes.push_back({"value", "", kSensitiveValue});
      c.reasons.push_back(absl::StrCat("deleted at ", FormatPlanTime(deleted.deleted_date),
                                       ", by apply ", target_->id,
                                       " or after it; rotor recovers it from soft delete"));
    }
    if (!actual_.soft_delete_listing_available && !target_->deleted.empty()) {
      plan_.warnings.push_back(
          {"vault",
           absl::StrCat("apply ", target_->id, " deleted ", absl::StrJoin(target_->deleted, ", "),
                        ", and the vault's deleted secrets cannot be listed: they are "
                        "not recovered")});
    }
    for (const auto& name : target_->deleted) {
      if (actual_.FindSecret(name) == nullptr && actual_.FindDeleted(name) == nullptr &&
          actual_.soft_delete_listing_available && name.rfind('+', 0) != 0) {
        plan_.warnings.push_back(
            {absl::StrCat("secret.", name),
             absl::StrCat("apply ", target_->id,
                          " deleted it and it is no longer recoverable (purged, or the vault "
                          "has no soft delete): the rollback cannot bring it back")});
      }
    }
  }

  // The deployment the registry ran at the apply's time.
  const Deployment* DeploymentBefore() const {
    const Deployment* best = nullptr;
    // The apply id holds whole seconds, a deployment's timestamp a fraction:
    // one that finished within the apply's own second came before it (the
    // apply's own deployment is told by its tag).
    const absl::Time end_of_second = time_ + absl::Seconds(1);
    for (const auto& d : actual_.deployments) {
      if (!d.Succeeded() || d.timestamp >= end_of_second) continue;
      auto tag = d.tags.find(kApplyIdTag);
      if (tag != d.tags.end() && tag->second >= target_->id) continue;
      if (best == nullptr || d.timestamp > best->timestamp) best = &d;
    }
    return best;
  }

  absl::Status RollBackDeployment() {
    if (!desired_.deployment.has_value() || !actual_.deployments_read) return absl::OkStatus();
    if (!actual_.base_deployment.has_value()) return absl::OkStatus();
    const DesiredDeployment& want = *desired_.deployment;
    const Deployment& base = *actual_.base_deployment;
    const std::string url_param = want.ParameterName("pfx_key_vault_secret_url");
    const std::string thumb_param = want.ParameterName("pfx_thumbprint");
    const Deployment* before = DeploymentBefore();
    std::optional<diff_internal::DeploymentPlanInput::CertificatePin> pin;
    std::vector<std::string> reasons;
    if (before == nullptr) {
      if (!target_->deployment.empty()) {
        return absl::FailedPreconditionError(absl::StrCat(
            "apply ", target_->id, " made deployment ", target_->deployment,
            ", and no deployment succeeded before it: there is no earlier registry to go back to"));
      }
    } else {
      const std::string url = before->StringParameter(url_param);
      const std::string thumbprint = before->StringParameter(thumb_param);
      const std::string prefix = absl::StrCat(actual_.vault.base_url, "/secrets/");
      if (!url.empty() && url.rfind(prefix, 0) == 0) {
        std::string rest = url.substr(prefix.size());
        pin.emplace();
        pin->secret_name = rest.substr(0, rest.find('/'));
        pin->url = url;
        pin->thumbprint = thumbprint;
        if (base.StringParameter(url_param) != url ||
            SecretKey(base.StringParameter(thumb_param)) != SecretKey(thumbprint)) {
          reasons.push_back(absl::StrCat(
              "deployment ", before->name, ", which the registry ran before apply ", target_->id,
              ", passed ", url_param, " = ", url, " and ", thumb_param, " = ", thumbprint));
        }
      }
    }
    if (!plan_.changes.empty()) {
      reasons.push_back(absl::StrCat("this rollback changes ", plan_.changes.size(),
                                     plan_.changes.size() == 1 ? " secret" : " secrets",
                                     " that the registry VM reads only at deployment time"));
    }
    if (!base.Succeeded() && IsTerminalProvisioningState(base.provisioning_state)) {
      reasons.push_back(
          absl::StrCat("the latest deployment ", base.name, " is ", base.provisioning_state));
    }
    if (reasons.empty()) return absl::OkStatus();

    Change c;
    c.address = "deployment.registry";
    c.action = Action::kRedeploy;
    c.cause = Cause::kConfig;
    c.attributes.push_back({"deployment", base.name, kKnownAfterApply});
    if (pin.has_value()) {
      c.attributes.push_back({url_param, base.StringParameter(url_param), pin->url});
      c.attributes.push_back({thumb_param, base.StringParameter(thumb_param), pin->thumbprint});
    }
    c.reasons = std::move(reasons);
    diff_internal::DeploymentPlanInput input;
    input.desired = &desired_;
    input.actual = &actual_;
    input.secret_changes = &plan_.changes;
    input.now = now_;
    input.name_suffix = options_.deployment_suffix;
    input.logins_change = true;
    input.apply_id = options_.apply_id;
    input.rollback_of = target_->id;
    input.certificate = pin;
    absl::StatusOr<diff_internal::DeploymentPlanOutput> planned =
        diff_internal::PlanDeployment(input);
    if (!planned.ok()) {
      if (options_.require_deployable) return planned.status();
      plan_.changes.push_back(std::move(c));
      return absl::OkStatus();
    }
    c.attributes[0].after = planned->deployment.name;
    if (planned->deployment.set_force_update_tag) {
      c.attributes.push_back({"forceUpdateTag", "", kKnownAfterApply});
    }
    for (auto& r : planned->reasons) c.reasons.push_back(std::move(r));
    for (auto& w : planned->warnings) plan_.warnings.push_back(std::move(w));
    for (auto& v : planned->values) AddValue(v.key, std::move(v.source));
    c.deployment = std::move(planned->deployment);
    plan_.changes.push_back(std::move(c));
    return absl::OkStatus();
  }

  const DesiredState& desired_;
  const ActualState& actual_;
  const History& history_;
  const absl::Time now_;
  const RollbackOptions& options_;
  const ApplyRecord* target_ = nullptr;
  absl::Time time_;
  Plan plan_;
};

}  // namespace

absl::StatusOr<Plan> ComputeRollbackPlan(const DesiredState& desired, const ActualState& actual,
                                         const History& history, absl::Time now,
                                         const RollbackOptions& options) {
  RollbackBuilder builder(desired, actual, history, now, options);
  absl::StatusOr<Plan> plan = builder.Build();
  if (!plan.ok()) return plan.status();
  SortForExecution(plan->changes);
  return plan;
}

}  // namespace rotor
