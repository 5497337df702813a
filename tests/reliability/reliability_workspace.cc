#include "tests/reliability/reliability_workspace.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <fstream>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "base/files.h"
#include "tests/support/registry_deployment.h"

namespace rotor::reliability {

using emulator::testing::HttpResult;
using emulator::testing::JsonString;

JournaledWorkspace::JournaledWorkspace(std::string deploy_duration)
    : journal_path_(side_.Path("journal.jsonl")), deploy_duration_(std::move(deploy_duration)) {
  REQUIRE(MakeDirs(RuntimeDir()).ok());
  e2e::WorkspaceOptions options;
  options.emulator_args = {"--journal", journal_path_};
  options.deploy_duration = deploy_duration_;
  ws_ = std::make_unique<e2e::AzureWorkspace>(options);
  ws_->IssuePfx();
  ws_->SeedAsPowerShell();
  users_ = {"admin", "ci"};
  env()["ROTOR_TEST_TIME_SCALE"] = "0.01";
  env()["XDG_RUNTIME_DIR"] = RuntimeDir();
}

JournaledWorkspace::~JournaledWorkspace() = default;

void JournaledWorkspace::SetUsers(std::vector<std::pair<std::string, std::string>> users) {
  users_.clear();
  for (const auto& u : users) users_.push_back(u.first);
  ws_->SetUsers(std::move(users));
}

void JournaledWorkspace::Restart(const std::vector<std::string>& faults,
                                 const std::string& deploy_duration) {
  std::vector<std::string> args = {"--journal", journal_path_};
  args.insert(args.end(), faults.begin(), faults.end());
  ws_->Restart(args, deploy_duration.empty() ? deploy_duration_ : deploy_duration);
}

BackgroundProcess JournaledWorkspace::StartRotor(const std::vector<std::string>& args,
                                                 const std::string& log_path) {
  std::vector<std::string> argv = {rotor::testing::BuildDir() + "/rotor"};
  argv.insert(argv.end(), args.begin(), args.end());
  ProcessOptions options;
  options.working_dir = ws_->Path("");
  for (const auto& [k, v] : env()) options.env[k] = v;
  auto process = BackgroundProcess::Start(argv, options, log_path);
  REQUIRE_MESSAGE(process.ok(), process.status().ToString());
  return *std::move(process);
}

CheckResult JournaledWorkspace::Check() const {
  return CheckJournalFile(journal_path_,
                          {.users = users_, .certificate_secrets = {"containersecret"}});
}

void JournaledWorkspace::ExpectInvariants(const std::string& context) const {
  CheckResult r = Check();
  CHECK_MESSAGE(r.violations.empty(), context, ": the journal breaks an invariant:\n",
                r.Describe());
}

void JournaledWorkspace::ExpectConverges(const std::string& context) {
  ProcessResult apply = Rotor({"apply", "--auto-approve", "--no-color"});
  CHECK_MESSAGE(apply.exit_code == 0, context, ": apply after the faults\n", apply.stdout_data,
                apply.stderr_data);
  ProcessResult plan = Rotor({"plan", "--detailed-exitcode", "--no-color"});
  CHECK_MESSAGE(plan.exit_code == 0, context, ": the plan after converging\n", plan.stdout_data,
                plan.stderr_data);
}

std::map<std::string, std::set<std::string>> JournaledWorkspace::VaultVersions() {
  auto& emu = ws_->emu();
  const std::string token = emu.VaultToken();
  // The last segment of each item's id, over every page of a list.
  auto ids = [&](std::string url) {
    std::vector<std::string> out;
    while (!url.empty() && url != "null") {
      HttpResult r = emu.Get(url, token);
      REQUIRE_MESSAGE(r.status == 200, url, " ", r.curl_error, r.body);
      auto doc = r.Json();
      for (const auto& item : doc["value"].GetArray()) {
        std::string id = item["id"].GetString();
        out.push_back(id.substr(id.rfind('/') + 1));
      }
      url = JsonString(doc, "nextLink");
    }
    return out;
  };
  std::map<std::string, std::set<std::string>> out;
  for (const auto& name : ids(emu.VaultUrl("newregkv", "/secrets?api-version=7.4"))) {
    for (const auto& version : ids(emu.VaultUrl(
             "newregkv", absl::StrCat("/secrets/", name, "/versions?api-version=7.4")))) {
      out[absl::AsciiStrToLower(name)].insert(version);
    }
  }
  return out;
}

void JournaledWorkspace::ExpectNothingLost(const std::string& context) {
  CheckResult r = Check();
  auto live = VaultVersions();
  // No structured binding: clang 14 cannot capture one in CHECK_MESSAGE.
  for (const auto& written : r.vault.written) {
    const std::string& name = written.first;
    if (r.vault.deleted.count(name) > 0) continue;
    for (const auto& version : written.second) {
      CHECK_MESSAGE(live[name].count(version) == 1, context, ": version ", version, " of ", name,
                    " was written but the vault no longer lists it");
    }
  }
}

int JournaledWorkspace::JournalLines() const {
  // The journal only grows, and the crash test asks every half millisecond
  // while an apply runs: count the lines appended since the last call rather
  // than read the whole file again.
  std::ifstream in(journal_path_, std::ios::binary);
  if (!in) return 0;
  in.seekg(0, std::ios::end);
  if (in.tellg() < journal_bytes_counted_) journal_bytes_counted_ = journal_lines_ = 0;
  in.seekg(journal_bytes_counted_);
  char buffer[64 * 1024];
  while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
    journal_lines_ += static_cast<int>(std::count(buffer, buffer + in.gcount(), '\n'));
    journal_bytes_counted_ += in.gcount();
  }
  return journal_lines_;
}

