// Refresh: reads the live state a plan is computed against.
//
// Request budget (what scales with the vault): one pass over the secret list
// and one over the deleted-secret list, plus one read per secret whose value
// the diff needs: declared users with a declared value, the certificate, and
// undeclared secrets of unknown kind (to warn about short ones, which the
// registry VM would turn into logins). Generated passwords are never read.
#ifndef ROTOR_ENGINE_REFRESH_H_
#define ROTOR_ENGINE_REFRESH_H_

#include <string>

#include "absl/status/statusor.h"
#include "engine/deployments.h"
#include "engine/state.h"
#include "engine/vault.h"

namespace rotor {

// `deployments` may be null (no [deployment] configured).
absl::StatusOr<ActualState> Refresh(const DesiredState& desired, Vault& vault,
                                    DeploymentService* deployments);

// A digest of everything a plan depends on (secret versions and their
// attributes, deleted names, deployments and their states) and nothing
// secret: a saved plan records it, and apply refuses the plan when the live
// state no longer has it.
std::string StateFingerprint(const ActualState& actual);

// Decodes the certificate held in a secret bundle (either encoding the
// registry accepts); on failure fills decode_error and leaves thumbprint
// empty. Defined in certificate.cc.
ActualCertificate DecodeActualCertificate(const SecretBundle& bundle);

}  // namespace rotor

#endif  // ROTOR_ENGINE_REFRESH_H_
