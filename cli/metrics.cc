#include "cli/metrics.h"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <utility>

#include "absl/strings/str_cat.h"
#include "base/files.h"

namespace rotor::cli {
namespace {

// A label value as the text format wants it: backslash, double quote and
// line feed escaped.
std::string EscapeLabel(absl::string_view value) {
  std::string out;
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

using Labels = std::vector<std::pair<std::string, std::string>>;

struct Family {
  const char* name;
  const char* help;
  std::vector<std::string> samples;  // "{labels} value"
};

// The families, in the order the file lists them.
enum FamilyId {
  kLastRunTimestamp,
  kLastRunSuccess,
  kCertificateExpiry,
  kCertificateRemaining,
  kLoginUpdated,
  kLoginAge,
  kPendingChanges,
  kVaultSecrets,
  kVmFirstPageLogins,
  kVmLoginsBeyond,
  kLastDeployment,
  kVerifyCheckSuccess,
  kFamilyCount,
};

std::vector<Family> Families() {
  return {
      {"rotor_last_run_timestamp_seconds",
       "When this rotor command last finished for the registry (Unix time).",
       {}},
      {"rotor_last_run_success",
       "1 when this rotor command last finished without error for the registry, 0 when it failed.",
       {}},
      {"rotor_certificate_expiry_timestamp_seconds",
       "When the registry's certificate expires (Unix time): the vault's latest version, or for "
       "verify the certificate the registry serves.",
       {}},
      {"rotor_certificate_remaining_seconds",
       "Seconds from the run until the registry's certificate expires (negative once expired).",
       {}},
      {"rotor_login_secret_updated_timestamp_seconds",
       "When the latest version of a login's secret was written (Unix time).",
       {}},
      {"rotor_login_secret_age_seconds",
       "Age of the latest version of a login's secret at the run.",
       {}},
      {"rotor_pending_changes",
       "Changes a rotor apply would make, by cause: config (the file asks for something new) or "
       "drift (the live state moved outside rotor).",
       {}},
      {"rotor_vault_secrets", "Live secrets the registry's vault lists.", {}},
      {"rotor_vm_first_page_logins",
       "Logins among the first 25 secrets (by name): the page the registry VM reads.",
       {}},
      {"rotor_vm_logins_beyond_first_page",
       "Logins beyond the first 25 secrets: the registry VM gives them no login.",
       {}},
      {"rotor_last_successful_deployment_timestamp_seconds",
       "When the registry's most recent successful deployment ran (Unix time).",
       {}},
      {"rotor_verify_check_success",
       "1 when a check of rotor verify held, 0 when not: check=\"certificate\" (the registry "
       "serves "
       "the declared certificate), \"login\" (a user logs in), \"rejected\" (a removed user is "
       "refused).",
       {}},
  };
}

void Add(std::vector<Family>& families, FamilyId id, const Labels& base, const Labels& extra,
         absl::string_view value) {
  std::string sample = "{";
  bool first = true;
  for (const Labels* labels : {&base, &extra}) {
    for (const auto& [name, v] : *labels) {
      if (v.empty()) continue;  // an empty label is an absent one
      absl::StrAppend(&sample, first ? "" : ",", name, "=\"", EscapeLabel(v), "\"");
      first = false;
    }
  }
  absl::StrAppend(&sample, "} ", value);
  families[id].samples.push_back(std::move(sample));
}

std::string Seconds(absl::Time t) { return absl::StrCat(absl::ToUnixSeconds(t)); }
std::string Seconds(absl::Duration d) { return absl::StrCat(absl::ToInt64Seconds(d)); }

void AddCertificate(std::vector<Family>& families, const Labels& base, const std::string& secret,
                    absl::Time not_after, absl::Time at) {
  Add(families, kCertificateExpiry, base, {{"secret", secret}}, Seconds(not_after));
  Add(families, kCertificateRemaining, base, {{"secret", secret}}, Seconds(not_after - at));
}

}  // namespace

std::string RenderMetrics(const std::string& command,
                          const std::vector<RegistryMetrics>& registries) {
  std::vector<Family> families = Families();
  for (const RegistryMetrics& r : registries) {
    const Labels base = {{"config", r.config},
                         {"vault", r.vault},
                         {"resource_group", r.resource_group},
                         {"command", command}};
    if (r.finished) {
      Add(families, kLastRunTimestamp, base, {}, Seconds(r.finished_at));
      Add(families, kLastRunSuccess, base, {}, r.exit_code == 1 ? "0" : "1");
    }
    if (r.plan.has_value()) {
      const Observed& o = r.plan->observed;
      if (o.certificate.has_value()) {
        AddCertificate(families, base, o.certificate->secret, o.certificate->not_after, o.at);
      }
      for (const ObservedLogin& login : o.logins) {
        Add(families, kLoginUpdated, base, {{"user", login.name}}, Seconds(login.updated));
        Add(families, kLoginAge, base, {{"user", login.name}}, Seconds(o.at - login.updated));
      }
      int config = 0, drift = 0;
      for (const Change& c : r.plan->changes) ++(c.cause == Cause::kDrift ? drift : config);
      Add(families, kPendingChanges, base, {{"cause", "config"}}, absl::StrCat(config));
      Add(families, kPendingChanges, base, {{"cause", "drift"}}, absl::StrCat(drift));
      Add(families, kVaultSecrets, base, {}, absl::StrCat(o.vault_secrets));
      Add(families, kVmFirstPageLogins, base, {}, absl::StrCat(o.vm_first_page_logins));
      Add(families, kVmLoginsBeyond, base, {}, absl::StrCat(o.vm_logins_beyond_first_page));
      if (o.last_successful_deployment.has_value()) {
        Add(families, kLastDeployment, base, {}, Seconds(*o.last_successful_deployment));
      }
    }
    if (r.verify.has_value()) {
      for (const VerifyCheck& check : r.verify->checks) {
        std::string kind = "certificate";
        if (check.expected_status == 200) kind = "login";
        if (check.expected_status == 401) kind = "rejected";
        Add(families, kVerifyCheckSuccess, base, {{"check", kind}, {"user", check.user}},
            check.ok ? "1" : "0");
        // The served certificate, unless the plan already reported one.
        if (kind == "certificate" && check.served_not_after.has_value() && !r.plan.has_value()) {
          AddCertificate(families, base, r.certificate_secret, *check.served_not_after,
                         r.verified_at);
        }
      }
    }
  }
  std::string out;
  for (const Family& f : families) {
    if (f.samples.empty()) continue;
    absl::StrAppend(&out, "# HELP ", f.name, " ", f.help, "\n# TYPE ", f.name, " gauge\n");
    for (const std::string& s : f.samples) absl::StrAppend(&out, f.name, s, "\n");
  }
  return out;
}

void MetricsRecorder::Update(const std::string& config,
                             const std::function<void(RegistryMetrics&)>& change) {
  std::lock_guard<std::mutex> lock(mu_);
  RegistryMetrics& r = registries_[config];
  r.config = config;
  change(r);
}

void MetricsRecorder::RecordRegistry(const std::string& config, const std::string& vault,
                                     const std::string& resource_group,
                                     const std::string& certificate_secret) {
  Update(config, [&](RegistryMetrics& r) {
    r.vault = vault;
    r.resource_group = resource_group;
    r.certificate_secret = certificate_secret;
  });
}

void MetricsRecorder::RecordPlan(const std::string& config, const Plan& plan) {
  Update(config, [&](RegistryMetrics& r) { r.plan = plan; });
}

void MetricsRecorder::RecordVerify(const std::string& config, const VerifyReport& report,
                                   absl::Time at) {
  Update(config, [&](RegistryMetrics& r) {
    r.verify = report;
    r.verified_at = at;
  });
}

void MetricsRecorder::RecordExit(const std::string& config, int exit_code, absl::Time at) {
  Update(config, [&](RegistryMetrics& r) {
    r.finished = true;
    r.exit_code = exit_code;
    r.finished_at = at;
  });
}

std::string MetricsRecorder::Render() const {
  std::vector<RegistryMetrics> registries;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [config, r] : registries_) registries.push_back(r);
  }
  return RenderMetrics(command_, registries);
}

