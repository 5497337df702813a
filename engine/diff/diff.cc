#include "engine/diff/diff.h"

#include <algorithm>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "base/json_text.h"
#include "base/status_macros.h"
#include "engine/diff/deployment_plan.h"
#include "engine/diff/publishes.h"
#include "engine/diff/vm_logins.h"
#include "engine/model/apply_history.h"
#include "engine/model/registry_vm.h"
#include "engine/model/vault_values.h"

namespace rotor {
namespace {

bool IsUserKind(const SecretVersion& s) { return ClassifySecret(s) == SecretKind::kUser; }

bool IsCertificateKind(const SecretVersion& s) {
  return ClassifySecret(s) == SecretKind::kCertificate;
}

std::string DescribeAge(absl::Duration d) {
  int64_t days = absl::ToInt64Hours(d) / 24;
  if (days >= 1) return absl::StrCat(days, days == 1 ? " day" : " days");
  int64_t hours = absl::ToInt64Hours(d);
  if (hours >= 1) return absl::StrCat(hours, hours == 1 ? " hour" : " hours");
  return absl::StrCat(absl::ToInt64Minutes(d), " minutes");
}

// "2026-12-06 10:00 UTC": a retirement deadline for people.
std::string FormatRetireTime(absl::Time t) {
  return absl::FormatTime("%Y-%m-%d %H:%M UTC", t, absl::UTCTimeZone());
}

std::string DescribeDuration(absl::Duration d) {
  int64_t minutes = absl::ToInt64Minutes(d);
  if (minutes % (60 * 24) == 0) return absl::StrCat(minutes / (60 * 24), "d");
  if (minutes % 60 == 0) return absl::StrCat(minutes / 60, "h");
  return absl::StrCat(minutes, "m");
}

// The rank SortForExecution orders by.
int ActionRank(const Change& c) {
  switch (c.action) {
    case Action::kRecover:
      return 0;
    case Action::kCreate:
    case Action::kUpdate:
    case Action::kRetire:
      return c.Kind() == "deployment" ? 3 : 1;
    case Action::kDelete:
      return 2;
    case Action::kRedeploy:
      return 3;
    case Action::kNoOp:
      return 4;
  }
  return 4;
}

class PlanBuilder {
 public:
  PlanBuilder(const DesiredState& desired, const ActualState& actual, absl::Time now,
              const PlanOptions& options)
      : desired_(desired), actual_(actual), now_(now), options_(options) {}

  absl::StatusOr<Plan> Build() {
    RETURN_IF_ERROR(CheckReplace());
    plan_.config_path = desired_.config_path;
    plan_.config_digest = desired_.config_digest;
    plan_.vault = actual_.vault.name;
    plan_.apply_id = options_.apply_id;
    for (const auto& user : desired_.users) {
      declared_.insert(SecretKey(user.name));
      declared_users_.insert(SecretKey(user.name));
      DiffUser(user);
    }
    if (desired_.certificate.has_value()) {
      declared_.insert(SecretKey(desired_.certificate->secret_name));
      DiffCertificate(*desired_.certificate);
      RETURN_IF_ERROR(issue_error_);
    }
    DiffUndeclared();
    Lint();
    if (desired_.deployment.has_value()) {
      absl::Status status = DiffDeployment(*desired_.deployment);
      if (!status.ok()) return status;
    }
    if (options_.require_deployable) {
      RETURN_IF_ERROR(CheckVmLogins());
      RETURN_IF_ERROR(CheckCertificateHost());
    }
    SortForExecution(plan_.changes);
    Observe();
    absl::Status publishes = diff_internal::PlanPublishes(desired_, actual_, plan_);
    if (!publishes.ok() && options_.require_deployable) return publishes;
    return std::move(plan_);
  }

 private:
  Change& Add(std::string address, Action action, Cause cause) {
    Change& c = plan_.changes.emplace_back();
    c.address = std::move(address);
    c.action = action;
    c.cause = cause;
    return c;
  }

  absl::Status CheckReplace() {
    std::vector<std::string> replaceable;
    for (const auto& u : desired_.users) {
      if (u.generated) replaceable.push_back(absl::StrCat("user.", u.name));
    }
    if (desired_.certificate.has_value()) {
      replaceable.push_back(absl::StrCat("certificate.", desired_.certificate->secret_name));
    }
    for (const auto& address : options_.replace) {
      bool known = false;
      for (const auto& r : replaceable) known |= SecretKey(r) == SecretKey(address);
      if (known) continue;
      std::string why = "it is not a resource this configuration declares";
      for (const auto& u : desired_.users) {
        if (SecretKey(absl::StrCat("user.", u.name)) == SecretKey(address)) {
          why = absl::StrCat("its password comes from ", u.source,
                             ": give that source a new value instead");
        }
      }
      return absl::InvalidArgumentError(absl::StrCat(
          "--replace ", address, ": ", why, "; the resources --replace writes anew are ",
          replaceable.empty() ? "none here" : absl::StrJoin(replaceable, ", "),
          " (users with { generate = N }, and the certificate)"));
    }
    return absl::OkStatus();
  }

  bool Replaced(absl::string_view address) const {
    for (const auto& r : options_.replace) {
      if (SecretKey(r) == SecretKey(address)) return true;
    }
    return false;
  }

  void TagApply(SecretWrite& w) const {
    if (!options_.apply_id.empty()) w.tags[kApplyIdTag] = options_.apply_id;
  }

  // policy.retire_after: the user keeps its login until a deadline; its
  // current value is written again as a new version carrying it.
  void Retire(const SecretVersion& live) {
    const absl::Time deadline = now_ + *desired_.policy.retire_after;
    Change& c = Add(absl::StrCat("user.", live.name), Action::kRetire, Cause::kConfig);
    SecretWrite& w = c.write.emplace();
    w.name = live.name;
    w.content_type = kUserContentType;
    w.tags = RotorTags(kRoleUser);
    TagApply(w);
    w.tags[kRetireAtTag] = FormatPlanTime(deadline);
    w.value_key = VersionValueKey(live.name, live.version);
    AddValue(
        w.value_key,
        absl::StrCat("the current value of secret ", live.name,
                     live.version.empty() ? "" : absl::StrCat(" (version ", live.version, ")")));
    c.attributes.push_back({kRetiresAttribute, "", FormatRetireTime(deadline)});
    c.reasons.push_back(absl::StrCat(
        "not declared in ", desired_.config_path, " any more; policy.retire_after = \"",
        DescribeDuration(*desired_.policy.retire_after),
        "\" keeps its login until then so its clients can move to another user: rotor writes "
        "its value again as a new version tagged ",
        kRetireAtTag, ", and the first apply after the deadline deletes it"));
  }

