#include "engine/refresh/refresh.h"

#include <algorithm>
#include <set>
#include <thread>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "base/digest.h"
#include "base/json_text.h"
#include "base/status_macros.h"
#include "engine/template/template.h"

namespace rotor {
namespace {}  // namespace

bool ListedAsKnown(const SecretVersion& listed, const SecretVersion& known) {
  if (!listed.version.empty() && listed.version != known.version) return false;
  return SecretKey(listed.name) == SecretKey(known.name) && listed.enabled == known.enabled &&
         absl::ToUnixSeconds(listed.created) == absl::ToUnixSeconds(known.created) &&
         absl::ToUnixSeconds(listed.updated) == absl::ToUnixSeconds(known.updated) &&
         listed.content_type == known.content_type && listed.tags == known.tags;
}

ActualCertificate CertificateAsDeclared(const DesiredCertificate& cert) {
  ActualCertificate c;
  c.thumbprint = cert.thumbprint;
  c.subject = cert.subject;
  c.issuer = cert.issuer;
  c.dns_names = cert.dns_names;
  c.not_before = cert.not_before;
  c.not_after = cert.not_after;
  return c;
}

namespace {

// Refresh's working state: what the list showed, completed by the reads.
class Refresher {
 public:
  Refresher(const DesiredState& desired, Vault& vault, DeploymentService* deployments,
            const RefreshHint* hint)
      : desired_(desired), vault_(vault), deployments_(deployments), hint_(hint) {
    if (desired_.certificate.has_value()) {
      certificate_key_ = SecretKey(desired_.certificate->secret_name);
    }
  }

  absl::StatusOr<ActualState> Run() {
    actual_.vault = vault_.info();
    // Every declared secret, and the ones whose value the diff needs.
    std::vector<std::string> declared_reads;
    for (const auto& user : desired_.users) {
      std::string key = SecretKey(user.name);
      if (declared_.insert(key).second && !user.generated) declared_reads.push_back(user.name);
    }
    if (!certificate_key_.empty() && declared_.insert(certificate_key_).second) {
      declared_reads.push_back(desired_.certificate->secret_name);
    }

    // The list is paged (each page names the next), so it takes a round
    // trip per 25 secrets one after the other; the declared secrets are
    // known without it, so they are read at the same time, beside the
    // deleted-secret list and the deployments. After an apply (a hint) the
    // list comes first: it tells which reads can be skipped.
    absl::StatusOr<std::vector<SecretVersion>> listed;
    absl::StatusOr<std::vector<DeletedSecret>> deleted;
    absl::StatusOr<std::vector<Deployment>> deployment_list;
    std::optional<absl::StatusOr<std::string>> base_template;
    std::vector<absl::StatusOr<SecretBundle>> declared_bundles;
    const bool read_deployments = desired_.deployment.has_value() && deployments_ != nullptr;
    {
      std::thread list_thread([&] { listed = vault_.ListSecrets(); });
      std::thread other_thread([&] {
        deleted = vault_.ListDeletedSecrets();
        if (read_deployments) {
          const std::string& group = desired_.deployment->resource_group;
          deployment_list = deployments_->ListDeployments(group);
          // The template a redeploy would send: what plan checks it against.
          if (deployment_list.ok()) {
            if (const Deployment* base = BaseDeployment(*desired_.deployment, *deployment_list)) {
              base_template = deployments_->ExportTemplate(group, base->name);
            }
          }
        }
      });
      if (hint_ == nullptr) declared_bundles = vault_.GetSecrets(declared_reads);
      list_thread.join();
      other_thread.join();
    }

    if (!listed.ok()) return listed.status();
    for (auto& s : *listed) {
      std::string key = SecretKey(s.name);
      actual_.secrets.emplace(std::move(key), std::move(s));
    }
    if (deleted.ok()) {
      for (auto& d : *deleted) {
        std::string key = SecretKey(d.latest.name);
        actual_.deleted.emplace(std::move(key), std::move(d));
      }
    } else if (deleted.status().code() == absl::StatusCode::kNotFound ||
               deleted.status().code() == absl::StatusCode::kInvalidArgument ||
               deleted.status().code() == absl::StatusCode::kUnimplemented) {
      // A vault without soft delete (Azure Stack Hub's may lack it) has no
      // deleted-secret listing; nothing can be recovered there.
      actual_.soft_delete_listing_available = false;
    } else {
      return deleted.status();
    }

    if (hint_ == nullptr) {
      for (size_t i = 0; i < declared_reads.size(); ++i) {
        RETURN_IF_ERROR(TakeRead(declared_reads[i], declared_bundles[i]));
      }
    } else {
      RETURN_IF_ERROR(ReadUnknown(declared_reads, /*declared=*/true));
    }
    // Undeclared secrets of unknown kind: only the list names them.
    std::vector<std::string> undeclared;
    for (const auto& [key, live] : actual_.secrets) {
      if (declared_.count(key) == 0 && !KindIsKnown(live) && live.enabled) {
        undeclared.push_back(live.name);
      }
    }
    RETURN_IF_ERROR(ReadUnknown(undeclared, /*declared=*/false));

    if (read_deployments) {
      if (!deployment_list.ok()) {
        return absl::Status(
            deployment_list.status().code(),
            absl::StrCat("list deployments of resource group ", desired_.deployment->resource_group,
                         ": ", deployment_list.status().message()));
      }
      TakeDeployments(*desired_.deployment, *std::move(deployment_list), std::move(base_template));
    }
    return std::move(actual_);
  }

