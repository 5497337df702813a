#include "engine/cli/cli.h"

#include <sys/ioctl.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <memory>
#include <ostream>

#include "absl/strings/numbers.h"
#include "engine/cli/commands.h"
#include "engine/cli/console.h"
#include "engine/cli/fleet.h"
#include "engine/cli/init_command.h"
#include "engine/cli/verify_command.h"

namespace rotor::cli {
namespace {

#ifndef ROTOR_VERSION
#define ROTOR_VERSION "0.0.0"
#endif

// Options every command has that shape its output and logs.
void AddOutput(CLI::App* command, CommonOptions* options) {
  command->add_flag("--no-color", options->no_color,
                    "No colours (also when NO_COLOR is set or the output is not a terminal)");
  command->add_option("--log-level", options->log_level,
                      "The least severe log lines printed on stderr: error, warn, info or debug "
                      "(debug shows each request, bodies redacted)")
      ->check(CLI::IsMember({"debug", "info", "warn", "error"}))
      ->capture_default_str();
  command->add_option("--log-format", options->log_format,
                      "Progress and log lines on stderr: text (a progress line on a terminal, "
                      "timestamped lines otherwise) or json (one JSON object per line)")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  command->add_flag("--quiet", options->quiet,
                    "Only errors and the final summary: no plan details, progress, warnings or "
                    "informational log lines");
}

void AddCommon(CLI::App* command, CommonOptions* options) {
  command
      ->add_option("-c,--config", options->configs,
                   "The configuration file (default rotor.toml); repeat it, or name a folder "
                   "(every *.toml in it), for a fleet")
      ->type_name("CONFIG")
      ->allow_extra_args(false);
  command
      ->add_option("--target", options->targets,
                   "Only the registry whose vault name or configuration file stem is NAME "
                   "(repeatable)")
      ->type_name("NAME")
      ->allow_extra_args(false);
  command->add_flag("--json", options->json, "Machine-readable JSON output");
  command->add_option("--parallelism", options->parallelism,
                      "Azure: HTTP requests in flight at once, per registry")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  AddOutput(command, options);
}

int Fail(Io& io, absl::string_view message) {
  io.err << "Error: " << message << "\n";
  return kExitError;
}

// The console for a command's options, and the Io the command runs with:
// stdout and stderr wrapped so a status line is erased before other output
// (text on a terminal), or stderr's lines turned into events (JSON).
class ConsoleScope {
 public:
  ConsoleScope(const CommonOptions& options, Io& io) : console_(MakeOptions(options, io)) {
    std::ostream* out = &io.out;
    std::ostream* err = &io.err;
    if (console_.json()) {
      err_ = console_.WrapStream(io.err, /*to_events=*/true);
      err = err_.get();
    } else if (console_.status_line()) {
      out_ = console_.WrapStream(io.out, /*to_events=*/false);
      err_ = console_.WrapStream(io.err, /*to_events=*/false);
      out = out_.get();
      err = err_.get();
    }
    io_ = std::make_unique<Io>(Io{*out, *err, io.in, io.out_is_tty, io.in_is_tty, io.env,
                                  io.clock, io.err_is_tty, &console_, ""});
  }
  ~ConsoleScope() {
    io_.reset();
    out_.reset();
    err_.reset();
  }
  Io& io() { return *io_; }

 private:
  static ConsoleOptions MakeOptions(const CommonOptions& options, const Io& io) {
    ConsoleOptions c;
    c.err = &io.err;
    c.err_is_tty = io.err_is_tty;
    c.format = options.log_format == "json" ? LogFormat::kJson : LogFormat::kText;
    c.quiet = options.quiet;
    c.log_level = options.log_level;
    c.clock = &io.clock;
    int columns = 0;
    struct winsize size {};
    if (auto env = io.env.Get("COLUMNS"); env.has_value() && absl::SimpleAtoi(*env, &columns)) {
      c.columns = columns;
    } else if (io.err_is_tty && ::ioctl(2, TIOCGWINSZ, &size) == 0 && size.ws_col > 0) {
      c.columns = size.ws_col;
    }
    return c;
  }