  // The deadline a retiring user's latest version carries, if any.
  static std::optional<absl::Time> RetireDeadline(const SecretVersion& live) {
    auto tag = live.tags.find(kRetireAtTag);
    if (tag == live.tags.end() || !live.ManagedByRotor()) return std::nullopt;
    absl::Time t;
    std::string err;
    if (!absl::ParseTime(absl::RFC3339_full, tag->second, &t, &err)) return std::nullopt;
    return t;
  }

  // The new version a user change writes: the declared value, or a fresh
  // generated one.
  void WriteUser(Change& c, const DesiredUser& user) {
    SecretWrite& w = c.write.emplace();
    w.name = user.name;
    w.content_type = kUserContentType;
    w.tags = RotorTags(kRoleUser);
    TagApply(w);
    if (user.generated) {
      w.generate_length = user.generate_length;
      return;
    }
    w.value_key = absl::StrCat("user.", user.name);
    AddValue(w.value_key, absl::StrCat("user[", user.name, "].password (", user.source, ")"));
  }

  void WriteCertificate(Change& c, const DesiredCertificate& cert) {
    SecretWrite& w = c.write.emplace();
    w.name = cert.secret_name;
    w.content_type = cert.content_type;
    w.tags = RotorTags(kRoleCertificate);
    TagApply(w);
    w.value_key = absl::StrCat("certificate.", cert.secret_name);
    AddValue(w.value_key, absl::StrCat("[certificate] pfx (", cert.pfx_path, ") and password (",
                                       cert.password_source, ")"));
  }

  // The one rule for causes (docs/DESIGN.md, "Drift and redeploy"): drift
  // when the live state moved away from what rotor last left, or adopted,
  // outside rotor; config when the file asks for something new. A secret's
  // latest version written by rotor is rotor's; one written by someone else
  // before the last successful deployment is the state the registry runs
  // (what rotor adopts); one written after it moved outside rotor.
  // Key Vault stamps secrets to the second; the deployment's timestamp has a
  // fraction. A write in the deployment's own second counts as after it.
  // "What rotor last left" is its own last successful deployment; before
  // rotor ever deployed, the registry as it was adopted (the last successful
  // deployment, by whomever). A portal redeploy after rotor's does not make
  // what someone wrote by hand rotor's.
  const Deployment* LastLeft() const {
    const Deployment* left = nullptr;
    for (const Deployment& d : actual_.deployments) {
      const auto managed = d.tags.find(kManagedByTag);
      if (!d.Succeeded() || managed == d.tags.end() || managed->second != kManagedByValue) continue;
      if (left == nullptr || d.timestamp > left->timestamp) left = &d;
    }
    if (left == nullptr && actual_.last_successful_deployment.has_value()) {
      left = &*actual_.last_successful_deployment;
    }
    return left;
  }
  absl::Time DeployedAt() const {
    const Deployment* left = LastLeft();
    return left != nullptr ? absl::FromUnixSeconds(absl::ToUnixSeconds(left->timestamp))
                           : absl::InfinitePast();
  }
  bool LastDeploymentByRotor() const {
    if (!actual_.last_successful_deployment.has_value()) return false;
    auto tag = actual_.last_successful_deployment->tags.find(kManagedByTag);
    return tag != actual_.last_successful_deployment->tags.end() && tag->second == kManagedByValue;
  }
  Cause CauseOf(const SecretVersion& live) const {
    if (!live.enabled) return Cause::kDrift;  // rotor never disables
    if (live.ManagedByRotor()) return Cause::kConfig;
    return live.updated >= DeployedAt() ? Cause::kDrift : Cause::kConfig;
  }
  Cause CauseOf(const DeletedSecret& deleted) const {
    // rotor's own deployment names what its apply deleted (kDeletedTag):
    // such a delete is rotor's, even within the deployment's second.
    if (DeletedByLastDeployment(deleted.latest.name)) return Cause::kConfig;
    return deleted.deleted_date >= DeployedAt() ? Cause::kDrift : Cause::kConfig;
  }
  bool DeletedByLastDeployment(const std::string& name) const {
    const Deployment* left = LastLeft();
    if (left == nullptr) return false;
    const auto& tags = left->tags;
    auto it = tags.find(kDeletedTag);
    if (it == tags.end()) return false;
    for (absl::string_view n : absl::StrSplit(it->second, ',')) {
      if (absl::EqualsIgnoreCase(n, name)) return true;
    }
    return false;
  }

  void AddValue(const std::string& key, std::string source) {
    if (plan_.FindValue(key) == nullptr) plan_.values.push_back({key, std::move(source), ""});
  }

