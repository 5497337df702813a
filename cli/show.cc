#include "cli/show.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/json_text.h"
#include "base/status_macros.h"
#include "engine/diff/diff.h"
#include "engine/model/registry_vm.h"
#include "engine/model/state.h"
#include "engine/refresh/refresh.h"
#include "rapidjson/prettywriter.h"
#include "rapidjson/stringbuffer.h"

namespace rotor::cli {

absl::StatusOr<ShowReport> ReadShowReport(const Config& config, Vault& vault,
                                          DeploymentService* deployments, absl::Time now) {
  ShowReport report;
  report.vault = vault.info();
  ASSIGN_OR_RETURN(std::vector<SecretVersion> listed, vault.ListSecrets());
  std::sort(listed.begin(), listed.end(), [](const SecretVersion& a, const SecretVersion& b) {
    return SecretKey(a.name) < SecretKey(b.name);
  });
  for (auto& latest : listed) {
    ShowSecret& s = report.secrets.emplace_back();
    ASSIGN_OR_RETURN(s.versions, vault.ListSecretVersions(latest.name));
    std::sort(s.versions.begin(), s.versions.end(),
              [](const SecretVersion& a, const SecretVersion& b) { return a.created > b.created; });
    if (latest.version.empty() && !s.versions.empty()) {
      // Key Vault's list names no version: the latest is the one created
      // last, and when two share that second only a read tells.
      const SecretVersion* newest = &s.versions.front();
      if (s.versions.size() > 1 && s.versions[1].created == newest->created) {
        auto bundle = vault.GetSecret(latest.name);
        if (bundle.ok()) {
          for (const auto& v : s.versions) {
            if (v.version == bundle->meta.version) newest = &v;
          }
        }
      }
      latest.version = newest->version;
      latest.id = newest->id;
    }
    s.latest = std::move(latest);
  }
  auto deleted = vault.ListDeletedSecrets();
  if (deleted.ok()) report.deleted = *std::move(deleted);

  if (config.certificate.has_value()) {
    ShowCertificate& cert = report.certificate.emplace();
    cert.secret_name = config.certificate->secret_name;
    auto bundle = vault.GetSecret(cert.secret_name);
    if (bundle.ok()) {
      cert.version_id = bundle->meta.id;
      cert.decoded = DecodeActualCertificate(*bundle);
      cert.error = cert.decoded.decode_error;
      cert.days_left = static_cast<int>(absl::ToInt64Hours(cert.decoded.not_after - now) / 24);
    } else {
      cert.error = std::string(bundle.status().message());
    }
  }
  if (deployments != nullptr && config.deployment.has_value()) {
    report.resource_group = config.deployment->resource_group;
    ASSIGN_OR_RETURN(report.deployments, deployments->ListDeployments(report.resource_group));
    std::sort(report.deployments.begin(), report.deployments.end(),
              [](const Deployment& a, const Deployment& b) { return a.timestamp > b.timestamp; });
  }
  std::vector<SecretVersion> versions;
  for (const auto& secret : report.secrets) {
    versions.insert(versions.end(), secret.versions.begin(), secret.versions.end());
  }
  for (const auto& d : report.deleted) versions.push_back(d.latest);
  report.applies = FindApplies(versions, report.deployments);
  return report;
}

namespace {

std::string Tags(const std::map<std::string, std::string>& tags) {
  std::vector<std::string> parts;
  for (const auto& [k, v] : tags) parts.push_back(absl::StrCat(k, "=", v));
  return absl::StrJoin(parts, ",");
}

std::string ParameterValue(const DeploymentParameter& p) {
  if (p.value_json.empty()) return "(secure: not returned)";
  return JsonStringValue(p.value_json).value_or(p.value_json);
}

}  // namespace

std::string RenderShowText(const ShowReport& report) {
  std::string out = absl::StrCat("Vault: ", report.vault.name, " (", report.vault.base_url, ")\n");
  absl::StrAppend(&out, "Resource id: ", report.vault.resource_id, "\n\n");
  absl::StrAppend(&out, "Secrets (", report.secrets.size(), "):\n");
  for (const auto& s : report.secrets) {
    absl::StrAppend(&out, "  ", s.latest.name, "  content type: ",
                    s.latest.content_type.empty() ? "(none)" : s.latest.content_type,
                    "  tags: ", Tags(s.latest.tags).empty() ? "(none)" : Tags(s.latest.tags), "\n");
    for (const auto& v : s.versions) {
      absl::StrAppend(&out, "    ", v.version, v.version == s.latest.version ? " (latest)" : "",
                      "  created ", FormatPlanTime(v.created), "  updated ",
                      FormatPlanTime(v.updated), v.enabled ? "  enabled" : "  disabled", "\n");
    }
  }
  if (!report.deleted.empty()) {
    absl::StrAppend(&out, "\nDeleted secrets, recoverable (", report.deleted.size(), "):\n");
    for (const auto& d : report.deleted) {
      absl::StrAppend(&out, "  ", d.latest.name, "  deleted ", FormatPlanTime(d.deleted_date),
                      "  purge scheduled ", FormatPlanTime(d.scheduled_purge_date), "\n");
    }
  }
  if (report.certificate.has_value()) {
    const ShowCertificate& c = *report.certificate;
    absl::StrAppend(&out, "\nCertificate secret: ", c.secret_name, "\n");
    if (!c.error.empty()) {
      absl::StrAppend(&out, "  ", c.error, "\n");
    } else {
      const ActualCertificate& d = c.decoded;
      absl::StrAppend(
          &out, "  version url: ", c.version_id, "\n  thumbprint:  ", d.thumbprint,
          "\n  subject:     ", d.subject, "\n  dns names:   ", absl::StrJoin(d.dns_names, ", "),
          "\n  issuer:      ", d.issuer, "\n  not before:  ", FormatPlanTime(d.not_before),
          "\n  not after:   ", FormatPlanTime(d.not_after), " (", c.days_left, " days left)\n");
    }
  }
  if (!report.applies.empty()) {
    absl::StrAppend(&out, "\nApplies by rotor (", report.applies.size(),
                    ", newest first; rotor rollback --to ID undoes one and every later one):\n");
    for (const auto& a : report.applies) {
      absl::StrAppend(&out, "  ", a.id, "  ", FormatPlanTime(a.time), "  ", DescribeApply(a), "\n");
    }
  }
  if (!report.resource_group.empty()) {
    absl::StrAppend(&out, "\nDeployments in resource group ", report.resource_group, " (",
                    report.deployments.size(), "):\n");
    for (const auto& d : report.deployments) {
      absl::StrAppend(&out, "  ", d.name, "  ", FormatPlanTime(d.timestamp), "  ",
                      d.provisioning_state, "\n");
      for (const std::string& name : {GalleryParameterName(kParamPfxKeyVaultSecretUrl),
                                      GalleryParameterName(kParamPfxThumbprint)}) {
        auto it = d.parameters.find(name);
        if (it != d.parameters.end()) {
          absl::StrAppend(&out, "    ", name, ": ", ParameterValue(it->second), "\n");
        }
      }
      if (!d.error.empty()) absl::StrAppend(&out, "    error: ", d.error, "\n");
    }
  }
  return out;
}

namespace {

using Writer = rapidjson::PrettyWriter<rapidjson::StringBuffer>;

void Str(Writer& w, absl::string_view s) {
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

void WriteVersion(Writer& w, const SecretVersion& v) {
  w.StartObject();
  Str(w, "name");
  Str(w, v.name);
  Str(w, "version");
  Str(w, v.version);
  Str(w, "id");
  Str(w, v.id);
  Str(w, "content_type");
  Str(w, v.content_type);
  Str(w, "enabled");
  w.Bool(v.enabled);
  Str(w, "created");
  Str(w, FormatPlanTime(v.created));
  Str(w, "updated");
  Str(w, FormatPlanTime(v.updated));
  Str(w, "tags");
  w.StartObject();
  for (const auto& [k, val] : v.tags) {
    Str(w, k);
    Str(w, val);
  }
  w.EndObject();
  w.EndObject();
}

}  // namespace

std::string RenderShowJson(const ShowReport& report) {
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  w.SetIndent(' ', 2);
  w.StartObject();
  Str(w, "vault");
  w.StartObject();
  Str(w, "name");
  Str(w, report.vault.name);
  Str(w, "base_url");
  Str(w, report.vault.base_url);
  Str(w, "resource_id");
  Str(w, report.vault.resource_id);
  w.EndObject();
  Str(w, "secrets");
  w.StartArray();
  for (const auto& s : report.secrets) {
    w.StartObject();
    Str(w, "name");
    Str(w, s.latest.name);
    Str(w, "latest");
    WriteVersion(w, s.latest);
    Str(w, "versions");
    w.StartArray();
    for (const auto& v : s.versions) WriteVersion(w, v);
    w.EndArray();
    w.EndObject();
  }
  w.EndArray();
  Str(w, "deleted_secrets");
  w.StartArray();
  for (const auto& d : report.deleted) {
    w.StartObject();
    Str(w, "name");
    Str(w, d.latest.name);
    Str(w, "deleted");
    Str(w, FormatPlanTime(d.deleted_date));
    Str(w, "scheduled_purge");
    Str(w, FormatPlanTime(d.scheduled_purge_date));
    w.EndObject();
  }
  w.EndArray();
  if (report.certificate.has_value()) {
    const ShowCertificate& c = *report.certificate;
    Str(w, "certificate");
    w.StartObject();
    Str(w, "secret_name");
    Str(w, c.secret_name);
    Str(w, "version_url");
    Str(w, c.version_id);
    const ActualCertificate& d = c.decoded;
    Str(w, "thumbprint");
    Str(w, d.thumbprint);
    Str(w, "subject");
    Str(w, d.subject);
    Str(w, "issuer");
    Str(w, d.issuer);
    Str(w, "dns_names");
    w.StartArray();
    for (const auto& name : d.dns_names) Str(w, name);
    w.EndArray();
    Str(w, "not_before");
    Str(w, c.error.empty() ? FormatPlanTime(d.not_before) : "");
    Str(w, "not_after");
    Str(w, c.error.empty() ? FormatPlanTime(d.not_after) : "");
    Str(w, "days_left");
    w.Int(c.days_left);
    Str(w, "error");
    Str(w, c.error);
    w.EndObject();
  }
  Str(w, "applies");
  w.StartArray();
  for (const auto& a : report.applies) {
    w.StartObject();
    Str(w, "id");
    Str(w, a.id);
    Str(w, "time");
    Str(w, FormatPlanTime(a.time));
    Str(w, "written");
    w.StartObject();
    for (const auto& [name, versions] : a.written) {
      Str(w, name);
      w.StartArray();
      for (const auto& v : versions) Str(w, v);
      w.EndArray();
    }
    w.EndObject();
    Str(w, "deleted");
    w.StartArray();
    for (const auto& name : a.deleted) Str(w, name);
    w.EndArray();
    Str(w, "deployment");
    Str(w, a.deployment);
    Str(w, "deployment_state");
    Str(w, a.deployment_state);
    Str(w, "rollback_of");
    Str(w, a.rollback_of);
    Str(w, "summary");
    Str(w, DescribeApply(a));
    w.EndObject();
  }
  w.EndArray();
  Str(w, "deployments");
  w.StartArray();
  for (const auto& d : report.deployments) {
    w.StartObject();
    Str(w, "name");
    Str(w, d.name);
    Str(w, "resource_group");
    Str(w, report.resource_group);
    Str(w, "timestamp");
    Str(w, FormatPlanTime(d.timestamp));
    Str(w, "provisioning_state");
    Str(w, d.provisioning_state);
    Str(w, "parameters");
    w.StartObject();
    for (const auto& [name, p] : d.parameters) {
      Str(w, name);
      if (p.value_json.empty()) {
        w.Null();
      } else {
        w.RawValue(p.value_json.data(), p.value_json.size(), rapidjson::kObjectType);
      }
    }
    w.EndObject();
    Str(w, "error");
    Str(w, d.error);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize()) + "\n";
}

}  // namespace rotor::cli
