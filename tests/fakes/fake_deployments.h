// FakeDeployments: an in-memory DeploymentService for unit tests, following
// the contract in engine/model/deployments.h: a deployment is identified by
// resource group + name and deploying under an existing name replaces it;
// securestring / secureobject parameters (as the template declares them)
// are never returned; StartDeployment answers Running and
// WaitForDeployment the terminal state; an unknown resource group is
// NotFound. Every request is recorded, and the outcome of the next
// deployments can be scripted. It passes the same contract tests as the
// real providers (tests/fakes/deployments_contract.h).
#ifndef ROTOR_TESTS_FAKES_FAKE_DEPLOYMENTS_H_
#define ROTOR_TESTS_FAKES_FAKE_DEPLOYMENTS_H_

#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "base/clock.h"
#include "engine/model/deployments.h"

namespace rotor::fakes {

class FakeDeployments : public DeploymentService {
 public:
  // `clock` must outlive the service; `resource_groups` exist.
  FakeDeployments(const Clock& clock, std::set<std::string> resource_groups);

  // The next deployment started ends Failed with `error` (FIFO; without a
  // scripted outcome a deployment succeeds).
  void FailNext(std::string error);

  // Every request StartDeployment accepted, in order (parameters included,
  // securestrings too: tests inspect what would have been sent).
  struct Started {
    std::string resource_group;
    std::string name;
    std::string template_json;
    std::map<std::string, std::string> parameters;  // name -> JSON text
  };
  std::vector<Started> started() const;

  // Records a deployment as if made outside rotor (setting up a test): it
  // ends in `state`, at the clock's time.
  absl::Status Seed(absl::string_view resource_group, const DeploymentRequest& request,
                    absl::string_view state = kStateSucceeded);

  absl::StatusOr<std::vector<Deployment>> ListDeployments(
      absl::string_view resource_group) override;
  absl::StatusOr<Deployment> GetDeployment(absl::string_view resource_group,
                                           absl::string_view name) override;
  absl::StatusOr<std::string> ExportTemplate(absl::string_view resource_group,
                                             absl::string_view name) override;
  absl::StatusOr<Deployment> StartDeployment(absl::string_view resource_group,
                                             const DeploymentRequest& request) override;
  absl::Status ValidateDeployment(absl::string_view resource_group,
                                  const DeploymentRequest& request) override;
  // Requests ValidateDeployment saw, in order.
  int validations() const;
  absl::StatusOr<Deployment> WaitForDeployment(absl::string_view resource_group,
                                               absl::string_view name,
                                               const DeploymentProgress& progress,
                                               absl::Duration timeout) override;

 private:
  struct Record {
    Deployment deployment;    // as reads return it
    std::string final_state;  // where it ends
    std::string final_error;
    std::string template_json;
    int64_t sequence = 0;
  };
  absl::Status CheckGroup(absl::string_view resource_group) const;
  absl::StatusOr<Record> Make(absl::string_view resource_group,
                              const DeploymentRequest& request) const;

  const Clock& clock_;
  std::set<std::string> groups_;  // lower-cased
  mutable std::mutex mu_;
  std::map<std::string, Record> records_;  // "group/name", lower-cased
  std::deque<std::string> failures_;
  std::vector<Started> started_;
  int64_t sequence_ = 0;
  int validations_ = 0;
};

}  // namespace rotor::fakes

#endif  // ROTOR_TESTS_FAKES_FAKE_DEPLOYMENTS_H_
