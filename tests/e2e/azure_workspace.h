// End-to-end test support: the real `rotor` binary with cloud.kind =
// "azurestack" against a fresh `rotor-emulator` (HTTPS on loopback, its own
// CA), optionally with a real Debian `docker-registry` that the emulator
// (re)starts after each registry deployment through --registry-cmd
// (tests/e2e/run-registry.sh).
//
// Only arm_endpoint and ca_bundle point at the emulator; everything else is
// derived as on a stamp: login and the ARM audience from
// /metadata/endpoints, Key Vault at https://newregkv.vault.localhost:PORT,
// its audience from the 401 challenge. Used by cli/azure_cli_test.cc
// and tests/e2e/registry_scenarios_test.cc.
#ifndef ROTOR_TESTS_E2E_AZURE_WORKSPACE_H_
#define ROTOR_TESTS_E2E_AZURE_WORKSPACE_H_

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "base/process.h"
#include "certs/testing/make_certs.h"
#include "rapidjson/document.h"
#include "tests/emulator/emulator_harness.h"
#include "tests/support/testing.h"

namespace rotor::e2e {

using emulator::testing::Emulator;
using emulator::testing::HttpResult;
using emulator::testing::JsonString;
using emulator::testing::kClientId;
using emulator::testing::kClientSecret;
using emulator::testing::kTenant;

inline constexpr char kSubscription[] = "0a1b2c3d-0000-4000-8000-000000000001";
// The service principal the registry VM signs in with (the deployment's
// servicePrincipalClientId / servicePrincipalClientSecret).
inline constexpr char kSpId[] = "registry-sp";
inline constexpr char kSpSecret[] = "Registry-Sp-Secret-7f3a";
inline constexpr char kPfxPassword[] = "Pfx-Pass-\"Quoted\"-9c1e";
inline constexpr char kOldPfxPassword[] = "Old-Pfx-Pass-4d2b";
inline constexpr char kCertClientId[] = "rotor-cert-sp";
// The registry's host name: its certificates cover it, and libcurl resolves
// every *.localhost name to loopback.
inline constexpr char kRegistryHost[] = "myreg.localhost";

struct WorkspaceOptions {
  std::vector<std::string> emulator_args;
  // [auth]: client secret of rotor-ci, or the certificate of kCertClientId.
  bool client_certificate = false;
  std::string tenant = kTenant;
  std::string deploy_duration = "300ms";
  // cloud.kind "azure" with every endpoint overridden to the emulator (the
  // stamp derivations are not used then).
  bool public_azure = false;
  std::string profile;  // cloud.profile; empty: the kind's default
  // A real docker-registry on a free port, (re)started by the emulator
  // after each successful registry deployment, and [registry] url /
  // ca_bundle pointing at it (https://myreg.localhost:PORT, the test PKI's
  // root CA).
  bool real_registry = false;
  // [deployment] client_id / client_secret (the registry's service
  // principal, which the gallery template takes as securestrings).
  bool service_principal_sources = true;
};

class AzureWorkspace {
 public:
  explicit AzureWorkspace(WorkspaceOptions options = {});
  // Stops the emulator (which stops its registry), and makes sure the
  // registry is gone.
  ~AzureWorkspace();
  AzureWorkspace(const AzureWorkspace&) = delete;
  AzureWorkspace& operator=(const AzureWorkspace&) = delete;

  // Stops the emulator and starts it again on the same state (vaults,
  // deployments, signing key) with other flags; the config follows the new
  // port (pass {"--listen", "127.0.0.1:PORT"} to keep it).
  void Restart(const std::vector<std::string>& args, const std::string& deploy_duration);

  Emulator& emu() { return *emu_; }
  std::map<std::string, std::string>& env() { return env_; }
  std::string ArmPath(const std::string& suffix) const;
  std::string Path(const std::string& relative) const { return dir_.Path(relative); }

  // A registry deployed before rotor: the first configured user with its
  // configured password (content type "user credentials"), an old
  // certificate in containersecret and a successful "registry" deployment
  // that references it.
  void Seed();
  // The registry as the seed procedure (PowerShell, then the portal) leaves
  // it, already matching the config: every configured user's password from
  // its variable (content type "user credentials"), registry.pfx (see
  // IssuePfx) in the certificate secret, and a successful "registry"
  // deployment that references them.
  void SeedAsPowerShell();
  // PUTs a registry deployment of the gallery template's shape
  // (testing::kGalleryTemplateJson) through ARM and waits for it; returns its
  // final state. The registry script runs again only when its configuration
  // changed: a new thumbprint or service principal, or `force_update_tag`.
  std::string Deploy(const std::string& name, const std::string& secret_url,
                     const std::string& thumbprint, const std::string& force_update_tag = "");
  // PUTs a secret through Key Vault's API; returns its versioned id.
  std::string PutSecret(const std::string& name, const std::string& value,
                        const std::string& content_type);

