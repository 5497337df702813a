// ARM resource-group deployments over the local provider's LocalDeployments
// (storage in {state}/deployments/, template validation, provisioning hook),
// with ARM's wire behaviour on top:
//  - PUT .../deployments/{name} is a long-running operation: 201 (new) or
//    200 (replaced) with provisioningState Accepted and an
//    Azure-AsyncOperation URL (.../operationStatuses/{id}); the deployment
//    then reads Accepted, Running (for --deploy-duration) and Succeeded or
//    Failed. Validation errors answer 400 synchronously, an unknown
//    resource group 404 ResourceGroupNotFound, a deployment already running
//    in the group 409 DeploymentActive.
//  - GET / HEAD / list (paged with nextLink, $top) / exportTemplate /
//    operations / operationStatuses / cancel (409 unless running);
//    securestring parameters are never returned; outputs, providers,
//    dependencies and output resources are evaluated from the template as
//    far as the emulator knows the values (template.h). HEAD answers 204, or
//    404 with ARM's JSON content type and no body.
//  - DELETE .../deployments/{name}: 202 Accepted with a Location
//    (.../subscriptions/{sub}/operationresults/{token}) that answers 202
//    while the deletion runs (a quarter of --deploy-duration, at most 1 s),
//    then 204; the deployment is gone at once (GET 404 DeploymentNotFound).
//    A running deployment cannot be deleted (409 DeploymentActive).
//    Deleting a deployment does not touch the registry VM it provisioned.
//  - POST .../validate: the PUT's validation without recording anything:
//    200 with the validated deployment (securestrings without value,
//    validatedResources) or 400 with ARM's error ({"error": {"code":
//    "InvalidTemplate", "message", "additionalInfo"?}}).
//  - POST .../whatIf: 202 with a Location whose result (after the same
//    delay) is {"status": "Succeeded", "properties": {"changes": [...]}}
//    (Create, NoChange, Deploy when the emulator cannot tell, Ignore or
//    Delete for the group's other resources) or {"status": "Failed",
//    "error"} when the template refuses the request. Results are kept in
//    memory.
//  - Resource groups: GET / HEAD / PUT /subscriptions/{sub}/resourcegroups/{rg}.
//  - GET .../providers/Microsoft.KeyVault/vaults/{name} describes a served
//    vault (in any existing resource group).
//  - .../providers/Microsoft.Network/dnsZones/{zone}[/TXT[/{name}]]: Azure
//    DNS zones and TXT record sets (dns.h), in an existing resource group.
// Any subscription id is accepted; path segments are case-insensitive.
#ifndef ROTOR_TESTS_EMULATOR_ARM_H_
#define ROTOR_TESTS_EMULATOR_ARM_H_

#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "base/clock.h"
#include "providers/local/local_deployments.h"
#include "tests/emulator/dns.h"
#include "tests/emulator/endpoints.h"
#include "tests/emulator/http_types.h"
#include "tests/emulator/keyvault.h"
#include "tests/emulator/registry.h"
#include "tests/emulator/stats.h"

namespace rotor::emulator {

HttpResponse ArmError(int status, absl::string_view code, absl::string_view message);

struct ArmOptions {
  std::string state_dir;
  std::vector<std::string> resource_groups;
  absl::Duration deploy_duration = absl::Seconds(1);
  std::vector<std::string> deploy_fail;
  int page_size = 100;
  // Azure DNS zones created at start-up in the first resource group
  // (--dns-zone).
  std::vector<std::string> dns_zones;
  // pebble-challtestsrv's management URL (--challtestsrv; dns.h).
  std::string challtestsrv;
};

class ArmService {
 public:
  static absl::StatusOr<std::unique_ptr<ArmService>> Open(ArmOptions options,
                                                          const Endpoints& endpoints,
                                                          KeyVaultService& vaults,
                                                          RegistryProvisioner& registry,
                                                          Stats& stats);
  ~ArmService();

  // An authenticated ARM request; `base_url` is https://host:port.
  HttpResponse Handle(const HttpRequest& request, const std::string& base_url);

  // Fails the next deployment in `resource_group` (--deploy-fail, admin).
  void ArmFailure(absl::string_view resource_group);
  int Running() const;
  // The deployments of `resource_group` whose stored state is Running (what
  // ARM's 409 DeploymentActive rule looks at), for the journal.
  std::vector<std::string> RunningIn(const std::string& resource_group) const;
  // The thumbprint of the last successful registry deployment ("" if none).
  std::string LastRegistryThumbprint() const;
  // Wakes running deployments (they fail: the emulator stopped) and joins
  // their threads.
  void Shutdown();

