#include "tests/hostile/workspace.h"

#include <doctest/doctest.h>
#include <sys/stat.h>

#include <filesystem>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "providers/http/url.h"
#include "tests/support/testing.h"

namespace rotor::hostile {

std::string DataDir() { return rotor::testing::SourceDir() + "/tests/hostile/bad-inputs"; }

Snapshot TakeSnapshot(const std::string& root) {
  namespace fs = std::filesystem;
  Snapshot out;
  std::error_code ec;
  if (!fs::exists(root, ec)) return out;
  for (const auto& entry : fs::recursive_directory_iterator(root, ec)) {
    if (!entry.is_regular_file()) continue;
    const std::string relative = fs::relative(entry.path(), root).string();
    if (absl::StrContains(entry.path().filename().string(), "lock")) continue;
    out[relative] = rotor::testing::ReadFileOrDie(entry.path().string());
  }
  return out;
}

std::string DescribeDifference(const Snapshot& before, const Snapshot& after) {
  std::vector<std::string> changes;
  for (const auto& [path, contents] : before) {
    auto it = after.find(path);
    if (it == after.end()) {
      changes.push_back("removed " + path);
    } else if (it->second != contents) {
      changes.push_back("changed " + path);
    }
  }
  for (const auto& [path, contents] : after) {
    if (!before.count(path)) changes.push_back("added " + path);
  }
  return absl::StrJoin(changes, ", ");
}

ProcessResult RunRotor(const std::string& dir, const std::vector<std::string>& args,
                       const std::map<std::string, std::optional<std::string>>& env) {
  std::vector<std::string> argv = {rotor::testing::BuildDir() + "/rotor"};
  argv.insert(argv.end(), args.begin(), args.end());
  ProcessOptions options;
  options.working_dir = dir;
  options.timeout = absl::Seconds(120);
  options.env = env;
  options.env["NO_COLOR"] = "1";
  auto result = RunProcess(argv, options);
  REQUIRE(result.ok());
  INFO("rotor ", absl::StrJoin(args, " "), "\nstdout:\n", result->stdout_data, "\nstderr:\n",
       result->stderr_data);
  CHECK_FALSE(result->timed_out);
  for (const char* report : {"AddressSanitizer", "LeakSanitizer", "runtime error:"}) {
    CHECK_FALSE(absl::StrContains(result->stderr_data, report));
  }
  return *std::move(result);
}

namespace {

// The registry template with only the parameters rotor sets.
constexpr char kTemplate[] = R"({
  "$schema": "https://schema.management.azure.com/schemas/2015-01-01/deploymentTemplate.json#",
  "contentVersion": "1.0.0.0",
  "parameters": {
    "pfxKeyVaultResourceId": {"type": "string"},
    "pfxKeyVaultSecretUrl": {"type": "string"},
    "pfxThumbprint": {"type": "string"},
    "servicePrincipalClientId": {"type": "string"},
    "servicePrincipalClientSecret": {"type": "securestring"}
  },
  "resources": []
})";

}  // namespace

LocalWorkspace::LocalWorkspace() : pki_(absl::Now()) {
  auto leaf = pki_.IssueLeaf({.common_name = "myreg.localhost", .dns_names = {"myreg.localhost"}});
  pfx_ = leaf.ToPfx(kPfxPassword);
  env_ = {{"ADMIN_PW", "Admin-Pw-Hostile-1a"}, {"CI_PW", "Ci-Pw-Hostile-2b"}, {"EMPTY_PW", ""}};
  Restore();
  Write("registry-template.json", kTemplate);
  Write("long-password.txt", std::string(300, 'x'));
  // What a rotor that cut a path at a NUL would read instead
  // ("pwnul\u0000.txt", "cert2.pfx\u0000.old"): a change it would make.
  Write("pwnul", "Pwnul-Pw-Hostile-7f\n");
  Write("cert2.pfx",
        pki_.IssueLeaf({.common_name = "myreg.localhost", .dns_names = {"myreg.localhost"}})
            .ToPfx(kPfxPassword));
  // A FIFO nothing writes to: reading it must time out, not hang.
  REQUIRE(::mkfifo(Path("fifo").c_str(), 0600) == 0);
  ProcessResult first = Rotor({"apply", "--auto-approve"});
  INFO(first.stdout_data, first.stderr_data);
  REQUIRE(first.exit_code == 0);
  baseline_ = State();
  REQUIRE_FALSE(baseline_.empty());
}

void LocalWorkspace::Restore() {
  Write("rotor.toml", rotor::testing::ReadFileOrDie(DataDir() + "/baseline.toml"));
  Write("registry.pfx", pfx_);
  Write("pfx-password.txt", std::string(kPfxPassword) + "\n");
}