  void DiffUser(const DesiredUser& user) {
    std::string address = absl::StrCat("user.", user.name);
    const SecretVersion* live = actual_.FindSecret(user.name);
    if (live == nullptr) {
      if (const DeletedSecret* deleted = actual_.FindDeleted(user.name)) {
        Change& c = Add(address, Action::kRecover, CauseOf(*deleted));
        c.attributes.push_back({"value", "", kSensitiveValue});
        c.reasons.push_back(absl::StrCat(
            "the secret was deleted at ", FormatPlanTime(deleted->deleted_date),
            " and its name is still held by the vault's soft delete; rotor recovers it",
            user.generated ? " (keeping the generated password it held)"
                           : absl::StrCat(" and writes the value from ", user.source)));
        if (!user.generated) WriteUser(c, user);
        return;
      }
      Change& c = Add(address, Action::kCreate, Cause::kConfig);
      WriteUser(c, user);
      c.attributes.push_back({"value", "", kSensitiveValue});
      c.attributes.push_back({"content_type", "", kUserContentType});
      c.reasons.push_back(absl::StrCat(
          "declared in ", desired_.config_path, " but absent from vault ", actual_.vault.name,
          user.generated
              ? absl::StrCat("; a ", user.generate_length, "-character password will be generated")
              : ""));
      return;
    }
    if (!live->enabled) {
      Change& c = Add(address, Action::kUpdate, Cause::kDrift);
      WriteUser(c, user);
      c.attributes.push_back({"enabled", "false", "true"});
      c.attributes.push_back({"value", kSensitiveValue, kSensitiveValue});
      c.reasons.push_back(
          "its latest version is disabled, so the registry cannot read it; rotor writes a "
          "new enabled version");
      return;
    }
    if (RetireDeadline(*live).has_value() && !Replaced(address)) {
      // Declared again while it was retiring: a version without the deadline.
      Change& c = Add(address, Action::kUpdate, Cause::kConfig);
      if (user.generated) {
        SecretWrite& w = c.write.emplace();
        w.name = user.name;
        w.content_type = kUserContentType;
        w.tags = RotorTags(kRoleUser);
        TagApply(w);
        w.value_key = VersionValueKey(live->name, live->version);
        AddValue(w.value_key, absl::StrCat("the current value of secret ", live->name));
      } else {
        WriteUser(c, user);
      }
      c.attributes.push_back({kRetireAtTag, live->tags.at(kRetireAtTag), ""});
      c.reasons.push_back(
          "declared again while it was retiring (policy.retire_after): rotor writes a version "
          "without its deadline, so it is not deleted");
      return;
    }
    if (user.generated) {
      if (Replaced(address)) {
        Change& c = Add(address, Action::kUpdate, Cause::kConfig);
        WriteUser(c, user);
        c.attributes.push_back({"value", kSensitiveValue, kSensitiveValue});
        c.reasons.push_back("--replace: a new generated password");
        return;
      }
      if (user.rotate_after.has_value() && now_ - live->updated >= *user.rotate_after) {
        Change& c = Add(address, Action::kUpdate, Cause::kConfig);
        WriteUser(c, user);
        c.attributes.push_back({"value", kSensitiveValue, kSensitiveValue});
        c.reasons.push_back(absl::StrCat("rotate_after = \"", DescribeDuration(*user.rotate_after),
                                         "\" has elapsed: last rotated ",
                                         FormatPlanTime(live->updated), " (",
                                         DescribeAge(now_ - live->updated), " ago)"));
      }
      return;
    }
    const Secret* value = actual_.FindValue(user.name);
    if (value != nullptr && value->Equals(user.password)) return;
    bool by_rotor = live->ManagedByRotor();
    Change& c = Add(address, Action::kUpdate, CauseOf(*live));
    WriteUser(c, user);
    c.attributes.push_back({"value", kSensitiveValue, kSensitiveValue});
    if (by_rotor) {
      c.reasons.push_back(absl::StrCat("the value from ", user.source,
                                       " differs from the latest version in the vault"));
    } else {
      c.reasons.push_back(
          absl::StrCat("the latest version (written ", FormatPlanTime(live->updated),
                       ") was not written by rotor and differs from the value from ", user.source));
    }
  }

  // The names an issued certificate is for: declared (or [registry] url's
  // host, BuildDesired), else the registry's name from the deployment's
  // pipDomainNameLabel.
  absl::StatusOr<std::vector<std::string>> IssueNames(const DesiredIssuance& issuance) const {
    if (!issuance.dns_names.empty()) return issuance.dns_names;
    std::string why = "there is no deployment to read pipDomainNameLabel from";
    if (actual_.base_deployment.has_value()) {
      auto url = RegistryUrlFromDeployment(desired_.arm_endpoint, *actual_.base_deployment);
      if (url.ok()) return std::vector<std::string>{UrlHost(*url)};
      why = std::string(url.status().message());
    }
    return absl::FailedPreconditionError(absl::StrCat(
        "[certificate] dns_names: the names to issue the certificate for are not known (no "
        "dns_names, no [registry] url, and ",
        why, "); set [certificate] dns_names or [registry] url"));
  }

  void WriteIssuedCertificate(Change& c, const DesiredCertificate& cert,
                              std::vector<std::string> names, bool reuse_key) {
    const DesiredIssuance& issuance = *cert.issuance;
    SecretWrite& w = c.write.emplace();
    w.name = cert.secret_name;
    w.content_type = cert.content_type;
    w.tags = RotorTags(kRoleCertificate);
    TagApply(w);
    PlannedIssuance& issue = w.issue.emplace();
    issue.issuer = issuance.kind;
    issue.describe = issuance.describe;
    issue.dns_names = std::move(names);
    issue.key_type = issuance.key_type;
    issue.reuse_key = reuse_key;
    issue.min_valid_days = issuance.min_valid_days;
    issue.ca_bundle = issuance.ca_bundle;
  }

  // "15 days < renew_before 30d" when the certificate is due, nullopt when
  // not: due once it expires within renew_before (a time, or a share of its
  // lifetime, a third by default).
  std::optional<std::string> RenewalDue(const DesiredIssuance& issuance,
                                        const ActualCertificate& current) const {
    absl::Duration window;
    std::string rule;
    if (issuance.renew_before.has_value()) {
      window = *issuance.renew_before;
      rule = absl::StrCat("renew_before ", issuance.renew_before_text);
    } else {
      const absl::Duration lifetime = current.not_after - current.not_before;
      window = issuance.renew_before_percent > 0 ? lifetime * issuance.renew_before_percent / 100
                                                 : lifetime / 3;
      rule = absl::StrCat("renew_before ",
                          issuance.renew_before_percent > 0 ? issuance.renew_before_text
                                                            : "a third of its lifetime",
                          " (", DescribeAge(window), ")");
    }
    const absl::Duration left = current.not_after - now_;
    if (left > window) return std::nullopt;
    const std::string expires =
        absl::FormatTime("%Y-%m-%d", current.not_after, absl::UTCTimeZone());
    if (left <= absl::ZeroDuration()) return absl::StrCat("expired ", expires, ", ", rule);
    return absl::StrCat("expires ", expires, ", ", DescribeAge(left), " < ", rule);
  }

