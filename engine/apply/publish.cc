#include "engine/apply/publish.h"

#include "absl/strings/str_cat.h"
#include "base/docker_config.h"
#include "base/json_text.h"
#include "base/status_macros.h"
#include "engine/model/state.h"

namespace rotor {
namespace {

absl::Status RunCommand(const PlannedPublish& p, const Secret& password, absl::Duration timeout) {
  const std::string& program = p.command[0];
  Secret input(absl::StrCat("{\"registry\":", JsonQuote(p.registry),
                            ",\"username\":", JsonQuote(p.user),
                            ",\"password\":", JsonQuoteSecret(password).Reveal(), "}\n"));
  ProcessOptions options;
  options.stdin_data = std::string(input.Reveal());
  options.timeout = timeout;
  absl::StatusOr<ProcessResult> result = RunProcess(p.command, options);
  WipeString(options.stdin_data);
  if (!result.ok()) {
    return absl::Status(result.status().code(),
                        absl::StrCat("command \"", program,
                                     "\" could not be started: ", result.status().message()));
  }
  // Its output may echo what it was given: never shown.
  WipeString(result->stdout_data);
  WipeString(result->stderr_data);
  if (result->timed_out) {
    return absl::DeadlineExceededError(absl::StrCat(
        "command \"", program, "\" did not finish within ", absl::FormatDuration(timeout)));
  }
  if (result->exit_code != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("command \"", program, "\" exited with code ", result->exit_code,
                     " (its output is not shown: it may hold the password)"));
  }
  return absl::OkStatus();
}

}  // namespace

std::vector<PublishResult> RunPublishes(const Plan& plan, const ApplyOutputs& outputs, Vault& vault,
                                        absl::Duration command_timeout) {
  std::vector<PublishResult> results;
  for (const PlannedPublish& p : plan.publishes) {
    PublishResult& r = results.emplace_back();
    r.publish = p;
    auto written = outputs.written_versions.find(SecretKey(p.user));
    absl::StatusOr<SecretBundle> bundle =
        vault.GetSecret(p.user, written == outputs.written_versions.end()
                                    ? absl::string_view()
                                    : absl::string_view(written->second.version));
    if (!bundle.ok()) {
      r.status = absl::Status(bundle.status().code(),
                              absl::StrCat("reading the password of ", p.user,
                                           " back from the vault: ", bundle.status().message()));
      continue;
    }
    r.status = p.docker_config.empty()
                   ? RunCommand(p, bundle->value, command_timeout)
                   : MergeDockerLogin(p.docker_config, p.registry, p.user, bundle->value);
  }
  return results;
}

}  // namespace rotor
