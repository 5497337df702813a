// --metrics-file FILE (plan, drift, apply, verify): what a run found, in the
// Prometheus text exposition format, for node_exporter's textfile
// collector. Rendered from the Plan's `observed` facts and pending changes
// and from verify's report, never from a secret; every metric is a gauge in
// base units (seconds, Unix time) named rotor_*, labelled with the registry
// (config, vault, resource_group) and the command that wrote it, so files
// written by different commands never repeat a series. README.md,
// "Metrics", documents each one.
#ifndef ROTOR_CLI_METRICS_H_
#define ROTOR_CLI_METRICS_H_

#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "cli/commands.h"
#include "engine/config/config.h"
#include "engine/model/plan.h"
#include "engine/verify/verify.h"

namespace rotor::cli {

// What one registry's run left to report.
struct RegistryMetrics {
  std::string config;              // the file, as named
  std::string vault;               // "" when the config did not load
  std::string resource_group;      // [deployment] resource_group, "" without one
  std::string certificate_secret;  // [certificate] secret_name, "" without one
  // The live state and what is pending (for apply: after it, or before it
  // when it failed).
  std::optional<Plan> plan;
  std::optional<VerifyReport> verify;
  absl::Time verified_at = absl::UnixEpoch();
  bool finished = false;
  int exit_code = 1;
  absl::Time finished_at = absl::UnixEpoch();
};

// Collects the registries of one command run; the commands of a fleet
// record into it from several threads.
class MetricsRecorder {
 public:
  explicit MetricsRecorder(std::string command) : command_(std::move(command)) {}

  void RecordRegistry(const std::string& config, const std::string& vault,
                      const std::string& resource_group, const std::string& certificate_secret);
  void RecordPlan(const std::string& config, const Plan& plan);
  void RecordVerify(const std::string& config, const VerifyReport& report, absl::Time at);
  void RecordExit(const std::string& config, int exit_code, absl::Time at);

  // The exposition text of every registry recorded so far.
  std::string Render() const;

 private:
  // Runs `change` on `config`'s entry (made when absent) under the lock.
  void Update(const std::string& config, const std::function<void(RegistryMetrics&)>& change);

  std::string command_;
  mutable std::mutex mu_;
  std::map<std::string, RegistryMetrics> registries_;  // by config
};

// What a registry's command records when --metrics-file is set (no-ops
// otherwise): its labels from `config`, the plan it made, the report of
// its verification.
void RecordRegistry(const CommonOptions& options, const Config& config);
void RecordPlan(const CommonOptions& options, const Plan& plan);
void RecordVerify(const CommonOptions& options, const VerifyReport& report, absl::Time at);

// The exposition text for `registries` run by `command` ("plan", ...).
std::string RenderMetrics(const std::string& command,
                          const std::vector<RegistryMetrics>& registries);

// Fails, naming the flag and the folder, when FILE cannot be written
// there (checked before the command runs, so an apply never ends on it).
absl::Status CheckMetricsFile(const std::string& path);
// Writes the file atomically (a reader never sees half of it), mode 0644:
// node_exporter reads it as another user, and it holds no secret.
absl::Status WriteMetricsFile(const std::string& path, const std::string& text);

}  // namespace rotor::cli

#endif  // ROTOR_CLI_METRICS_H_