 private:
  // Reads `names` unless the hint knows them as listed; with `declared`,
  // only those the list shows enabled.
  absl::Status ReadUnknown(const std::vector<std::string>& names, bool declared) {
    std::vector<std::string> to_read;
    for (const std::string& name : names) {
      const std::string key = SecretKey(name);
      auto live = actual_.secrets.find(key);
      if (declared && (live == actual_.secrets.end() || !live->second.enabled)) continue;
      if (hint_ != nullptr && live != actual_.secrets.end()) {
        auto known = hint_->secrets.find(key);
        if (known != hint_->secrets.end() && ListedAsKnown(live->second, known->second.meta)) {
          if (key == certificate_key_ && known->second.certificate.has_value()) {
            live->second = known->second.meta;
            actual_.certificates[key] = *known->second.certificate;
            continue;
          }
          if (key != certificate_key_ && known->second.value.has_value()) {
            live->second = known->second.meta;
            actual_.values.emplace(key, known->second.value->Clone());
            continue;
          }
        }
      }
      to_read.push_back(name);
    }
    std::vector<absl::StatusOr<SecretBundle>> bundles = vault_.GetSecrets(to_read);
    for (size_t i = 0; i < to_read.size(); ++i) RETURN_IF_ERROR(TakeRead(to_read[i], bundles[i]));
    return absl::OkStatus();
  }

  // What a read of `name` says, over what the list said.
  absl::Status TakeRead(const std::string& name, absl::StatusOr<SecretBundle>& bundle) {
    const std::string key = SecretKey(name);
    if (!bundle.ok()) {
      switch (bundle.status().code()) {
        case absl::StatusCode::kNotFound:
          // Absent (or deleted since the list).
          actual_.secrets.erase(key);
          return absl::OkStatus();
        case absl::StatusCode::kPermissionDenied:
          // Disabled: the diff goes by the list's metadata.
          return absl::OkStatus();
        default:
          return absl::Status(bundle.status().code(),
                              absl::StrCat("read secret ", name, ": ", bundle.status().message()));
      }
    }
    // The read names the exact latest version (the list may not), and is
    // the later word on whether the secret exists.
    if (SecretKey(bundle->meta.name) == key && !bundle->meta.version.empty()) {
      actual_.secrets[key] = bundle->meta;
    }
    if (key == certificate_key_) {
      const DesiredCertificate& cert = *desired_.certificate;
      // The PFX rotor would write, byte for byte: no need to open it.
      actual_.certificates[key] =
          bundle->value.Equals(cert.secret_value) && !cert.thumbprint.empty()
              ? CertificateAsDeclared(cert)
              : DecodeActualCertificate(*bundle);
    } else {
      actual_.values.emplace(key, std::move(bundle->value));
    }
    return absl::OkStatus();
  }

