// Shared pieces of the hostile-input tests: running the real `rotor`
// binary, and snapshots of a folder's files, to show that a refused input
// changed nothing (the local vault and deployments, or the emulator's).
#ifndef ROTOR_TESTS_HOSTILE_WORKSPACE_H_
#define ROTOR_TESTS_HOSTILE_WORKSPACE_H_

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/process.h"
#include "certs/testing/make_certs.h"
#include "tests/emulator/emulator_harness.h"
#include "tests/support/testing.h"

namespace rotor::hostile {

// The catalogue's data folder (tests/hostile/bad-inputs).
std::string DataDir();

// Every regular file under `root` (relative path -> contents), recursively,
// except lock files. Empty when `root` does not exist.
using Snapshot = std::map<std::string, std::string>;
Snapshot TakeSnapshot(const std::string& root);
// "" when equal, else the paths that were added, removed or changed.
std::string DescribeDifference(const Snapshot& before, const Snapshot& after);

// Runs build/rotor with `args` in `dir`, with `env` on top of the current
// environment. Fails the test when rotor cannot be started, times out, or a
// sanitizer (ASan, UBSan, LeakSanitizer) reported anything.
ProcessResult RunRotor(const std::string& dir, const std::vector<std::string>& args,
                       const std::map<std::string, std::optional<std::string>>& env);

// A folder with bad-inputs/baseline.toml applied once on the local provider
// (cloud.kind = "local"): the vault holds admin, ci and the certificate,
// and a deployment was made. Beside it: long-password.txt (300 bytes),
// pwnul (a password) and cert2.pfx (another valid certificate), what a path
// cut at a NUL would read, and fifo, a FIFO nothing writes to. Cases replace rotor.toml or
// registry.pfx, run rotor, and Restore() puts the baseline's files back.
class LocalWorkspace {
 public:
  static constexpr char kPfxPassword[] = "Pfx-Pass-Hostile-5e1d";

  LocalWorkspace();

  const std::string& dir() const { return dir_.path(); }
  std::string Path(const std::string& relative) const { return dir_.Path(relative); }
  void Write(const std::string& relative, const std::string& contents) const {
    dir_.Write(relative, contents);
  }
  std::map<std::string, std::optional<std::string>>& env() { return env_; }
  const certs::testing::TestPki& pki() const { return pki_; }

  ProcessResult Rotor(const std::vector<std::string>& args) { return RunRotor(dir(), args, env_); }
  // The local vault, deployments and registry files.
  Snapshot State() const { return TakeSnapshot(Path(".rotor")); }
  const Snapshot& baseline() const { return baseline_; }
  void Restore();

 private:
  rotor::testing::TempDir dir_;
  certs::testing::TestPki pki_;
  std::string pfx_;
  std::map<std::string, std::optional<std::string>> env_;
  Snapshot baseline_;
};

// A folder with a config for cloud.kind = "azurestack" that points at a
// fresh rotor-emulator (vault newregkv, resource group newregreg, the
// harness's client), applied once (the secrets and a first deployment from
// registry-template.json exist), then given one pending change (a new user
// "ops"), so that a rotor that carried on after a bad answer would write.
class EmulatorWorkspace {
 public:
  static constexpr char kSubscription[] = "0a1b2c3d-0000-4000-8000-000000000008";

  EmulatorWorkspace();

  emulator::testing::Emulator& emu() { return *emu_; }
  const std::string& dir() const { return dir_.path(); }
  std::map<std::string, std::optional<std::string>>& env() { return env_; }
  // rotor.toml, with `cloud_extra` added to [cloud] and the user "ops" when
  // `with_ops`.
  void WriteConfig(const std::string& cloud_extra, bool with_ops);
  ProcessResult Rotor(const std::vector<std::string>& args) { return RunRotor(dir(), args, env_); }
  // The emulator's vaults and deployments.
  Snapshot State() const;
  const Snapshot& baseline() const { return baseline_; }
  void Rebaseline() { baseline_ = State(); }

  // Every request for `method` on `path` (a trailing '*': any path under
  // it) gets this answer (`body` repeated `repeat` times) until
  // ClearScripts(), or only the next `count` when it is not 0 (POST
  // /_emulator/answer).
  void Script(const std::string& method, const std::string& path, int status,
              const std::string& body, int repeat = 1, const std::string& header = "",
              int count = 0);
  void ClearScripts();

 private:
  rotor::testing::TempDir dir_;
  certs::testing::TestPki pki_;
  std::unique_ptr<emulator::testing::Emulator> emu_;
  std::map<std::string, std::optional<std::string>> env_;
  Snapshot baseline_;
};

}  // namespace rotor::hostile

#endif  // ROTOR_TESTS_HOSTILE_WORKSPACE_H_