LocalRegistry::LocalRegistry() : pki_(absl::Now()) {
  std::string config = R"([cloud]
kind = "local"
state_dir = ".rotor"

[vault]
name = "newregkv"
resource_group = "newregreg"
)";
  for (int i = 0; i < kUsers; ++i) {
    absl::StrAppend(&config, "\n[[user]]\nname = \"user", i, "\"\npassword = { generate = 24 }\n");
  }
  absl::StrAppend(&config, R"(
[[user]]
name = "admin"
password = { env = "ADMIN_PW" }

[certificate]
secret_name = "containersecret"
pfx = "registry.pfx"
password = { env = "PFX_PW" }
dns_name = "myreg.localhost"

[deployment]
resource_group = "newregreg"
client_id = "00000000-0000-0000-0000-00000000c11e"
client_secret = { env = "SPN_SECRET" }
template = "registry-template.json"
)");
  dir_.Write("rotor.toml", config);
  dir_.Write("registry-template.json", testing::kRegistryTemplateJson);
  env_ = {{"PFX_PW", kPfxPassword},
          {"SPN_SECRET", kSpnSecret},
          {"ADMIN_PW", "Local-Admin/Pw+5d=&%"},
          {"NO_COLOR", "1"}};
  IssuePfx();
}

void LocalRegistry::IssuePfx() {
  auto leaf = pki_.IssueLeaf({.common_name = "myreg.localhost", .dns_names = {"myreg.localhost"}});
  dir_.Write("registry.pfx", leaf.ToPfx(kPfxPassword));
}

ProcessOptions LocalRegistry::Options() const {
  ProcessOptions options;
  options.working_dir = dir_.path();
  options.env = env_;
  options.timeout = absl::Seconds(120);
  return options;
}

ProcessResult LocalRegistry::Rotor(const std::vector<std::string>& args) const {
  std::vector<std::string> argv = {rotor::testing::BuildDir() + "/rotor"};
  argv.insert(argv.end(), args.begin(), args.end());
  auto r = RunProcess(argv, Options());
  REQUIRE(r.ok());
  CHECK_FALSE(r->timed_out);
  return *std::move(r);
}

BackgroundProcess LocalRegistry::Start(const std::vector<std::string>& args,
                                       const std::string& log) const {
  std::vector<std::string> argv = {rotor::testing::BuildDir() + "/rotor"};
  argv.insert(argv.end(), args.begin(), args.end());
  auto p = BackgroundProcess::Start(argv, Options(), dir_.Path(log));
  REQUIRE(p.ok());
  return *std::move(p);
}

int LocalRegistry::Deployments() const {
  ProcessResult show = Rotor({"show", "--json"});
  REQUIRE(show.exit_code == 0);
  int n = 0;
  for (size_t at = show.stdout_data.find("\"provisioning_state\""); at != std::string::npos;
       at = show.stdout_data.find("\"provisioning_state\"", at + 1)) {
    ++n;
  }
  return n;
}

}  // namespace rotor::reliability