  // Polls an Azure-AsyncOperation URL with a fresh token each time (tokens
  // may live only a second here).
  std::string WaitForOperation(const std::string& url);

  // [[user]] tables: (name, environment variable of its password).
  void SetUsers(std::vector<std::pair<std::string, std::string>> users);
  void SetCertificateSecretName(const std::string& name);
  // The [certificate] table's lines after secret_name, replacing the PFX
  // ones (pfx, password, dns_name): an issuer's, for instance.
  void SetCertificateToml(const std::string& toml);
  // TOML lines added to a [[user]] table (e.g. its publish = [...]).
  void SetUserExtra(const std::string& name, const std::string& toml);
  // The [policy] table's lines (e.g. retire_after = "1m").
  void SetPolicy(const std::string& toml);
  // Writes a file in the workspace (`mode` applied), e.g. a script.
  void WriteFile(const std::string& relative, const std::string& contents, int mode = 0600);
  // [registry] url; empty leaves the key out (ca_bundle stays).
  void SetRegistryUrl(const std::string& url);
  void WriteConfig();

  // A new certificate in registry.pfx, for the registry's host unless
  // another is given; its thumbprint.
  std::string IssuePfx(const std::string& host = kRegistryHost);

  // Runs rotor in the workspace with env(); checks that no secret value
  // (client secrets, PFX passwords, every *_PW variable, AddSecret's), in
  // plain, base64 or URL-encoded form (LeakForms), and no token reaches
  // stdout or stderr.
  ProcessResult Rotor(std::vector<std::string> args);
  void AddSecret(const std::string& value) { extra_secrets_.push_back(value); }

  rapidjson::Document Stats() { return emu_->Stats(); }
  std::vector<std::string> Logins();
  // Whether the registry VM's htpasswd lets `user` in with `password`.
  bool RegistryAccepts(const std::string& user, const std::string& password);
  bool RegistryHasCertificate(const std::string& thumbprint);
  rapidjson::Document Deployment(const std::string& name);
  std::vector<std::string> DeploymentNames();
  const std::string& old_thumbprint() const { return old_thumbprint_; }

  // The real registry (real_registry only).
  int registry_port() const { return registry_port_; }
  std::string RegistryUrl() const;
  std::string RegistryCaPath() const { return dir_.Path("registry-ca.pem"); }
  // Waits until the registry answers HTTPS (it restarts with each
  // deployment); fails the test after `seconds`.
  void WaitForRegistry(double seconds = 20);
  // The status of GET /v2/ with these credentials, with curl (0: no answer).
  int RegistryLogin(const std::string& user, const std::string& password);

 private:
  void StartEmulator(const std::vector<std::string>& extra, const std::string& deploy_duration);
  // Kills a registry the emulator left behind (it never should).
  void ReapRegistry();

  WorkspaceOptions options_;
  rotor::testing::TempDir dir_;
  certs::testing::TestPki pki_;
  std::unique_ptr<Emulator> emu_;
  std::map<std::string, std::string> env_;
  std::vector<std::pair<std::string, std::string>> users_;
  std::string cert_secret_name_ = "containersecret";
  std::string certificate_toml_;
  std::map<std::string, std::string> user_extra_;
  std::string policy_;
  std::string registry_url_;
  std::string old_thumbprint_;
  std::string sp_cert_pem_;
  int registry_port_ = 0;
  std::vector<std::string> extra_secrets_;
};

int64_t StatInt(const rapidjson::Value& stats, const std::string& path);

// Base64 (standard and URL-safe, at each of the three alignments a value
// can have inside longer encoded text) and URL-encoded forms of `secret`,
// besides the secret itself: what a leak search looks for.
std::vector<std::string> LeakForms(const std::string& secret);
// "" when none of `forms` occurs in `text`, else which did (never the form).
std::string FindLeaks(const std::string& where, const std::string& text,
                      const std::vector<std::pair<std::string, std::string>>& forms);
// FindLeaks of every LeakForms of each of `secrets` in what a command
// printed: what each test of the real binary checks after every run.
std::string FindSecretLeaks(const std::string& stdout_data, const std::string& stderr_data,
                            const std::vector<std::string>& secrets);

}  // namespace rotor::e2e

#endif  // ROTOR_TESTS_E2E_AZURE_WORKSPACE_H_
