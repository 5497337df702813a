// The registry deployment the Azure tests, the reliability tests and the
// benchmark start from: the Azure Stack Hub container registry template
// reduced to its parameters (the ones rotation passes, and a few it must
// carry over untouched), and the body of the ARM PUT that deploys it.
#ifndef ROTOR_TESTS_SUPPORT_REGISTRY_DEPLOYMENT_H_
#define ROTOR_TESTS_SUPPORT_REGISTRY_DEPLOYMENT_H_

#include <string>

namespace rotor::testing {

// The template: adminUsername, registryReplicas and pipDomainNameLabel
// (with defaults), pfxKeyVaultResourceId, pfxKeyVaultSecretUrl,
// pfxThumbprint, servicePrincipalClientId and servicePrincipalClientSecret
// (securestring); it outputs the thumbprint it was given.
extern const char kRegistryTemplateJson[];

// The gallery template's shape (examples/registry-template.json): every
// parameter of the real template with its type (both service principal
// parameters securestring, pipName and pipDomainNameLabel required), the VM
// with its certificate from pfxKeyVaultSecretUrl, and the CustomScript
// extension whose command is built from the parameters.
extern const char kGalleryTemplateJson[];

struct GalleryParameters {
  std::string vault_resource_id;
  std::string secret_url;
  std::string thumbprint;
  std::string sp_client_id;
  std::string sp_client_secret;
  std::string domain_name_label = "myreg";
  std::string registry_replicas = "2";
};
// The body of a PUT deploying kGalleryTemplateJson with `p` and every other
// required parameter (adminPublicKey, pipName, the storage account).
// `force_update_tag` non-empty adds it to the CustomScript extension.
std::string GalleryDeploymentBody(const GalleryParameters& p,
                                  const std::string& force_update_tag = "");

struct RegistryDeploymentParameters {
  std::string vault_resource_id;  // pfxKeyVaultResourceId
  std::string secret_url;         // pfxKeyVaultSecretUrl
  std::string thumbprint;         // pfxThumbprint
  std::string sp_client_id;
  std::string sp_client_secret;
};

// {"properties":{"mode":"Incremental","template":...,"parameters":...}};
// `replicas` (registryReplicas) 0 and `domain_name_label`
// (pipDomainNameLabel) "" leave those to the template's defaults.
std::string RegistryDeploymentBody(const RegistryDeploymentParameters& p, int replicas = 0,
                                   const std::string& domain_name_label = "");

// /subscriptions/S/resourceGroups/G/providers/Microsoft.KeyVault/vaults/V
std::string VaultResourceId(const std::string& subscription, const std::string& resource_group,
                            const std::string& vault);

}  // namespace rotor::testing

#endif  // ROTOR_TESTS_SUPPORT_REGISTRY_DEPLOYMENT_H_