  Console console_;
  std::unique_ptr<std::ostream> out_;
  std::unique_ptr<std::ostream> err_;
  std::unique_ptr<Io> io_;
};

// Runs `command` on the configurations `common` selects (fleet.h).
int RunOnConfigs(const CommonOptions& common, Io& io, FleetSummary summary, bool user_exit_codes,
                 const std::function<absl::Status(const FleetSelection&)>& check,
                 const RegistryCommand& command) {
  auto selection = SelectConfigs(common.configs, common.targets);
  if (!selection.ok()) return Fail(io, selection.status().message());
  if (check) {
    if (absl::Status s = check(*selection); !s.ok()) return Fail(io, s.message());
  }
  return RunSelection(*selection, common, io, summary, user_exit_codes, command);
}

}  // namespace

int Run(int argc, const char* const* argv, Io& io) {
  CLI::App app("rotor keeps a container registry's logins and TLS certificate, declared in "
               "TOML, in sync with Key Vault and the registry's ARM deployment.",
               "rotor");
  app.require_subcommand(1);
  app.set_version_flag("--version", "rotor " ROTOR_VERSION);
  app.footer("Exit codes: 0 success (or no changes), 1 error (in a fleet: any registry), 2 "
             "changes present (plan --detailed-exitcode) or drift found (drift).");

  PlanOptions plan;
  CLI::App* plan_cmd = app.add_subcommand("plan", "Show what apply would change");
  AddCommon(plan_cmd, &plan.common);
  plan_cmd->add_option("--out,-o", plan.out,
                       "Save the plan to this file for rotor apply (one configuration only)");
  plan_cmd->add_flag("--detailed-exitcode", plan.detailed_exitcode,
                     "Exit 0 with no changes, 2 with changes, 1 on error");

  ApplyOptions apply;
  CLI::App* apply_cmd = app.add_subcommand("apply", "Converge the vault and the deployment");
  AddCommon(apply_cmd, &apply.common);
  apply_cmd->add_flag("--auto-approve", apply.auto_approve,
                      "Apply without asking for 'yes' (required for a fleet)");
  apply_cmd->add_flag("--verify", apply.verify,
                      "Afterwards, log in to the registry as rotor verify does; users deleted by "
                      "this apply must be refused");
  apply_cmd->add_option("PLANFILE", apply.plan_file,
                        "A plan saved by rotor plan --out (applied only if nothing moved)");

  CommonOptions show;
  CLI::App* show_cmd =
      app.add_subcommand("show", "List the secrets with their versions, and the deployments");
  AddCommon(show_cmd, &show);

  CommonOptions validate;
  CLI::App* validate_cmd = app.add_subcommand(
      "validate", "Check the configuration and the certificate, offline");
  AddCommon(validate_cmd, &validate);

  CommonOptions drift;
  CLI::App* drift_cmd = app.add_subcommand(
      "drift", "Read-only: exit 2 when something moved outside rotor, 0 when not");
  AddCommon(drift_cmd, &drift);

  VerifyOptions verify;
  CLI::App* verify_cmd = app.add_subcommand(
      "verify", "Log in to the live registry: certificate, every user, refused users");
  AddCommon(verify_cmd, &verify.common);
  verify_cmd->add_option("--expect-rejected", verify.expect_rejected,
                         "NAME=ENV_VAR: NAME must be refused with the password in ENV_VAR")
      ->allow_extra_args(false);

  InitOptions init;
  CLI::App* init_cmd = app.add_subcommand(
      "init", "Write a configuration that reproduces a live registry (its users, certificate "
              "and latest deployment)");
  init_cmd->add_option("--vault", init.vault, "The Key Vault the registry reads")
      ->type_name("NAME");
  init_cmd->add_option("--resource-group", init.resource_group,
                       "The resource group of the registry's deployments and of the vault")
      ->type_name("RG");
  init_cmd->add_option("--deployment", init.deployment,
                       "The deployment to read: latest (the most recent) or a name")
      ->capture_default_str();
  init_cmd->add_option("-o,--out", init.out, "The configuration file to write")
      ->type_name("FILE")
      ->required();
  init_cmd->add_option("-c,--config", init.existing,
                       "Take [cloud] and [auth] (and defaults for --vault and "
                       "--resource-group) from this configuration");
  init_cmd->add_option("--kind", init.kind, "cloud.kind: azurestack (default), azure or local")
      ->check(CLI::IsMember({"azurestack", "azure", "local"}));
  init_cmd->add_option("--arm-endpoint", init.arm_endpoint, "cloud.arm_endpoint");
  init_cmd->add_option("--tenant-id", init.tenant_id, "cloud.tenant_id");
  init_cmd->add_option("--subscription-id", init.subscription_id, "cloud.subscription_id");
  init_cmd->add_option("--ca-bundle", init.ca_bundle, "cloud.ca_bundle");
  init_cmd->add_option("--profile", init.profile, "cloud.profile");
  init_cmd->add_option("--client-id", init.client_id,
                       "auth.client_id, signing in with the secret in AZURE_CLIENT_SECRET "
                       "(without it: auth.method = environment)");
  AddOutput(init_cmd, &init.common);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    std::ostream& stream = e.get_exit_code() == 0 ? io.out : io.err;
    int code = app.exit(e, stream, stream);
    return code == 0 ? kExitOk : kExitError;
  }

