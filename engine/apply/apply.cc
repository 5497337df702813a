#include "engine/apply/apply.h"

#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/json_text.h"
#include "base/password.h"
#include "base/status_context.h"
#include "base/status_macros.h"
#include "engine/apply/deployment_request.h"
#include "engine/apply/issue_certificate.h"
#include "engine/refresh/refresh.h"

namespace rotor {
namespace {

// Deployment PUTs refused as DeploymentActive before apply gives up.
constexpr int kMaxDeploymentActiveRetries = 3;

class Executor {
 public:
  Executor(const Plan& plan, const ValueSet& values, Vault& vault, DeploymentService* deployments,
           const ApplyOptions& options, ApplyObserver& observer)
      : plan_(plan),
        values_(values),
        vault_(vault),
        deployments_(deployments),
        options_(options),
        observer_(observer) {}

  absl::StatusOr<ApplyOutputs> Run() {
    for (const Change& c : plan_.changes) {
      if (c.action == Action::kRecover) RETURN_IF_ERROR(Step(c, [&] { return Recover(c); }));
    }
    RETURN_IF_ERROR(WriteSecrets());
    for (const Change& c : plan_.changes) {
      if (c.action == Action::kDelete) RETURN_IF_ERROR(Step(c, [&] { return Delete(c); }));
    }
    for (const Change& c : plan_.changes) {
      if (c.deployment.has_value()) RETURN_IF_ERROR(Step(c, [&] { return Deploy(c); }));
    }
    return std::move(outputs_);
  }

 private:
  template <typename F>
  absl::Status Step(const Change& c, F&& body) {
    observer_.OnChangeStarted(c);
    absl::Status status = body();
    if (!status.ok()) status = WithContext(status, c.address);
    observer_.OnChangeFinished(c, status);
    return status;
  }

  // The request that writes `w`: its value from the ValueSet, or a fresh
  // generated password.
  absl::StatusOr<SetSecretRequest> RequestFor(const SecretWrite& w) {
    SetSecretRequest request;
    request.content_type = w.content_type;
    request.tags = w.tags;
    if (w.issue.has_value()) {
      ASSIGN_OR_RETURN(request.value, Issue(w));
      return request;
    }
    if (w.generate_length > 0) {
      request.value = GeneratePassword(w.generate_length);
      return request;
    }
    absl::StatusOr<Secret> value = values_.Value(w.value_key);
    if (!value.ok()) {
      const PlannedValue* planned = plan_.FindValue(w.value_key);
      return WithContext(value.status(), planned != nullptr ? planned->source : w.value_key);
    }
    request.value = *std::move(value);
    return request;
  }

  // A certificate from the issuer (engine/apply/issue_certificate.h): its
  // value, with its thumbprint kept for the write and the deployment.
  absl::StatusOr<Secret> Issue(const SecretWrite& w) {
    if (options_.issuer == nullptr) {
      return absl::FailedPreconditionError(
          absl::StrCat("the plan issues the certificate in secret ", w.name, " from ",
                       w.issue->describe, ", but apply was given no issuer"));
    }
    observer_.OnMessage(absl::StrCat("requesting a certificate for ",
                                     absl::StrJoin(w.issue->dns_names, ", "), " from ",
                                     w.issue->describe));
    ASSIGN_OR_RETURN(IssuedCertificate issued,
                     IssueCertificate(w, *options_.issuer, vault_, *options_.clock));
    observer_.OnMessage(absl::StrCat("issued certificate ", issued.thumbprint, " for ",
                                     absl::StrJoin(issued.dns_names, ", "), ", expires ",
                                     FormatPlanTime(issued.not_after)));
    issued_thumbprints_[SecretKey(w.name)] = issued.thumbprint;
    return std::move(issued.secret_value);
  }

  // The thumbprint of the certificate this run wrote to `secret`, if it
  // issued one, else `planned`.
  std::string ThumbprintFor(const std::string& secret, const std::string& planned) const {
    auto issued = issued_thumbprints_.find(SecretKey(secret));
    return issued != issued_thumbprints_.end() ? issued->second : planned;
  }

