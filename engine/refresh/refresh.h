// Refresh: reads the live state a plan is computed against.
//
// The secret list is paged, a round trip per 25 secrets one after the other;
// the declared secrets are read at the same time (their names are known
// without the list), beside the deleted-secret list and the deployment
// list, so a plan takes about as long as its requests spread over the
// vault's parallelism. The Vault and the DeploymentService are called from
// several threads at once.
//
// Request budget (what scales with the vault): one pass over the secret list
// (a request per 25 secrets) and one over the deleted-secret list (a request
// per 25 deleted secrets, usually one), plus one read per secret whose value
// the diff needs: each declared user with a declared value and the
// certificate (whether the list shows them or not), and undeclared secrets
// of unknown kind (to warn about short ones, which the
// registry VM would turn into logins). Generated passwords are never read,
// and nothing is read per listed secret: the list's metadata (updated,
// enabled, content type, tags) is enough for everything else. The exact
// version and versioned id of a secret, which Key Vault's list does not
// carry, come from its read: ActualState::secrets holds them for every
// secret that was read (the certificate's is the URL a redeploy passes).
#ifndef ROTOR_ENGINE_REFRESH_REFRESH_H_
#define ROTOR_ENGINE_REFRESH_REFRESH_H_

#include <map>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "engine/model/deployments.h"
#include "engine/model/state.h"
#include "engine/model/vault.h"

namespace rotor {

// What rotor already knows about some secrets, so that a refresh need not
// read them again: after an apply, the versions it wrote (and the values it
// wrote there) and what the refresh before it read. An entry is used only
// when the list shows the same latest version: same name, enabled, created,
// updated (seconds), content type, tags, and version when the list carries
// one; otherwise the secret is read as usual. A version written by someone
// else in the same second with the same content type and tags is not told
// apart by Key Vault's list: a hint is for the convergence check right
// after an apply, never for a plan.
struct KnownSecret {
  SecretVersion meta;                            // exact (version and versioned id)
  std::optional<Secret> value;                   // users and undeclared secrets
  std::optional<ActualCertificate> certificate;  // the certificate secret
};
struct RefreshHint {
  std::map<std::string, KnownSecret> secrets;  // keyed by SecretKey(name)
};

// `deployments` may be null (no [deployment] configured); `hint` may be null.
absl::StatusOr<ActualState> Refresh(const DesiredState& desired, Vault& vault,
                                    DeploymentService* deployments,
                                    const RefreshHint* hint = nullptr);

// Whether `listed` (a list entry) shows the latest version `known` describes.
bool ListedAsKnown(const SecretVersion& listed, const SecretVersion& known);

// A digest of everything a plan depends on and nothing secret: each secret's
// listed latest version (updated, enabled, content type, tags, and its
// version id where the refresh learnt it), deleted names, deployments and
// their states. A saved plan records it, and apply refuses the plan when the
// live state no longer has it. Two refreshes of the same config read the
// same secrets, so they learn the same version ids.
std::string StateFingerprint(const ActualState& actual);

// The certificate `cert` declares, as DecodeActualCertificate reads it from
// a secret holding exactly cert.secret_value (without opening the PFX).
ActualCertificate CertificateAsDeclared(const DesiredCertificate& cert);

// Decodes the certificate held in a secret bundle (either encoding the
// registry accepts); on failure fills decode_error and leaves thumbprint
// empty. Defined in certificate.cc.
ActualCertificate DecodeActualCertificate(const SecretBundle& bundle);

}  // namespace rotor

#endif  // ROTOR_ENGINE_REFRESH_REFRESH_H_
