#include "engine/cli/commands.h"

#include <iostream>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "engine/apply.h"
#include "engine/base/files.h"
#include "engine/base/status_macros.h"
#include "engine/cli/providers.h"
#include "engine/config.h"
#include "engine/desired.h"
#include "engine/diff.h"
#include "engine/refresh.h"
#include "engine/render.h"
#include "engine/cli/show.h"
#include "engine/cli/verify_command.h"

namespace rotor::cli {
namespace {

#ifndef ROTOR_VERSION
#define ROTOR_VERSION "0.0.0"
#endif

TextStyle StyleFor(const CommonOptions& options, const Io& io) {
  bool color = io.out_is_tty && !options.no_color && !io.env.Get("NO_COLOR").has_value();
  auto term = io.env.Get("TERM");
  if (term.has_value() && *term == "dumb") color = false;
  return TextStyle{color};
}

int Fail(Io& io, const absl::Status& status) {
  io.err << "Error: " << status.message() << "\n";
  return kExitError;
}

// Everything a plan is computed from, loaded once per command.
struct Session {
  Config config;
  DesiredState desired;
  Providers providers;
  ActualState actual;
};

absl::StatusOr<Session> Load(const CommonOptions& options, Io& io, bool for_writing) {
  Session s;
  ASSIGN_OR_RETURN(s.config, LoadConfig(options.config));
  ASSIGN_OR_RETURN(s.desired, BuildDesired(s.config, io.env, io.clock.Now()));
  ProviderOptions provider_options = ProviderOptionsFor(options, io);
  provider_options.for_writing = for_writing;
  ASSIGN_OR_RETURN(s.providers, OpenProviders(s.config, provider_options));
  return s;
}

absl::StatusOr<Plan> Refresh(Session& s, Io& io, const RefreshHint* hint = nullptr) {
  ASSIGN_OR_RETURN(s.actual,
                   Refresh(s.desired, *s.providers.vault, s.providers.deployments.get(), hint));
  ASSIGN_OR_RETURN(Plan plan, ComputePlan(s.desired, s.actual, io.clock.Now()));
  plan.tool_version = ROTOR_VERSION;
  plan.prior_fingerprint = StateFingerprint(s.actual);
  return plan;
}

// A certificate that fails its checks stops plan and apply before anything
// is written; the checks say why.
absl::Status CheckCertificateErrors(const Session& s, Io& io, const TextStyle& style) {
  if (s.desired.certificate.has_value() && s.desired.certificate->has_errors) {
    Plan checks_only;
    checks_only.certificate_checks = s.desired.certificate->checks;
    io.err << "Certificate checks for " << s.desired.certificate->pfx_path << ":\n"
           << RenderChecksText(checks_only, style) << "\n";
    std::vector<std::string> failed;
    for (const auto& c : s.desired.certificate->checks) {
      if (c.level == "ERROR") failed.push_back(absl::StrCat(c.name, " (", c.detail, ")"));
    }
    return absl::FailedPreconditionError(absl::StrCat(
        "certificate ", s.desired.certificate->pfx_path, " fails ", failed.size(),
        failed.size() == 1 ? " check: " : " checks: ", absl::StrJoin(failed, "; ")));
  }
  return absl::OkStatus();
}

// Prints progress of an apply as plain lines (one per event).
class PrintingObserver : public ApplyObserver {
 public:
  PrintingObserver(std::ostream& out, const Clock& clock) : out_(out), clock_(clock) {}

  void OnChangeStarted(const Change& c) override {
    started_[c.address] = clock_.Now();
    out_ << c.address << ": " << Verb(c) << "...\n";
    out_.flush();
  }
  void OnChangeFinished(const Change& c, const absl::Status& status) override {
    absl::Duration took = clock_.Now() - started_[c.address];
    if (status.ok()) {
      out_ << c.address << ": " << Done(c) << " [" << Seconds(took) << "]\n";
    } else {
      out_ << c.address << ": failed [" << Seconds(took) << "]\n";
    }
    out_.flush();
  }
  void OnDeploymentProgress(const Deployment& d, absl::Duration elapsed) override {
    if (elapsed - last_progress_ < absl::Seconds(10)) return;
    last_progress_ = elapsed;
    out_ << "deployment.registry: Still redeploying... (" << d.name << " is "
            << d.provisioning_state << ") [" << Seconds(elapsed) << " elapsed]\n";
    out_.flush();
  }
  void OnMessage(absl::string_view message) override {
    out_ << "  " << message << "\n";
    out_.flush();
  }