  if (init_cmd->parsed()) {
    ConsoleScope scope(init.common, io);
    return InitCommand(init, scope.io());
  }

  const bool is_plan = plan_cmd->parsed();
  const bool is_apply = apply_cmd->parsed();
  const CommonOptions* common = is_plan                    ? &plan.common
                                : is_apply                 ? &apply.common
                                : show_cmd->parsed()       ? &show
                                : validate_cmd->parsed()   ? &validate
                                : drift_cmd->parsed()      ? &drift
                                : verify_cmd->parsed()     ? &verify.common
                                                           : nullptr;
  if (common == nullptr) return kExitError;
  ConsoleScope scope(*common, io);
  Io& run_io = scope.io();

  if (is_plan) {
    return RunOnConfigs(
        plan.common, run_io, FleetSummary::kPlan, plan.detailed_exitcode,
        [&](const FleetSelection& s) {
          if (s.fleet && !plan.out.empty()) {
            return absl::InvalidArgumentError(
                "--out saves the plan of one registry: name one configuration file with -c");
          }
          return absl::OkStatus();
        },
        [&](const CommonOptions& c, Io& rio) {
          PlanOptions p = plan;
          p.common = c;
          // A fleet learns each registry's changes from its exit code.
          if (!rio.scope.empty()) p.detailed_exitcode = true;
          return PlanCommand(p, rio);
        });
  }
  if (is_apply) {
    return RunOnConfigs(
        apply.common, run_io, FleetSummary::kPlain, false,
        [&](const FleetSelection& s) {
          if (!s.fleet) return absl::OkStatus();
          if (!apply.plan_file.empty()) {
            return absl::InvalidArgumentError(
                "a saved plan belongs to one registry: apply it with the one configuration it "
                "was made from (-c FILE)");
          }
          if (!apply.auto_approve) {
            return absl::InvalidArgumentError(
                "apply on several registries runs them concurrently and cannot ask for each "
                "approval: review them with rotor plan, then run rotor apply --auto-approve (or "
                "--target one registry)");
          }
          return absl::OkStatus();
        },
        [&](const CommonOptions& c, Io& rio) {
          ApplyOptions a = apply;
          a.common = c;
          return ApplyCommand(a, rio);
        });
  }
  if (drift_cmd->parsed()) {
    return RunOnConfigs(drift, run_io, FleetSummary::kDrift, true, nullptr, DriftCommand);
  }
  if (show_cmd->parsed()) {
    return RunOnConfigs(show, run_io, FleetSummary::kPlain, false, nullptr, ShowCommand);
  }
  if (validate_cmd->parsed()) {
    return RunOnConfigs(validate, run_io, FleetSummary::kPlain, false, nullptr, ValidateCommand);
  }
  return RunOnConfigs(verify.common, run_io, FleetSummary::kPlain, false, nullptr,
                      [&](const CommonOptions& c, Io& rio) {
                        VerifyOptions v = verify;
                        v.common = c;
                        return VerifyCommand(v, rio);
                      });
}

}  // namespace rotor::cli
