// Every rotor command, one row each: its name, its one-line help, and the
// CommandLine that declares its options and runs it. Adding a command is a
// class here and a row in kCommands (docs/DESIGN.md, "Extending rotor").
#include <CLI/CLI.hpp>
#include <memory>

#include "cli/command_line.h"
#include "cli/init_command.h"
#include "cli/verify_command.h"

namespace rotor::cli {
namespace {

class PlanLine : public CommandLine {
 public:
  void Define(CLI::App* command) override {
    AddCommonOptions(command, &options_.common);
    command->add_option("--out,-o", options_.out,
                        "Save the plan to this file for rotor apply (one configuration only)");
    command->add_flag("--detailed-exitcode", options_.detailed_exitcode,
                      "Exit 0 with no changes, 2 with changes, 1 on error");
  }
  int Run(Io& io) override {
    return WithConsole(options_.common, io, [&](Io& run_io) {
      return RunOnConfigs(
          options_.common, run_io, FleetSummary::kPlan, options_.detailed_exitcode,
          [&](const FleetSelection& s) {
            if (s.fleet && !options_.out.empty()) {
              return absl::InvalidArgumentError(
                  "--out saves the plan of one registry: name one configuration file with -c");
            }
            return absl::OkStatus();
          },
          [&](const CommonOptions& c, Io& rio) {
            PlanOptions p = options_;
            p.common = c;
            // A fleet learns each registry's changes from its exit code.
            if (!rio.scope.empty()) p.detailed_exitcode = true;
            return PlanCommand(p, rio);
          });
    });
  }

 private:
  PlanOptions options_;
};

class ApplyLine : public CommandLine {
 public:
  void Define(CLI::App* command) override {
    AddCommonOptions(command, &options_.common);
    command->add_flag("--auto-approve", options_.auto_approve,
                      "Apply without asking for 'yes' (required for a fleet)");
    command->add_flag("--verify", options_.verify,
                      "Afterwards, log in to the registry as rotor verify does; users deleted by "
                      "this apply must be refused");
    command->add_option("PLANFILE", options_.plan_file,
                        "A plan saved by rotor plan --out (applied only if nothing moved)");
  }
  int Run(Io& io) override {
    return WithConsole(options_.common, io, [&](Io& run_io) {
      return RunOnConfigs(
          options_.common, run_io, FleetSummary::kPlain, false,
          [&](const FleetSelection& s) {
            if (!s.fleet) return absl::OkStatus();
            if (!options_.plan_file.empty()) {
              return absl::InvalidArgumentError(
                  "a saved plan belongs to one registry: apply it with the one configuration it "
                  "was made from (-c FILE)");
            }
            if (!options_.auto_approve) {
              return absl::InvalidArgumentError(
                  "apply on several registries runs them concurrently and cannot ask for each "
                  "approval: review them with rotor plan, then run rotor apply --auto-approve "
                  "(or --target one registry)");
            }
            return absl::OkStatus();
          },
          [&](const CommonOptions& c, Io& rio) {
            ApplyOptions a = options_;
            a.common = c;
            return ApplyCommand(a, rio);
          });
    });
  }

 private:
  ApplyOptions options_;
};

// A command that takes only the common options and runs the same way on
// each configuration.
template <FleetSummary kSummary, bool kUserExitCodes, int (*kCommand)(const CommonOptions&, Io&)>
class SimpleLine : public CommandLine {
 public:
  void Define(CLI::App* command) override { AddCommonOptions(command, &options_); }
  int Run(Io& io) override {
    return WithConsole(options_, io, [&](Io& run_io) {
      return RunOnConfigs(options_, run_io, kSummary, kUserExitCodes, nullptr, kCommand);
    });
  }

 private:
  CommonOptions options_;
};

class ShowLine : public CommandLine {
 public:
  void Define(CLI::App* command) override {
    AddCommonOptions(command, &options_);
    command->add_option("PLANFILE", plan_file_,
                        "A plan saved by rotor plan --out: show it instead of the live state");
  }
  int Run(Io& io) override {
    return WithConsole(options_, io, [&](Io& run_io) {
      if (!plan_file_.empty()) return ShowPlanFileCommand(options_, plan_file_, run_io);
      return RunOnConfigs(options_, run_io, FleetSummary::kPlain, false, nullptr, ShowCommand);
    });
  }