// The registry's service principal, which the emulator's VM signs in with.
constexpr char kSpClientId[] = "registry-sp";
constexpr char kSpClientSecret[] = "Registry-Sp-Secret-Hostile-4d";

EmulatorWorkspace::EmulatorWorkspace() : pki_(absl::Now()) {
  emu_ = std::make_unique<emulator::testing::Emulator>(std::vector<std::string>{
      "--vault", "newregkv", "--resource-group", "newregreg", "--client",
      absl::StrCat(emulator::testing::kClientId, ":", emulator::testing::kClientSecret), "--client",
      absl::StrCat(kSpClientId, ":", kSpClientSecret), "--deploy-duration", "200ms",
      "--bcrypt-cost", "4", "--quiet"});
  auto leaf = pki_.IssueLeaf({.common_name = "myreg.localhost", .dns_names = {"myreg.localhost"}});
  dir_.Write("registry.pfx", leaf.ToPfx(LocalWorkspace::kPfxPassword));
  dir_.Write("registry-template.json", kTemplate);
  env_ = {{"ROTOR_CLIENT_SECRET", emulator::testing::kClientSecret},
          {"ADMIN_PW", "Admin-Pw-Hostile-1a"},
          {"CI_PW", "Ci-Pw-Hostile-2b"},
          {"OPS_PW", "Ops-Pw-Hostile-3c"},
          {"PFX_PW", LocalWorkspace::kPfxPassword},
          {"SPN_CLIENT_ID", kSpClientId},
          {"SPN_CLIENT_SECRET", kSpClientSecret},
          // Re-reads of unreadable answers wait 1/100 of their backoff.
          {"ROTOR_TEST_TIME_SCALE", "0.01"}};
  WriteConfig("", false);
  ProcessResult first = Rotor({"apply", "--auto-approve"});
  INFO(first.stdout_data, first.stderr_data);
  REQUIRE(first.exit_code == 0);
  WriteConfig("", true);
  baseline_ = State();
  REQUIRE_FALSE(baseline_.empty());
}

void EmulatorWorkspace::WriteConfig(const std::string& cloud_extra, bool with_ops) {
  std::string text = absl::StrCat(
      "[cloud]\nkind = \"azurestack\"\narm_endpoint = \"https://management.localhost:",
      emu_->port(), "\"\ntenant_id = \"", emulator::testing::kTenant, "\"\nsubscription_id = \"",
      kSubscription, "\"\nca_bundle = \"", emu_->ca_path(), "\"\n", cloud_extra, R"(
[auth]
method = "client_secret"
client_id = ")",
      emulator::testing::kClientId, R"("
client_secret = { env = "ROTOR_CLIENT_SECRET" }

[vault]
name = "newregkv"
resource_group = "newregreg"

[[user]]
name = "admin"
password = { env = "ADMIN_PW" }

[[user]]
name = "ci"
password = { env = "CI_PW" }
)");
  if (with_ops)
    absl::StrAppend(&text, "\n[[user]]\nname = \"ops\"\npassword = { env = \"OPS_PW\" }\n");
  absl::StrAppend(&text, R"(
[certificate]
secret_name = "containersecret"
pfx = "registry.pfx"
password = { env = "PFX_PW" }
dns_name = "myreg.localhost"

[deployment]
resource_group = "newregreg"
client_id = { env = "SPN_CLIENT_ID" }
client_secret = { env = "SPN_CLIENT_SECRET" }
template = "registry-template.json"
)");
  dir_.Write("rotor.toml", text);
}

Snapshot EmulatorWorkspace::State() const {
  Snapshot out;
  for (const char* folder : {"vaults", "deployments"}) {
    for (auto& [path, contents] : TakeSnapshot(absl::StrCat(emu_->state_dir(), "/", folder))) {
      out[absl::StrCat(folder, "/", path)] = std::move(contents);
    }
  }
  return out;
}

void EmulatorWorkspace::Script(const std::string& method, const std::string& path, int status,
                               const std::string& body, int repeat, const std::string& header,
                               int count) {
  std::string query =
      absl::StrCat("?count=", count, "&method=", method, "&path=", http::UrlEncode(path),
                   "&status=", status, "&repeat=", repeat);
  if (!header.empty()) absl::StrAppend(&query, "&header=", http::UrlEncode(header));
  auto r = emu_->Request("POST", emu_->Url("127.0.0.1", "/_emulator/answer" + query), body);
  REQUIRE_MESSAGE(r.status == 204, r.body);
}

void EmulatorWorkspace::ClearScripts() {
  auto r = emu_->Request("DELETE", emu_->Url("127.0.0.1", "/_emulator/answer"));
  REQUIRE_MESSAGE(r.status == 204, r.body);
}

}  // namespace rotor::hostile
