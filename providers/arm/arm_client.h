// ArmDeploymentClient: the engine's DeploymentService over ARM
// resource-group deployments (docs/azure-contracts.md §4) at the profile's
// api-version (2019-10-01 / 2018-05-01 on Azure Stack Hub, 2025-04-01 on
// Azure).
//
//  - ListDeployments follows every nextLink (same origin only).
//  - StartDeployment PUTs the deployment (the engine names it; incremental
//    unless the request says otherwise) and remembers the answer's
//    Azure-AsyncOperation URL. The PUT is not retried blindly: after a
//    transport failure or 5xx the client first GETs the deployment and only
//    sends again when it does not exist; a 429 is sent again after
//    Retry-After. 409 DeploymentActive (another deployment still running
//    in the group) is FailedPrecondition saying so.
//  - WaitForDeployment polls the Azure-AsyncOperation resource when it has
//    one, else the deployment itself, every poll interval (Retry-After when
//    the service sends one; otherwise starting at min_poll_interval and
//    growing by half up to max_poll_interval), reports progress after each
//    poll, and returns the final deployment as GET shows it. On failure
//    Deployment::error holds the error (code and message, nested details,
//    JSON messages parsed) and then one line per failed deployment
//    operation. A few transient polling failures in a row are tolerated.
//  - A read whose 2xx answer cannot be read (truncated or garbled JSON, a
//    known field of the wrong type, such as properties.parameters as a
//    string) is sent again (http::SendCheckedRead), then fails naming the
//    field and the URL; an unreadable poll counts as a failed poll. An
//    answer larger than kMaxArmAnswerBytes fails the request.
//  - ValidateDeployment (the preflight of every redeploy) handles validate's
//    shapes: synchronous 200/400 in 2018-05-01, 202 + Location polling from
//    2019-10-01 on.
#ifndef ROTOR_PROVIDERS_ARM_ARM_CLIENT_H_
#define ROTOR_PROVIDERS_ARM_ARM_CLIENT_H_

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "base/clock.h"
#include "engine/model/deployments.h"
#include "providers/http/http_client.h"

namespace rotor::arm {

// The most an ARM answer may hold. ARM keeps at most 800 deployments per
// resource group, and a deployment list page may carry all of them with
// their parameters; an exported template is at most 4 MB (ARM's template
// limit). 64 MiB is the HTTP client's default, kept for ARM.
inline constexpr size_t kMaxArmAnswerBytes = 64 << 20;

struct ArmOptions {
  std::string arm_endpoint;  // "https://management.local.azurestack.external"
  std::string subscription_id;
  std::string api_version = "2019-10-01";
  absl::Duration min_poll_interval = absl::Seconds(1);
  absl::Duration max_poll_interval = absl::Seconds(15);
  // A Retry-After longer than this is shortened to it.
  absl::Duration max_retry_after = absl::Seconds(60);
  // Consecutive failed polls tolerated before WaitForDeployment gives up.
  int max_poll_failures = 5;
  // Attempts of the deployment PUT (the first included).
  int max_write_attempts = 4;
  // Sends of a read whose answer cannot be read (the first included).
  int max_read_attempts = 4;
  absl::Duration backoff = absl::Seconds(2);
  int max_pages = 1000;
  // Multiplies every wait (tests use 0.001); elapsed time comes from `clock`.
  double time_scale = 1.0;
  const Clock* clock = nullptr;
  http::LogSink log;
};

class ArmDeploymentClient : public DeploymentService {
 public:
  static absl::StatusOr<std::unique_ptr<ArmDeploymentClient>> Create(
      std::shared_ptr<http::HttpSender> sender, ArmOptions options);

  absl::StatusOr<std::vector<Deployment>> ListDeployments(
      absl::string_view resource_group) override;
  absl::StatusOr<Deployment> GetDeployment(absl::string_view resource_group,
                                           absl::string_view name) override;
  absl::StatusOr<std::string> ExportTemplate(absl::string_view resource_group,
                                             absl::string_view name) override;
  absl::StatusOr<Deployment> StartDeployment(absl::string_view resource_group,
                                             const DeploymentRequest& request) override;
  absl::StatusOr<Deployment> WaitForDeployment(absl::string_view resource_group,
                                               absl::string_view name,
                                               const DeploymentProgress& progress,
                                               absl::Duration timeout) override;

  // OK when ARM accepts the deployment; InvalidArgument with ARM's error
  // lines when it refuses it.
  absl::Status ValidateDeployment(absl::string_view resource_group,
                                  const DeploymentRequest& request) override;
  // One line per failed operation of a deployment.
  absl::StatusOr<std::vector<std::string>> FailedOperations(absl::string_view resource_group,
                                                            absl::string_view name);

 private:
  ArmDeploymentClient(std::shared_ptr<http::HttpSender> sender, ArmOptions options);

  std::string DeploymentsUrl(absl::string_view resource_group, absl::string_view suffix) const;
  std::string OperationsUrl(absl::string_view resource_group, absl::string_view name) const;
  absl::StatusOr<http::HttpResponse> SendOk(http::HttpRequest request);
  // A GET (or an idempotent POST) whose 2xx answer `accept` must take,
  // sent again while it cannot (http::SendCheckedRead); a non-2xx answer
  // becomes its error.
  absl::Status Read(const std::function<http::HttpRequest()>& make,
                    const std::function<absl::Status(const http::HttpResponse&)>& accept);
  absl::Duration PollWait(const http::HttpResponse& response, absl::Duration interval) const;
  void Sleep(absl::Duration d) const;
  void Log(http::LogLevel level, const std::string& line) const;
  const Clock& clock() const;

  std::shared_ptr<http::HttpSender> sender_;
  ArmOptions options_;
  std::mutex mu_;
  // resource group / name (lower-cased) -> Azure-AsyncOperation URL.
  std::map<std::string, std::string> async_operations_;
};

// Whether `name` is a valid deployment or resource group name for a URL
// path (1-90 of letters, digits, - _ . ( )).
bool IsValidArmName(absl::string_view name);

}  // namespace rotor::arm

#endif  // ROTOR_PROVIDERS_ARM_ARM_CLIENT_H_
