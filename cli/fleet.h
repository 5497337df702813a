// Fleets: one command over several registries' configurations.
//
// `-c` may be repeated and may name a folder, which stands for every
// `*.toml` file in it (sorted by name; hidden files skipped). More than one
// `-c`, or a folder, makes a fleet: the command runs for each configuration
// concurrently (at most kFleetWorkers at a time), each registry's output is
// buffered and printed as a group under a header naming its vault and its
// configuration file, in the order the files were named, and a failing
// registry does not stop the others. `--target NAME` keeps the registries
// whose vault name or configuration file stem (the name without ".toml")
// is NAME, compared case-insensitively; it may be repeated.
//
// `--shard K/N` (1 <= K <= N) keeps the configurations whose file name (the
// last part of the path) falls in shard K: SHA-256 of the name, as a number,
// modulo N, is K - 1. Each file's shard depends on its name alone, so N jobs
// given the same fleet (wherever it is checked out) split it with no
// coordination, and adding a file moves no other. A shard may hold none:
// the command then says so and exits 0.
//
// Exit code, as Terraform's: 1 when any registry failed; otherwise the
// largest code of the registries (2: changes with plan
// --detailed-exitcode, drift with rotor drift), else 0.
//
// --json for a fleet prints one JSON array, an element per registry in the
// same order: {"config", "vault", "exit_code", "result", "error"}, where
// "result" is the document the command prints for one configuration (a
// plan for plan and drift; null when the registry failed before printing
// one) and "error" the registry's error message (absent when it did not
// fail). A single configuration's --json output is unchanged.
#ifndef ROTOR_CLI_FLEET_H_
#define ROTOR_CLI_FLEET_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "cli/cli.h"
#include "cli/commands.h"

namespace rotor::cli {

inline constexpr int kFleetWorkers = 4;

struct FleetMember {
  std::string config;  // the file, as named or as found in a folder
  std::string stem;    // its name without ".toml"
  std::string vault;   // vault.name, "" when the file does not load
  // How the registry is named in headers and progress: the vault, or the
  // stem when the file does not load.
  std::string Label() const { return vault.empty() ? stem : vault; }
};

struct FleetSelection {
  std::vector<FleetMember> members;
  bool fleet = false;  // more than one -c, or a folder
  // --shard kept none of `before_shard` configurations.
  size_t before_shard = 0;
};

// --shard K/N; count 0: no sharding.
struct Shard {
  int index = 0;  // K, from 1
  int count = 0;  // N
};
// Parses "K/N"; InvalidArgument naming the flag and what is wrong.
absl::StatusOr<Shard> ParseShard(absl::string_view text);
// Whether the configuration file `path` falls in `shard` (by its file name).
bool InShard(absl::string_view path, const Shard& shard);

// Expands `configs` (empty: rotor.toml), applies `targets`, then `shard`.
// Fails when a folder holds no *.toml file, or when --target matches
// nothing.
absl::StatusOr<FleetSelection> SelectConfigs(const std::vector<std::string>& configs,
                                             const std::vector<std::string>& targets,
                                             const Shard& shard = {});

// How a fleet's summary line counts the registries' exit codes.
enum class FleetSummary { kPlan, kDrift, kPlain };

// Runs a command for one registry: `options` has `config` set to its file.
using RegistryCommand = std::function<int(const CommonOptions& options, Io& io)>;

// Runs `command` for the selection: directly (no header, no buffering) for
// one configuration that is not a fleet, concurrently otherwise. `common`
// is the command's options as parsed. `user_exit_codes`: whether 2 may be
// returned (plan --detailed-exitcode, drift); the registries' commands are
// expected to return 2 for changes either way.
int RunSelection(const FleetSelection& selection, const CommonOptions& common, Io& io,
                 FleetSummary summary, bool user_exit_codes, const RegistryCommand& command);

}  // namespace rotor::cli

#endif  // ROTOR_CLI_FLEET_H_
