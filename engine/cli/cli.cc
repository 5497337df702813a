#include "engine/cli/cli.h"

#include <CLI/CLI.hpp>
#include <ostream>

#include "engine/cli/commands.h"
#include "engine/cli/verify_command.h"

namespace rotor::cli {
namespace {

#ifndef ROTOR_VERSION
#define ROTOR_VERSION "0.0.0"
#endif

void AddCommon(CLI::App* command, CommonOptions* options) {
  command->add_option("-c,--config", options->config, "The configuration file")
      ->capture_default_str();
  command->add_flag("--json", options->json, "Machine-readable JSON output");
  command->add_flag("--no-color", options->no_color,
                    "No colours (also when NO_COLOR is set or the output is not a terminal)");
  command->add_option("--parallelism", options->parallelism,
                      "Azure: HTTP requests in flight at once")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  command->add_option("--log-level", options->log_level,
                      "The least severe log lines printed on stderr: error, warn, info or debug "
                      "(debug shows each request, bodies redacted)")
      ->check(CLI::IsMember({"debug", "info", "warn", "error"}))
      ->capture_default_str();
}

}  // namespace

int Run(int argc, const char* const* argv, Io& io) {
  CLI::App app("rotor keeps a container registry's logins and TLS certificate, declared in "
               "TOML, in sync with Key Vault and the registry's ARM deployment.",
               "rotor");
  app.require_subcommand(1);
  app.set_version_flag("--version", "rotor " ROTOR_VERSION);
  app.footer("Exit codes: 0 success (or no changes), 1 error, 2 changes present (plan "
             "--detailed-exitcode).");

  PlanOptions plan;
  CLI::App* plan_cmd = app.add_subcommand("plan", "Show what apply would change");
  AddCommon(plan_cmd, &plan.common);
  plan_cmd->add_option("--out,-o", plan.out, "Save the plan to this file for rotor apply");
  plan_cmd->add_flag("--detailed-exitcode", plan.detailed_exitcode,
                     "Exit 0 with no changes, 2 with changes, 1 on error");

  ApplyOptions apply;
  CLI::App* apply_cmd = app.add_subcommand("apply", "Converge the vault and the deployment");
  AddCommon(apply_cmd, &apply.common);
  apply_cmd->add_flag("--auto-approve", apply.auto_approve, "Apply without asking for 'yes'");
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
                         "NAME=ENV_VAR: NAME must be refused with the password in ENV_VAR");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    std::ostream& stream = e.get_exit_code() == 0 ? io.out : io.err;
    int code = app.exit(e, stream, stream);
    return code == 0 ? kExitOk : kExitError;
  }

  if (plan_cmd->parsed()) return PlanCommand(plan, io);
  if (apply_cmd->parsed()) return ApplyCommand(apply, io);
  if (show_cmd->parsed()) return ShowCommand(show, io);
  if (validate_cmd->parsed()) return ValidateCommand(validate, io);
  if (verify_cmd->parsed()) return VerifyCommand(verify, io);
  if (drift_cmd->parsed()) return DriftCommand(drift, io);
  return kExitError;
}

}  // namespace rotor::cli
