// rotor-emulator's command line (a contract: tests and users rely on the flag
// names). See tests/emulator/README.md for the reference.
#ifndef ROTOR_TESTS_EMULATOR_OPTIONS_H_
#define ROTOR_TESTS_EMULATOR_OPTIONS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "base/secret.h"

namespace rotor::emulator {

// The tenant the emulator names in its Key Vault challenge (and the one
// metadata and openid-configuration documents use) unless --tenant is given.
inline constexpr char kDefaultTenant[] = "72c1f4d0-5e0b-4b5e-9d3a-7a6f0e1c2b3d";
// The application id in the ARM audience /metadata/endpoints advertises
// ("https://management.localhost:PORT/<this>").
inline constexpr char kArmAudienceAppId[] = "e1b7a3c2-9d4f-4f60-8a2b-6c5d4e3f2a10";

// "N/DURATION": at most `count` requests per sliding `window`.
struct RateLimit {
  int64_t count = 0;
  absl::Duration window = absl::ZeroDuration();
  bool enabled() const { return count > 0 && window > absl::ZeroDuration(); }
};

struct ClientSecretOption {
  std::string client_id;
  Secret secret;
};

struct ClientCertOption {
  std::string client_id;
  std::string pem_path;  // a PEM file holding the client's certificate
};

struct EmulatorOptions {
  std::string listen_host = "127.0.0.1";
  int listen_port = 0;  // 0: any free port (printed and written to DIR/port)
  std::string state_dir;
  std::vector<std::string> vaults;
  std::vector<std::string> resource_groups;
  std::vector<ClientSecretOption> clients;
  std::vector<ClientCertOption> client_certs;
  std::string identity = "aad";  // "aad" or "adfs"
  std::string tenant = kDefaultTenant;
  std::string registry_dir;
  std::vector<std::string> registry_cmd;  // argv, split without a shell
  // After start-up, stand up what Microsoft's manual procedure leaves
  // behind (users, the certificate secret, a deployment of the gallery
  // template) unless the state folder holds it already (seed.h).
  bool seed_registry = false;
  // The port --registry-cmd's registry listens on, for the registry URL
  // --seed-registry prints (0: none, https's default).
  int registry_port = 0;
  absl::Duration token_lifetime = absl::Hours(1);
  int bcrypt_cost = 10;
  // Re-run the registry script on every deployment (the faithful default
  // runs it only when the CustomScript extension's configuration changes).
  bool always_rerun = false;
  int threads = 64;
  bool soft_delete = true;
  int retention_days = 90;
  int arm_page_size = 100;
  bool quiet = false;
  // Return once the endpoints are up (after --seed-registry), leaving the
  // emulator running in its own session; its pid is in DIR/pid.
  bool detach = false;
  // The server certificate (tls.h): "valid", or one clients must refuse
  // ("untrusted", "wrong-host", "expired").
  std::string tls_cert_profile = "valid";

  // Fault injection (all off by default).
  absl::Duration latency = absl::ZeroDuration();
  RateLimit throttle;
  RateLimit write_throttle;
  bool throttle_no_retry_after = false;
  double fail_rate = 0;
  double drop_rate = 0;
  // Share of answers (to requests carried out) whose JSON body is truncated
  // or garbled.
  double corrupt_rate = 0;
  // Share of answers held back by `slow` after the request was carried out
  // (past a client's timeout: the write landed, its answer did not).
  double slow_rate = 0;
  absl::Duration slow = absl::Seconds(5);
  // 0: a vault's store file is written after every change, before the
  // answer; otherwise at most once per interval (a benchmark's large vault).
  absl::Duration persist_interval = absl::ZeroDuration();
  // How long a Key Vault delete or recover takes to be seen (0: at once).
  absl::Duration replication_delay = absl::ZeroDuration();
  absl::Duration deploy_duration = absl::Seconds(1);
  std::vector<std::string> deploy_fail;  // resource groups, one failure each
  std::optional<uint64_t> seed;

  // Azure DNS zones created at start-up in the first resource group.
  std::vector<std::string> dns_zones;
  // http://HOST:PORT (loopback) of pebble-challtestsrv's management API:
  // every TXT record set stored is mirrored into it (dns.h). "" for none.
  std::string challtestsrv;

  // Append one JSON line per request to this file (never a value); see
  // journal.h.
  std::string journal_path;
};

// "20ms", "1.5s", "30s", "10m", "1h", "2d". Negative durations are refused.
absl::StatusOr<absl::Duration> ParseDurationFlag(absl::string_view text);
// "4000/10s", "300/s" (= 300/1s).
absl::StatusOr<RateLimit> ParseRateLimit(absl::string_view text);
// Splits a command line the way a shell would split words (single and double
// quotes, backslash escapes) without running a shell: no variables, globs,
// pipes or redirections.
absl::StatusOr<std::vector<std::string>> SplitCommandLine(absl::string_view text);

// The result of parsing argv: options, or a message and an exit code (0 for
// --help / --version, 2 for usage errors).
struct ParsedCommandLine {
  std::optional<EmulatorOptions> options;
  int exit_code = 0;
  std::string message;
};
ParsedCommandLine ParseCommandLine(int argc, const char* const* argv);

}  // namespace rotor::emulator

#endif  // ROTOR_TESTS_EMULATOR_OPTIONS_H_