 private:
  CommonOptions options_;
  std::string plan_file_;
};

class VerifyLine : public CommandLine {
 public:
  void Define(CLI::App* command) override {
    AddCommonOptions(command, &options_.common);
    command
        ->add_option("--expect-rejected", options_.expect_rejected,
                     "NAME=ENV_VAR: NAME must be refused with the password in ENV_VAR")
        ->allow_extra_args(false);
  }
  int Run(Io& io) override {
    return WithConsole(options_.common, io, [&](Io& run_io) {
      return RunOnConfigs(options_.common, run_io, FleetSummary::kPlain, false, nullptr,
                          [&](const CommonOptions& c, Io& rio) {
                            VerifyOptions v = options_;
                            v.common = c;
                            return VerifyCommand(v, rio);
                          });
    });
  }

 private:
  VerifyOptions options_;
};

class InitLine : public CommandLine {
 public:
  void Define(CLI::App* command) override {
    command->add_option("--vault", options_.vault, "The Key Vault the registry reads")
        ->type_name("NAME");
    command
        ->add_option("--resource-group", options_.resource_group,
                     "The resource group of the registry's deployments and of the vault")
        ->type_name("RG");
    command
        ->add_option("--deployment", options_.deployment,
                     "The deployment to read: latest (the most recent) or a name")
        ->capture_default_str();
    command->add_option("-o,--out", options_.out, "The configuration file to write")
        ->type_name("FILE")
        ->required();
    command->add_option("-c,--config", options_.existing,
                        "Take [cloud] and [auth] (and defaults for --vault and "
                        "--resource-group) from this configuration");
    command->add_option("--kind", options_.kind, "cloud.kind: azurestack (default), azure or local")
        ->check(CLI::IsMember({"azurestack", "azure", "local"}));
    command->add_option("--arm-endpoint", options_.arm_endpoint, "cloud.arm_endpoint");
    command->add_option("--tenant-id", options_.tenant_id, "cloud.tenant_id");
    command->add_option("--subscription-id", options_.subscription_id, "cloud.subscription_id");
    command->add_option("--ca-bundle", options_.ca_bundle, "cloud.ca_bundle");
    command->add_option("--profile", options_.profile, "cloud.profile");
    command->add_option("--client-id", options_.client_id,
                        "auth.client_id, signing in with the secret in AZURE_CLIENT_SECRET "
                        "(without it: auth.method = environment)");
    command->add_option("--registry-url", options_.registry_url,
                        "registry.url: where the registry answers, when the deployment's DNS "
                        "label does not tell (another port, another name)");
    command->add_option("--registry-ca-bundle", options_.registry_ca_bundle,
                        "registry.ca_bundle: the CA that issued the registry's certificate");
    AddOutputOptions(command, &options_.common);
  }
  int Run(Io& io) override {
    return WithConsole(options_.common, io,
                       [&](Io& run_io) { return InitCommand(options_, run_io); });
  }

 private:
  InitOptions options_;
};

template <typename T>
std::unique_ptr<CommandLine> Make() {
  return std::make_unique<T>();
}

const CommandEntry kCommands[] = {
    {"plan", "Show what apply would change", Make<PlanLine>},
    {"apply", "Converge the vault and the deployment", Make<ApplyLine>},
    {"show", "List the secrets with their versions, and the deployments; or show a saved plan",
     Make<ShowLine>},
    {"validate", "Check the configuration and the certificate, offline",
     Make<SimpleLine<FleetSummary::kPlain, false, ValidateCommand>>},
    {"drift", "Read-only: exit 2 when something moved outside rotor, 0 when not",
     Make<SimpleLine<FleetSummary::kDrift, true, DriftCommand>>},
    {"verify", "Log in to the live registry: certificate, every user, refused users",
     Make<VerifyLine>},
    {"init",
     "Write a configuration that reproduces a live registry (its users, certificate and latest "
     "deployment)",
     Make<InitLine>},
};

}  // namespace

absl::Span<const CommandEntry> Commands() { return kCommands; }

}  // namespace rotor::cli