  absl::Status Recover(const Change& c) {
    // An issued certificate is had before anything moves: a failed issuance
    // leaves the secret deleted, as it was.
    std::optional<SetSecretRequest> issued;
    if (c.write.has_value() && c.write->issue.has_value()) {
      ASSIGN_OR_RETURN(issued, RequestFor(*c.write));
    }
    ASSIGN_OR_RETURN(SecretVersion recovered, vault_.RecoverDeletedSecret(c.Name()));
    observer_.OnMessage(
        absl::StrCat("recovered ", recovered.name, " (version ", recovered.version, ")"));
    if (!c.write.has_value()) {
      RecordWrite(c, recovered);
      return absl::OkStatus();
    }
    if (!issued.has_value()) {
      ASSIGN_OR_RETURN(issued, RequestFor(*c.write));
    }
    SetSecretRequest request = *std::move(issued);
    // Key Vault finishes a recover asynchronously; a write right after it
    // may meet ObjectIsBeingRecovered for a while.
    absl::Time deadline = options_.clock->Now() + options_.recover_timeout;
    absl::Duration wait = absl::Milliseconds(250);
    for (;;) {
      auto written = vault_.SetSecret(c.write->name, request);
      if (written.ok()) {
        RecordWrite(c, *written);
        return absl::OkStatus();
      }
      if (VaultErrorCode(written.status()) != kObjectIsBeingRecovered ||
          options_.clock->Now() + wait > deadline) {
        return written.status();
      }
      absl::SleepFor(wait);
      wait = std::min(wait * 2, absl::Seconds(5));
    }
  }

  absl::Status WriteSecrets() {
    std::vector<const Change*> changes;
    std::vector<SetSecretRequest> requests;
    for (const Change& c : plan_.changes) {
      if (c.action != Action::kCreate && c.action != Action::kUpdate &&
          c.action != Action::kRetire) {
        continue;
      }
      if (!c.write.has_value()) continue;
      auto request = RequestFor(*c.write);
      if (!request.ok()) {
        observer_.OnChangeStarted(c);
        absl::Status status = WithContext(request.status(), c.address);
        observer_.OnChangeFinished(c, status);
        return status;
      }
      changes.push_back(&c);
      requests.push_back(*std::move(request));
    }
    if (changes.empty()) return absl::OkStatus();
    std::vector<std::pair<std::string, const SetSecretRequest*>> writes;
    for (size_t i = 0; i < changes.size(); ++i) {
      observer_.OnChangeStarted(*changes[i]);
      writes.emplace_back(changes[i]->write->name, &requests[i]);
    }
    std::vector<absl::StatusOr<SecretVersion>> results = vault_.SetSecrets(writes);
    absl::Status first_error;
    for (size_t i = 0; i < changes.size(); ++i) {
      absl::Status status = results[i].status();
      if (!status.ok()) {
        std::string hint;
        if (VaultErrorCode(status) == kObjectIsDeletedButRecoverable) {
          hint = "; the name was deleted since the plan was made: run rotor plan again";
        }
        status =
            WithMessage(status, absl::StrCat(changes[i]->address, ": ", status.message(), hint));
        if (first_error.ok()) first_error = status;
      } else {
        RecordWrite(*changes[i], *results[i]);
      }
      observer_.OnChangeFinished(*changes[i], status);
    }
    return first_error;
  }

  void RecordWrite(const Change& c, const SecretVersion& written) {
    outputs_.written_secrets.push_back(written.name);
    outputs_.written_versions[SecretKey(written.name)] = written;
    if (c.Kind() == "certificate") {
      outputs_.pfx_key_vault_resource_id = vault_.info().resource_id;
      outputs_.pfx_key_vault_secret_url = written.id;
      outputs_.pfx_thumbprint = ThumbprintFor(written.name, c.After("thumbprint"));
    }
  }

  absl::Status Delete(const Change& c) {
    std::optional<Secret> last_password;
    if (options_.capture_deleted_credentials && c.Kind() == "stale_user") {
      auto bundle = vault_.GetSecret(c.Name());
      if (bundle.ok()) last_password = std::move(bundle->value);
    }
    ASSIGN_OR_RETURN(DeletedSecret deleted, vault_.DeleteSecret(c.Name()));
    if (last_password.has_value()) {
      outputs_.deleted_credentials.emplace_back(deleted.latest.name, *std::move(last_password));
    }
    outputs_.deleted_secrets.push_back(deleted.latest.name);
    return absl::OkStatus();
  }