 private:
  static std::string Seconds(absl::Duration d) {
    int64_t s = absl::ToInt64Seconds(d);
    if (s >= 60) return absl::StrCat(s / 60, "m", s % 60, "s");
    return absl::StrCat(s, "s");
  }
  static const char* Verb(const Change& c) {
    switch (c.action) {
      case Action::kCreate:
        return c.Kind() == "deployment" ? "Deploying" : "Creating";
      case Action::kUpdate:
        return "Writing a new version";
      case Action::kRecover:
        return "Recovering";
      case Action::kDelete:
        return "Deleting";
      case Action::kRedeploy:
        return "Redeploying";
      case Action::kNoOp:
        break;
    }
    return "Checking";
  }
  static const char* Done(const Change& c) {
    switch (c.action) {
      case Action::kCreate:
        return c.Kind() == "deployment" ? "Deployed" : "Created";
      case Action::kUpdate:
        return "New version written";
      case Action::kRecover:
        return "Recovered";
      case Action::kDelete:
        return "Deleted";
      case Action::kRedeploy:
        return "Redeployed";
      case Action::kNoOp:
        break;
    }
    return "Done";
  }

  std::ostream& out_;
  const Clock& clock_;
  std::map<std::string, absl::Time> started_;
  absl::Duration last_progress_ = absl::ZeroDuration();
};

// Same changes (address and action, in order): a saved plan is applied only
// if recomputing it now gives the same actions.
bool SameActions(const Plan& a, const Plan& b) {
  if (a.changes.size() != b.changes.size()) return false;
  for (size_t i = 0; i < a.changes.size(); ++i) {
    if (a.changes[i].address != b.changes[i].address ||
        a.changes[i].action != b.changes[i].action) {
      return false;
    }
  }
  return true;
}

}  // namespace

ProviderOptions ProviderOptionsFor(const CommonOptions& options, Io& io) {
  ProviderOptions provider_options;
  provider_options.clock = &io.clock;
  provider_options.env = &io.env;
  provider_options.parallelism = options.parallelism;
  provider_options.log = &io.err;
  provider_options.log_level = options.log_level;
  return provider_options;
}

int PlanCommand(const PlanOptions& options, Io& io) {
  auto session = Load(options.common, io, /*for_writing=*/false);
  if (!session.ok()) return Fail(io, session.status());
  TextStyle style = StyleFor(options.common, io);
  if (absl::Status certs = CheckCertificateErrors(*session, io, style); !certs.ok()) {
    return Fail(io, certs);
  }
  auto plan = Refresh(*session, io);
  if (!plan.ok()) return Fail(io, plan.status());
  if (options.common.json) {
    io.out << RenderPlanJson(*plan, /*pretty=*/true);
  } else {
    io.out << RenderPlanText(*plan, style);
  }
  if (!options.out.empty()) {
    absl::Status saved = WriteFileAtomic(options.out, RenderPlanJson(*plan, /*pretty=*/true));
    if (!saved.ok()) return Fail(io, saved);
    if (!options.common.json) {
      io.out << "\nSaved the plan to: " << options.out << "\n"
             << "To perform exactly these actions, run:\n    rotor apply -c "
             << options.common.config << " " << options.out << "\n";
    }
  }
  if (options.detailed_exitcode && plan->HasChanges()) return kExitChanges;
  return kExitOk;
}

int ApplyCommand(const ApplyOptions& options, Io& io) {
  std::optional<Plan> saved;
  if (!options.plan_file.empty()) {
    auto text = ReadFile(options.plan_file);
    if (!text.ok()) return Fail(io, text.status());
    auto parsed = ParsePlanJson(*text);
    if (!parsed.ok()) {
      return Fail(io, absl::Status(parsed.status().code(), absl::StrCat(options.plan_file, ": ",
                                                                         parsed.status().message())));
    }
    saved = *std::move(parsed);
  }
  auto session = Load(options.common, io, /*for_writing=*/true);
  if (!session.ok()) return Fail(io, session.status());
  TextStyle style = StyleFor(options.common, io);
  // With --json, stdout carries only the final JSON document; people's
  // text goes to stderr.
  std::ostream& human = options.common.json ? io.err : io.out;
  if (absl::Status certs = CheckCertificateErrors(*session, io, style); !certs.ok()) {
    return Fail(io, certs);
  }
  auto plan = Refresh(*session, io);
  if (!plan.ok()) return Fail(io, plan.status());

  if (saved.has_value()) {
    if (saved->config_digest != session->config.digest) {
      return Fail(io, absl::FailedPreconditionError(absl::StrCat(
                          "saved plan ", options.plan_file, " was made from a different version of ",
                          options.common.config, "; run rotor plan again")));
    }
    if (saved->prior_fingerprint != plan->prior_fingerprint) {
      return Fail(io, absl::FailedPreconditionError(absl::StrCat(
                          "saved plan ", options.plan_file,
                          " is stale: the vault or the deployments changed since it was made; run "
                          "rotor plan again")));
    }
    if (!SameActions(*saved, *plan)) {
      return Fail(io, absl::FailedPreconditionError(absl::StrCat(
                          "saved plan ", options.plan_file,
                          " no longer matches: a value from the configuration's sources changed "
                          "since it was made; run rotor plan again")));
    }
  } else {
    human << RenderPlanText(*plan, style);
  }
  if (!plan->HasChanges()) {
    if (saved.has_value()) human << RenderSummaryLine(*plan) << "\n";
    if (options.common.json) io.out << RenderOutputsJson(ApplyOutputs{});
    return kExitOk;
  }
  if (!saved.has_value() && !options.auto_approve) {
    if (!io.in_is_tty) {
      return Fail(io, absl::FailedPreconditionError(
                          "apply needs approval, and no terminal is attached to answer; run "
                          "rotor apply --auto-approve, or apply a saved plan file"));
    }
    human << "\nDo you want to perform these actions?\n"
          << "  rotor will perform the actions described above.\n"
          << "  Only 'yes' will be accepted to approve.\n\n  Enter a value: ";
    human.flush();
    std::string answer;
    std::getline(io.in, answer);
    if (absl::StripAsciiWhitespace(answer) != "yes") {
      io.err << "\nApply cancelled.\n";
      return kExitError;
    }
  }
  human << "\n";
  PrintingObserver observer(human, io.clock);
  rotor::ApplyOptions apply_options;
  apply_options.clock = &io.clock;
  apply_options.capture_deleted_credentials = options.verify;
  auto outputs = ApplyPlan(*plan, session->desired, session->actual, *session->providers.vault,
                           session->providers.deployments.get(), apply_options, observer);
  if (!outputs.ok()) return Fail(io, outputs.status());

  Plan::Summary s = plan->Summarize();
  human << "\nApply complete! Resources: " << s.add << " added, " << s.change << " changed, "
         << s.destroy << " destroyed, " << s.redeploy << " redeployed.\n";
  std::string rendered = RenderOutputsText(*outputs);
  if (!rendered.empty()) human << "\nOutputs:\n\n" << rendered;
  if (options.common.json) io.out << RenderOutputsJson(*outputs);

  // Converged? The next plan must be empty; say so if it is not. What this
  // apply wrote and what the plan read are not read again while the list
  // shows them unchanged (HintAfterApply).
  const RefreshHint hint = HintAfterApply(session->desired, session->actual, *outputs);
  auto after = Refresh(*session, io, &hint);
  if (!after.ok()) return Fail(io, after.status());
  if (after->HasChanges()) {
    io.err << RenderPlanText(*after, style);
    return Fail(io, absl::InternalError(
                        "apply finished but the live state still differs from the configuration "
                        "(see the plan above); run rotor apply again"));
  }
  if (options.verify) {
    human << "\n";
    return VerifyRegistry(session->config, session->desired, *session->providers.vault,
                          session->providers.deployments.get(),
                          {std::move(outputs->deleted_credentials), /*json=*/false,
                           s.redeploy > 0 ? kRegistryRestartWait : absl::ZeroDuration()},
                          human, io);
  }
  return kExitOk;
}

int DriftCommand(const CommonOptions& options, Io& io) {
  auto session = Load(options, io, /*for_writing=*/false);
  if (!session.ok()) return Fail(io, session.status());
  auto plan = Refresh(*session, io);
  if (!plan.ok()) return Fail(io, plan.status());
  Plan drift = *plan;
  drift.changes.clear();
  for (const auto& c : plan->changes) {
    if (c.cause == Cause::kDrift) drift.changes.push_back(c);
  }
  size_t pending = plan->changes.size() - drift.changes.size();
  if (options.json) {
    io.out << RenderPlanJson(drift, /*pretty=*/true);
  } else if (drift.HasChanges()) {
    io.out << "Drift: the live state moved outside rotor.\n\n"
           << RenderPlanText(drift, StyleFor(options, io));
  } else {
    io.out << "No drift: the vault and the deployment are as rotor left them.";
    if (pending > 0) {
      io.out << " (" << pending << (pending == 1 ? " change" : " changes")
             << " from the configuration are pending; see rotor plan.)";
    }
    io.out << "\n";
  }
  return drift.HasChanges() ? kExitChanges : kExitOk;
}

int ValidateCommand(const CommonOptions& options, Io& io) {
  auto config = LoadConfig(options.config);
  if (!config.ok()) return Fail(io, config.status());
  auto desired = BuildDesired(*config, io.env, io.clock.Now());
  if (!desired.ok()) return Fail(io, desired.status());
  if (desired->certificate.has_value()) {
    Plan checks_only;
    checks_only.certificate_checks = desired->certificate->checks;
    io.out << "Certificate checks for " << desired->certificate->pfx_path << ":\n"
           << RenderChecksText(checks_only, StyleFor(options, io));
    if (desired->certificate->has_errors) {
      io.err << "Error: the certificate fails its checks\n";
      return kExitError;
    }
  }
  io.out << "Success! The configuration is valid.\n";
  return kExitOk;
}

int ShowCommand(const CommonOptions& options, Io& io) {
  auto config = LoadConfig(options.config);
  if (!config.ok()) return Fail(io, config.status());
  ProviderOptions provider_options = ProviderOptionsFor(options, io);
  auto providers = OpenProviders(*config, provider_options);
  if (!providers.ok()) return Fail(io, providers.status());
  auto report = ReadShowReport(*config, *providers->vault, providers->deployments.get(),
                               io.clock.Now());
  if (!report.ok()) return Fail(io, report.status());
  io.out << (options.json ? RenderShowJson(*report) : RenderShowText(*report));
  return kExitOk;
}

}  // namespace rotor::cli