  // A certificate an issuer makes: created when the vault has none, renewed
  // when it is due (whoever wrote the current one: a PFX rotor uploaded
  // before keeps serving until then), never compared with a file.
  void DiffIssuedCertificate(const DesiredCertificate& cert) {
    const DesiredIssuance& issuance = *cert.issuance;
    const std::string address = absl::StrCat("certificate.", cert.secret_name);
    const SecretVersion* live = actual_.FindSecret(cert.secret_name);
    auto it = actual_.certificates.find(SecretKey(cert.secret_name));
    const ActualCertificate* current = it == actual_.certificates.end() ? nullptr : &it->second;
    const bool readable =
        live != nullptr && live->enabled && current != nullptr && !current->thumbprint.empty();

    Action action = Action::kUpdate;
    Cause cause = Cause::kConfig;
    std::string reason;
    std::string renewal;
    if (live == nullptr) {
      if (const DeletedSecret* deleted = actual_.FindDeleted(cert.secret_name)) {
        action = Action::kRecover;
        cause = CauseOf(*deleted);
        reason = absl::StrCat("the secret was deleted at ", FormatPlanTime(deleted->deleted_date),
                              " and is still recoverable; rotor recovers it, then writes a "
                              "certificate from ",
                              issuance.describe, " as a new version");
      } else {
        action = Action::kCreate;
        reason = absl::StrCat("declared in ", desired_.config_path, " but absent from vault ",
                              actual_.vault.name, "; rotor issues it from ", issuance.describe);
      }
    } else if (!live->enabled) {
      cause = Cause::kDrift;
      reason = absl::StrCat(
          "its latest version is disabled; rotor writes a new enabled version "
          "with a certificate from ",
          issuance.describe);
    } else if (!readable) {
      cause = Cause::kDrift;
      reason = absl::StrCat("the latest version does not hold a readable certificate (",
                            current ? current->decode_error : "not read",
                            "); rotor issues one from ", issuance.describe);
    } else if (Replaced(address)) {
      reason = absl::StrCat("--replace: a new certificate from ", issuance.describe);
    } else if (std::optional<std::string> due = RenewalDue(issuance, *current)) {
      renewal = *due;
      reason = absl::StrCat("the certificate ", *due, ": rotor issues a new one from ",
                            issuance.describe);
    } else {
      return;  // not due
    }
    absl::StatusOr<std::vector<std::string>> names = IssueNames(issuance);
    if (!names.ok()) {
      if (issue_error_.ok()) issue_error_ = names.status();
      return;
    }
    Change& c = Add(address, action, cause);
    const std::string shown_names = absl::StrJoin(*names, ", ");
    WriteIssuedCertificate(c, cert, *std::move(names), issuance.reuse_key && readable);
    const bool known = readable;
    if (!renewal.empty()) c.attributes.push_back({kRenewalAttribute, "", renewal});
    c.attributes.push_back({"issuer", "", issuance.describe});
    c.attributes.push_back({"thumbprint", known ? current->thumbprint : "", kKnownAfterApply});
    c.attributes.push_back(
        {"dns_names", known ? absl::StrJoin(current->dns_names, ", ") : "", shown_names});
    c.attributes.push_back({"key", "", issuance.key_type});
    c.attributes.push_back(
        {"not_after", known ? FormatPlanTime(current->not_after) : "", kKnownAfterApply});
    c.attributes.push_back({"value", live != nullptr ? kSensitiveValue : "", kSensitiveValue});
    c.reasons.push_back(std::move(reason));
  }

  void DiffCertificate(const DesiredCertificate& cert) {
    if (cert.issuance.has_value()) {
      DiffIssuedCertificate(cert);
      return;
    }
    std::string address = absl::StrCat("certificate.", cert.secret_name);
    auto add_attributes = [&](Change& c, const ActualCertificate* before) {
      bool known = before != nullptr && !before->thumbprint.empty();
      c.attributes.push_back({"thumbprint", known ? before->thumbprint : "", cert.thumbprint});
      c.attributes.push_back({"subject", known ? before->subject : "", cert.subject});
      c.attributes.push_back({"dns_names", known ? absl::StrJoin(before->dns_names, ", ") : "",
                              absl::StrJoin(cert.dns_names, ", ")});
      c.attributes.push_back({"issuer", known ? before->issuer : "", cert.issuer});
      c.attributes.push_back({"not_after", known ? FormatPlanTime(before->not_after) : "",
                              FormatPlanTime(cert.not_after)});
      c.attributes.push_back({"value", before ? kSensitiveValue : "", kSensitiveValue});
    };
    const SecretVersion* live = actual_.FindSecret(cert.secret_name);
    if (live == nullptr) {
      if (const DeletedSecret* deleted = actual_.FindDeleted(cert.secret_name)) {
        Change& c = Add(address, Action::kRecover, CauseOf(*deleted));
        WriteCertificate(c, cert);
        add_attributes(c, nullptr);
        c.reasons.push_back(
            absl::StrCat("the secret was deleted at ", FormatPlanTime(deleted->deleted_date),
                         " and is still recoverable; rotor recovers it, then writes ",
                         cert.pfx_path, " as a new version"));
        return;
      }
      Change& c = Add(address, Action::kCreate, Cause::kConfig);
      WriteCertificate(c, cert);
      add_attributes(c, nullptr);
      c.reasons.push_back(absl::StrCat("declared in ", desired_.config_path,
                                       " but absent from vault ", actual_.vault.name));
      return;
    }
    auto it = actual_.certificates.find(SecretKey(cert.secret_name));
    const ActualCertificate* current = it == actual_.certificates.end() ? nullptr : &it->second;
    if (current != nullptr && current->thumbprint == cert.thumbprint && live->enabled) {
      if (!Replaced(address)) return;
      Change& c = Add(address, Action::kUpdate, Cause::kConfig);
      WriteCertificate(c, cert);
      add_attributes(c, current);
      c.reasons.push_back(absl::StrCat("--replace: ", cert.pfx_path, " uploaded as a new version"));
      return;
    }
    bool by_rotor = live->ManagedByRotor();
    Change& c = Add(address, Action::kUpdate, CauseOf(*live));
    WriteCertificate(c, cert);
    add_attributes(c, current);
    if (!live->enabled) {
      c.cause = Cause::kDrift;
      c.reasons.push_back("its latest version is disabled; rotor writes a new enabled version");
    } else if (current == nullptr || current->thumbprint.empty()) {
      c.cause = Cause::kDrift;
      c.reasons.push_back(absl::StrCat("the latest version does not hold a readable certificate (",
                                       current ? current->decode_error : "not read", ")"));
    } else {
      c.reasons.push_back(absl::StrCat(
          "the thumbprint of ", cert.pfx_path, " differs from the certificate in the vault",
          by_rotor ? "" : " (whose latest version was not written by rotor)"));
    }
  }

