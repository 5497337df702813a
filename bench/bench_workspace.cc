#include "bench/bench_workspace.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/files.h"
#include "base/status_macros.h"
#include "certs/keyvault_secret.h"
#include "certs/pfx.h"
#include "certs/testing/make_certs.h"
#include "engine/model/state.h"
#include "engine/model/vault.h"
#include "providers/http/http_client.h"
#include "providers/http/url.h"
#include "providers/local/vault_model.h"
#include "rapidjson/document.h"
#include "tests/support/registry_deployment.h"
#include "tests/support/testing.h"

namespace rotor::bench {

constexpr char kVault[] = "newregkv";
constexpr char kGroup[] = "newregreg";
constexpr char kTenant[] = "72c1f4d0-5e0b-4b5e-9d3a-7a6f0e1c2b3d";
constexpr char kSubscription[] = "0a1b2c3d-0000-4000-8000-000000000001";
constexpr char kClientId[] = "rotor-ci";
constexpr char kClientSecret[] = "bench-client-secret-value";
constexpr char kSpId[] = "registry-sp";
constexpr char kSpSecret[] = "Registry-Sp-Secret-7f3a";
constexpr char kPfxPassword[] = "Bench-Pfx-Pass-9c1e";

namespace {

// Names that sort before the certificate secret's: the registry VM logs in
// with the first secret the vault lists, which must be a login.
std::string UserName(int i) { return absl::StrFormat("account-%05d", i); }
std::string PasswordVariable(int i) { return absl::StrFormat("PW_%05d", i); }
std::string Password(int i, int round) { return absl::StrCat("Bench-Pw-", round, "-", i, "-7f3a"); }

std::string Str(const rapidjson::Value& v, const char* name) {
  if (!v.IsObject()) return "";
  auto it = v.FindMember(name);
  if (it == v.MemberEnd() || !it->value.IsString()) return "";
  return it->value.GetString();
}

int64_t Int(const rapidjson::Value& v, const char* name) {
  if (!v.IsObject()) return 0;
  auto it = v.FindMember(name);
  if (it == v.MemberEnd() || !it->value.IsInt64()) return 0;
  return it->value.GetInt64();
}

absl::StatusOr<std::string> ReadAll(const std::string& path) {
  auto text = ReadFile(path);
  ::unlink(path.c_str());
  return text;
}

}  // namespace

absl::StatusOr<RunResult> RunMeasured(const std::vector<std::string>& argv,
                                      const std::map<std::string, std::string>& env,
                                      const std::string& working_dir) {
  const std::string out_path = working_dir + "/.bench-stdout";
  const std::string err_path = working_dir + "/.bench-stderr";
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) {
    absl::string_view entry(*e);
    std::string name(entry.substr(0, entry.find('=')));
    if (env.count(name) == 0) env_strings.emplace_back(entry);
  }
  for (const auto& [k, v] : env) env_strings.push_back(absl::StrCat(k, "=", v));
  std::vector<char*> envp, args;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> argv_copy = argv;
  for (auto& a : argv_copy) args.push_back(a.data());
  args.push_back(nullptr);

  const auto start = std::chrono::steady_clock::now();
  pid_t pid = fork();
  if (pid < 0) return absl::InternalError("fork failed");
  if (pid == 0) {
    if (::chdir(working_dir.c_str()) != 0) _exit(126);
    int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int in = ::open("/dev/null", O_RDONLY);
    if (out < 0 || err < 0 || in < 0) _exit(126);
    ::dup2(in, 0);
    ::dup2(out, 1);
    ::dup2(err, 2);
    ::execve(args[0], args.data(), envp.data());
    _exit(127);
  }
  int status = 0;
  struct rusage usage = {};
  if (::wait4(pid, &status, 0, &usage) != pid) return absl::InternalError("wait4 failed");
  const auto end = std::chrono::steady_clock::now();
  RunResult result;
  result.seconds = std::chrono::duration<double>(end - start).count();
  result.max_rss_kib = usage.ru_maxrss;  // Linux: kilobytes
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  ASSIGN_OR_RETURN(result.stdout_data, ReadAll(out_path));
  ASSIGN_OR_RETURN(result.stderr_data, ReadAll(err_path));
  return result;
}

