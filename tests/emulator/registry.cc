#include "tests/emulator/registry.h"

#include <signal.h>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "base/bcrypt.h"
#include "base/files.h"
#include "base/status_macros.h"
#include "certs/keyvault_secret.h"
#include "certs/pfx.h"
#include "providers/local/htpasswd.h"
#include "tests/emulator/json_internal.h"
#include "tests/emulator/util.h"
#include "tests/emulator/vm_script.h"

namespace rotor::emulator {
namespace {

constexpr char kExtensionError[] = "VMExtensionProvisioningError";

absl::Status Fail(absl::string_view code, absl::string_view message) {
  return absl::FailedPreconditionError(absl::StrCat(code, ": ", message));
}

absl::Status ExtensionFailure(absl::string_view what) {
  return Fail(kExtensionError, absl::StrCat("VM has reported a failure when processing extension "
                                            "'cse'. Error message: ",
                                            what));
}

// The JSON string value of a parameter; nullopt when absent or not a string.
std::optional<Secret> StringParam(const std::map<std::string, Secret>& params,
                                  absl::string_view name) {
  auto it = params.find(absl::AsciiStrToLower(name));
  if (it == params.end()) return std::nullopt;
  rapidjson::Document doc;
  doc.Parse(it->second.Reveal().data(), it->second.size());
  if (doc.HasParseError() || !doc.IsString()) return std::nullopt;
  Secret out(std::string(doc.GetString(), doc.GetStringLength()));
  std::fill(const_cast<char*>(doc.GetString()),
            const_cast<char*>(doc.GetString()) + doc.GetStringLength(), '\0');
  return out;
}

std::string Plain(const std::optional<Secret>& s) {
  return s ? std::string(s->Reveal()) : std::string();
}

}  // namespace

RegistryProvisioner::RegistryProvisioner(RegistryOptions options, KeyVaultService& vaults,
                                         const TokenService& tokens)
    : options_(std::move(options)), vaults_(vaults), tokens_(tokens) {}

RegistryProvisioner::~RegistryProvisioner() { StopRegistry(); }

bool RegistryProvisioner::IsRegistryDeployment(const std::map<std::string, Secret>& parameters) {
  return parameters.count("pfxkeyvaultresourceid") > 0 &&
         parameters.count("pfxkeyvaultsecreturl") > 0 && parameters.count("pfxthumbprint") > 0;
}

absl::StatusOr<ProvisionResult> RegistryProvisioner::Provision(
    const RegistryDeployment& deployment) {
  std::lock_guard<std::mutex> lock(mu_);
  const std::map<std::string, Secret>& parameters = *deployment.parameters;
  ProvisionResult result;

  // 1. The VM model's certificate: the vault and a readable, versioned URL.
  const std::string resource_id = Plain(StringParam(parameters, "pfxKeyVaultResourceId"));
  const std::string secret_url = Plain(StringParam(parameters, "pfxKeyVaultSecretUrl"));
  const std::string thumbprint =
      absl::AsciiStrToUpper(Plain(StringParam(parameters, "pfxThumbprint")));
  std::string vault_name;
  {
    std::vector<std::string> parts = absl::StrSplit(resource_id, '/', absl::SkipEmpty());
    for (size_t i = 0; i + 1 < parts.size(); ++i) {
      if (absl::EqualsIgnoreCase(parts[i], "vaults")) vault_name = parts[i + 1];
    }
  }
  if (vault_name.empty()) {
    return Fail("InvalidParameter", absl::StrCat("pfxKeyVaultResourceId '", resource_id,
                                                 "' is not a Key Vault resource id (.../providers/"
                                                 "Microsoft.KeyVault/vaults/NAME)."));
  }
  const std::string vault = vaults_.Find(vault_name);
  if (vault.empty()) {
    return Fail("KeyVaultNotFound", absl::StrCat("The Key Vault '", vault_name,
                                                 "' referenced by pfxKeyVaultResourceId "
                                                 "does not exist."));
  }
  // https://{vault}.vault.{suffix}[:port]/secrets/{name}/{version}
  absl::string_view url = secret_url;
  std::string secret_name, version;
  bool url_ok = absl::ConsumePrefix(&url, "https://");
  if (url_ok) {
    size_t slash = url.find('/');
    std::string host =
        slash == absl::string_view::npos ? std::string(url) : HostName(url.substr(0, slash));
    std::vector<std::string> path = slash == absl::string_view::npos
                                        ? std::vector<std::string>{}
                                        : PathSegments(url.substr(slash));
    url_ok = path.size() == 3 && absl::EqualsIgnoreCase(path[0], "secrets") && !path[1].empty();
    if (url_ok) {
      secret_name = path[1];
      version = path[2];
    }
    const size_t dot = host.find(".vault.");
    if (url_ok && dot != std::string::npos && !absl::EqualsIgnoreCase(host.substr(0, dot), vault)) {
      return Fail("InvalidParameter", absl::StrCat("The certificate URL '", secret_url,
                                                   "' does not belong to the Key Vault '", vault,
                                                   "' named by pfxKeyVaultResourceId."));
    }
  }
  if (!url_ok || version.empty()) {
    return Fail("InvalidParameter",
                absl::StrCat("pfxKeyVaultSecretUrl '", secret_url,
                             "' must be a versioned Key Vault secret URL "
                             "(https://VAULT.vault.SUFFIX/secrets/NAME/VERSION)."));
  }
  std::unique_ptr<Vault> view = vaults_.VaultView(vault);
  auto bundle = view->GetSecret(secret_name, version);
  if (!bundle.ok()) {
    return Fail(absl::IsNotFound(bundle.status()) ? "KeyVaultSecretDoesNotExist"
                                                  : "KeyVaultAccessForbidden",
                absl::StrCat("The secret at pfxKeyVaultSecretUrl '", secret_url,
                             "' cannot be read: ", bundle.status().message()));
  }

  // 2. Does the script run?
  ScriptConfiguration script = ConfigureScript(deployment.template_json, parameters);
  result.script_configuration = script.fingerprint;
  result.script_ran = options_.always_rerun || !script.present ||
                      script.fingerprint != deployment.previous_script_configuration;
  auto report = [&](const std::string& actual, const ScriptRun* run) {
    rapidjson::StringBuffer b;
    json::Writer w(b);
    w.StartObject();
    json::KeyStr(w, "vault", vault);
    json::KeyStr(w, "secret_url", secret_url);
    json::KeyStr(w, "thumbprint", actual);
    json::Key(w, "script_ran");
    w.Bool(result.script_ran);
    json::Key(w, "logins");
    w.StartArray();
    if (run != nullptr) {
      for (const auto& [name, password] : run->logins) json::Str(w, name);
    }
    w.EndArray();
    json::KeyStr(w, "first_listed", run != nullptr ? run->first_listed : "");
    json::KeyStr(w, "registry_dir", options_.registry_dir);
    w.EndObject();
    return json::Text(b);
  };
  if (!result.script_ran) {
    result.report_json = report(thumbprint, nullptr);
    return result;
  }

  // 3. The service principal signs in for the VM's Key Vault resource.
  auto sp_id = StringParam(parameters, "servicePrincipalClientId");
  auto sp_secret = StringParam(parameters, "servicePrincipalClientSecret");
  if (sp_id && sp_secret) {
    absl::Status signed_in = tokens_.CheckVmSignIn(sp_id->Reveal(), *sp_secret);
    if (!signed_in.ok()) {
      return ExtensionFailure(absl::StrCat("the service principal '", sp_id->Reveal(),
                                           "' could not get a token: ", signed_in.message()));
    }
  }

  // 4. The certificate files, named after the PFX's thumbprint.
  auto decoded = certs::DecodeCertificateSecret(bundle->value, bundle->meta.content_type);
  if (!decoded.ok()) {
    return ExtensionFailure(
        absl::StrCat("the certificate secret cannot be decoded: ", decoded.status().message()));
  }
  auto pfx = certs::Pfx::Open(decoded->pfx_der.Reveal(), decoded->password,
                              absl::StrCat("Key Vault secret ", secret_name));
  if (!pfx.ok()) {
    return ExtensionFailure(
        absl::StrCat("the certificate cannot be opened: ", pfx.status().message()));
  }
  const std::string actual = pfx->Thumbprint();
  if (actual != thumbprint) {
    return ExtensionFailure(absl::StrCat(
        "Enable failed: command terminated with exit status=10: /var/lib/waagent/", thumbprint,
        ".crt not found (certificate thumbprint mismatch: pfxThumbprint is '", thumbprint,
        "' but the certificate at pfxKeyVaultSecretUrl has thumbprint '", actual, "')"));
  }

  // 5. Logins, and the login check.
  auto run = RunVaultSteps(*view);
  if (!run.ok()) {
    return ExtensionFailure(absl::StrCat("listing the vault failed: ", run.status().message()));
  }
  if (run->exit_code != 0) {
    return ExtensionFailure(absl::StrCat(
        "Enable failed: command terminated with exit status=", run->exit_code, ": ", run->error));
  }

  // 6. The registry folder and command.
  if (!options_.registry_dir.empty()) {
    std::string htpasswd;
    for (const auto& [name, password] : run->logins) {
      auto hash = BcryptHash(password.Reveal(), options_.bcrypt_cost);
      if (!hash.ok()) continue;  // a NUL byte: htpasswd would cut it
      absl::StrAppend(&htpasswd, name, ":", *hash, "\n");
    }
    absl::Status s = MakeDirs(options_.registry_dir);
    if (s.ok()) {
      s = WriteFileAtomic(absl::StrCat(options_.registry_dir, "/", local::kHtpasswdFileName),
                          htpasswd, 0600);
    }
    if (!s.ok()) return ExtensionFailure(absl::StrCat("writing htpasswd failed: ", s.message()));
    const std::string base = absl::StrCat(options_.registry_dir, "/", actual);
    std::string crt = pfx->LeafCertificatePem();
    for (const auto& pem : pfx->ChainPem()) absl::StrAppend(&crt, pem);
    s = WriteFileAtomic(absl::StrCat(base, ".crt"), crt, 0644);
    if (s.ok())
      s = WriteFileAtomic(absl::StrCat(base, ".prv"), pfx->PrivateKeyPem().Reveal(), 0600);
    if (!s.ok())
      return ExtensionFailure(absl::StrCat("writing the certificate failed: ", s.message()));
  }
  result.report_json = report(actual, &*run);

  if (!options_.registry_cmd.empty()) {
    StopRegistry();
    absl::Status started = StartRegistry(actual);
    if (!started.ok()) {
      return ExtensionFailure(absl::StrCat("the registry command failed: ", started.message()));
    }
  }
  return result;
}

absl::Status RegistryProvisioner::StartRegistry(const std::string& thumbprint) {
  if (options_.registry_cmd.empty()) return absl::OkStatus();
  StopRegistry();
  ProcessOptions process;
  const std::string& dir = options_.registry_dir;
  process.env["REGISTRY_DIR"] = dir;
  process.env["REGISTRY_THUMBPRINT"] = thumbprint;
  process.env["REGISTRY_CERT"] = absl::StrCat(dir, "/", thumbprint, ".crt");
  process.env["REGISTRY_KEY"] = absl::StrCat(dir, "/", thumbprint, ".prv");
  process.env["REGISTRY_HTPASSWD"] = absl::StrCat(dir, "/", local::kHtpasswdFileName);
  auto proc = BackgroundProcess::Start(options_.registry_cmd, process, options_.log_path);
  if (!proc.ok()) return proc.status();
  // A command that fails at once fails the deployment; one that exits 0 was
  // a one-shot; one still running is the registry, stopped on the next
  // deployment and when the emulator stops.
  const absl::Time deadline = absl::Now() + absl::Milliseconds(300);
  while (absl::Now() < deadline && proc->Running()) absl::SleepFor(absl::Milliseconds(10));
  if (!proc->Running()) {
    int code = proc->Stop();
    if (code != 0) {
      return absl::FailedPreconditionError(absl::StrCat(options_.registry_cmd[0],
                                                        " exited with status ", code, " (see ",
                                                        options_.log_path, ")"));
    }
    return absl::OkStatus();
  }
  registry_.emplace(*std::move(proc));
  return absl::OkStatus();
}

void RegistryProvisioner::StopRegistry() {
  if (registry_) {
    registry_->Stop(SIGTERM, absl::Seconds(5));
    registry_.reset();
  }
}

}  // namespace rotor::emulator
