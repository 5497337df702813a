#include "cli/providers.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <mutex>
#include <ostream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "base/status_macros.h"
#include "cli/sign_in.h"
#include "providers/arm/arm_client.h"
#include "providers/auth/bearer_sender.h"
#include "providers/auth/cloud.h"
#include "providers/auth/credentials.h"
#include "providers/auth/registry_sign_in.h"
#include "providers/http/http_client.h"
#include "providers/keyvault/keyvault_client.h"
#include "providers/local/local_deployments.h"
#include "providers/local/local_vault.h"
#include "providers/local/provisioning.h"

namespace rotor::cli {
namespace {

absl::StatusOr<Providers> OpenLocal(const Config& config, const ProviderOptions& options) {
  Providers providers;
  const std::string& state_dir = config.cloud.state_dir;
  RETURN_IF_ERROR(MakeDirs(state_dir));
  if (options.for_writing) {
    ASSIGN_OR_RETURN(FileLock lock, FileLock::Acquire(absl::StrCat(state_dir, "/lock")));
    providers.lock = std::move(lock);
  }
  local::LocalVaultOptions vault_options;
  vault_options.state_dir = state_dir;
  vault_options.name = config.vault.name;
  vault_options.resource_group = config.vault.resource_group;
  vault_options.clock = options.clock;
  ASSIGN_OR_RETURN(std::unique_ptr<local::LocalVault> vault,
                   local::LocalVault::Open(vault_options));
  if (config.deployment.has_value()) {
    local::LocalDeploymentsOptions deployment_options;
    deployment_options.state_dir = state_dir;
    deployment_options.clock = options.clock;
    deployment_options.resource_groups = {config.deployment->resource_group};
    // What the registry VM would build, rendered into the state folder so a
    // user sees the effect of each apply.
    local::LocalRegistryOptions registry;
    registry.registry_dir = absl::StrCat(state_dir, "/registry");
    deployment_options.provisioning_hook = local::MakeLocalRegistryHook(*vault, registry);
    ASSIGN_OR_RETURN(providers.deployments, local::LocalDeployments::Open(deployment_options));
  }
  providers.vault = std::move(vault);
  return providers;
}

int LevelRank(absl::string_view level) {
  if (level == "debug") return 0;
  if (level == "info") return 1;
  if (level == "error") return 3;
  return 2;  // warn
}

int LevelRank(http::LogLevel level) {
  switch (level) {
    case http::LogLevel::kDebug:
      return 0;
    case http::LogLevel::kInfo:
      return 1;
    case http::LogLevel::kWarning:
      return 2;
    case http::LogLevel::kError:
      return 3;
  }
  return 3;
}

// Log lines to a stream (stderr), one at a time from any thread. The HTTP
// layer and the providers log no secrets, no tokens and no bodies.
http::LogSink MakeLogSink(std::ostream* out, absl::string_view min_level) {
  if (out == nullptr) return nullptr;
  auto mu = std::make_shared<std::mutex>();
  const int min_rank = LevelRank(min_level);
  return [out, mu, min_rank](http::LogLevel level, absl::string_view message) {
    if (LevelRank(level) < min_rank) return;
    absl::string_view name = level == http::LogLevel::kWarning ? "warn" : http::LogLevelName(level);
    std::lock_guard<std::mutex> lock(*mu);
    *out << "rotor: [" << name << "] " << message << "\n";
    out->flush();
  };
}

// A lock file name part: lower case, [a-z0-9._-] kept, anything else '_'.
std::string LockNamePart(absl::string_view text) {
  std::string out = absl::AsciiStrToLower(text);
  for (char& c : out) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-') c = '_';
  }
  return out;
}

// cloud.kind = "azurestack" / "azure": one HTTP client (one connection
// pool) and one token cache shared by Key Vault and ARM.
absl::StatusOr<Providers> OpenAzure(const Config& config, const ProviderOptions& options) {
  static const ProcessEnvironment kProcessEnvironment;
  const Environment& env = options.env != nullptr ? *options.env : kProcessEnvironment;
  ASSIGN_OR_RETURN(std::optional<absl::Duration> http_timeout,
                   DurationFromEnvironment(env, "ROTOR_HTTP_TIMEOUT"));
  ASSIGN_OR_RETURN(const double time_scale, TimeScaleFromEnvironment(env));
  std::optional<FileLock> lock;
  if (options.for_writing) {
    ASSIGN_OR_RETURN(std::string lock_path, AzureLockPath(config, env));
    ASSIGN_OR_RETURN(lock, FileLock::Acquire(lock_path));
  }
  CloudConfig cloud = config.cloud;
  RETURN_IF_ERROR(ResolveCloudIdentity(&cloud, env));
  const auth::CloudOptions cloud_options = CloudOptionsFrom(cloud);
  ASSIGN_OR_RETURN(auth::ApiVersions versions, auth::ResolveApiVersions(cloud_options));
  http::LogSink log = MakeLogSink(options.log, options.log_level);
  if (options.log_sink) {
    log = [sink = options.log_sink](http::LogLevel level, absl::string_view message) {
      sink(level == http::LogLevel::kWarning ? "warn" : http::LogLevelName(level), message);
    };
  }

  http::HttpClientOptions http_options;
  http_options.parallelism = std::max(1, options.parallelism);
  http_options.ca_bundle_path = cloud.ca_bundle;
  http_options.allow_insecure_loopback = cloud.allow_insecure_loopback;
  // Managed identity tokens come from IMDS, which speaks only http.
  http_options.allow_instance_metadata = config.auth.method == AuthMethod::kManagedIdentity;
  http_options.log = log;
  http_options.time_scale = time_scale;
  if (http_timeout.has_value()) {
    http_options.request_timeout = *http_timeout;
    http_options.connect_timeout = std::min(http_options.connect_timeout, *http_timeout);
  }
  if (options.on_retry) {
    http_options.on_retry = [on_retry = options.on_retry](const http::RetryEvent& e) {
      on_retry(RetryNotice{e.method, e.url, e.attempt, e.status, e.delay, e.server_delay});
    };
  }
  ASSIGN_OR_RETURN(std::unique_ptr<http::HttpClient> created,
                   http::HttpClient::Create(std::move(http_options)));
  std::shared_ptr<http::HttpSender> client(std::move(created));

  ASSIGN_OR_RETURN(auth::CloudEndpoints endpoints, auth::DiscoverEndpoints(cloud_options, *client));
  if (log) {
    log(http::LogLevel::kInfo,
        absl::StrCat("cloud: ARM ", endpoints.arm_endpoint, ", login ", endpoints.login_endpoint,
                     " (", auth::TokenProtocolName(endpoints.protocol), "), Key Vault *.",
                     endpoints.vault_dns_suffix, "; profile ", versions.profile, " (Key Vault ",
                     versions.keyvault, ", deployments ", versions.deployments, ")"));
  }
  ASSIGN_OR_RETURN(auth::SignInOptions sign_in, ResolveSignIn(config.auth, env));
  ASSIGN_OR_RETURN(
      std::unique_ptr<auth::TokenCredential> credential,
      auth::MakeCredential(sign_in, endpoints, cloud.tenant_id, client, options.clock));
  auto tokens = std::make_shared<auth::TokenCache>(std::move(credential), options.clock, log);

  Providers providers;
  providers.lock = std::move(lock);
  providers.registry_sign_in =
      std::make_unique<auth::VmRegistrySignIn>(client, endpoints, cloud.tenant_id, options.clock);
  auth::BearerSender::Options vault_auth;
  vault_auth.audience = endpoints.keyvault_audience;  // empty: from the challenge
  vault_auth.fallback_audience = endpoints.keyvault_audience_fallback;
  vault_auth.service = absl::StrCat("Key Vault ", config.vault.name);
  vault_auth.log = log;
  keyvault::KeyVaultOptions vault_options;
  vault_options.name = config.vault.name;
  vault_options.base_url = endpoints.VaultUrl(config.vault.name);
  vault_options.resource_id = absl::StrCat(
      "/subscriptions/", cloud.subscription_id, "/resourceGroups/", config.vault.resource_group,
      "/providers/Microsoft.KeyVault/vaults/", config.vault.name);
  vault_options.api_version = versions.keyvault;
  vault_options.parallelism = std::max(1, options.parallelism);
  vault_options.clock = options.clock;
  vault_options.log = log;
  vault_options.time_scale = time_scale;
  ASSIGN_OR_RETURN(providers.vault,
                   keyvault::KeyVaultClient::Create(
                       std::make_shared<auth::BearerSender>(client, tokens, vault_auth),
                       std::move(vault_options)));

  auth::BearerSender::Options arm_auth;
  arm_auth.audience = endpoints.management_audience;
  arm_auth.service = "ARM";
  arm_auth.log = log;
  providers.arm = ArmAccess{std::make_shared<auth::BearerSender>(client, tokens, arm_auth),
                            endpoints.arm_endpoint, cloud.subscription_id, versions.dns};
  if (config.deployment.has_value()) {
    arm::ArmOptions arm_options;
    arm_options.arm_endpoint = endpoints.arm_endpoint;
    arm_options.subscription_id = cloud.subscription_id;
    arm_options.api_version = versions.deployments;
    arm_options.clock = options.clock;
    arm_options.log = log;
    arm_options.time_scale = time_scale;
    ASSIGN_OR_RETURN(providers.deployments, arm::ArmDeploymentClient::Create(
                                                providers.arm->sender, std::move(arm_options)));
  }
  return providers;
}

}  // namespace