BenchWorkspace::BenchWorkspace(std::string dir, std::string build_dir, int users, int port)
    : dir_(std::move(dir)), build_dir_(std::move(build_dir)), users_(users), port_(port) {}

BenchWorkspace::~BenchWorkspace() { (void)StopEmulator(); }

absl::StatusOr<std::unique_ptr<BenchWorkspace>> BenchWorkspace::Create(const std::string& dir,
                                                                       const std::string& build_dir,
                                                                       int users) {
  RETURN_IF_ERROR(MakeDirs(dir + "/state/vaults"));
  std::unique_ptr<BenchWorkspace> w(
      new BenchWorkspace(dir, build_dir, users, testing::FreeLoopbackPort()));

  // The registry's certificate: registry.pfx for the config, the same PFX
  // in the vault (so no certificate change is planned).
  certs::testing::TestPki pki(absl::Now());
  auto leaf = pki.IssueLeaf({.common_name = "myreg.localhost", .dns_names = {"myreg.localhost"}});
  const std::string pfx = leaf.ToPfx(kPfxPassword);
  RETURN_IF_ERROR(WriteFileAtomic(dir + "/registry.pfx", pfx, 0600));
  ASSIGN_OR_RETURN(w->thumbprint_, certs::ThumbprintOfPem(leaf.CertificatePem(), "registry"));

  // The vault, as the emulator stores it.
  const std::string base = w->Url(absl::StrCat(kVault, ".vault.localhost"), "");
  local::VaultModel model(base, RealClock::Get());
  for (int i = 1; i <= users; ++i) {
    SetSecretRequest r;
    r.value = Secret(Password(i, 0));
    r.content_type = kUserContentType;
    r.tags = {{kManagedByTag, kManagedByValue}, {kRoleTag, kRoleUser}};
    RETURN_IF_ERROR(model.Set(UserName(i), r).status());
  }
  SetSecretRequest cert;
  ASSIGN_OR_RETURN(cert.value, certs::EncodeCertificateSecret(pfx, Secret(kPfxPassword)));
  cert.content_type = certs::kCertificateContentType;
  cert.tags = {{kManagedByTag, kManagedByValue}, {kRoleTag, kRoleCertificate}};
  ASSIGN_OR_RETURN(SecretVersion written, model.Set("containersecret", cert));
  w->certificate_url_ = written.id;
  RETURN_IF_ERROR(WriteFileAtomic(absl::StrCat(dir, "/state/vaults/", kVault, ".json"),
                                  model.ToJson().Reveal()));

  std::string config = absl::StrCat(
      "[cloud]\nkind = \"azurestack\"\narm_endpoint = \"https://management.localhost:", w->port_,
      "\"\ntenant_id = \"", kTenant, "\"\nsubscription_id = \"", kSubscription,
      "\"\nca_bundle = \"state/ca.pem\"\n\n[auth]\nmethod = \"client_secret\"\nclient_id = \"",
      kClientId, "\"\nclient_secret = { env = \"ROTOR_CLIENT_SECRET\" }\n\n[vault]\nname = \"",
      kVault, "\"\nresource_group = \"", kGroup, "\"\n");
  for (int i = 1; i <= users; ++i) {
    absl::StrAppend(&config, "\n[[user]]\nname = \"", UserName(i), "\"\npassword = { env = \"",
                    PasswordVariable(i), "\" }\n");
  }
  absl::StrAppend(&config,
                  "\n[certificate]\nsecret_name = \"containersecret\"\npfx = \"registry.pfx\"\n"
                  "password = { env = \"PFX_PW\" }\ndns_name = \"myreg.localhost\"\n\n"
                  "[deployment]\nresource_group = \"",
                  kGroup,
                  "\"\nclient_id = { env = \"SPN_CLIENT_ID\" }\n"
                  "client_secret = { env = \"SPN_CLIENT_SECRET\" }\n");
  RETURN_IF_ERROR(WriteFileAtomic(w->ConfigPath(), config, 0600));
  return w;
}

