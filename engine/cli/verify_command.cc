#include "engine/cli/verify_command.h"

#include <ostream>

#include "absl/strings/str_cat.h"
#include "engine/base/status_macros.h"
#include "engine/cli/providers.h"
#include "engine/desired.h"
#include "engine/verify.h"
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
      return absl::InvalidArgumentError(absl::StrCat(
          "--expect-rejected ", spec, ": name the environment variable that holds the password "
          "the user had, as in --expect-rejected ", spec.substr(0, eq), "=OLD_PASSWORD (Key Vault "
          "cannot give back a deleted secret's value)"));
    }
    std::string name = spec.substr(0, eq);
    std::string var = spec.substr(eq + 1);
    auto value = env.Get(var);
    if (!value.has_value() || value->empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--expect-rejected ", name, ": environment variable ", var, " is not set"));
    }
    out.emplace_back(std::move(name), Secret(*std::move(value)));
  }
  return out;
}

}  // namespace

int VerifyRegistry(const Config& config, const DesiredState& desired, Vault& vault,
                   std::vector<std::pair<std::string, Secret>> rejected, bool json,
                   std::ostream& out, Io& io) {
  VerifyInput input;
  if (desired.certificate.has_value()) {
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
      return Fail(io, absl::Status(bundle.status().code(),
                                   absl::StrCat("user \"", user.name, "\": read its generated password: ",
                                                bundle.status().message())));
    }
    input.accepted.emplace_back(user.name, std::move(bundle->value));
  }
  input.rejected = std::move(rejected);

  registry::RegistryClientOptions registry;
  registry.url = config.registry.url;
  registry.ca_bundle_path = config.registry.ca_bundle;
  registry.allow_insecure_loopback = config.cloud.allow_insecure_loopback;
  auto probe = registry::MakeRegistryClient(registry);
  if (!probe.ok()) return Fail(io, probe.status());
  VerifyReport report = RunVerify(input, **probe, io.clock.Now());
  out << (json ? RenderVerifyJson(report) : RenderVerifyText(report));
  return report.ok() ? kExitOk : kExitError;
}

int VerifyCommand(const VerifyOptions& options, Io& io) {
  auto config = LoadConfig(options.common.config);
  if (!config.ok()) return Fail(io, config.status());
  auto rejected = ParseRejected(options.expect_rejected, io.env);
  if (!rejected.ok()) return Fail(io, rejected.status());
  auto desired = BuildDesired(*config, io.env, io.clock.Now());
  if (!desired.ok()) return Fail(io, desired.status());
  ProviderOptions provider_options = ProviderOptionsFor(options.common, io);
  auto providers = OpenProviders(*config, provider_options);
  if (!providers.ok()) return Fail(io, providers.status());
  return VerifyRegistry(*config, *desired, *providers->vault, *std::move(rejected),
                        options.common.json, io.out, io);
}

}  // namespace rotor::cli
