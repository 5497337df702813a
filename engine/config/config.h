// Config: the desired state as declared in rotor.toml (see docs/DESIGN.md,
// "Desired state"), loaded and validated.
//
// LoadConfig reports every problem it finds at once; each names
// file:line:column, the key path, and shows the line with a caret. A Config
// that loaded is internally consistent (names valid, no duplicates, each
// value source well formed); resolving the sources happens later
// (engine/config/value_source.h) because it touches the environment.
#ifndef ROTOR_ENGINE_CONFIG_CONFIG_H_
#define ROTOR_ENGINE_CONFIG_CONFIG_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "base/secret.h"
#include "engine/model/policy.h"
#include "engine/model/publish_sink.h"

namespace rotor {

struct SourceLocation {
  std::string file;
  int line = 0;
  int column = 0;
};

// Where a secret value comes from. Values are never written in the file,
// except `literal`, which only a `cloud.kind = "local"` config may use.
struct ValueSource {
  enum class Kind { kEnv, kFile, kCommand, kGenerate, kLiteral };
  Kind kind = Kind::kEnv;
  std::string env;                   // kEnv: variable name
  std::string file;                  // kFile: absolute path
  std::vector<std::string> command;  // kCommand: argv, no shell
  int generate_length = 0;           // kGenerate: characters
  Secret literal;                    // kLiteral
  // Longest value accepted when resolved, 0 for no limit: user passwords
  // get kMaxLoginSecretLength (255), as the registry VM skips longer secrets.
  size_t max_length = 0;
  std::string key_path;  // "user[admin].password", for messages
  SourceLocation location;

  ValueSource Clone() const;
  // "env REGISTRY_ADMIN_PASSWORD", "file /x/y", "command [pass, show]",
  // "generate 32", "literal" — never the value.
  std::string Describe() const;
};

enum class CloudKind { kAzureStack, kAzure, kLocal };
// The config spelling of a kind ("azurestack", "azure", "local").
const char* KindName(CloudKind kind);

struct CloudConfig {
  CloudKind kind = CloudKind::kLocal;
  std::string arm_endpoint;
  std::string tenant_id;
  std::string subscription_id;
  std::string ca_bundle;  // absolute path, empty when unset
  std::string profile;    // "2020-09-01-hybrid" (azurestack default), "latest"
  // Endpoint overrides (empty: derived).
  std::string vault_dns_suffix;
  std::string login_endpoint;
  std::string management_audience;
  std::string keyvault_audience;
  std::string keyvault_api_version;
  std::string deployments_api_version;
  bool allow_insecure_loopback = false;  // http:// to loopback only
  std::string state_dir;                 // kLocal: absolute path
};

enum class AuthMethod { kClientSecret, kClientCertificate, kManagedIdentity, kEnvironment };
// The config spelling of a method ("client_secret", ...).
const char* MethodName(AuthMethod method);

struct AuthConfig {
  AuthMethod method = AuthMethod::kClientSecret;
  std::string client_id;
  std::optional<ValueSource> client_secret;
  std::string client_certificate;  // PFX or PEM path (absolute)
  std::optional<ValueSource> client_certificate_password;
};

struct VaultConfig {
  std::string name;
  std::string resource_group;
  SourceLocation location;
};

struct UserConfig {
  std::string name;
  ValueSource password;
  std::optional<absl::Duration> rotate_after;
  // publish = [...]: where apply hands the new password (PublishSink).
  std::vector<PublishSink> publish;
  SourceLocation location;
};

// [certificate.acme]: an ACME server, DNS-01 through an Azure DNS zone.
struct AcmeConfig {
  std::string directory;
  std::string email;
  std::string dns_zone;
  std::string dns_resource_group;
  std::string eab_key_id;                   // empty without External Account Binding
  std::optional<ValueSource> eab_hmac_key;  // set exactly when eab_key_id is
  std::string ca_bundle;                    // absolute path, empty when unset
  SourceLocation location;
};

// [certificate.issuer]: a program reading a CSR (PEM) on standard input and
// writing the chain (PEM) on standard output.
struct IssuerCommandConfig {
  std::vector<std::string> command;
  absl::Duration timeout = absl::Seconds(30);
  SourceLocation location;
};

// [certificate] renew_before: a time before expiry, or a share of the
// certificate's lifetime (a third by default).
struct RenewBefore {
  std::optional<absl::Duration> before;
  int percent = 0;   // 1..99 when set; 0 with `before` or the default
  std::string text;  // as written ("30d", "33%"); empty for the default
};

struct CertificateConfig {
  std::string secret_name;
  // Exactly one source: `pfx` (with `password`), `acme` or `issuer`.
  std::string pfx;  // absolute path
  ValueSource password;
  std::optional<AcmeConfig> acme;
  std::optional<IssuerCommandConfig> issuer;
  // With an issuer: what to ask for and when.
  std::vector<std::string> dns_names;  // empty: the registry's host
  std::string key = "rsa-2048";        // "rsa-2048" | "rsa-3072" | "ec-p256"
  RenewBefore renew_before;
  bool reuse_key = false;
  bool HasIssuer() const { return acme.has_value() || issuer.has_value(); }
  int min_valid_days = 30;
  int warn_days = 45;
  std::string dns_name;   // optional: must be covered by a SAN
  std::string ca_bundle;  // optional: the chain must lead to it (absolute)
  SourceLocation location;
};

struct DeploymentConfig {
  std::string resource_group;
  std::string name = "latest";
  std::optional<ValueSource> client_id;
  std::optional<ValueSource> client_secret;
  std::string template_file;  // absolute path; only for a first deployment
  // Plain values for the first deployment: name -> JSON value.
  std::map<std::string, std::string> parameters;
  // Template parameter names, remappable; keys are rotor's logical names
  // (pfx_key_vault_resource_id, pfx_key_vault_secret_url, pfx_thumbprint,
  // service_principal_client_id, service_principal_client_secret).
  std::map<std::string, std::string> parameter_names;
  SourceLocation location;

  // The template parameter name for a logical name, with the Azure Stack
  // Hub registry template's names as defaults.
  std::string ParameterName(absl::string_view logical) const;
};

struct RegistryConfig {
  std::string url;
  std::string ca_bundle;  // absolute path
};

struct Config {
  std::string path;    // the file as given
  std::string dir;     // its folder, absolute; relative paths resolve here
  std::string digest;  // SHA-256 hex of the file's bytes
  CloudConfig cloud;
  AuthConfig auth;
  VaultConfig vault;
  std::vector<UserConfig> users;
  std::optional<CertificateConfig> certificate;
  std::optional<DeploymentConfig> deployment;
  RegistryConfig registry;
  PolicyConfig policy;
};

// The most a config file may hold: a config of 5000 users is about 300 KB.
inline constexpr size_t kMaxConfigBytes = 4 << 20;

// Reads (at most kMaxConfigBytes, within kFileReadTimeout) and parses.
absl::StatusOr<Config> LoadConfig(const std::string& path);
// `path` is used for messages and to resolve relative paths.
absl::StatusOr<Config> ParseConfig(absl::string_view toml_text, const std::string& path);

}  // namespace rotor

#endif  // ROTOR_ENGINE_CONFIG_CONFIG_H_
