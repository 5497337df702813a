#include "engine/refresh.h"

#include <openssl/evp.h>

#include <algorithm>
#include <set>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "engine/base/status_macros.h"
#include "engine/json_text.h"

namespace rotor {
namespace {

bool IsKnownKind(const SecretVersion& s) {
  if (s.tags.count(kRoleTag) > 0) return true;
  return s.content_type == kUserContentType || s.content_type == "pfx" ||
         s.content_type == "application/x-pkcs12";
}

absl::Status ReadDeployments(const DesiredDeployment& want, DeploymentService& service,
                             ActualState& actual) {
  auto list = service.ListDeployments(want.resource_group);
  if (!list.ok()) {
    return absl::Status(list.status().code(),
                        absl::StrCat("list deployments of resource group ", want.resource_group,
                                     ": ", list.status().message()));
  }
  actual.deployments = *std::move(list);
  actual.deployments_read = true;
  // Most recent first, as the portal's deployment history shows them.
  std::stable_sort(actual.deployments.begin(), actual.deployments.end(),
                   [](const Deployment& a, const Deployment& b) { return a.timestamp > b.timestamp; });
  for (const auto& d : actual.deployments) {
    if (!actual.base_deployment.has_value() &&
        (want.name == "latest" || SecretKey(d.name) == SecretKey(want.name))) {
      actual.base_deployment = d;
    }
    if (!actual.last_successful_deployment.has_value() && d.Succeeded()) {
      actual.last_successful_deployment = d;
    }
  }
  return absl::OkStatus();
}

}  // namespace

bool ListedAsKnown(const SecretVersion& listed, const SecretVersion& known) {
  if (!listed.version.empty() && listed.version != known.version) return false;
  return SecretKey(listed.name) == SecretKey(known.name) && listed.enabled == known.enabled &&
         absl::ToUnixSeconds(listed.created) == absl::ToUnixSeconds(known.created) &&
         absl::ToUnixSeconds(listed.updated) == absl::ToUnixSeconds(known.updated) &&
         listed.content_type == known.content_type && listed.tags == known.tags;
}

absl::StatusOr<ActualState> Refresh(const DesiredState& desired, Vault& vault,
                                    DeploymentService* deployments, const RefreshHint* hint) {
  ActualState actual;
  actual.vault = vault.info();
  ASSIGN_OR_RETURN(std::vector<SecretVersion> listed, vault.ListSecrets());
  for (auto& s : listed) {
    std::string key = SecretKey(s.name);
    actual.secrets.emplace(std::move(key), std::move(s));
  }

  auto deleted = vault.ListDeletedSecrets();
  if (deleted.ok()) {
    for (auto& d : *deleted) {
      std::string key = SecretKey(d.latest.name);
      actual.deleted.emplace(std::move(key), std::move(d));
    }
  } else if (deleted.status().code() == absl::StatusCode::kNotFound ||
             deleted.status().code() == absl::StatusCode::kInvalidArgument ||
             deleted.status().code() == absl::StatusCode::kUnimplemented) {
    // A vault without soft delete (Azure Stack Hub's may lack it) has no
    // deleted-secret listing; nothing can be recovered there.
    actual.soft_delete_listing_available = false;
  } else {
    return deleted.status();
  }

  // Which values the diff needs, each once.
  std::string certificate_key;
  if (desired.certificate.has_value()) certificate_key = SecretKey(desired.certificate->secret_name);
  std::set<std::string> declared;
  std::vector<std::string> needed;  // keys
  auto want_value = [&](const std::string& key) {
    auto it = actual.secrets.find(key);
    if (it != actual.secrets.end() && it->second.enabled && declared.insert(key).second) {
      needed.push_back(key);
    }
  };
  for (const auto& user : desired.users) {
    std::string key = SecretKey(user.name);
    if (user.generated) {
      declared.insert(key);
    } else {
      want_value(key);
      declared.insert(key);
    }
  }
  if (!certificate_key.empty()) {
    want_value(certificate_key);
    declared.insert(certificate_key);
  }
  for (const auto& [key, live] : actual.secrets) {
    if (declared.count(key) == 0 && !IsKnownKind(live) && live.enabled) needed.push_back(key);
  }

  // What the hint already knows is not read again.
  std::vector<std::string> to_read;  // names, as listed
  std::vector<std::string> to_read_keys;
  for (const std::string& key : needed) {
    SecretVersion& live = actual.secrets.at(key);
    const KnownSecret* known = nullptr;
    if (hint != nullptr) {
      auto it = hint->secrets.find(key);
      if (it != hint->secrets.end() && ListedAsKnown(live, it->second.meta)) known = &it->second;
    }
    if (known != nullptr && key == certificate_key && known->certificate.has_value()) {
      live = known->meta;
      actual.certificates[key] = *known->certificate;
    } else if (known != nullptr && key != certificate_key && known->value.has_value()) {
      live = known->meta;
      actual.values.emplace(key, known->value->Clone());
    } else {
      to_read.push_back(live.name);
      to_read_keys.push_back(key);
    }
  }

  std::vector<absl::StatusOr<SecretBundle>> bundles = vault.GetSecrets(to_read);
  for (size_t i = 0; i < to_read.size(); ++i) {
    auto& bundle = bundles[i];
    const std::string& key = to_read_keys[i];
    if (!bundle.ok()) {
      // Deleted or disabled between the list and the read: diff treats it
      // as it now is on the next plan; a real error stops the refresh.
      if (bundle.status().code() == absl::StatusCode::kNotFound ||
          bundle.status().code() == absl::StatusCode::kPermissionDenied) {
        if (bundle.status().code() == absl::StatusCode::kNotFound) actual.secrets.erase(key);
        continue;
      }
      return absl::Status(bundle.status().code(),
                          absl::StrCat("read secret ", to_read[i], ": ", bundle.status().message()));
    }
    // The read names the exact latest version (the list may not).
    if (SecretKey(bundle->meta.name) == key && !bundle->meta.version.empty()) {
      actual.secrets[key] = bundle->meta;
    }
    if (key == certificate_key) {
      actual.certificates[key] = DecodeActualCertificate(*bundle);
    } else {
      actual.values.emplace(key, std::move(bundle->value));
    }
  }

  if (desired.deployment.has_value() && deployments != nullptr) {
    RETURN_IF_ERROR(ReadDeployments(*desired.deployment, *deployments, actual));
  }
  return actual;
}

std::string StateFingerprint(const ActualState& actual) {
  std::string canonical = absl::StrCat("vault ", actual.vault.name, "\n");
  for (const auto& [key, s] : actual.secrets) {
    absl::StrAppend(&canonical, "secret ", key, " ", s.version.empty() ? "-" : s.version, " ",
                    s.enabled ? 1 : 0, " ", absl::ToUnixSeconds(s.created), " ",
                    absl::ToUnixSeconds(s.updated), " ", JsonQuote(s.content_type));
    for (const auto& [k, v] : s.tags) absl::StrAppend(&canonical, " ", JsonQuote(k), "=", JsonQuote(v));
    absl::StrAppend(&canonical, "\n");
  }
  for (const auto& [key, d] : actual.deleted) {
    absl::StrAppend(&canonical, "deleted ", key, " ", absl::ToUnixSeconds(d.deleted_date), "\n");
  }
  for (const auto& d : actual.deployments) {
    absl::StrAppend(&canonical, "deployment ", d.name, " ", absl::ToUnixMillis(d.timestamp), " ",
                    d.provisioning_state, "\n");
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(canonical.data(), canonical.size(), digest, &length, EVP_sha256(), nullptr);
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(digest), length));
}

}  // namespace rotor
