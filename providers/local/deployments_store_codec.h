// The deployments store: the JSON text of
// {state_dir}/deployments/{resource_group}.json that LocalDeployments
// (local_deployments.h) reads and writes. LocalDeployments holds the rules
// (validation, states, replacement); this file holds the format. RapidJSON
// stays in deployments_store_codec.cc.
//
// File format:
//   {"format_version": 1, "kind": "rotor-local-deployments",
//    "resource_group": "newregreg",
//    "deployments": [            (oldest first; the last is the most recent)
//      {"name": "registry", "id": "/subscriptions/.../deployments/registry",
//       "timestamp": "2024-05-01T10:00:00.123456Z", "provisioning_state":
//       "Succeeded", "mode": "Incremental",
//       "parameters": {"adminUsername": {"type": "String", "value":
//       "azureuser"},
//                      "servicePrincipalClientSecret": {"type":
//                      "SecureString"}},
//       "template": {...}, "template_link_uri": "", "tags": {}, "error": "",
//       "pid": 1234}]}           (pid: only while Running)
//
// Reading: "format_version" must be 1 (another number: FailedPrecondition);
// "kind" is not checked; "resource_group", and each deployment's "name",
// "id", "timestamp" (RFC 3339) and "provisioning_state" are required;
// "mode", "template_link_uri", "error", a parameter's "type" default to "";
// "parameters", "tags", "template" and "pid" may be absent (a "pid" that is
// not an integer is ignored); unknown members are ignored. Any other fault
// is DataLoss ("deployment store {path}: ..."). A parameter's value and the
// template are kept as compact JSON text.
#ifndef ROTOR_PROVIDERS_LOCAL_DEPLOYMENTS_STORE_CODEC_H_
#define ROTOR_PROVIDERS_LOCAL_DEPLOYMENTS_STORE_CODEC_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "engine/model/deployments.h"

namespace rotor::local {

inline constexpr int kDeploymentsStoreFormatVersion = 1;
inline constexpr char kDeploymentsStoreKind[] = "rotor-local-deployments";
// The provisioning state of a deployment still being provisioned; only such
// a record carries the pid of the process running it.
inline constexpr char kStateRunning[] = "Running";

struct StoredDeployment {
  // resource_group: the store's; parameters: type + value_json (empty for
  // secure types, which are never stored).
  Deployment deployment;
  std::string template_json;  // compact JSON text; "" when none
  int64_t pid = 0;            // the process running it, while Running
};

// One resource group's file.
struct DeploymentsStore {
  std::string resource_group;                 // display case
  std::vector<StoredDeployment> deployments;  // oldest first
};

// The file's text (pretty, two-space indent; parameter values compact).
std::string EncodeDeploymentsStore(const DeploymentsStore& store);

// Reads a file's text (see above); `path` only names the file in messages.
// Records are returned as stored: a Running record stays Running.
absl::StatusOr<DeploymentsStore> DecodeDeploymentsStore(absl::string_view text,
                                                        absl::string_view path);

}  // namespace rotor::local

#endif  // ROTOR_PROVIDERS_LOCAL_DEPLOYMENTS_STORE_CODEC_H_
