// The two sides of a diff, as plain structs.
//
// DesiredState is the config with every value source resolved (BuildDesired
// in desired.h); ActualState is what a refresh read from the vault and the
// deployment service (Refresh in refresh.h). Both own their secret values as
// rotor::Secret; neither talks to the world.
#ifndef ROTOR_ENGINE_MODEL_STATE_H_
#define ROTOR_ENGINE_MODEL_STATE_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "base/secret.h"
#include "engine/model/deployments.h"
#include "engine/model/plan.h"
#include "engine/model/policy.h"
#include "engine/model/publish_sink.h"
#include "engine/model/secret_kind.h"
#include "engine/model/template_info.h"
#include "engine/model/vault.h"

namespace rotor {

struct DesiredUser {
  std::string name;
  // Set unless `generated`: the declared password.
  Secret password;
  bool generated = false;
  int generate_length = 0;
  std::optional<absl::Duration> rotate_after;
  std::string source;  // ValueSource::Describe(), for reasons
  std::vector<PublishSink> publish;
};

// A certificate an issuer makes ([certificate.acme], [certificate.issuer]):
// what to ask for and when to renew.
struct DesiredIssuance {
  std::string kind;      // "acme" | "command"
  std::string describe;  // "ACME https://acme.example/dir", "command [\"/usr/local/bin/issue\"]"
  // Declared, or [registry] url's host; empty: the registry's name from the
  // deployment's pipDomainNameLabel, found by the diff.
  std::vector<std::string> dns_names;
  std::string key_type = "rsa-2048";
  // Renew once the certificate expires within `renew_before`, else within
  // `renew_before_percent` of its lifetime (a third when 0).
  std::optional<absl::Duration> renew_before;
  int renew_before_percent = 0;
  std::string renew_before_text;  // as written; empty for the default
  bool reuse_key = false;
  int min_valid_days = 30;
  std::string ca_bundle;  // the chain must lead to it; "" skips
};

// What the PFX on disk holds, already encoded as the Key Vault secret value
// the registry template expects; or, with `issuance`, what an issuer is to
// make (no PFX is read: the PFX fields stay empty).
struct DesiredCertificate {
  std::string secret_name;
  std::string pfx_path;
  std::string password_source;  // ValueSource::Describe() of its password
  Secret secret_value;          // base64 JSON wrapper (certs/keyvault_secret.h)
  std::string content_type;
  std::string thumbprint;
  std::string subject;
  std::string issuer;
  std::vector<std::string> dns_names;
  absl::Time not_before = absl::UnixEpoch();
  absl::Time not_after = absl::UnixEpoch();
  int warn_days = 45;
  std::vector<CheckLine> checks;
  bool has_errors = false;  // a check is ERROR: nothing may be written
  std::optional<DesiredIssuance> issuance;
};

struct DesiredDeployment {
  std::string resource_group;
  std::string name;  // "latest" or a deployment name
  Secret client_id;
  Secret client_secret;
  bool has_service_principal = false;
  // Where each comes from: "[deployment] client_secret (env SPN_SECRET)".
  std::string client_id_source;
  std::string client_secret_source;
  std::string template_file;
  std::string template_json;                  // read from template_file, for a first deployment
  std::optional<TemplateInfo> template_info;  // of template_json
  std::map<std::string, std::string> first_parameters;  // name -> JSON
  std::map<std::string, std::string> parameter_names;   // logical -> template
  std::string ParameterName(absl::string_view logical) const;
};

struct DesiredState {
  std::string config_path;
  std::string config_digest;
  std::string vault_name;
  // Where the registry is: [registry] url (may be empty), and the stamp's
  // ARM endpoint (the registry's name derives from it).
  std::string registry_url;
  std::string arm_endpoint;
  std::vector<DesiredUser> users;
  std::optional<DesiredCertificate> certificate;
  std::optional<DesiredDeployment> deployment;
  PolicyConfig policy;
};

// The certificate as the vault holds it now.
struct ActualCertificate {
  std::string thumbprint;  // empty when the value could not be decoded
  std::string decode_error;
  std::string subject;
  std::string issuer;
  std::vector<std::string> dns_names;
  absl::Time not_before = absl::UnixEpoch();
  absl::Time not_after = absl::UnixEpoch();
};

struct ActualState {
  VaultInfo vault;
  // The latest version of every live secret, keyed by SecretKey(name), as
  // listed; for the secrets the refresh read (see `values` and
  // `certificates`), as read, with the exact version and versioned id. The
  // others may have an empty `version` (Vault::ListSecrets).
  std::map<std::string, SecretVersion> secrets;
  // Values of the secrets whose value the diff needs (declared users with a
  // declared value, and undeclared secrets of unknown kind), keyed by
  // lower-case name.
  std::map<std::string, Secret> values;
  // Soft-deleted secrets, keyed by SecretKey(name).
  std::map<std::string, DeletedSecret> deleted;
  bool soft_delete_listing_available = true;
  // Certificates decoded from the vault, keyed by lower-case secret name.
  std::map<std::string, ActualCertificate> certificates;

  bool deployments_read = false;
  std::vector<Deployment> deployments;  // of the configured resource group
  // The deployment a redeploy starts from ("latest" = most recent).
  std::optional<Deployment> base_deployment;
  // The most recent successful deployment.
  std::optional<Deployment> last_successful_deployment;
  // The template of base_deployment, as ARM exports it; `template_error`
  // says why it could not be read.
  std::optional<TemplateInfo> base_template;
  std::string template_error;

  const SecretVersion* FindSecret(absl::string_view name) const;
  const DeletedSecret* FindDeleted(absl::string_view name) const;
  const Secret* FindValue(absl::string_view name) const;
};

// Lower-cases a secret name: Key Vault compares names case-insensitively.
std::string SecretKey(absl::string_view name);

}  // namespace rotor

#endif  // ROTOR_ENGINE_MODEL_STATE_H_
