#include "tests/e2e/azure_workspace.h"

#include <doctest/doctest.h>
#include <signal.h>
#include <sys/stat.h>

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "base/files.h"
#include "certs/keyvault_secret.h"
#include "certs/pfx.h"
#include "providers/local/htpasswd.h"
#include "tests/support/registry_deployment.h"
#include "tests/support/testing.h"

namespace rotor::e2e {

AzureWorkspace::AzureWorkspace(WorkspaceOptions options)
    : options_(std::move(options)), pki_(absl::Now()) {
  if (options_.client_certificate) {
    // The service principal's certificate: rotor reads the PFX, the
    // emulator verifies assertions against the PEM.
    auto sp = pki_.IssueLeaf({.common_name = kCertClientId, .server_auth = false});
    dir_.Write("sp.pfx", sp.ToPfx(kPfxPassword));
    sp_cert_pem_ = dir_.Write("sp-cert.pem", sp.CertificatePem());
  }
  if (options_.real_registry) {
    REQUIRE_MESSAGE(PathExists("/usr/bin/docker-registry"),
                    "docker-registry is installed by scripts/bootstrap.sh");
    registry_port_ = rotor::testing::FreeLoopbackPort();
    dir_.Write("registry-ca.pem", pki_.root().CertificatePem());
    registry_url_ = RegistryUrl();
  }
  StartEmulator(options_.emulator_args, options_.deploy_duration);
  env_ = {{"ROTOR_CLIENT_SECRET", kClientSecret},
          {"ADMIN_PW", "Admin-Pw-Distinct-1a"},
          {"CI_PW", "Ci-Pw-Distinct-2b"},
          {"OPS_PW", "Ops-Pw-Distinct-3c"},
          {"PFX_PW", kPfxPassword},
          {"SPN_CLIENT_ID", kSpId},
          {"SPN_CLIENT_SECRET", kSpSecret},
          {"NO_COLOR", "1"}};
  users_ = {{"admin", "ADMIN_PW"}, {"ci", "CI_PW"}};
  WriteConfig();
}

AzureWorkspace::~AzureWorkspace() {
  CHECK(emu_->Stop() == 0);
  if (options_.real_registry) ReapRegistry();
}

void AzureWorkspace::ReapRegistry() {
  // run-registry.sh writes its pid (docker-registry's, after exec) here.
  auto text = ReadFile(dir_.Path("registry/registry.pid"));
  int pid = 0;
  if (!text.ok() || !absl::SimpleAtoi(absl::StripAsciiWhitespace(*text), &pid) || pid <= 1) return;
  auto cmdline = ReadFile(absl::StrCat("/proc/", pid, "/cmdline"));
  if (!cmdline.ok() || !absl::StrContains(*cmdline, "docker-registry")) return;
  // Still running: the emulator did not stop it.
  CHECK_MESSAGE(false, "docker-registry (pid ", pid, ") outlived the emulator");
  ::kill(pid, SIGTERM);
  for (int i = 0; i < 50 && PathExists(absl::StrCat("/proc/", pid, "/cmdline")); ++i) {
    absl::SleepFor(absl::Milliseconds(100));
  }
  ::kill(pid, SIGKILL);
}

void AzureWorkspace::Restart(const std::vector<std::string>& args,
                             const std::string& deploy_duration) {
  CHECK(emu_->Stop() == 0);
  StartEmulator(args, deploy_duration);
  WriteConfig();
}

std::string AzureWorkspace::ArmPath(const std::string& suffix) const {
  return absl::StrCat("/subscriptions/", kSubscription,
                      "/resourcegroups/newregreg/providers/Microsoft.Resources/deployments/",
                      suffix, absl::StrContains(suffix, "?") ? "&" : "?", "api-version=2019-10-01");
}

std::string AzureWorkspace::PutSecret(const std::string& name, const std::string& value,
                                      const std::string& content_type) {
  HttpResult put = emu_->Send(
      "PUT", emu_->VaultUrl("newregkv", absl::StrCat("/secrets/", name, "?api-version=2016-10-01")),
      absl::StrCat(R"({"value":")", value, R"(","contentType":")", content_type, R"("})"),
      emu_->VaultToken());
  REQUIRE_MESSAGE(put.status == 200, put.body);
  return JsonString(put.Json(), "id");
}

std::string AzureWorkspace::Deploy(const std::string& name, const std::string& secret_url,
                                   const std::string& thumbprint,
                                   const std::string& force_update_tag) {
  // The gallery template's shape: both service principal parameters are
  // securestrings, and its CustomScript extension runs the registry script.
  std::string body = testing::GalleryDeploymentBody(
      {.vault_resource_id = testing::VaultResourceId(kSubscription, "newregreg", "newregkv"),
       .secret_url = secret_url,
       .thumbprint = thumbprint,
       .sp_client_id = kSpId,
       .sp_client_secret = kSpSecret,
       .domain_name_label = "myreg",
       .registry_replicas = "2"},
      force_update_tag);
  HttpResult deploy = emu_->Send("PUT", emu_->ArmUrl(ArmPath(name)), body, emu_->ArmToken());
  REQUIRE_MESSAGE((deploy.status == 201 || deploy.status == 200), deploy.body);
  return WaitForOperation(deploy.Header("Azure-AsyncOperation"));
}

void AzureWorkspace::Seed() {
  // A registry is never deployed without a login (its script exits 12):
  // the first configured user, as Set-RegistryAccessSecret left it.
  REQUIRE_FALSE(users_.empty());
  PutSecret(users_.front().first, env_.at(users_.front().second), "user credentials");
  auto old = pki_.IssueLeaf({.common_name = kRegistryHost, .dns_names = {kRegistryHost}});
  auto value = certs::EncodeCertificateSecret(old.ToPfx(kOldPfxPassword), Secret(kOldPfxPassword));
  REQUIRE(value.ok());
  auto thumbprint = certs::ThumbprintOfPem(old.CertificatePem(), "old");
  REQUIRE(thumbprint.ok());
  old_thumbprint_ = *thumbprint;
  const std::string url = PutSecret("containersecret", std::string(value->Reveal()), "pfx");
  REQUIRE(Deploy("registry", url, old_thumbprint_) == "Succeeded");
}

void AzureWorkspace::SeedAsPowerShell() {
  // Set-RegistryAccessSecret for each user...
  for (const auto& [name, variable] : users_) {
    PutSecret(name, env_.at(variable), "user credentials");
  }
  // ...Set-CertificateSecret with the PFX the config names...
  auto pfx = ReadFile(dir_.Path("registry.pfx"));
  REQUIRE_MESSAGE(pfx.ok(), "IssuePfx() first");
  auto opened = certs::Pfx::Open(*pfx, Secret(kPfxPassword), "registry.pfx");
  REQUIRE(opened.ok());
  auto value = certs::EncodeCertificateSecret(*pfx, Secret(kPfxPassword));
  REQUIRE(value.ok());
  old_thumbprint_ = opened->Thumbprint();
  const std::string url = PutSecret(cert_secret_name_, std::string(value->Reveal()), "pfx");
  // ...then the portal's deployment with the URL and thumbprint printed,
  // which a person starts seconds later. Key Vault stamps whole seconds, and
  // rotor counts a write in its deployment's second as after it (drift): so
  // the deployment must end in a later second than the writes, as it would.
  rotor::testing::SleepIntoNextSecond();
  REQUIRE(Deploy("registry", url, old_thumbprint_) == "Succeeded");
}

std::string AzureWorkspace::WaitForOperation(const std::string& url) {
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  std::string status;
  while (absl::Now() < deadline) {
    HttpResult r = emu_->Get(url, emu_->ArmToken());
    REQUIRE_MESSAGE(r.status == 200, r.body);
    status = JsonString(r.Json(), "status");
    if (status == "Succeeded" || status == "Failed" || status == "Canceled") return status;
    absl::SleepFor(absl::Milliseconds(50));
  }
  return status;
}

void AzureWorkspace::SetUsers(std::vector<std::pair<std::string, std::string>> users) {
  users_ = std::move(users);
  WriteConfig();
}

void AzureWorkspace::SetCertificateSecretName(const std::string& name) {
  cert_secret_name_ = name;
  WriteConfig();
}

void AzureWorkspace::SetUserExtra(const std::string& name, const std::string& toml) {
  user_extra_[name] = toml;
  WriteConfig();
}

void AzureWorkspace::SetPolicy(const std::string& toml) {
  policy_ = toml;
  WriteConfig();
}

void AzureWorkspace::WriteFile(const std::string& relative, const std::string& contents, int mode) {
  dir_.Write(relative, contents);
  REQUIRE(::chmod(dir_.Path(relative).c_str(), mode) == 0);
}

void AzureWorkspace::SetRegistryUrl(const std::string& url) {
  registry_url_ = url;
  WriteConfig();
}

void AzureWorkspace::SetCertificateToml(const std::string& toml) { certificate_toml_ = toml; }

void AzureWorkspace::WriteConfig() {
  const int port = emu_->port();
  std::string text =
      absl::StrCat("[cloud]\nkind = \"", options_.public_azure ? "azure" : "azurestack",
                   "\"\narm_endpoint = \"https://management.localhost:", port, "\"\n");
  if (options_.public_azure) {
    // Public Azure's well-known endpoints, each overridden to the emulator.
    absl::StrAppend(&text, "login_endpoint = \"https://login.localhost:", port, "\"\n",
                    "management_audience = \"", emu_->ArmAudience(), "\"\n",
                    "vault_dns_suffix = \"vault.localhost:", port, "\"\n");
  }
  if (!options_.profile.empty()) absl::StrAppend(&text, "profile = \"", options_.profile, "\"\n");
  absl::StrAppend(&text, "tenant_id = \"", options_.tenant, "\"\nsubscription_id = \"",
                  kSubscription, "\"\nca_bundle = \"", emu_->ca_path(), "\"\n\n[auth]\n");
  if (options_.client_certificate) {
    absl::StrAppend(&text, "method = \"client_certificate\"\nclient_id = \"", kCertClientId,
                    "\"\nclient_certificate = \"sp.pfx\"\n"
                    "client_certificate_password = { env = \"PFX_PW\" }\n");
  } else {
    absl::StrAppend(&text, "method = \"client_secret\"\nclient_id = \"", kClientId,
                    "\"\nclient_secret = { env = \"ROTOR_CLIENT_SECRET\" }\n");
  }
  absl::StrAppend(&text, R"(
[vault]
name = "newregkv"
resource_group = "newregreg"
)");
  for (const auto& [name, variable] : users_) {
    absl::StrAppend(&text, "\n[[user]]\nname = \"", name, "\"\npassword = { env = \"", variable,
                    "\" }\n");
    if (auto extra = user_extra_.find(name); extra != user_extra_.end()) {
      absl::StrAppend(&text, extra->second, "\n");
    }
  }
  absl::StrAppend(&text, "\n[certificate]\nsecret_name = \"", cert_secret_name_, "\"\n");
  if (certificate_toml_.empty()) {
    absl::StrAppend(&text, "pfx = \"registry.pfx\"\npassword = { env = \"PFX_PW\" }\n",
                    "dns_name = \"", kRegistryHost, "\"\n");
  } else {
    absl::StrAppend(&text, certificate_toml_, "\n");
  }
  absl::StrAppend(&text, "\n[deployment]\nresource_group = \"newregreg\"\n");
  if (options_.service_principal_sources) {
    absl::StrAppend(&text, "client_id = { env = \"SPN_CLIENT_ID\" }\n",
                    "client_secret = { env = \"SPN_CLIENT_SECRET\" }\n");
  }
  if (options_.real_registry) {
    absl::StrAppend(&text, "\n[registry]\n");
    if (!registry_url_.empty()) absl::StrAppend(&text, "url = \"", registry_url_, "\"\n");
    absl::StrAppend(&text, "ca_bundle = \"registry-ca.pem\"\n");
  }
  if (!policy_.empty()) absl::StrAppend(&text, "\n[policy]\n", policy_, "\n");
  dir_.Write("rotor.toml", text);
}

std::string AzureWorkspace::IssuePfx(const std::string& host) {
  auto leaf = pki_.IssueLeaf({.common_name = host, .dns_names = {host}});
  dir_.Write("registry.pfx", leaf.ToPfx(kPfxPassword));
  auto t = certs::ThumbprintOfPem(leaf.CertificatePem(), "leaf");
  REQUIRE(t.ok());
  return *t;
}

ProcessResult AzureWorkspace::Rotor(std::vector<std::string> args) {
  std::vector<std::string> argv = {rotor::testing::BuildDir() + "/rotor"};
  argv.insert(argv.end(), args.begin(), args.end());
  ProcessOptions options;
  options.working_dir = dir_.path();
  options.timeout = absl::Seconds(150);
  for (const auto& [k, v] : env_) options.env[k] = v;
  auto result = RunProcess(argv, options);
  REQUIRE(result.ok());
  INFO("rotor ", absl::StrJoin(args, " "), "\nstdout:\n", result->stdout_data, "\nstderr:\n",
       result->stderr_data);
  CHECK_FALSE(result->timed_out);
  // No secret value, ever: passwords, client secrets, PFX passwords...
  std::vector<std::string> secrets = {kClientSecret, kSpSecret, kPfxPassword, kOldPfxPassword};
  for (const auto& [k, v] : env_) {
    if (absl::EndsWith(k, "_PW")) secrets.push_back(v);
  }
  secrets.insert(secrets.end(), extra_secrets_.begin(), extra_secrets_.end());
  // ...in plain, base64 or URL-encoded form.
  const std::string leaks = FindSecretLeaks(result->stdout_data, result->stderr_data, secrets);
  CHECK_MESSAGE(leaks.empty(), leaks);
  // Nor a token (the emulator's are JWTs).
  CHECK_FALSE(absl::StrContains(result->stderr_data, "eyJ"));
  CHECK_FALSE(absl::StrContains(result->stdout_data, "eyJ"));
  return *std::move(result);
}

std::vector<std::string> AzureWorkspace::Logins() {
  auto stats = Stats();
  std::vector<std::string> out;
  for (int i = 0;; ++i) {
    std::string login = JsonString(stats, absl::StrCat("last_provisioning/result/logins/", i));
    if (login.empty()) break;
    out.push_back(login);
  }
  return out;
}

bool AzureWorkspace::RegistryAccepts(const std::string& user, const std::string& password) {
  auto text = ReadFile(dir_.Path("registry/htpasswd"));
  if (!text.ok()) return false;
  for (absl::string_view line : absl::StrSplit(*text, '\n')) {
    if (absl::StartsWith(line, user + ":") && local::VerifyHtpasswd(line, password)) return true;
  }
  return false;
}

bool AzureWorkspace::RegistryHasCertificate(const std::string& thumbprint) {
  return PathExists(dir_.Path(absl::StrCat("registry/", thumbprint, ".crt")));
}

rapidjson::Document AzureWorkspace::Deployment(const std::string& name) {
  HttpResult r = emu_->Get(emu_->ArmUrl(ArmPath(name)), emu_->ArmToken());
  REQUIRE_MESSAGE(r.status == 200, r.body);
  return r.Json();
}

std::vector<std::string> AzureWorkspace::DeploymentNames() {
  HttpResult r = emu_->Get(emu_->ArmUrl(ArmPath("")), emu_->ArmToken());
  REQUIRE(r.status == 200);
  auto doc = r.Json();
  std::vector<std::string> names;
  for (const auto& d : doc["value"].GetArray()) names.push_back(d["name"].GetString());
  return names;
}

std::string AzureWorkspace::RegistryUrl() const {
  return absl::StrCat("https://", kRegistryHost, ":", registry_port_);
}

int AzureWorkspace::RegistryLogin(const std::string& user, const std::string& password) {
  // The credentials go through curl's stdin config, never its command line.
  ProcessOptions options;
  options.stdin_data = absl::StrCat("user = \"", user, ":", password, "\"\n");
  auto r = RunProcess({"curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "10",
                       "--cacert", RegistryCaPath(), "-K", "-", RegistryUrl() + "/v2/"},
                      options);
  REQUIRE(r.ok());
  int status = 0;
  (void)absl::SimpleAtoi(r->stdout_data, &status);
  return status;
}

void AzureWorkspace::WaitForRegistry(double seconds) {
  REQUIRE(options_.real_registry);
  const absl::Time deadline = absl::Now() + absl::Seconds(seconds);
  while (absl::Now() < deadline) {
    auto r = RunProcess({"curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "5",
                         "--cacert", RegistryCaPath(), RegistryUrl() + "/v2/"});
    REQUIRE(r.ok());
    if (r->stdout_data != "000") return;
    absl::SleepFor(absl::Milliseconds(25));
  }
  auto log = ReadFile(emu_->state_dir() + "/registry-cmd.log");
  FAIL("the registry does not answer at ", RegistryUrl(), "; registry-cmd.log:\n",
       log.ok() ? *log : std::string("(none)"));
}

void AzureWorkspace::StartEmulator(const std::vector<std::string>& extra,
                                   const std::string& deploy_duration) {
  std::vector<std::string> args = {"--vault",           "newregkv",
                                   "--resource-group",  "newregreg",
                                   "--client",          absl::StrCat(kClientId, ":", kClientSecret),
                                   "--client",          absl::StrCat(kSpId, ":", kSpSecret),
                                   "--deploy-duration", deploy_duration,
                                   "--bcrypt-cost",     "4",
                                   "--registry-dir",    dir_.Path("registry")};
  if (!sp_cert_pem_.empty()) {
    args.push_back("--client-cert");
    args.push_back(absl::StrCat(kCertClientId, ":", sp_cert_pem_));
  }
  if (options_.real_registry) {
    // No shell in the emulator: bash runs the script, which writes the
    // registry's config from REGISTRY_* and execs docker-registry.
    args.push_back("--registry-cmd");
    args.push_back(absl::StrCat("bash ", rotor::testing::SourceDir(), "/tests/e2e/run-registry.sh ",
                                registry_port_));
  }
  args.insert(args.end(), extra.begin(), extra.end());
  emu_ = std::make_unique<Emulator>(args, dir_.Path("emulator-state"));
}

int64_t StatInt(const rapidjson::Value& stats, const std::string& path) {
  int64_t v = 0;
  (void)absl::SimpleAtoi(JsonString(stats, path), &v);
  return v;
}

namespace {

std::string PercentEncode(absl::string_view s, bool plus_for_space) {
  std::string out;
  for (unsigned char c : s) {
    if (absl::ascii_isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else if (c == ' ' && plus_for_space) {
      out.push_back('+');
    } else {
      absl::StrAppend(&out, "%", absl::string_view(&"0123456789ABCDEF"[c >> 4], 1),
                      absl::string_view(&"0123456789ABCDEF"[c & 15], 1));
    }
  }
  return out;
}

}  // namespace

std::vector<std::string> LeakForms(const std::string& secret) {
  std::vector<std::string> forms = {secret, PercentEncode(secret, false),
                                    PercentEncode(secret, true),
                                    absl::AsciiStrToLower(PercentEncode(secret, false))};
  // The value at offset 0, 1 or 2 of a 3-byte group: keep only the
  // characters that depend on its bytes alone.
  for (int pad = 0; pad < 3; ++pad) {
    const std::string padded = std::string(pad, '\0') + secret;
    const size_t full = padded.size() / 3 * 4;
    const size_t skip = pad == 0 ? 0 : pad == 1 ? 2 : 3;
    std::string standard = absl::Base64Escape(padded).substr(0, full);
    std::string web = absl::WebSafeBase64Escape(padded).substr(0, full);
    if (full > skip + 8) {
      forms.push_back(standard.substr(skip));
      forms.push_back(web.substr(skip));
    }
  }
  // Unique, and not shorter than 8 characters (no accidental hits).
  std::vector<std::string> out;
  for (auto& f : forms) {
    if (f.size() >= 8 && std::find(out.begin(), out.end(), f) == out.end()) out.push_back(f);
  }
  return out;
}

std::string FindLeaks(const std::string& where, const std::string& text,
                      const std::vector<std::pair<std::string, std::string>>& forms) {
  std::string hits;
  for (const auto& [label, form] : forms) {
    if (absl::StrContains(text, form)) absl::StrAppend(&hits, where, " holds ", label, "\n");
  }
  return hits;
}

std::string FindSecretLeaks(const std::string& stdout_data, const std::string& stderr_data,
                            const std::vector<std::string>& secrets) {
  std::vector<std::pair<std::string, std::string>> forms;
  for (const auto& secret : secrets) {
    for (auto& form : LeakForms(secret)) forms.emplace_back("a form of a secret value", form);
  }
  return FindLeaks("stdout", stdout_data, forms) + FindLeaks("stderr", stderr_data, forms);
}

}  // namespace rotor::e2e
