// `rotor show`: every secret with all its versions (as
// Get-AzureKeyVaultSecret -IncludeVersions lists them), soft-deleted
// secrets, the certificate rotor manages, and the deployments. Read-only;
// never reads user secret values.
#ifndef ROTOR_CLI_SHOW_H_
#define ROTOR_CLI_SHOW_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/config/config.h"
#include "engine/model/apply_history.h"
#include "engine/model/deployments.h"
#include "engine/model/state.h"
#include "engine/model/vault.h"

namespace rotor::cli {

struct ShowSecret {
  SecretVersion latest;
  std::vector<SecretVersion> versions;  // newest first
};

struct ShowCertificate {
  std::string secret_name;
  std::string version_id;
  std::string error;  // when the secret is absent or unreadable
  ActualCertificate decoded;
  int days_left = 0;
};

struct ShowReport {
  VaultInfo vault;
  std::vector<ShowSecret> secrets;
  std::vector<DeletedSecret> deleted;
  std::optional<ShowCertificate> certificate;
  std::string resource_group;
  std::vector<Deployment> deployments;  // newest first
  // The applies rotor made, found from their rotor-apply-id tags, newest
  // first (engine/model/apply_history.h).
  std::vector<ApplyRecord> applies;
};

absl::StatusOr<ShowReport> ReadShowReport(const Config& config, Vault& vault,
                                          DeploymentService* deployments, absl::Time now);
std::string RenderShowText(const ShowReport& report);
std::string RenderShowJson(const ShowReport& report);

}  // namespace rotor::cli

#endif  // ROTOR_CLI_SHOW_H_
