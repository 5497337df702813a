#include "engine/apply/apply.h"

#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/json_text.h"
#include "base/password.h"
#include "base/status_macros.h"
#include "engine/refresh/refresh.h"

namespace rotor {
namespace {

constexpr size_t kMaxDeploymentNameLength = 64;
// Deployment PUTs refused as DeploymentActive before apply gives up.
constexpr int kMaxDeploymentActiveRetries = 3;
constexpr char kStampFormat[] = "%Y%m%dT%H%M%SZ";
constexpr size_t kStampLength = 16;  // "20261125T193500Z"

bool IsStampSuffix(absl::string_view name) {
  if (name.size() < kStampLength + 1) return false;
  absl::string_view tail = name.substr(name.size() - kStampLength - 1);
  if (tail[0] != '-' || tail[9] != 'T' || tail.back() != 'Z') return false;
  for (size_t i = 1; i < tail.size() - 1; ++i) {
    if (i != 9 && !absl::ascii_isdigit(static_cast<unsigned char>(tail[i]))) return false;
  }
  return true;
}

std::map<std::string, std::string> UserTags() {
  return {{kManagedByTag, kManagedByValue}, {kRoleTag, kRoleUser}};
}

std::map<std::string, std::string> CertificateTags() {
  return {{kManagedByTag, kManagedByValue}, {kRoleTag, kRoleCertificate}};
}

class Executor {
 public:
  Executor(const Plan& plan, const DesiredState& desired, const ActualState& actual, Vault& vault,
           DeploymentService* deployments, const ApplyOptions& options, ApplyObserver& observer)
      : plan_(plan),
        desired_(desired),
        actual_(actual),
        vault_(vault),
        deployments_(deployments),
        options_(options),
        observer_(observer) {
    for (const auto& u : desired_.users) users_by_key_[SecretKey(u.name)] = &u;
  }

  absl::StatusOr<ApplyOutputs> Run() {
    for (const Change& c : plan_.changes) {
      if (c.action == Action::kRecover) RETURN_IF_ERROR(Step(c, [&] { return Recover(c); }));
    }
    RETURN_IF_ERROR(WriteSecrets());
    for (const Change& c : plan_.changes) {
      if (c.action == Action::kDelete) RETURN_IF_ERROR(Step(c, [&] { return Delete(c); }));
    }
    for (const Change& c : plan_.changes) {
      if (c.Kind() == "deployment") RETURN_IF_ERROR(Step(c, [&] { return Deploy(c); }));
    }
    return std::move(outputs_);
  }

 private:
  template <typename F>
  absl::Status Step(const Change& c, F&& body) {
    observer_.OnChangeStarted(c);
    absl::Status status = body();
    if (!status.ok()) {
      status = absl::Status(status.code(), absl::StrCat(c.address, ": ", status.message()));
    }
    observer_.OnChangeFinished(c, status);
    return status;
  }

  const DesiredUser* FindUser(absl::string_view name) const {
    auto it = users_by_key_.find(SecretKey(name));
    return it == users_by_key_.end() ? nullptr : it->second;
  }

  // The request that writes the declared value of a user or certificate
  // change; nullopt for a generated user that keeps its value.
  absl::StatusOr<std::optional<SetSecretRequest>> RequestFor(const Change& c) {
    SetSecretRequest request;
    if (c.Kind() == "user") {
      const DesiredUser* user = FindUser(c.Name());
      if (user == nullptr) {
        return absl::InternalError("the plan names a user the configuration does not declare");
      }
      if (user->generated) {
        if (c.action == Action::kRecover) return std::optional<SetSecretRequest>();
        request.value = GeneratePassword(user->generate_length);
      } else {
        request.value = user->password.Clone();
      }
      request.content_type = kUserContentType;
      request.tags = UserTags();
      return std::optional<SetSecretRequest>(std::move(request));
    }
    if (c.Kind() == "certificate") {
      if (!desired_.certificate.has_value() ||
          SecretKey(desired_.certificate->secret_name) != SecretKey(c.Name())) {
        return absl::InternalError(
            "the plan names a certificate the configuration does not declare");
      }
      if (desired_.certificate->has_errors) {
        return absl::FailedPreconditionError(absl::StrCat(
            desired_.certificate->pfx_path,
            " fails its checks (see the certificate checks above); nothing was written"));
      }
      request.value = desired_.certificate->secret_value.Clone();
      request.content_type = desired_.certificate->content_type;
      request.tags = CertificateTags();
      return std::optional<SetSecretRequest>(std::move(request));
    }
    return absl::InternalError(absl::StrCat("no secret to write for ", c.address));
  }

