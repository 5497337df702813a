// No secret value leaves the vault: rotor runs every command (plan with
// --out, apply of a saved plan, apply under faults, a failed deployment,
// show, drift, validate) at --log-level debug with distinctive values (their
// characters change under URL encoding), and stdout, stderr, the plan files,
// the emulator's journal and log, rotor's lock folder and every file of the
// workspace other than the vault store itself are searched for each value
// in plain, base64 (standard and URL-safe, any alignment) and URL-encoded
// forms. Zero hits.
#include <doctest/doctest.h>

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/files.h"
#include "base/secret.h"
#include "certs/keyvault_secret.h"
#include "rapidjson/document.h"
#include "tests/reliability/reliability_workspace.h"

namespace rotor::reliability {
namespace {

using Forms = std::vector<std::pair<std::string, std::string>>;

void AddSecret(Forms& forms, const std::string& label, const std::string& value) {
  int i = 0;
  for (const auto& f : LeakForms(value)) forms.emplace_back(absl::StrCat(label, " form ", i++), f);
}

// Every regular file under `root` (not following links), except the paths
// (relative, prefixes) in `skip`.
std::vector<std::string> FilesUnder(const std::string& root, const std::vector<std::string>& skip) {
  std::vector<std::string> out;
  if (!PathExists(root)) return out;
  for (const auto& e : std::filesystem::recursive_directory_iterator(root)) {
    if (!e.is_regular_file()) continue;
    const std::string relative = std::filesystem::relative(e.path(), root).string();
    bool skipped = false;
    for (const auto& s : skip) skipped = skipped || absl::StartsWith(relative, s);
    if (!skipped) out.push_back(e.path().string());
  }
  return out;
}

class Outputs {
 public:
  void Add(const std::string& what, const ProcessResult& r) {
    texts_.emplace_back(absl::StrCat(what, " stdout"), r.stdout_data);
    texts_.emplace_back(absl::StrCat(what, " stderr"), r.stderr_data);
  }
  void AddFiles(const std::vector<std::string>& paths) {
    for (const auto& p : paths) texts_.emplace_back(p, rotor::testing::ReadFileOrDie(p));
  }
  // "" when no form of any secret occurs anywhere.
  std::string Leaks(const Forms& forms) const {
    std::string hits;
    for (const auto& [where, text] : texts_) absl::StrAppend(&hits, FindLeaks(where, text, forms));
    return hits;
  }
  size_t size() const { return texts_.size(); }