std::string BenchWorkspace::Url(const std::string& host, const std::string& path) const {
  return absl::StrCat("https://", host, ":", port_, path);
}

absl::Status BenchWorkspace::StartEmulator(const std::vector<std::string>& flags) {
  RETURN_IF_ERROR(StopEmulator());
  const std::string state = dir_ + "/state";
  std::vector<std::string> argv = {
      build_dir_ + "/rotor-emulator", "--state", state, "--listen",
      absl::StrCat("127.0.0.1:", port_), "--vault", kVault, "--resource-group", kGroup, "--client",
      absl::StrCat(kClientId, ":", kClientSecret), "--client", absl::StrCat(kSpId, ":", kSpSecret),
      "--tenant", kTenant, "--bcrypt-cost", "4", "--deploy-duration", "1s",
      // A vault of thousands written after each
      // of thousands of writes would measure
      // the emulator's disk, not rotor.
      "--persist-interval", "1s", "--quiet"};
  argv.insert(argv.end(), flags.begin(), flags.end());
  const std::string port_file = state + "/port";
  ::unlink(port_file.c_str());
  ASSIGN_OR_RETURN(BackgroundProcess process,
                   BackgroundProcess::Start(argv, {}, dir_ + "/emulator.log"));
  emulator_.emplace(std::move(process));
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (!PathExists(port_file)) {
    if (!emulator_->Running() || absl::Now() > deadline) {
      auto log = ReadFile(dir_ + "/emulator.log");
      return absl::UnavailableError(
          absl::StrCat("rotor-emulator did not start: ", log.ok() ? *log : std::string()));
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
  http::HttpClientOptions options;
  options.ca_bundle_path = state + "/ca.pem";
  options.parallelism = 4;
  ASSIGN_OR_RETURN(http_, http::HttpClient::Create(options));
  if (!deployed_) {
    RETURN_IF_ERROR(SeedDeployment());
    deployed_ = true;
  }
  return absl::OkStatus();
}

absl::Status BenchWorkspace::StopEmulator() {
  http_.reset();
  if (emulator_.has_value()) {
    int code = emulator_->Stop();
    emulator_.reset();
    if (code != 0) return absl::InternalError(absl::StrCat("rotor-emulator exited ", code));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> BenchWorkspace::Token(const std::string& resource) {
  Secret form = http::FormEncode({{"grant_type", "client_credentials"},
                                  {"client_id", kClientId},
                                  {"client_secret", kClientSecret},
                                  {"resource", resource}});
  http::HttpRequest r =
      http::Post(Url("login.localhost", absl::StrCat("/", kTenant, "/oauth2/token")),
                 std::move(form), "application/x-www-form-urlencoded");
  ASSIGN_OR_RETURN(http::HttpResponse response, http_->Send(std::move(r)));
  rapidjson::Document doc;
  doc.Parse(response.body.c_str());
  std::string token = response.ok() && !doc.HasParseError() ? Str(doc, "access_token") : "";
  if (token.empty()) {
    return absl::UnavailableError(absl::StrCat("no token for ", resource, ": ", response.status));
  }
  return token;
}

absl::Status BenchWorkspace::SeedDeployment() {
  ASSIGN_OR_RETURN(http::HttpResponse endpoints,
                   http_->Send(http::Get(Url("127.0.0.1", "/_emulator/endpoints"))));
  rapidjson::Document doc;
  doc.Parse(endpoints.body.c_str());
  const std::string audience = doc.HasParseError() ? "" : Str(doc, "arm_audience");
  ASSIGN_OR_RETURN(std::string token, Token(audience));
  std::string body = testing::RegistryDeploymentBody(
      {.vault_resource_id = testing::VaultResourceId(kSubscription, kGroup, kVault),
       .secret_url = certificate_url_,
       .thumbprint = thumbprint_,
       .sp_client_id = kSpId,
       .sp_client_secret = kSpSecret});
  http::HttpRequest put = http::Put(
      Url("management.localhost",
          absl::StrCat(
              "/subscriptions/", kSubscription, "/resourcegroups/", kGroup,
              "/providers/Microsoft.Resources/deployments/registry?api-version=2019-10-01")),
      Secret(body));
  put.headers.emplace_back("Authorization", absl::StrCat("Bearer ", token));
  ASSIGN_OR_RETURN(http::HttpResponse started, http_->Send(std::move(put)));
  if (!started.ok()) {
    return absl::InternalError(
        absl::StrCat("seeding the deployment: ", started.status, " ", started.body));
  }
  const std::string operation(started.Header("Azure-AsyncOperation"));
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  while (absl::Now() < deadline) {
    http::HttpRequest poll = http::Get(operation);
    poll.headers.emplace_back("Authorization", absl::StrCat("Bearer ", token));
    ASSIGN_OR_RETURN(http::HttpResponse r, http_->Send(std::move(poll)));
    rapidjson::Document status;
    status.Parse(r.body.c_str());
    const std::string state = status.HasParseError() ? "" : Str(status, "status");
    if (state == "Succeeded") return absl::OkStatus();
    if (state == "Failed" || state == "Canceled") {
      return absl::InternalError(absl::StrCat("the seeded deployment ended ", state, ": ", r.body));
    }
    absl::SleepFor(absl::Milliseconds(200));
  }
  return absl::DeadlineExceededError("the seeded deployment did not finish");
}

absl::Status BenchWorkspace::ResetStats() {
  http::HttpRequest r = http::Post(Url("127.0.0.1", "/_emulator/stats/reset"), Secret(""));
  ASSIGN_OR_RETURN(http::HttpResponse response, http_->Send(std::move(r)));
  if (!response.ok()) return absl::InternalError("resetting the emulator's stats failed");
  return absl::OkStatus();
}

absl::StatusOr<EmulatorCounts> BenchWorkspace::ReadStats() {
  ASSIGN_OR_RETURN(http::HttpResponse response,
                   http_->Send(http::Get(Url("127.0.0.1", "/_emulator/stats"))));
  rapidjson::Document doc;
  doc.Parse(response.body.c_str());
  if (!response.ok() || doc.HasParseError() || !doc.IsObject()) {
    return absl::InternalError("reading the emulator's stats failed");
  }
  EmulatorCounts c;
  c.requests = Int(doc, "requests");
  if (doc.HasMember("status") && doc["status"].IsObject()) {
    for (const auto& s : doc["status"].GetObject()) {
      int code = 0;
      if (absl::SimpleAtoi(s.name.GetString(), &code) && code >= 500 && s.value.IsInt64()) {
        c.server_errors += s.value.GetInt64();
      }
    }
  }
  if (doc.HasMember("arm")) c.arm_requests = Int(doc["arm"], "requests");
  if (doc.HasMember("tokens")) c.tokens = Int(doc["tokens"], "issued");
  if (doc.HasMember("vaults") && doc["vaults"].HasMember(kVault)) {
    const rapidjson::Value& v = doc["vaults"][kVault];
    c.vault_requests = Int(v, "requests");
    c.throttled = Int(v, "throttled");
    c.unauthorized = Int(v, "unauthorized");
    c.writes = Int(v, "writes");
    if (v.HasMember("operations") && v["operations"].IsObject()) {
      for (const auto& op : v["operations"].GetObject()) {
        if (op.value.IsInt64()) c.operations[op.name.GetString()] = op.value.GetInt64();
      }
    }
  }
  return c;
}

absl::StatusOr<RunResult> BenchWorkspace::Rotor(const std::vector<std::string>& args, int round) {
  std::map<std::string, std::string> env = {{"ROTOR_CLIENT_SECRET", kClientSecret},
                                            {"PFX_PW", kPfxPassword},
                                            {"SPN_CLIENT_ID", kSpId},
                                            {"SPN_CLIENT_SECRET", kSpSecret},
                                            {"NO_COLOR", "1"}};
  for (int i = 1; i <= users_; ++i) env[PasswordVariable(i)] = Password(i, round);
  std::vector<std::string> argv = {build_dir_ + "/rotor"};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunMeasured(argv, env, dir_);
}

}  // namespace rotor::bench
