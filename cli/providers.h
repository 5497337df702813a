// Opens the providers a config names: the embedded local vault and
// deployments for cloud.kind = "local", the Azure HTTP providers otherwise.
#ifndef ROTOR_CLI_PROVIDERS_H_
#define ROTOR_CLI_PROVIDERS_H_

#include <functional>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "base/clock.h"
#include "base/files.h"
#include "engine/config/config.h"
#include "engine/config/value_source.h"
#include "engine/model/deployments.h"
#include "engine/model/registry_sign_in.h"
#include "engine/model/vault.h"
#include "providers/http/http_client.h"

namespace rotor::cli {

// ARM as the command signed in to it (cloud.kind azurestack / azure): what
// [certificate.acme] writes its DNS-01 answers through.
struct ArmAccess {
  std::shared_ptr<http::HttpSender> sender;  // adds ARM's bearer token
  std::string endpoint;
  std::string subscription_id;
  std::string dns_api_version;  // of the cloud profile
};

struct Providers {
  std::unique_ptr<Vault> vault;
  std::unique_ptr<DeploymentService> deployments;  // null without [deployment]
  // Signs in as the registry VM does, for a redeploy's preflight; null for
  // cloud.kind = "local" (no stamp to sign in to).
  std::unique_ptr<RegistrySignIn> registry_sign_in;
  // nullopt for cloud.kind = "local" (no ARM).
  std::optional<ArmAccess> arm;
  // Held for the whole command when it may write: a second rotor on the
  // same state refuses instead of interleaving.
  std::optional<FileLock> lock;
};

// A retry the HTTP client scheduled (throttling, a transient failure): a
// wait worth showing as progress. No secret: the URL is redacted.
struct RetryNotice {
  std::string method;
  std::string url;
  int attempt = 0;  // the attempt that failed, 1 = the first
  int status = 0;   // its HTTP status; 0 for a transport failure
  absl::Duration delay;
  bool server_delay = false;  // from Retry-After
};

struct ProviderOptions {
  bool for_writing = false;  // take the lock
  const Clock* clock = &RealClock::Get();
  // The Azure providers (cloud.kind azurestack / azure) only:
  // AZURE_* variables and [auth] value sources; nullptr: the process's.
  const Environment* env = nullptr;
  // HTTP requests in flight at once (--parallelism).
  int parallelism = 16;
  // Log lines ("rotor: [warn] ...") go here when at least `log_level`
  // (debug, info, warn, error); nullptr: nowhere. Never secrets or bodies.
  std::ostream* log = nullptr;
  std::string log_level = "warn";
  // When set, log lines go here instead of `log`, unfiltered: `level` is
  // "debug", "info", "warn" or "error".
  std::function<void(absl::string_view level, absl::string_view message)> log_sink;
  // Called (from an I/O thread) for every HTTP retry scheduled.
  std::function<void(const RetryNotice&)> on_retry;
};

absl::StatusOr<Providers> OpenProviders(const Config& config, const ProviderOptions& options);

// Knobs from the environment, for slow stamps and for tests (rotor(1),
// ENVIRONMENT): ROTOR_HTTP_TIMEOUT (each HTTP attempt, default 60s),
// ROTOR_DEPLOYMENT_TIMEOUT (how long apply waits for a deployment, default
// 90m), both a number and a unit ("500ms", "30s", "2h"); nullopt when unset,
// InvalidArgument naming the variable when not a positive duration.
absl::StatusOr<std::optional<absl::Duration>> DurationFromEnvironment(const Environment& env,
                                                                      absl::string_view name);
// ROTOR_TEST_TIME_SCALE: multiplies the waits rotor schedules itself (retry
// backoff, Retry-After, deployment polling), in (0, 1]; 1 when unset. For
// tests, which run against an emulator that answers in milliseconds.
absl::StatusOr<double> TimeScaleFromEnvironment(const Environment& env);

// The lock that keeps two applies to one registry on this machine apart
// for cloud.kind azurestack / azure (kind local locks its state_dir):
// $XDG_RUNTIME_DIR/rotor/ (else /tmp/rotor-UID/, which must be this user's
// own folder) holds ENDPOINT.VAULT.RESOURCE_GROUP.lock.
absl::StatusOr<std::string> AzureLockPath(const Config& config, const Environment& env);

}  // namespace rotor::cli

#endif  // ROTOR_CLI_PROVIDERS_H_