  absl::Status Recover(const Change& c) {
    ASSIGN_OR_RETURN(SecretVersion recovered, vault_.RecoverDeletedSecret(c.Name()));
    observer_.OnMessage(
        absl::StrCat("recovered ", recovered.name, " (version ", recovered.version, ")"));
    ASSIGN_OR_RETURN(std::optional<SetSecretRequest> request, RequestFor(c));
    if (!request.has_value()) {
      RecordWrite(c, recovered);
      return absl::OkStatus();
    }
    // Key Vault finishes a recover asynchronously; a write right after it
    // may meet ObjectIsBeingRecovered for a while.
    absl::Time deadline = options_.clock->Now() + options_.recover_timeout;
    absl::Duration wait = absl::Milliseconds(250);
    for (;;) {
      auto written = vault_.SetSecret(c.Name(), *request);
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
      if (c.action != Action::kCreate && c.action != Action::kUpdate) continue;
      if (c.Kind() != "user" && c.Kind() != "certificate") continue;
      auto request = RequestFor(c);
      if (!request.ok()) {
        observer_.OnChangeStarted(c);
        absl::Status status(request.status().code(),
                            absl::StrCat(c.address, ": ", request.status().message()));
        observer_.OnChangeFinished(c, status);
        return status;
      }
      changes.push_back(&c);
      requests.push_back(std::move(**request));
    }
    if (changes.empty()) return absl::OkStatus();
    std::vector<std::pair<std::string, const SetSecretRequest*>> writes;
    for (size_t i = 0; i < changes.size(); ++i) {
      observer_.OnChangeStarted(*changes[i]);
      writes.emplace_back(changes[i]->Name(), &requests[i]);
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
        status = absl::Status(status.code(),
                              absl::StrCat(changes[i]->address, ": ", status.message(), hint));
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
      certificate_version_ = written;
      outputs_.pfx_key_vault_resource_id = vault_.info().resource_id;
      outputs_.pfx_key_vault_secret_url = written.id;
      outputs_.pfx_thumbprint = desired_.certificate->thumbprint;
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

  // The certificate's current versioned URL: the one written by this run,
  // else the live one.
  absl::StatusOr<std::string> CertificateUrl() {
    if (certificate_version_.has_value()) return certificate_version_->id;
    const SecretVersion* live = actual_.FindSecret(desired_.certificate->secret_name);
    if (live == nullptr) {
      return absl::FailedPreconditionError(absl::StrCat(
          "certificate secret ", desired_.certificate->secret_name, " is not in the vault"));
    }
    return live->id;
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
        return absl::Status(
            done.status().code(),
            absl::StrCat("waiting for running deployment ", d.name, ": ", done.status().message()));
      }
    }
    return absl::OkStatus();
  }