  void DiffUndeclared() {
    for (const auto& [key, live] : actual_.secrets) {
      if (declared_.count(key) > 0) continue;
      // rotor's own ACME account key: expected, whatever the config says.
      if (IsAcmeAccount(live)) continue;
      if (IsUserKind(live)) {
        std::optional<absl::Time> deadline = RetireDeadline(live);
        if (desired_.policy.delete_stale_users && deadline.has_value()) {
          if (now_ < *deadline) continue;  // retiring: expected, nothing to do yet
          Change& c = Add(absl::StrCat("stale_user.", live.name), Action::kDelete, Cause::kConfig);
          c.attributes.push_back({"value", kSensitiveValue, ""});
          c.reasons.push_back(absl::StrCat("retired: its deadline (", FormatPlanTime(*deadline),
                                           ", policy.retire_after) has passed; while it exists "
                                           "it stays a valid registry login"));
          continue;
        }
        if (desired_.policy.delete_stale_users && desired_.policy.retire_after.has_value() &&
            CauseOf(live) == Cause::kConfig) {
          Retire(live);
          continue;
        }
        if (desired_.policy.delete_stale_users) {
          Change& c = Add(absl::StrCat("stale_user.", live.name), Action::kDelete, CauseOf(live));
          c.attributes.push_back({"value", kSensitiveValue, ""});
          c.reasons.push_back(
              absl::StrCat("not declared in ", desired_.config_path, ", and ",
                           live.tags.count(kRoleTag) > 0
                               ? "tagged by rotor as a registry user"
                               : "its content type \"user credentials\" marks it a registry user",
                           "; while it exists it stays a valid registry login"));
        } else {
          plan_.warnings.push_back(
              {absl::StrCat("secret.", live.name),
               "not declared but kept because policy.delete_stale_users = false; it remains a "
               "registry login"});
        }
        continue;
      }
      if (IsCertificateKind(live)) {
        bool managed = live.ManagedByRotor();
        if (desired_.policy.delete_stale_certificates && managed &&
            desired_.certificate.has_value()) {
          Change& c =
              Add(absl::StrCat("stale_certificate.", live.name), Action::kDelete, Cause::kConfig);
          c.attributes.push_back({"value", kSensitiveValue, ""});
          c.reasons.push_back(
              absl::StrCat("a certificate secret written by rotor that the config no longer names "
                           "(the certificate is now \"",
                           desired_.certificate->secret_name,
                           "\") and policy.delete_stale_certificates = true"));
        }
        continue;
      }
      const Secret* value = actual_.FindValue(live.name);
      if (value != nullptr && value->size() <= kMaxLoginSecretLength && live.enabled) {
        using Other = PolicyConfig::OtherShortSecrets;
        if (desired_.policy.other_short_secrets == Other::kDelete) {
          Change& c = Add(absl::StrCat("stale_secret.", live.name), Action::kDelete, CauseOf(live));
          c.attributes.push_back({"value", kSensitiveValue, ""});
          c.reasons.push_back(absl::StrCat("not declared, and short enough (", value->size(),
                                           " characters) for the registry VM to turn into a login; "
                                           "policy.other_short_secrets = \"delete\""));
          continue;
        }
        if (desired_.policy.other_short_secrets == Other::kRefuse) {
          other_short_secrets_.push_back(live.name);
        }
        plan_.warnings.push_back(
            {absl::StrCat("secret.", live.name),
             absl::StrCat("not declared, and its value is short enough (", value->size(),
                          " characters) for the registry VM to turn it into a login named \"",
                          live.name, "\"; declare it as a [[user]] or delete it")});
      }
    }
  }

  void Lint() {
    if (desired_.certificate.has_value()) {
      const DesiredCertificate& cert = *desired_.certificate;
      for (const auto& line : cert.checks) plan_.certificate_checks.push_back(line);
      absl::Duration left = cert.not_after - now_;
      if (left > absl::ZeroDuration() && left < absl::Hours(24) * cert.warn_days) {
        plan_.warnings.push_back(
            {"certificate",
             absl::StrCat(cert.pfx_path, " expires at ", FormatPlanTime(cert.not_after), ", in ",
                          DescribeAge(left), " (warn_days = ", cert.warn_days,
                          "); order its replacement")});
      }
    }
    for (const auto& [key, live] : actual_.secrets) {
      if (!live.enabled && (IsUserKind(live) || declared_users_.count(key) > 0)) {
        plan_.warnings.push_back(
            {absl::StrCat("secret.", live.name),
             "its latest version is disabled: the registry VM cannot read it, so this user has "
             "no login"});
      }
    }
  }

  // The user secrets written or deleted after `since`: by rotor (an apply
  // that stopped before its redeploy) and by someone else.
  void CollectLateSecretChanges(absl::Time since, std::vector<std::string>* by_rotor,
                                std::vector<std::string>* by_hand) {
    for (const auto& [key, live] : actual_.secrets) {
      bool is_user = IsUserKind(live) || IsDeclaredUser(key);
      if (is_user && live.updated > since) {
        (live.ManagedByRotor() ? by_rotor : by_hand)
            ->push_back(absl::StrCat("secret ", live.name, " was written at ",
                                     FormatPlanTime(live.updated),
                                     live.ManagedByRotor() ? " by rotor" : ""));
      }
    }
    for (const auto& [key, deleted] : actual_.deleted) {
      if ((IsUserKind(deleted.latest) || IsDeclaredUser(key)) && deleted.deleted_date > since) {
        by_hand->push_back(absl::StrCat("secret ", deleted.latest.name, " was deleted at ",
                                        FormatPlanTime(deleted.deleted_date)));
      }
    }
  }

  bool IsDeclaredUser(const std::string& key) const { return declared_users_.count(key) > 0; }

  // The logins as the vault holds them now, for LoginDigest.
  std::map<std::string, std::string> CurrentLoginStamps() const {
    std::map<std::string, std::string> stamps;
    for (const auto& [key, live] : actual_.secrets) {
      if (IsUserKind(live) || IsDeclaredUser(key)) stamps[key] = LoginStamp(live);
    }
    return stamps;
  }

