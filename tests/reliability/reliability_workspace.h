// The reliability tests' workspace: tests/e2e's AzureWorkspace (the real
// rotor, cloud.kind azurestack, against a fresh rotor-emulator) with the
// emulator's request journal on from its first start, so that the whole
// history can be replayed against the invariants (journal_checker.h), and
// with rotor's waits scaled down (ROTOR_TEST_TIME_SCALE) and its apply lock
// in the workspace's own runtime folder.
#ifndef ROTOR_TESTS_RELIABILITY_RELIABILITY_WORKSPACE_H_
#define ROTOR_TESTS_RELIABILITY_RELIABILITY_WORKSPACE_H_

#include <ios>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "base/process.h"
#include "certs/testing/make_certs.h"
#include "tests/e2e/azure_workspace.h"
#include "tests/reliability/journal_checker.h"
#include "tests/support/testing.h"

namespace rotor::reliability {

class JournaledWorkspace {
 public:
  // A registry as the seed procedure leaves it (users admin and ci, a
  // certificate, a successful deployment), rotor's config declaring it.
  explicit JournaledWorkspace(std::string deploy_duration = "200ms");
  ~JournaledWorkspace();

  e2e::AzureWorkspace& ws() { return *ws_; }
  const std::string& journal_path() const { return journal_path_; }
  std::string Path(const std::string& relative) const { return ws_->Path(relative); }
  // The folder rotor keeps its apply locks in (XDG_RUNTIME_DIR).
  std::string RuntimeDir() const { return side_.Path("runtime"); }
  std::map<std::string, std::string>& env() { return ws_->env(); }

  // [[user]] tables (name, variable of its password); the checker's
  // declared users follow.
  void SetUsers(std::vector<std::pair<std::string, std::string>> users);
  // Stops the emulator and starts it on the same state and journal with
  // `faults` (none: a healthy emulator).
  void Restart(const std::vector<std::string>& faults, const std::string& deploy_duration = "");

  // rotor, synchronously (checked for leaked secrets by AzureWorkspace).
  ProcessResult Rotor(const std::vector<std::string>& args) { return ws_->Rotor(args); }
  // rotor in the background, its output in `log_path`.
  BackgroundProcess StartRotor(const std::vector<std::string>& args, const std::string& log_path);

  CheckResult Check() const;
  // Fails the test (naming `context`) on any violation.
  void ExpectInvariants(const std::string& context) const;
  // `rotor apply` succeeds and `rotor plan --detailed-exitcode` then exits 0.
  void ExpectConverges(const std::string& context);
  // Every version the journal saw written to a secret that is not deleted
  // is still listed by the vault.
  void ExpectNothingLost(const std::string& context);

  int JournalLines() const;
  // Versions per secret (lower-cased name), through Key Vault's API.
  std::map<std::string, std::set<std::string>> VaultVersions();

 private:
  rotor::testing::TempDir side_;  // the journal, the runtime folder
  std::string journal_path_;
  std::string deploy_duration_;
  std::unique_ptr<e2e::AzureWorkspace> ws_;
  std::vector<std::string> users_;
  // What JournalLines() has counted so far.
  mutable std::streamoff journal_bytes_counted_ = 0;
  mutable int journal_lines_ = 0;
};

// A registry on cloud.kind = "local" (its lock is state_dir/lock): kUsers
// generated users (each costs the registry a bcrypt hash at every
// deployment, so a deployment holds the lock for a while), a certificate
// and a first deployment from testing::kRegistryTemplateJson.
class LocalRegistry {
 public:
  static constexpr int kUsers = 12;
  static constexpr char kPfxPassword[] = "Local Pfx/Pass+8b=&%";
  static constexpr char kSpnSecret[] = "Local Spn/Secret+2c=&%";
  LocalRegistry();

  void IssuePfx();
  std::map<std::string, std::optional<std::string>>& env() { return env_; }
  ProcessResult Rotor(const std::vector<std::string>& args) const;
  BackgroundProcess Start(const std::vector<std::string>& args, const std::string& log) const;
  // Deployments `rotor show --json` lists (one under a name deployed twice
  // within a second: the name carries the time to the second).
  int Deployments() const;
  std::string Path(const std::string& relative) const { return dir_.Path(relative); }
  const std::string& dir() const { return dir_.path(); }

 private:
  ProcessOptions Options() const;
  rotor::testing::TempDir dir_;
  certs::testing::TestPki pki_;
  std::map<std::string, std::optional<std::string>> env_;
};

using e2e::FindLeaks;
using e2e::LeakForms;

}  // namespace rotor::reliability

#endif  // ROTOR_TESTS_RELIABILITY_RELIABILITY_WORKSPACE_H_