 private:
  struct Meta;
  struct Run;
  ArmService(ArmOptions options, const Endpoints& endpoints, KeyVaultService& vaults,
             RegistryProvisioner& registry, Stats& stats);

  // What DeploymentJson renders the deployment for.
  enum class View { kPut, kGet, kValidate };
  struct ParsedRequest;
  struct Job;

  absl::Status Provision(const DeploymentRequest& request, const std::string& group);
  // The body of a PUT, validate or whatIf; a 400 answer when it is refused.
  absl::StatusOr<DeploymentRequest> ParseRequest(const std::string& name,
                                                 const HttpRequest& request,
                                                 HttpResponse* refused) const;
  HttpResponse Put(const std::string& sub, const std::string& rg, const std::string& name,
                   const HttpRequest& request, const std::string& base_url);
  HttpResponse Delete(const std::string& sub, const std::string& rg, const std::string& name,
                      const HttpRequest& request, const std::string& base_url);
  HttpResponse Validate(const std::string& sub, const std::string& rg, const std::string& name,
                        const HttpRequest& request);
  HttpResponse WhatIf(const std::string& sub, const std::string& rg, const std::string& name,
                      const HttpRequest& request, const std::string& base_url);
  HttpResponse OperationResult(const std::string& sub, const std::string& token,
                               const HttpRequest& request, const std::string& base_url);
  // Runs the template validation of a PUT on a scratch store: the deployment
  // as it would be recorded (parameters with defaults, securestrings
  // without value) and its template text.
  absl::StatusOr<std::pair<Deployment, std::string>> CheckRequest(const DeploymentRequest& request);
  // GetDeployment / ListDeployments without the deployments deleted through
  // the API.
  absl::StatusOr<Deployment> Find(const std::string& rg, const std::string& name) const;
  absl::StatusOr<std::vector<Deployment>> List(const std::string& rg) const;
  bool Deleted(const Deployment& d) const;  // needs mu_
  // Removes the deleted deployments of `rg` from its store when no
  // deployment of the group runs.
  void ApplyDeletions(const std::string& rg);  // needs mu_
  std::string DeploymentJson(const std::string& sub, const Deployment& d,
                             const std::string& template_text, View view) const;
  std::string OperationsJson(const std::string& sub, const Deployment& d,
                             const std::string& only_id) const;
  std::string ErrorJson(const Deployment& d) const;
  std::string EffectiveState(const Deployment& d) const;
  absl::Status SaveMeta() const;  // needs mu_
  void ReapThreads();             // needs threads_mu_

  ArmOptions options_;
  Endpoints endpoints_;
  KeyVaultService& vaults_;
  RegistryProvisioner& registry_;
  Stats& stats_;
  std::unique_ptr<local::LocalDeployments> deployments_;
  std::unique_ptr<DnsZones> dns_;

  mutable std::mutex mu_;                              // meta_, runs_, fail_next_, last_thumbprint_
  std::map<std::string, std::unique_ptr<Meta>> meta_;  // "rg/name", lower case
  std::map<std::string, std::shared_ptr<Run>> runs_;
  std::map<std::string, int> fail_next_;
  std::string last_thumbprint_;
  // Per resource group (lower-cased): the CustomScript configuration of the
  // last successful registry deployment (vm_script.h).
  std::map<std::string, std::string> script_configurations_;
  // Deployments deleted through the API ("rg/name", lower case -> the
  // deleted record's timestamp in Unix microseconds) until they are removed
  // from the store.
  std::map<std::string, int64_t> deleted_;
  // whatIf results by token (in memory).
  std::map<std::string, std::shared_ptr<Job>> jobs_;
  // Template validation runs one at a time on a scratch store.
  std::mutex check_mu_;
  std::unique_ptr<local::LocalDeployments> scratch_;

  std::mutex stop_mu_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;

  std::mutex threads_mu_;
  std::vector<std::pair<std::thread, std::shared_ptr<std::atomic<bool>>>> threads_;
};

}  // namespace rotor::emulator

#endif  // ROTOR_TESTS_EMULATOR_ARM_H_