  // The certificate's versioned URL the deployment passes: the version this
  // run wrote, else the one the plan read.
  std::string CertificateUrl(const PlannedDeployment& d) const {
    auto written = outputs_.written_versions.find(SecretKey(d.certificate_secret));
    if (written != outputs_.written_versions.end()) return written->second.id;
    return d.certificate_url;
  }

  // Reads the PFX at `url` and checks its thumbprint: a wrong pair makes the
  // registry VM fail with missing certificate files, so it is never sent.
  absl::Status VerifyCertificatePair(const std::string& url, const std::string& thumbprint) {
    std::string prefix = absl::StrCat(vault_.info().base_url, "/secrets/");
    if (url.rfind(prefix, 0) != 0) {
      return absl::FailedPreconditionError(
          absl::StrCat("certificate URL ", url, " is not in vault ", vault_.info().base_url));
    }
    absl::string_view rest = absl::string_view(url).substr(prefix.size());
    size_t slash = rest.find('/');
    if (slash == absl::string_view::npos) {
      return absl::FailedPreconditionError(
          absl::StrCat("certificate URL ", url, " has no version"));
    }
    ASSIGN_OR_RETURN(SecretBundle bundle,
                     vault_.GetSecret(rest.substr(0, slash), rest.substr(slash + 1)));
    ActualCertificate at_url = DecodeActualCertificate(bundle);
    if (at_url.thumbprint.empty()) {
      return absl::FailedPreconditionError(absl::StrCat("the secret at ", url,
                                                        " does not hold a readable certificate (",
                                                        at_url.decode_error, "); not redeploying"));
    }
    if (SecretKey(at_url.thumbprint) != SecretKey(thumbprint)) {
      return absl::FailedPreconditionError(absl::StrCat(
          "the PFX at ", url, " has thumbprint ", at_url.thumbprint, ", not ", thumbprint,
          "; a redeploy with this pair would fail on the registry VM, so none was sent"));
    }
    return absl::OkStatus();
  }

  // Waits for any deployment still running in the resource group: a second
  // redeploy is never sent on top of a running one.
  absl::Status WaitForRunning(const std::string& resource_group) {
    ASSIGN_OR_RETURN(std::vector<Deployment> all, deployments_->ListDeployments(resource_group));
    for (const auto& d : all) {
      if (IsTerminalProvisioningState(d.provisioning_state)) continue;
      observer_.OnMessage(absl::StrCat("deployment ", d.name, " is ", d.provisioning_state,
                                       "; waiting for it to finish before redeploying"));
      auto done = deployments_->WaitForDeployment(
          resource_group, d.name,
          [&](const Deployment& current, absl::Duration elapsed) {
            observer_.OnDeploymentProgress(current, elapsed);
          },
          options_.deployment_timeout);
      if (!done.ok()) {
        return WithContext(done.status(), absl::StrCat("waiting for running deployment ", d.name));
      }
    }
    return absl::OkStatus();
  }