 private:
  std::vector<std::pair<std::string, std::string>> texts_;
};

// A slice from the middle of an encoding (a PFX's base64, a certificate
// secret's value): enough to recognise it, alignment-free.
std::string Middle(const std::string& s) {
  REQUIRE(s.size() > 200);
  return s.substr(s.size() / 2, 64);
}

TEST_CASE(
    "secrets: azurestack - no value in any output, log, plan file or state "
    "file") {
  JournaledWorkspace w;
  Forms forms;
  // The values the seed wrote, then distinctive new ones.
  for (const char* v : {"ADMIN_PW", "CI_PW", "OPS_PW"}) AddSecret(forms, v, w.env()[v]);
  w.env()["ADMIN_PW"] = "Adm1n~Leak/Pw+1=&%q";
  w.env()["OPS_PW"] = "Ops~Leak/Pw+3=&%z";
  AddSecret(forms, "new ADMIN_PW", w.env()["ADMIN_PW"]);
  AddSecret(forms, "new OPS_PW", w.env()["OPS_PW"]);
  AddSecret(forms, "client secret", emulator::testing::kClientSecret);
  AddSecret(forms, "registry SP secret", e2e::kSpSecret);
  AddSecret(forms, "PFX password", e2e::kPfxPassword);
  AddSecret(forms, "old PFX password", e2e::kOldPfxPassword);
  w.SetUsers({{"admin", "ADMIN_PW"}, {"ops", "OPS_PW"}});
  w.ws().IssuePfx();
  // The PFX and the certificate secret's value, in the encodings Key
  // Vault holds them.
  const std::string pfx = rotor::testing::ReadFileOrDie(w.Path("registry.pfx"));
  forms.emplace_back("the PFX in base64", Middle(absl::Base64Escape(pfx)));
  auto value = certs::EncodeCertificateSecret(pfx, Secret(e2e::kPfxPassword));
  REQUIRE(value.ok());
  forms.emplace_back("the certificate secret's value", Middle(std::string(value->Reveal())));

  Outputs out;
  const std::vector<std::string> debug = {"--log-level", "debug", "--no-color"};
  auto run = [&](std::vector<std::string> args, int expected_exit) {
    args.insert(args.end(), debug.begin(), debug.end());
    ProcessResult r = w.Rotor(args);
    CHECK_MESSAGE(r.exit_code == expected_exit, absl::StrJoin(args, " "), "\n", r.stdout_data,
                  r.stderr_data);
    out.Add(absl::StrJoin(args, " "), r);
  };
  run({"validate"}, 0);
  run({"plan", "--out", "plan.bin"}, 0);
  run({"plan", "--json", "--out", "plan.json"}, 0);
  run({"apply", "--auto-approve", "plan.bin"}, 0);
  run({"show"}, 0);
  run({"show", "--json"}, 0);
  run({"drift"}, 0);
  run({"plan", "--detailed-exitcode"}, 0);

  // A rotation under 500/503s, logged as JSON.
  w.env()["ADMIN_PW"] = "Adm1n~Leak/Pw+2=&%r";
  AddSecret(forms, "second ADMIN_PW", w.env()["ADMIN_PW"]);
  w.Restart({"--fail-rate", "0.3", "--seed", "5"});
  run({"apply", "--auto-approve", "--log-format", "json"}, 0);
  // A deployment that fails, and the apply that redeploys after it.
  w.ws().IssuePfx();
  w.Restart({"--deploy-fail", "newregreg"});
  run({"apply", "--auto-approve"}, 1);
  w.Restart({});
  run({"apply", "--auto-approve", "--json"}, 0);

  // Every file rotor or the emulator wrote, but the vault store itself.
  out.AddFiles(FilesUnder(w.Path(""), {"emulator-state/vaults/", "registry.pfx"}));
  out.AddFiles(FilesUnder(w.RuntimeDir(), {}));
  out.AddFiles({w.journal_path()});
  REQUIRE(PathExists(w.Path("plan.bin")));
  REQUIRE(PathExists(w.Path("plan.json")));
  const std::string leaks = out.Leaks(forms);
  CHECK_MESSAGE(leaks.empty(), leaks);
  // The search does find what it looks for.
  CHECK_FALSE(
      FindLeaks("probe",
                absl::StrCat("x", absl::Base64Escape(absl::StrCat("ab", w.env()["OPS_PW"], "cd"))),
                forms)
          .empty());
}

// The string values of every "value" member in a JSON document.
void Values(const rapidjson::Value& v, std::vector<std::string>& out) {
  if (v.IsObject()) {
    for (const auto& m : v.GetObject()) {
      if (std::string(m.name.GetString()) == "value" && m.value.IsString()) {
        out.push_back(m.value.GetString());
      }
      Values(m.value, out);
    }
  } else if (v.IsArray()) {
    for (const auto& e : v.GetArray()) Values(e, out);
  }
}

TEST_CASE("secrets: local - no value in any output, log, plan file or state file") {
  LocalRegistry r;
  Forms forms;
  AddSecret(forms, "ADMIN_PW", *r.env()["ADMIN_PW"]);
  AddSecret(forms, "PFX password", LocalRegistry::kPfxPassword);
  AddSecret(forms, "SPN secret", LocalRegistry::kSpnSecret);
  Outputs out;
  auto run = [&](std::vector<std::string> args, int expected_exit) {
    args.insert(args.end(), {"--log-level", "debug"});
    ProcessResult p = r.Rotor(args);
    CHECK_MESSAGE(p.exit_code == expected_exit, absl::StrJoin(args, " "), "\n", p.stdout_data,
                  p.stderr_data);
    out.Add(absl::StrJoin(args, " "), p);
  };
  run({"plan", "--out", "plan.bin"}, 0);
  run({"apply", "--auto-approve", "plan.bin"}, 0);
  r.env()["ADMIN_PW"] = "Local-Admin/Pw+6e=&%";
  AddSecret(forms, "new ADMIN_PW", *r.env()["ADMIN_PW"]);
  r.IssuePfx();
  run({"plan", "--json", "--out", "plan.json"}, 0);
  run({"apply", "--auto-approve"}, 0);
  run({"show", "--json"}, 0);
  run({"drift"}, 0);

  // The generated passwords live only in the vault store.
  auto store = ReadFile(r.Path(".rotor/vaults/newregkv.json"));
  REQUIRE(store.ok());
  rapidjson::Document doc;
  doc.Parse(store->data(), store->size());
  REQUIRE_FALSE(doc.HasParseError());
  std::vector<std::string> values;
  Values(doc, values);
  int generated = 0;
  for (const auto& v : values) {
    if (v.size() == 24) AddSecret(forms, absl::StrCat("generated password ", generated++), v);
  }
  CHECK(generated >= LocalRegistry::kUsers);

  out.AddFiles(FilesUnder(r.dir(), {".rotor/vaults/", "registry.pfx"}));
  REQUIRE(PathExists(r.Path("plan.bin")));
  const std::string leaks = out.Leaks(forms);
  CHECK_MESSAGE(leaks.empty(), leaks);
}

}  // namespace
}  // namespace rotor::reliability
