// What the Azure Stack Hub "container registry" gallery template and the
// script its VM runs do with Key Vault: the facts rotor's rules rest on, each
// in one place (docs/DESIGN.md, "The registry VM", says where each comes
// from).
//
//  - On every run of its CustomScript extension, the VM lists the vault's
//    secrets once, first page only (kVmListedSecrets), and turns every
//    secret whose value is at most kMaxLoginSecretLength characters into a
//    login "name:bcrypt(value)", whatever its content type, tags or
//    enabled flag (a disabled one reads as empty and silently disappears).
//    bcrypt reads only the first kBcryptPasswordBytes bytes.
//  - The value reaches htpasswd unquoted: whitespace splits it and
//    '*', '?', '[' expand as file name patterns.
//  - After each run it logs in with the first secret listed (by name); when
//    that is not a working login the deployment fails
//    (VMExtensionProvisioningError, exit code 50).
//  - The certificate comes from the versioned secret URL in
//    pfxKeyVaultSecretUrl; files are named after pfxThumbprint (upper-case
//    SHA-1 hex).
//  - The script runs again only when the extension's configuration changes
//    (its settings, protectedSettings or forceUpdateTag).
#ifndef ROTOR_ENGINE_MODEL_REGISTRY_VM_H_
#define ROTOR_ENGINE_MODEL_REGISTRY_VM_H_

#include <cstddef>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "engine/model/deployments.h"
#include "engine/model/vault.h"

namespace rotor {

// Secrets of at most this many characters become logins.
inline constexpr size_t kMaxLoginSecretLength = 255;
// The VM reads one page of the secret list: Key Vault's default page size.
inline constexpr int kVmListedSecrets = 25;
// bcrypt (htpasswd -B) reads at most this many bytes of a password.
inline constexpr size_t kBcryptPasswordBytes = 72;

// The template parameters rotor sets on a redeploy, by the logical names
// [deployment.parameter_names] remaps them with, and the gallery template's
// names for them.
inline constexpr char kParamPfxKeyVaultResourceId[] = "pfx_key_vault_resource_id";
inline constexpr char kParamPfxKeyVaultSecretUrl[] = "pfx_key_vault_secret_url";
inline constexpr char kParamPfxThumbprint[] = "pfx_thumbprint";
inline constexpr char kParamServicePrincipalClientId[] = "service_principal_client_id";
inline constexpr char kParamServicePrincipalClientSecret[] = "service_principal_client_secret";
// The gallery template's name for a logical name; `logical` itself for
// names rotor does not know.
std::string GalleryParameterName(absl::string_view logical);

// The parameter that names the registry VM's public DNS label: its FQDN is
// <label>.<region>.cloudapp.<external domain>.
inline constexpr char kDomainLabelParameter[] = "pipDomainNameLabel";

// rotor's record, on each deployment it makes, of the logins the VM took
// (LoginDigest of every user secret then), so a plan sees a login added,
// written or deleted since, even without soft delete.
inline constexpr char kLoginsTag[] = "rotor-logins";
// A user secret as the digest knows it: when its latest version was
// written (what Key Vault's list shows).
std::string LoginStamp(const SecretVersion& secret);
// 20 hex characters of SHA-256 over `stamps` (SecretKey -> LoginStamp).
std::string LoginDigest(const std::map<std::string, std::string>& stamps);

// The registry's base URL when `[registry] url` is not set, from the
// deployment the registry VM runs. The Azure Stack Hub registry template
// (azurestack-gallery registry/) gives the VM a public IP whose DNS label is
// the `pipDomainNameLabel` parameter, and Azure Stack Hub names such an IP
// <label>.<region>.cloudapp.<external domain> (learn.microsoft.com,
// azure-stack/user/azure-stack-dns), where the stamp's ARM endpoint is
// management.<region>.<external domain>. The registry listens on 443.
// FailedPrecondition, saying why, when the deployment has no such parameter
// or the endpoint is not of that form.
absl::StatusOr<std::string> RegistryUrlFromDeployment(absl::string_view arm_endpoint,
                                                      const Deployment& deployment);

// Whether a certificate for `dns_names` (its subjectAltName DNS entries)
// serves `host`: an entry equal to it (case-insensitive), or a wildcard
// "*.rest" where `host` is one label followed by ".rest".
bool CertificateCoversHost(const std::vector<std::string>& dns_names, absl::string_view host);

// The host of "https://host[:port][/path]" ("" when there is none).
std::string UrlHost(absl::string_view url);

// The Key Vault resource the VM asks a token for: the stamp's ARM audience
// (metadata endpoints' audiences[0]) with "https://management." replaced by
// "https://vault.". An audience without that prefix is returned unchanged.
std::string VmKeyVaultResource(absl::string_view management_audience);

}  // namespace rotor

#endif  // ROTOR_ENGINE_MODEL_REGISTRY_VM_H_