absl::StatusOr<std::optional<absl::Duration>> DurationFromEnvironment(const Environment& env,
                                                                      absl::string_view name) {
  std::optional<std::string> text = env.Get(name);
  if (!text.has_value() || absl::StripAsciiWhitespace(*text).empty()) return std::nullopt;
  absl::Duration d;
  if (!absl::ParseDuration(absl::StripAsciiWhitespace(*text), &d) || d <= absl::ZeroDuration() ||
      d == absl::InfiniteDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("environment variable ", name, " = \"", *text,
                     "\" is not a duration: use a number and a unit, like 500ms, 30s or 2h"));
  }
  return d;
}

absl::StatusOr<double> TimeScaleFromEnvironment(const Environment& env) {
  std::optional<std::string> text = env.Get("ROTOR_TEST_TIME_SCALE");
  if (!text.has_value() || absl::StripAsciiWhitespace(*text).empty()) return 1.0;
  double scale = 0;
  if (!absl::SimpleAtod(absl::StripAsciiWhitespace(*text), &scale) || !(scale > 0) || scale > 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("environment variable ROTOR_TEST_TIME_SCALE = \"", *text,
                     "\" is not a number greater than 0 and at most 1"));
  }
  return scale;
}

absl::StatusOr<std::string> AzureLockPath(const Config& config, const Environment& env) {
  std::string dir;
  std::optional<std::string> runtime = env.Get("XDG_RUNTIME_DIR");
  if (runtime.has_value() && absl::StartsWith(*runtime, "/")) {
    dir = absl::StrCat(*runtime, "/rotor");
    RETURN_IF_ERROR(MakeDirs(dir));
  } else {
    // A shared /tmp: the folder must be ours, not a link someone planted.
    dir = absl::StrCat("/tmp/rotor-", ::getuid());
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
      return ErrnoToStatus(errno, absl::StrCat("create ", dir));
    }
    struct stat st;
    if (::lstat(dir.c_str(), &st) != 0) return ErrnoToStatus(errno, absl::StrCat("stat ", dir));
    if (!S_ISDIR(st.st_mode) || st.st_uid != ::getuid() || (st.st_mode & 0077) != 0) {
      return absl::FailedPreconditionError(
          absl::StrCat(dir,
                       " is not a folder only this user can use; rotor keeps its apply locks there "
                       "(set XDG_RUNTIME_DIR to use another place)"));
    }
  }
  std::string endpoint(config.cloud.arm_endpoint);
  if (size_t scheme = endpoint.find("://"); scheme != std::string::npos) {
    endpoint = endpoint.substr(scheme + 3);
  }
  while (absl::EndsWith(endpoint, "/")) endpoint.pop_back();
  if (endpoint.empty()) endpoint = "default";
  return absl::StrCat(dir, "/", LockNamePart(endpoint), ".", LockNamePart(config.vault.name), ".",
                      LockNamePart(config.vault.resource_group), ".lock");
}

absl::StatusOr<Providers> OpenProviders(const Config& config, const ProviderOptions& options) {
  switch (config.cloud.kind) {
    case CloudKind::kLocal:
      return OpenLocal(config, options);
    case CloudKind::kAzureStack:
    case CloudKind::kAzure:
      return OpenAzure(config, options);
  }
  return absl::InvalidArgumentError("unknown cloud.kind");
}

}  // namespace rotor::cli
