#include "cli/verify_command.h"

#include <optional>
#include <ostream>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "base/status_macros.h"
#include "cli/metrics.h"
#include "cli/providers.h"
#include "engine/config/desired.h"
#include "engine/refresh/refresh.h"
#include "engine/verify/verify.h"
#include "providers/registry/registry_client.h"

namespace rotor::cli {
namespace {

int Fail(Io& io, const absl::Status& status) {
  io.err << "Error: " << status.message() << "\n";
  return kExitError;
}

absl::StatusOr<std::vector<std::pair<std::string, Secret>>> ParseRejected(
    const std::vector<std::string>& specs, const Environment& env) {
  std::vector<std::pair<std::string, Secret>> out;
  for (const auto& spec : specs) {
    size_t eq = spec.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == spec.size()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--expect-rejected ", spec,
                       ": name the environment variable that holds the password "
                       "the user had, as in --expect-rejected ",
                       spec.substr(0, eq),
                       "=OLD_PASSWORD (Key Vault "
                       "cannot give back a deleted secret's value)"));
    }
    std::string name = spec.substr(0, eq);
    std::string var = spec.substr(eq + 1);
    auto value = env.Get(var);
    if (!value.has_value() || value->empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--expect-rejected ", name, ": environment variable ", var, " is not set"));
    }
    out.emplace_back(std::move(name), Secret(*std::move(value)));
  }
  return out;
}

}  // namespace

absl::StatusOr<std::string> ResolveRegistryUrl(const Config& config,
                                               DeploymentService* deployments) {
  if (!config.registry.url.empty()) return config.registry.url;
  const std::string advice =
      "; set [registry] url to the registry's address (https://NAME.REGION.cloudapp.DOMAIN)";
  if (config.cloud.kind != CloudKind::kAzureStack || deployments == nullptr ||
      !config.deployment.has_value()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "rotor verify needs the registry's address: set [registry] url (only an Azure Stack Hub "
        "registry deployment lets rotor derive it)"));
  }
  const DeploymentConfig& d = *config.deployment;
  std::optional<Deployment> running;
  if (d.name != "latest") {
    auto named = deployments->GetDeployment(d.resource_group, d.name);
    if (!named.ok()) return named.status();
    running = *std::move(named);
  } else {
    auto all = deployments->ListDeployments(d.resource_group);
    if (!all.ok()) return all.status();
    for (auto& candidate : *all) {
      if (!candidate.Succeeded()) continue;
      if (!running.has_value() || candidate.timestamp > running->timestamp) running = candidate;
    }
    if (!running.has_value()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "[registry] url is not set, and no deployment in resource group ", d.resource_group,
          " has succeeded to derive the registry's name from", advice));
    }
  }
  auto url = RegistryUrlFromDeployment(config.cloud.arm_endpoint, *running);
  if (!url.ok()) {
    return absl::Status(url.status().code(), absl::StrCat("[registry] url is not set, and ",
                                                          url.status().message(), advice));
  }
  return url;
}

int VerifyRegistry(const Config& config, const DesiredState& desired, Vault& vault,
                   DeploymentService* deployments, VerifyRun run, std::ostream& out, Io& io) {
  VerifyInput input;
  if (desired.certificate.has_value() && desired.certificate->issuance.has_value()) {
    // An issued certificate is the one in the vault now.
    auto bundle = vault.GetSecret(desired.certificate->secret_name);
    if (!bundle.ok()) {
      return Fail(io,
                  absl::Status(bundle.status().code(),
                               absl::StrCat("certificate secret ", desired.certificate->secret_name,
                                            ": read it: ", bundle.status().message())));
    }
    const ActualCertificate current = DecodeActualCertificate(*bundle);
    input.certificate = ExpectedCertificate{current.thumbprint, current.not_after};
  } else if (desired.certificate.has_value()) {
    input.certificate =
        ExpectedCertificate{desired.certificate->thumbprint, desired.certificate->not_after};
  }
  for (const auto& user : desired.users) {
    if (!user.generated) {
      input.accepted.emplace_back(user.name, user.password.Clone());
      continue;
    }
    // A generated password lives only in the vault.
    auto bundle = vault.GetSecret(user.name);
    if (!bundle.ok()) {
      return Fail(
          io, absl::Status(bundle.status().code(),
                           absl::StrCat("user \"", user.name, "\": read its generated password: ",
                                        bundle.status().message())));
    }
    input.accepted.emplace_back(user.name, std::move(bundle->value));
  }
  input.rejected = std::move(run.rejected);

  auto url = ResolveRegistryUrl(config, deployments);
  if (!url.ok()) return Fail(io, url.status());
  registry::RegistryClientOptions registry;
  registry.url = *url;
  registry.ca_bundle_path = config.registry.ca_bundle;
  registry.allow_insecure_loopback = config.cloud.allow_insecure_loopback;
  auto probe = registry::MakeRegistryClient(registry);
  if (!probe.ok()) return Fail(io, probe.status());
  if (run.wait_for_registry > absl::ZeroDuration()) {
    // Any answer will do (the certificate check reports what it is); the
    // registry restarts with the deployment, so refused connections are
    // expected for a while.
    const absl::Time deadline = absl::Now() + run.wait_for_registry;
    bool said = false;
    for (;;) {
      auto answer = (*probe)->ServedCertificatePem();
      if (answer.ok() || absl::Now() >= deadline) break;
      if (!said) {
        out << "Waiting for the registry at " << (*probe)->url() << " to answer ("
            << answer.status().message() << ")...\n";
        out.flush();
        said = true;
      }
      absl::SleepFor(absl::Milliseconds(250));
    }
  }
  VerifyReport report = RunVerify(input, **probe, io.clock.Now());
  if (run.report != nullptr) *run.report = report;
  out << (run.json ? RenderVerifyJson(report) : RenderVerifyText(report));
  return report.ok() ? kExitOk : kExitError;
}

int VerifyCommand(const VerifyOptions& options, Io& io) {
  auto config = LoadConfig(options.common.config);
  if (!config.ok()) return Fail(io, config.status());
  RecordRegistry(options.common, *config);
  auto rejected = ParseRejected(options.expect_rejected, io.env);
  if (!rejected.ok()) return Fail(io, rejected.status());
  auto desired = BuildDesired(*config, io.env, io.clock.Now());
  if (!desired.ok()) return Fail(io, desired.status());
  ProviderOptions provider_options = ProviderOptionsFor(options.common, io);
  auto providers = OpenProviders(*config, provider_options);
  if (!providers.ok()) return Fail(io, providers.status());
  VerifyRun run;
  run.rejected = *std::move(rejected);
  run.json = options.common.json;
  VerifyReport report;
  run.report = &report;
  const int code = VerifyRegistry(*config, *desired, *providers->vault,
                                  providers->deployments.get(), std::move(run), io.out, io);
  if (!report.checks.empty()) RecordVerify(options.common, report, io.clock.Now());
  return code;
}

}  // namespace rotor::cli