  absl::Status Deploy(const Change& c) {
    if (deployments_ == nullptr || !desired_.deployment.has_value()) {
      return absl::FailedPreconditionError("no [deployment] is configured");
    }
    const DesiredDeployment& want = *desired_.deployment;
    DeploymentRequest request;
    request.tags = {{kManagedByTag, kManagedByValue}};
    std::vector<std::string> template_parameters;
    if (c.action == Action::kCreate) {
      request.name = DeriveDeploymentName("registry", options_.clock->Now());
      request.template_json = want.template_json;
      for (const auto& [name, json] : want.first_parameters) {
        request.parameters[name] = Secret(json);
      }
      ASSIGN_OR_RETURN(template_parameters, TemplateParameterNames(want.template_json));
    } else {
      if (!actual_.base_deployment.has_value()) {
        return absl::FailedPreconditionError("no deployment to redeploy");
      }
      const Deployment& base = *actual_.base_deployment;
      request.name = DeriveDeploymentName(base.name, options_.clock->Now());
      request.mode = base.mode.empty() ? "Incremental" : base.mode;
      if (!base.template_link_uri.empty()) {
        request.template_link_uri = base.template_link_uri;
      } else {
        ASSIGN_OR_RETURN(request.template_json,
                         deployments_->ExportTemplate(want.resource_group, base.name));
      }
      std::vector<std::string> missing;
      for (const auto& [name, parameter] : base.parameters) {
        template_parameters.push_back(name);
        if (!parameter.value_json.empty()) {
          request.parameters[name] = Secret(parameter.value_json);
        } else {
          missing.push_back(name);
        }
      }
      // Secure parameters are never returned by ARM; rotor supplies the ones
      // it knows, and any other would be lost.
      for (const auto& name : missing) {
        bool supplied = want.has_service_principal &&
                        (name == want.ParameterName("service_principal_client_secret") ||
                         name == want.ParameterName("service_principal_client_id"));
        if (!supplied) {
          return absl::FailedPreconditionError(absl::StrCat(
              "parameter ", name, " of deployment ", base.name,
              " is a secure value that ARM does not return, and rotor has no source for it",
              name == want.ParameterName("service_principal_client_secret")
                  ? "; set [deployment] client_id and client_secret"
                  : ""));
        }
      }
    }
    std::set<std::string> known(template_parameters.begin(), template_parameters.end());
    auto set_if_declared = [&](absl::string_view logical, Secret value) {
      std::string name = want.ParameterName(logical);
      if (known.count(name) > 0) request.parameters[name] = std::move(value);
    };
    if (desired_.certificate.has_value()) {
      ASSIGN_OR_RETURN(std::string url, CertificateUrl());
      const std::string& thumbprint = desired_.certificate->thumbprint;
      RETURN_IF_ERROR(VerifyCertificatePair(url, thumbprint));
      set_if_declared("pfx_key_vault_resource_id", Secret(JsonQuote(vault_.info().resource_id)));
      set_if_declared("pfx_key_vault_secret_url", Secret(JsonQuote(url)));
      set_if_declared("pfx_thumbprint", Secret(JsonQuote(thumbprint)));
      outputs_.pfx_key_vault_resource_id = vault_.info().resource_id;
      outputs_.pfx_key_vault_secret_url = url;
      outputs_.pfx_thumbprint = thumbprint;
    }
    if (want.has_service_principal) {
      set_if_declared("service_principal_client_id", JsonQuoteSecret(want.client_id));
      set_if_declared("service_principal_client_secret", JsonQuoteSecret(want.client_secret));
    }

    // Another rotor (on another machine: the lock keeps two on one machine
    // apart) may start a deployment between the list and the PUT: ARM
    // refuses ours (DeploymentActive), and it waits for that one too.
    absl::StatusOr<Deployment> started;
    for (int attempt = 1;; ++attempt) {
      RETURN_IF_ERROR(WaitForRunning(want.resource_group));
      started = deployments_->StartDeployment(want.resource_group, request);
      if (started.ok() || DeploymentErrorCode(started.status()) != kDeploymentActive ||
          attempt >= kMaxDeploymentActiveRetries) {
        break;
      }
      observer_.OnMessage(absl::StrCat("another deployment started in resource group ",
                                       want.resource_group, " just before this one"));
    }
    if (!started.ok()) return started.status();
    observer_.OnMessage(absl::StrCat("deployment ", started->name, " started in resource group ",
                                     want.resource_group));
    ASSIGN_OR_RETURN(Deployment done, deployments_->WaitForDeployment(
                                          want.resource_group, started->name,
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
  const DesiredState& desired_;
  const ActualState& actual_;
  Vault& vault_;
  DeploymentService* deployments_;
  const ApplyOptions& options_;
  ApplyObserver& observer_;
  std::map<std::string, const DesiredUser*> users_by_key_;
  ApplyOutputs outputs_;
  std::optional<SecretVersion> certificate_version_;
};

}  // namespace

absl::StatusOr<ApplyOutputs> ApplyPlan(const Plan& plan, const DesiredState& desired,
                                       const ActualState& actual, Vault& vault,
                                       DeploymentService* deployments, const ApplyOptions& options,
                                       ApplyObserver& observer) {
  return Executor(plan, desired, actual, vault, deployments, options, observer).Run();
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
  if (desired.certificate.has_value()) {
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

std::string DeriveDeploymentName(absl::string_view previous, absl::Time now) {
  std::string base(previous);
  while (IsStampSuffix(base)) base.resize(base.size() - kStampLength - 1);
  if (base.empty()) base = "registry";
  std::string stamp = absl::FormatTime(kStampFormat, now, absl::UTCTimeZone());
  size_t room = kMaxDeploymentNameLength - stamp.size() - 1;
  if (base.size() > room) base.resize(room);
  return absl::StrCat(base, "-", stamp);
}

}  // namespace rotor
