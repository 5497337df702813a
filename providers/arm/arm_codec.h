// ARM Microsoft.Resources/deployments JSON (2018-05-01, 2019-10-01,
// 2020-10-01, 2025-04-01; docs/azure-contracts.md §4): DeploymentExtended and its
// lists, async-operation status bodies, deployment operations, exported
// templates, validate results, CloudError bodies, and the Deployment body
// rotor PUTs. RapidJSON stays in arm_codec.cc.
#ifndef ROTOR_PROVIDERS_ARM_ARM_CODEC_H_
#define ROTOR_PROVIDERS_ARM_ARM_CODEC_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "base/secret.h"
#include "engine/model/deployments.h"
#include "providers/http/http_message.h"

namespace rotor::arm {

// A DeploymentExtended body. Parameters' values are re-serialised as
// compact JSON text (value_json); SecureString / SecureObject parameters get
// an empty value_json whatever the body holds. A failed deployment's
// properties.error becomes Deployment::error (see FormatArmError).
// `resource_group` is used when the id does not name one.
absl::StatusOr<Deployment> ParseDeployment(absl::string_view body,
                                           absl::string_view resource_group);

struct DeploymentListPage {
  std::vector<Deployment> items;
  std::string next_link;  // "" at the end
};
absl::StatusOr<DeploymentListPage> ParseDeploymentList(absl::string_view body,
                                                       absl::string_view resource_group);

// The Azure-AsyncOperation resource: {"status": ..., "error": {...}}.
struct OperationStatus {
  std::string status;  // "Running", "Succeeded", "Failed", "Canceled", ...
  std::string error;   // formatted, empty without an error
};
absl::StatusOr<OperationStatus> ParseOperationStatus(absl::string_view body);

// The failed entries of a deployment operations page, one formatted line
// each ("Microsoft.Compute/virtualMachines/vm1: Code: message"), and the
// page's nextLink.
struct OperationsPage {
  std::vector<std::string> failures;
  std::string next_link;
};
absl::StatusOr<OperationsPage> ParseDeploymentOperations(absl::string_view body);

// exportTemplate's {"template": {...}} -> the template as JSON text.
absl::StatusOr<std::string> ParseExportedTemplate(absl::string_view body);

// An ARM ErrorResponse ({"code","message","target","details":[...]}) or a
// CloudError wrapping one ({"error": {...}}), one line per error, nested
// details indented by two spaces:
//   DeploymentFailed: At least one resource deployment operation failed. ...
//     Conflict: Conflict
// A message that is itself JSON (details[].message often is) is parsed and
// shown as the error it holds. Empty when `json` holds no error.
std::string FormatArmError(absl::string_view json);

// A non-2xx ARM answer as a status (http::HttpErrorToStatus), with every
// nested detail of its error when there are some.
absl::Status ArmHttpError(absl::string_view method, absl::string_view url,
                          const http::HttpResponse& response);

// A validate answer (DeploymentValidateResult): empty when it carries no
// error, else the formatted error.
absl::StatusOr<std::string> ParseValidateResult(absl::string_view body);

// The Deployment body for PUT / validate:
//   {"properties":{"mode":...,"template":{...}|"templateLink":{"uri":...},
//    "parameters":{"name":{"value":<json>},...}},"tags":{...}}
// Every parameter value must be JSON text (InvalidArgument naming the
// parameter, never its value). A Secret: service principal secrets travel in
// it.
absl::StatusOr<Secret> DeploymentBody(const DeploymentRequest& request);

// ARM's date-time (RFC 3339 with up to 7 fraction digits, "Z" or offset;
// a missing zone is read as UTC).
absl::StatusOr<absl::Time> ParseArmTime(absl::string_view text);

}  // namespace rotor::arm

#endif  // ROTOR_PROVIDERS_ARM_ARM_CODEC_H_