  // The deployment a redeploy starts from: `want.name`, or the most recent
  // ("latest", as the portal's Redeploy picks it). Null when none.
  static const Deployment* BaseDeployment(const DesiredDeployment& want,
                                          const std::vector<Deployment>& list) {
    const Deployment* base = nullptr;
    for (const auto& d : list) {
      const bool named = want.name == "latest" || SecretKey(d.name) == SecretKey(want.name);
      if (named && (base == nullptr || d.timestamp > base->timestamp)) base = &d;
    }
    return base;
  }

  void TakeDeployments(const DesiredDeployment& want, std::vector<Deployment> list,
                       std::optional<absl::StatusOr<std::string>> base_template) {
    actual_.deployments = std::move(list);
    actual_.deployments_read = true;
    // Most recent first, as the portal's deployment history shows them.
    std::stable_sort(
        actual_.deployments.begin(), actual_.deployments.end(),
        [](const Deployment& a, const Deployment& b) { return a.timestamp > b.timestamp; });
    if (const Deployment* base = BaseDeployment(want, actual_.deployments)) {
      actual_.base_deployment = *base;
    }
    for (const auto& d : actual_.deployments) {
      if (!actual_.last_successful_deployment.has_value() && d.Succeeded()) {
        actual_.last_successful_deployment = d;
      }
    }
    if (base_template.has_value()) {
      absl::StatusOr<TemplateInfo> info =
          base_template->ok() ? ParseTemplateInfo(**base_template)
                              : absl::StatusOr<TemplateInfo>(base_template->status());
      if (info.ok()) {
        actual_.base_template = *std::move(info);
      } else {
        actual_.template_error = std::string(info.status().message());
      }
    }
  }

  const DesiredState& desired_;
  Vault& vault_;
  DeploymentService* deployments_;
  const RefreshHint* hint_;
  std::string certificate_key_;
  std::set<std::string> declared_;
  ActualState actual_;
};

}  // namespace

absl::StatusOr<ActualState> Refresh(const DesiredState& desired, Vault& vault,
                                    DeploymentService* deployments, const RefreshHint* hint) {
  return Refresher(desired, vault, deployments, hint).Run();
}

std::string StateFingerprint(const ActualState& actual) {
  std::string canonical = absl::StrCat("vault ", actual.vault.name, "\n");
  for (const auto& [key, s] : actual.secrets) {
    absl::StrAppend(&canonical, "secret ", key, " ", s.version.empty() ? "-" : s.version, " ",
                    s.enabled ? 1 : 0, " ", absl::ToUnixSeconds(s.created), " ",
                    absl::ToUnixSeconds(s.updated), " ", JsonQuote(s.content_type));
    for (const auto& [k, v] : s.tags)
      absl::StrAppend(&canonical, " ", JsonQuote(k), "=", JsonQuote(v));
    absl::StrAppend(&canonical, "\n");
  }
  for (const auto& [key, d] : actual.deleted) {
    absl::StrAppend(&canonical, "deleted ", key, " ", absl::ToUnixSeconds(d.deleted_date), "\n");
  }
  for (const auto& d : actual.deployments) {
    absl::StrAppend(&canonical, "deployment ", d.name, " ", absl::ToUnixMillis(d.timestamp), " ",
                    d.provisioning_state, "\n");
  }
  return Sha256Hex(canonical);
}

}  // namespace rotor
