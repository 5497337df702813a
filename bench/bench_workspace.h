// BenchWorkspace: a registry with N users on a rotor-emulator, for the
// benchmark (bench/rotor_bench.cc) and the request-budget test
// (bench/request_budget_test.cc).
//
// Create() seeds fast, without a request per secret: it builds the vault in
// memory with the local provider's VaultModel (N user secrets "user-00001"...
// holding old passwords, tagged as rotor writes them, and the certificate
// secret holding registry.pfx as the template expects) and writes it as the
// emulator's store (STATE/vaults/newregkv.json) before the emulator starts.
// The first StartEmulator() then makes the registry's deployment through
// the emulator's ARM API, pointing at that certificate version.
//
// The emulator always listens on the same port (picked once), so the
// deployment's pfxKeyVaultSecretUrl stays valid across restarts with other
// flags (latency, throttling). rotor.toml declares the N users with
// `password = { env = "PW_00001" }` ...; each Rotor() run passes the values
// of a "round": a new round means N new passwords, i.e. an apply writes N
// new versions and redeploys once.
#ifndef ROTOR_BENCH_BENCH_WORKSPACE_H_
#define ROTOR_BENCH_BENCH_WORKSPACE_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "base/process.h"
#include "providers/http/http_client.h"

namespace rotor::bench {

// A finished rotor run.
struct RunResult {
  int exit_code = -1;
  double seconds = 0;       // wall time, fork to exit
  int64_t max_rss_kib = 0;  // the child's peak resident set (wait4 ru_maxrss)
  std::string stdout_data;
  std::string stderr_data;
};

// Runs argv to completion (no shell) with `env` added to the environment,
// measuring wall time and the peak RSS of that process.
absl::StatusOr<RunResult> RunMeasured(const std::vector<std::string>& argv,
                                      const std::map<std::string, std::string>& env,
                                      const std::string& working_dir);

// What /_emulator/stats counted since the last reset.
struct EmulatorCounts {
  int64_t requests = 0;        // every request but /_emulator/ ones
  int64_t vault_requests = 0;  // Key Vault data plane, newregkv
  int64_t throttled = 0;       // 429 answers of the vault
  int64_t unauthorized = 0;    // 401 answers of the vault (the challenge)
  int64_t writes = 0;          // secret versions the vault wrote
  int64_t server_errors = 0;   // 5xx answers, all endpoints
  int64_t arm_requests = 0;
  int64_t tokens = 0;                         // tokens issued
  std::map<std::string, int64_t> operations;  // Key Vault operation -> count
};

class BenchWorkspace {
 public:
  // Seeds `dir` (created; must not hold a previous workspace) with `users`
  // users and the certificate. `build_dir` holds rotor and rotor-emulator.
  static absl::StatusOr<std::unique_ptr<BenchWorkspace>> Create(const std::string& dir,
                                                                const std::string& build_dir,
                                                                int users);
  ~BenchWorkspace();

  // Starts rotor-emulator on the workspace's state and port with `flags`
  // added (--latency, --throttle ...); the first start also makes the
  // registry deployment. Stops a running one first.
  absl::Status StartEmulator(const std::vector<std::string>& flags);
  absl::Status StopEmulator();

  absl::Status ResetStats();
  absl::StatusOr<EmulatorCounts> ReadStats();

  // Runs `build_dir/rotor args...` in the workspace with the passwords of
  // `round` (round 0 is what the vault was seeded with).
  absl::StatusOr<RunResult> Rotor(const std::vector<std::string>& args, int round);

  int users() const { return users_; }
  const std::string& dir() const { return dir_; }
  std::string ConfigPath() const { return dir_ + "/rotor.toml"; }

 private:
  BenchWorkspace(std::string dir, std::string build_dir, int users, int port);
  absl::Status SeedDeployment();
  std::string Url(const std::string& host, const std::string& path) const;
  absl::StatusOr<std::string> Token(const std::string& resource);

  std::string dir_;
  std::string build_dir_;
  int users_;
  int port_;
  std::string certificate_url_;
  std::string thumbprint_;
  bool deployed_ = false;
  std::optional<BackgroundProcess> emulator_;
  std::unique_ptr<http::HttpClient> http_;  // to the emulator
};

}  // namespace rotor::bench

#endif  // ROTOR_BENCH_BENCH_WORKSPACE_H_