  // A certificate the plan writes or passes must serve the registry's host:
  // [registry] url's, else the name the deployment's pipDomainNameLabel
  // gives, else every name of the certificate it replaces.
  absl::Status CheckCertificateHost() {
    if (!desired_.certificate.has_value()) return absl::OkStatus();
    const DesiredCertificate& cert = *desired_.certificate;
    bool passes = false;
    const PlannedIssuance* issued = nullptr;
    for (const auto& c : plan_.changes) {
      passes |= c.Kind() == "certificate" || c.deployment;
      if (c.Kind() == "certificate" && c.write.has_value() && c.write->issue.has_value()) {
        issued = &*c.write->issue;
      }
    }
    if (!passes) return absl::OkStatus();
    // The PFX's names, or those the certificate is issued for now (one an
    // issuer made before was checked when it was issued).
    if (cert.issuance.has_value() ? issued == nullptr : cert.thumbprint.empty()) {
      return absl::OkStatus();
    }
    const std::vector<std::string>& names = issued != nullptr ? issued->dns_names : cert.dns_names;
    const std::string what = issued != nullptr
                                 ? std::string("[certificate] dns_names")
                                 : absl::StrCat("[certificate] pfx (", cert.pfx_path, ")");
    std::vector<std::string> hosts;
    std::string from;
    if (!desired_.registry_url.empty()) {
      hosts.push_back(UrlHost(desired_.registry_url));
      from = "[registry] url";
    } else if (actual_.base_deployment.has_value()) {
      auto url = RegistryUrlFromDeployment(desired_.arm_endpoint, *actual_.base_deployment);
      if (url.ok()) {
        hosts.push_back(UrlHost(*url));
        from = absl::StrCat("deployment ", actual_.base_deployment->name, "'s ",
                            kDomainLabelParameter);
      }
    }
    if (hosts.empty()) {
      auto replaced = actual_.certificates.find(SecretKey(cert.secret_name));
      if (replaced != actual_.certificates.end()) hosts = replaced->second.dns_names;
      from = "the certificate it replaces";
    }
    std::vector<std::string> missing;
    for (const auto& host : hosts) {
      if (!CertificateCoversHost(names, host)) missing.push_back(host);
    }
    if (missing.empty()) return absl::OkStatus();
    return absl::FailedPreconditionError(absl::StrCat(
        what, ": the certificate is for ",
        names.empty() ? "no DNS name" : absl::StrJoin(names, ", "), ", which does not cover ",
        absl::StrJoin(missing, ", "), " (from ", from,
        "); the registry would serve a certificate its clients refuse. Issue it for ",
        absl::StrJoin(missing, ", "), ", or set [registry] url to the host it is for"));
  }

  // The live state's facts a monitor watches (Plan::observed).
  void Observe() {
    Observed& o = plan_.observed;
    o.at = absl::FromUnixSeconds(absl::ToUnixSeconds(now_));
    if (desired_.certificate.has_value()) {
      auto cert = actual_.certificates.find(SecretKey(desired_.certificate->secret_name));
      if (cert != actual_.certificates.end() && !cert->second.thumbprint.empty()) {
        o.certificate = ObservedCertificate{desired_.certificate->secret_name,
                                            cert->second.thumbprint, cert->second.not_after};
      }
    }
    for (const auto& [key, live] : actual_.secrets) {
      if (!IsDeclaredUser(key) && !IsUserKind(live)) continue;
      o.logins.push_back({live.name, live.updated, live.enabled});
    }
    const diff_internal::VmPage page = diff_internal::ReadVmPage(desired_, actual_);
    o.vault_secrets = page.secrets;
    o.vm_first_page_logins = page.first_page_logins;
    o.vm_logins_beyond_first_page = page.logins_beyond;
    if (actual_.last_successful_deployment.has_value()) {
      o.last_successful_deployment = actual_.last_successful_deployment->timestamp;
    }
  }

  // What the registry VM will do with the vault as this plan leaves it.
  absl::Status CheckVmLogins() {
    diff_internal::VmLoginReport report =
        diff_internal::CheckVmLogins(desired_, actual_, plan_.changes);
    if (report.redeploy) {
      for (const auto& name : other_short_secrets_) {
        report.errors.push_back(absl::StrCat(
            "secret ", name,
            " is not declared, yet short enough for the registry VM to turn into a login when "
            "this plan redeploys: declare it as a [[user]], delete it, or set "
            "policy.other_short_secrets = \"delete\" (rotor deletes it) or \"keep\" (it stays a "
            "login)"));
      }
    }
    for (auto& w : report.warnings) plan_.warnings.push_back(std::move(w));
    if (report.errors.empty()) return absl::OkStatus();
    return absl::FailedPreconditionError(absl::StrCat(
        "the registry VM would break on this plan:\n  ", absl::StrJoin(report.errors, "\n  ")));
  }