void RecordRegistry(const CommonOptions& options, const Config& config) {
  if (options.metrics == nullptr) return;
  options.metrics->RecordRegistry(
      options.config, config.vault.name,
      config.deployment.has_value() ? config.deployment->resource_group : "",
      config.certificate.has_value() ? config.certificate->secret_name : "");
}

void RecordPlan(const CommonOptions& options, const Plan& plan) {
  if (options.metrics != nullptr) options.metrics->RecordPlan(options.config, plan);
}

void RecordVerify(const CommonOptions& options, const VerifyReport& report, absl::Time at) {
  if (options.metrics != nullptr) options.metrics->RecordVerify(options.config, report, at);
}

absl::Status CheckMetricsFile(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--metrics-file ", path, ": is a folder; name the file to write"));
  }
  const std::string folder = DirName(path);
  if (!fs::is_directory(folder, ec)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--metrics-file ", path, ": folder ", folder, " does not exist"));
  }
  if (::access(folder.c_str(), W_OK | X_OK) != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("--metrics-file ", path, ": folder ", folder, " is not writable"));
  }
  return absl::OkStatus();
}

absl::Status WriteMetricsFile(const std::string& path, const std::string& text) {
  absl::Status written = WriteFileAtomic(path, text, 0644);
  if (written.ok()) return written;
  return absl::Status(written.code(),
                      absl::StrCat("--metrics-file ", path, ": ", written.message()));
}

}  // namespace rotor::cli