  absl::Status Deploy(const Change& c) {
    if (deployments_ == nullptr) {
      return absl::FailedPreconditionError("no deployment service for this plan's deployment");
    }
    // An issued certificate's thumbprint replaces "(known after apply)".
    PlannedDeployment d = *c.deployment;
    d.certificate_thumbprint = ThumbprintFor(d.certificate_secret, d.certificate_thumbprint);
    std::string url;
    if (!d.certificate_secret.empty()) {
      url = CertificateUrl(d);
      RETURN_IF_ERROR(VerifyCertificatePair(url, d.certificate_thumbprint));
      outputs_.pfx_key_vault_resource_id = vault_.info().resource_id;
      outputs_.pfx_key_vault_secret_url = url;
      outputs_.pfx_thumbprint = d.certificate_thumbprint;
    }
    // The template: the first deployment's (in the plan), else the base's.
    std::string template_json = d.template_json;
    if (template_json.empty() && (d.template_link_uri.empty() || d.set_force_update_tag)) {
      ASSIGN_OR_RETURN(template_json, deployments_->ExportTemplate(d.resource_group, d.base));
    }
    const std::string logins = DeployedLoginDigest(d, outputs_.written_versions);
    const std::string tag = d.set_force_update_tag ? ForceUpdateTag(logins) : "";
    if (!tag.empty()) observer_.OnMessage(absl::StrCat("forceUpdateTag ", tag));
    ASSIGN_OR_RETURN(DeploymentRequest request,
                     BuildDeploymentRequest(d, plan_, values_, url, template_json, tag, logins));

    // Another rotor (on another machine: the lock keeps two on one machine
    // apart) may start a deployment between the list and the PUT: ARM
    // refuses ours (DeploymentActive), and it waits for that one too.
    absl::StatusOr<Deployment> started;
    for (int attempt = 1;; ++attempt) {
      RETURN_IF_ERROR(WaitForRunning(d.resource_group));
      started = deployments_->StartDeployment(d.resource_group, request);
      if (started.ok() || DeploymentErrorCode(started.status()) != kDeploymentActive ||
          attempt >= kMaxDeploymentActiveRetries) {
        break;
      }
      observer_.OnMessage(absl::StrCat("another deployment started in resource group ",
                                       d.resource_group, " just before this one"));
    }
    if (!started.ok()) return started.status();
    observer_.OnMessage(absl::StrCat("deployment ", started->name, " started in resource group ",
                                     d.resource_group));
    ASSIGN_OR_RETURN(Deployment done, deployments_->WaitForDeployment(
                                          d.resource_group, started->name,
                                          [&](const Deployment& current, absl::Duration elapsed) {
                                            observer_.OnDeploymentProgress(current, elapsed);
                                          },
                                          options_.deployment_timeout));
    outputs_.deployment_name = done.name;
    outputs_.deployment_state = done.provisioning_state;
    if (!done.Succeeded()) {
      return absl::AbortedError(
          absl::StrCat("deployment ", done.name, " ended ", done.provisioning_state,
                       done.error.empty() ? "" : absl::StrCat(":\n", done.error),
                       "\nThe secrets were written; the next rotor apply redeploys again."));
    }
    return absl::OkStatus();
  }

  const Plan& plan_;
  const ValueSet& values_;
  Vault& vault_;
  DeploymentService* deployments_;
  const ApplyOptions& options_;
  ApplyObserver& observer_;
  ApplyOutputs outputs_;
  std::map<std::string, std::string> issued_thumbprints_;  // SecretKey -> thumbprint
};

}  // namespace

absl::StatusOr<ApplyOutputs> ApplyPlan(const Plan& plan, const ValueSet& values, Vault& vault,
                                       DeploymentService* deployments, const ApplyOptions& options,
                                       ApplyObserver& observer) {
  return Executor(plan, values, vault, deployments, options, observer).Run();
}

RefreshHint HintAfterApply(const DesiredState& desired, const ActualState& actual,
                           const ApplyOutputs& outputs) {
  RefreshHint hint;
  // What the refresh before the apply read (exact versions only).
  for (const auto& [key, value] : actual.values) {
    auto live = actual.secrets.find(key);
    if (live == actual.secrets.end() || live->second.version.empty()) continue;
    KnownSecret& known = hint.secrets[key];
    known.meta = live->second;
    known.value = value.Clone();
  }
  for (const auto& [key, certificate] : actual.certificates) {
    auto live = actual.secrets.find(key);
    if (live == actual.secrets.end() || live->second.version.empty()) continue;
    KnownSecret& known = hint.secrets[key];
    known.meta = live->second;
    known.certificate = certificate;
  }
  // What the apply wrote replaces it: a written secret that nothing here
  // can describe is read again.
  for (const auto& [key, written] : outputs.written_versions) hint.secrets.erase(key);
  auto written_version = [&](const std::string& key) -> const SecretVersion* {
    auto it = outputs.written_versions.find(key);
    if (it == outputs.written_versions.end() || it->second.version.empty()) return nullptr;
    return &it->second;
  };
  if (desired.certificate.has_value() && !desired.certificate->issuance.has_value()) {
    const DesiredCertificate& cert = *desired.certificate;
    const std::string key = SecretKey(cert.secret_name);
    if (const SecretVersion* written = written_version(key)) {
      KnownSecret& known = hint.secrets[key];
      known.meta = *written;
      known.certificate = CertificateAsDeclared(cert);
    }
  }
  for (const auto& user : desired.users) {
    if (user.generated) continue;
    const std::string key = SecretKey(user.name);
    if (const SecretVersion* written = written_version(key)) {
      KnownSecret& known = hint.secrets[key];
      known.meta = *written;
      known.value = user.password.Clone();
    }
  }
  return hint;
}

}  // namespace rotor
