// The contracts of engine/model/vault.h and engine/model/deployments.h as
// checks every implementation passes: the fakes, the embedded local
// provider, and the Key Vault and ARM clients against rotor-emulator. Call
// from a doctest case; failures are reported there.
#ifndef ROTOR_TESTS_FAKES_CONTRACTS_H_
#define ROTOR_TESTS_FAKES_CONTRACTS_H_

#include <string>

#include "engine/model/deployments.h"
#include "engine/model/vault.h"

namespace rotor::fakes {

// Uses secrets named "contract-*" (the vault may hold others). `soft_delete`:
// whether the vault keeps deleted secrets recoverable.
void CheckVaultContract(Vault& vault, bool soft_delete);

// Deploys under "contract-*" names in `resource_group` (which must exist);
// `missing_group` must not exist.
void CheckDeploymentsContract(DeploymentService& deployments, const std::string& resource_group,
                              const std::string& missing_group);

}  // namespace rotor::fakes

#endif  // ROTOR_TESTS_FAKES_CONTRACTS_H_