  absl::Status DiffDeployment(const DesiredDeployment& deployment) {
    const std::string address = "deployment.registry";
    if (!actual_.deployments_read) return absl::OkStatus();
    WarnRunningDeployments();
    if (actual_.deployments.empty()) {
      if (deployment.template_json.empty()) {
        return absl::FailedPreconditionError(absl::StrCat(
            "resource group ", deployment.resource_group,
            " has no deployment yet: deploy the registry template first (the Azure Stack Hub "
            "marketplace item or az deployment group create), or name a template file in "
            "[deployment] template with its [deployment.parameters] so rotor makes the first "
            "deployment"));
      }
      Change c;
      c.address = address;
      c.action = Action::kCreate;
      c.cause = Cause::kConfig;
      c.attributes.push_back({"deployment", "", kKnownAfterApply});
      c.attributes.push_back({"template", "", deployment.template_file});
      c.attributes.push_back({"resource_group", "", deployment.resource_group});
      AddCertificateAttributes(c, nullptr);
      c.reasons.push_back(absl::StrCat("resource group ", deployment.resource_group,
                                       " has no deployment yet; rotor makes the first one from ",
                                       deployment.template_file));
      RETURN_IF_ERROR(AttachDeployment(c, /*logins_change=*/true));
      plan_.changes.push_back(std::move(c));
      return absl::OkStatus();
    }
    if (!actual_.base_deployment.has_value()) {
      return absl::NotFoundError(absl::StrCat("deployment \"", deployment.name,
                                              "\" not found in resource group ",
                                              deployment.resource_group));
    }
    const Deployment& base = *actual_.base_deployment;
    std::vector<std::string> config_reasons, drift_reasons;

    int secret_changes = 0;
    bool all_drift = true;
    for (const auto& c : plan_.changes) {
      if (c.Kind() == "deployment" || c.action == Action::kNoOp) continue;
      ++secret_changes;
      if (c.cause != Cause::kDrift) all_drift = false;
    }
    if (secret_changes > 0) {
      (all_drift ? drift_reasons : config_reasons)
          .push_back(absl::StrCat("this plan changes ", secret_changes,
                                  secret_changes == 1 ? " secret" : " secrets",
                                  " that the registry VM reads only at deployment time"));
    }

    if (desired_.certificate.has_value() && !CertificateChangePlanned()) {
      const std::string url_param = deployment.ParameterName("pfx_key_vault_secret_url");
      const std::string thumb_param = deployment.ParameterName("pfx_thumbprint");
      const SecretVersion* live = actual_.FindSecret(desired_.certificate->secret_name);
      std::string deployed_url = ParameterString(base, url_param);
      std::string deployed_thumb = ParameterString(base, thumb_param);
      // rotor's own write not yet deployed (an apply that stopped) is
      // pending config; anyone else's is drift.
      // So is a certificate rotor wrote that rotor's own last deployment
      // does not pass (after a rollback).
      std::vector<std::string>& pfx_reasons =
          live != nullptr && live->ManagedByRotor() &&
                  (live->updated >= DeployedAt() || LastDeploymentByRotor())
              ? config_reasons
              : drift_reasons;
      if (live != nullptr && deployed_url != live->id) {
        pfx_reasons.push_back(absl::StrCat("deployment ", base.name, " passes ", url_param, " = ",
                                           deployed_url.empty() ? "(none)" : deployed_url,
                                           " but the certificate's current version is ", live->id));
      }
      const std::string thumbprint =
          diff_internal::PlannedCertificateThumbprint(desired_, actual_, plan_.changes);
      if (!thumbprint.empty() && !EqualsIgnoreCase(deployed_thumb, thumbprint)) {
        pfx_reasons.push_back(absl::StrCat("deployment ", base.name, " passes ", thumb_param, " = ",
                                           deployed_thumb.empty() ? "(none)" : deployed_thumb,
                                           " but the certificate's thumbprint is ", thumbprint));
      }
    }

    LintDeployedThumbprint(deployment, base);

    bool late_user_changes = false;
    if (actual_.last_successful_deployment.has_value()) {
      const Deployment& last = *actual_.last_successful_deployment;
      std::vector<std::string> by_rotor, by_hand;
      CollectLateSecretChanges(last.timestamp, &by_rotor, &by_hand);
      late_user_changes = !by_rotor.empty() || !by_hand.empty();
      auto describe = [&](std::vector<std::string>& late) {
        std::string shown =
            absl::StrJoin(late.begin(), late.begin() + std::min<size_t>(3, late.size()), "; ");
        if (late.size() > 3) absl::StrAppend(&shown, "; and ", late.size() - 3, " more");
        return absl::StrCat(shown, ", after the last successful deployment (", last.name, " at ",
                            FormatPlanTime(last.timestamp), ")");
      };
      if (!by_rotor.empty()) config_reasons.push_back(describe(by_rotor));
      if (!by_hand.empty()) drift_reasons.push_back(describe(by_hand));
      // The logins the registry VM took at rotor's last deployment.
      auto tag = last.tags.find(kLoginsTag);
      if (!late_user_changes && tag != last.tags.end() &&
          tag->second != LoginDigest(CurrentLoginStamps())) {
        late_user_changes = true;
        drift_reasons.push_back(
            absl::StrCat("the vault's logins are not the ones the registry VM took at deployment ",
                         last.name, " (a user secret was added, written or deleted since)"));
      }
    } else {
      drift_reasons.push_back(absl::StrCat("no deployment in resource group ",
                                           deployment.resource_group, " has succeeded"));
    }
    // A base still running is said by WarnRunningDeployments.
    if (!base.Succeeded() && actual_.last_successful_deployment.has_value() &&
        IsTerminalProvisioningState(base.provisioning_state)) {
      const bool by_rotor =
          base.tags.count(kManagedByTag) > 0 && base.tags.at(kManagedByTag) == kManagedByValue;
      (by_rotor ? config_reasons : drift_reasons)
          .push_back(
              absl::StrCat("the latest deployment ", base.name, " is ", base.provisioning_state));
    }
    if (config_reasons.empty() && drift_reasons.empty()) return absl::OkStatus();

    Change c;
    c.address = address;
    c.action = Action::kRedeploy;
    c.cause = config_reasons.empty() ? Cause::kDrift : Cause::kConfig;
    c.attributes.push_back({"deployment", base.name, kKnownAfterApply});
    AddCertificateAttributes(c, &base);
    for (auto& r : config_reasons) c.reasons.push_back(std::move(r));
    for (auto& r : drift_reasons) c.reasons.push_back(std::move(r));
    bool logins_change = !base.Succeeded() || late_user_changes;
    for (const auto& other : plan_.changes) {
      if (other.Kind() != "certificate" && other.Kind() != "stale_certificate") {
        logins_change = true;
      }
    }
    RETURN_IF_ERROR(AttachDeployment(c, logins_change));
    plan_.changes.push_back(std::move(c));
    return absl::OkStatus();
  }

  // Every deployment of the resource group still running (Accepted,
  // Running, ...): said by every plan and apply, with nothing else to do
  // too, since apply waits for it before redeploying and the registry VM may
  // be about to read the vault again.
  void WarnRunningDeployments() {
    for (const Deployment& d : actual_.deployments) {
      if (IsTerminalProvisioningState(d.provisioning_state)) continue;
      std::string since;
      if (d.timestamp > absl::UnixEpoch())
        since = absl::StrCat(" since ", FormatPlanTime(d.timestamp));
      plan_.warnings.push_back(
          {"deployment", absl::StrCat("deployment ", d.name, " is ", d.provisioning_state, since,
                                      "; apply waits for it to finish before redeploying")});
    }
  }

