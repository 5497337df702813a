// ApplyOutputs: what an apply did, for the renderers and for verify.
#ifndef ROTOR_ENGINE_MODEL_APPLY_OUTPUTS_H_
#define ROTOR_ENGINE_MODEL_APPLY_OUTPUTS_H_

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "base/secret.h"
#include "engine/model/vault.h"

namespace rotor {

// What the seed's Set-CertificateSecret prints, plus the deployment made.
struct ApplyOutputs {
  std::string pfx_key_vault_resource_id;
  std::string pfx_key_vault_secret_url;
  std::string pfx_thumbprint;
  std::string deployment_name;
  std::string deployment_state;
  std::vector<std::string> written_secrets;
  // The version each write made, keyed by SecretKey(name).
  std::map<std::string, SecretVersion> written_versions;
  std::vector<std::string> deleted_secrets;
  // Deleted registry users with the password they had (see
  // ApplyOptions::capture_deleted_credentials). Never rendered.
  std::vector<std::pair<std::string, Secret>> deleted_credentials;
};

}  // namespace rotor

#endif  // ROTOR_ENGINE_MODEL_APPLY_OUTPUTS_H_