  // What the deployment change sends, with the checks that it can go out.
  absl::Status AttachDeployment(Change& c, bool logins_change) {
    diff_internal::DeploymentPlanInput input;
    input.desired = &desired_;
    input.actual = &actual_;
    input.secret_changes = &plan_.changes;
    input.now = now_;
    input.name_suffix = options_.deployment_suffix;
    input.logins_change = logins_change;
    input.apply_id = options_.apply_id;
    absl::StatusOr<diff_internal::DeploymentPlanOutput> planned =
        diff_internal::PlanDeployment(input);
    if (!planned.ok()) {
      if (options_.require_deployable) return planned.status();
      return absl::OkStatus();  // reported as a change, never applied
    }
    c.attributes[0].after = planned->deployment.name;
    if (planned->deployment.set_force_update_tag) {
      c.attributes.push_back({"forceUpdateTag", "", kKnownAfterApply});
    }
    for (auto& r : planned->reasons) c.reasons.push_back(std::move(r));
    for (auto& w : planned->warnings) plan_.warnings.push_back(std::move(w));
    for (auto& v : planned->values) AddValue(v.key, std::move(v.source));
    c.deployment = std::move(planned->deployment);
    return absl::OkStatus();
  }

  // The certificate secret holds a certificate whose thumbprint is not the
  // one the deployment passes: the registry VM looks for files named after
  // pfxThumbprint, so redeploying that deployment as it is fails.
  void LintDeployedThumbprint(const DesiredDeployment& deployment, const Deployment& base) {
    if (!desired_.certificate.has_value()) return;
    const std::string& secret = desired_.certificate->secret_name;
    auto current = actual_.certificates.find(SecretKey(secret));
    if (current == actual_.certificates.end() || current->second.thumbprint.empty()) return;
    const std::string thumb_param = deployment.ParameterName("pfx_thumbprint");
    std::string deployed = ParameterString(base, thumb_param);
    if (deployed.empty() || EqualsIgnoreCase(deployed, current->second.thumbprint)) return;
    plan_.warnings.push_back(
        {absl::StrCat("certificate.", secret),
         absl::StrCat("the certificate in secret ", secret, " has thumbprint ",
                      current->second.thumbprint, " but deployment ", base.name, " passes ",
                      thumb_param, " = ", deployed,
                      "; the registry VM looks for files named after the thumbprint, so "
                      "redeploying ",
                      base.name,
                      " as it is fails (rotor redeploys with the "
                      "matching thumbprint)")});
  }

  void AddCertificateAttributes(Change& c, const Deployment* base) {
    if (!desired_.certificate.has_value() || !desired_.deployment.has_value()) return;
    const DesiredDeployment& d = *desired_.deployment;
    const std::string url_param = d.ParameterName("pfx_key_vault_secret_url");
    const std::string thumb_param = d.ParameterName("pfx_thumbprint");
    std::string url_after = kKnownAfterApply;
    if (!CertificateChangePlanned()) {
      if (const SecretVersion* live = actual_.FindSecret(desired_.certificate->secret_name)) {
        url_after = live->id;
      }
    }
    c.attributes.push_back({url_param, base ? ParameterString(*base, url_param) : "", url_after});
    c.attributes.push_back(
        {thumb_param, base ? ParameterString(*base, thumb_param) : "",
         diff_internal::PlannedCertificateThumbprint(desired_, actual_, plan_.changes)});
    if (desired_.deployment->has_service_principal) {
      c.attributes.push_back({d.ParameterName("service_principal_client_secret"),
                              base ? kSensitiveValue : "", kSensitiveValue});
    }
  }

  bool CertificateChangePlanned() const {
    for (const auto& c : plan_.changes) {
      if (c.Kind() == "certificate") return true;
    }
    return false;
  }

  static std::string ParameterString(const Deployment& d, const std::string& name) {
    return d.StringParameter(name);
  }

  static bool EqualsIgnoreCase(absl::string_view a, absl::string_view b) {
    return SecretKey(a) == SecretKey(b);
  }

  const DesiredState& desired_;
  const ActualState& actual_;
  const absl::Time now_;
  const PlanOptions& options_;
  std::set<std::string> declared_;
  std::set<std::string> declared_users_;
  std::vector<std::string> other_short_secrets_;  // policy.other_short_secrets = refuse
  absl::Status issue_error_;                      // an issued certificate's names unknown
  Plan plan_;
};

}  // namespace

absl::StatusOr<Plan> ComputePlan(const DesiredState& desired, const ActualState& actual,
                                 absl::Time now, const PlanOptions& options) {
  return PlanBuilder(desired, actual, now, options).Build();
}

namespace {

constexpr size_t kMaxDeploymentNameLength = 64;
constexpr char kStampFormat[] = "%Y%m%dT%H%M%SZ";
constexpr size_t kStampLength = 16;  // "20261125T193500Z"

bool IsStamp(absl::string_view s) {
  if (s.size() != kStampLength || s[8] != 'T' || s.back() != 'Z') return false;
  for (size_t i = 0; i + 1 < s.size(); ++i) {
    if (i != 8 && !absl::ascii_isdigit(static_cast<unsigned char>(s[i]))) return false;
  }
  return true;
}

// `name` without a suffix rotor added: "-STAMP" or "-STAMP-xxxx".
absl::string_view WithoutRotorSuffix(absl::string_view name) {
  for (;;) {
    size_t dash = name.rfind('-');
    if (dash == absl::string_view::npos) return name;
    absl::string_view tail = name.substr(dash + 1);
    if (IsStamp(tail)) {
      name = name.substr(0, dash);
      continue;
    }
    // A random suffix right after a stamp.
    if (dash > kStampLength && name[dash - kStampLength - 1] == '-' &&
        IsStamp(name.substr(dash - kStampLength, kStampLength)) && !tail.empty() &&
        tail.size() <= 8) {
      name = name.substr(0, dash);
      continue;
    }
    return name;
  }
}

}  // namespace

std::string DeriveDeploymentName(absl::string_view previous, absl::Time now,
                                 absl::string_view suffix) {
  std::string base(WithoutRotorSuffix(previous));
  if (base.empty()) base = "registry";
  std::string tail = absl::FormatTime(kStampFormat, now, absl::UTCTimeZone());
  if (!suffix.empty()) absl::StrAppend(&tail, "-", suffix);
  size_t room = kMaxDeploymentNameLength - tail.size() - 1;
  if (base.size() > room) base.resize(room);
  return absl::StrCat(base, "-", tail);
}

void SortForExecution(std::vector<Change>& changes) {
  std::stable_sort(changes.begin(), changes.end(),
                   [](const Change& a, const Change& b) { return ActionRank(a) < ActionRank(b); });
}

}  // namespace rotor
