#include "cli/commands.h"

#include <atomic>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "base/files.h"
#include "base/status_context.h"
#include "base/status_macros.h"
#include "base/value_binding.h"
#include "cli/certificate_issuer.h"
#include "cli/console.h"
#include "cli/interrupt.h"
#include "cli/metrics.h"
#include "cli/providers.h"
#include "cli/show.h"
#include "cli/verify_command.h"
#include "engine/apply/apply.h"
#include "engine/apply/preflight.h"
#include "engine/apply/publish.h"
#include "engine/config/config.h"
#include "engine/config/desired.h"
#include "engine/diff/diff.h"
#include "engine/diff/rollback.h"
#include "engine/model/apply_history.h"
#include "engine/model/desired_values.h"
#include "engine/model/vault_values.h"
#include "engine/refresh/history.h"
#include "engine/refresh/refresh.h"
#include "engine/render/render.h"
#include "rapidjson/prettywriter.h"
#include "rapidjson/stringbuffer.h"

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
  RecordRegistry(options, s.config);
  ASSIGN_OR_RETURN(s.desired, BuildDesired(s.config, io.env, io.clock.Now()));
  ProviderOptions provider_options = ProviderOptionsFor(options, io);
  provider_options.for_writing = for_writing;
  ASSIGN_OR_RETURN(s.providers, OpenProviders(s.config, provider_options));
  return s;
}

// Reads the live state into the session.
absl::Status RefreshActual(Session& s, Io& io, const RefreshHint* hint = nullptr) {
  auto actual = Refresh(s.desired, *s.providers.vault, s.providers.deployments.get(), hint);
  if (io.console != nullptr) io.console->EndProgress(io.scope);  // throttling waits
  ASSIGN_OR_RETURN(s.actual, std::move(actual));
  return absl::OkStatus();
}

// A few random characters that keep two plans' deployment names apart.
std::string DeploymentSuffix() {
  std::random_device random;
  return absl::StrFormat("%04x", random() & 0xffff);
}

// Reads the live state and plans: `options` as the command asks (--replace,
// whether the plan must be deployable), with a fresh deployment suffix.
absl::StatusOr<Plan> Refresh(Session& s, Io& io, const RefreshHint* hint = nullptr,
                             rotor::PlanOptions options = {}) {
  RETURN_IF_ERROR(RefreshActual(s, io, hint));
  options.deployment_suffix = DeploymentSuffix();
  options.apply_id = MakeApplyId(io.clock.Now(), options.deployment_suffix);
  ASSIGN_OR_RETURN(Plan plan, ComputePlan(s.desired, s.actual, io.clock.Now(), options));
  plan.tool_version = ROTOR_VERSION;
  plan.prior_fingerprint = StateFingerprint(s.actual);
  return plan;
}

bool HasDeployment(const Plan& plan) {
  for (const auto& c : plan.changes) {
    if (c.deployment.has_value()) return true;
  }
  return false;
}

// The values a plan names: the config's sources, and versions in the vault
// (engine/model/vault_values.h).
class SessionValues : public ValueSet {
 public:
  explicit SessionValues(Session& s) : desired_(s.desired), vault_(*s.providers.vault, desired_) {}
  absl::StatusOr<Secret> Value(absl::string_view key) const override { return vault_.Value(key); }

 private:
  DesiredValues desired_;
  VaultValues vault_;
};

// Proves a plan's deployment can go out (engine/apply/preflight.h).
absl::Status RunPreflight(const Plan& plan, Session& s) {
  if (!HasDeployment(plan) || s.providers.deployments == nullptr) return absl::OkStatus();
  SessionValues values(s);
  return Preflight(plan, values, s.providers.vault->info(), *s.providers.deployments,
                   s.providers.registry_sign_in.get());
}

// Binds a plan about to be saved to the values it was made with.
absl::Status BindValues(Plan& plan, Session& s) {
  SessionValues values(s);
  std::vector<absl::Status> results(plan.values.size());
  // bcrypt is slow on purpose: spread the bindings over a few threads.
  const size_t workers = std::min<size_t>(4, plan.values.size());
  std::atomic<size_t> next{0};
  std::vector<std::thread> threads;
  for (size_t t = 0; t < workers; ++t) {
    threads.emplace_back([&] {
      for (size_t i = next++; i < plan.values.size(); i = next++) {
        PlannedValue& v = plan.values[i];
        absl::StatusOr<Secret> value = values.Value(v.key);
        if (!value.ok()) {
          results[i] = WithContext(value.status(), v.source);
          continue;
        }
        absl::StatusOr<std::string> binding = BindValue(v.key, *value);
        if (!binding.ok()) {
          results[i] = WithContext(binding.status(), v.source);
          continue;
        }
        v.binding = *std::move(binding);
      }
    });
  }
  for (auto& t : threads) t.join();
  for (const auto& r : results) RETURN_IF_ERROR(r);
  return absl::OkStatus();
}

// A saved plan applies only with the values it was made with.
absl::Status CheckBindings(const Plan& saved, Session& s, const std::string& plan_file) {
  SessionValues values(s);
  for (const PlannedValue& v : saved.values) {
    absl::StatusOr<Secret> value = values.Value(v.key);
    if (!value.ok()) {
      return absl::FailedPreconditionError(
          absl::StrCat("saved plan ", plan_file, ": ", v.source, " has no value now (",
                       value.status().message(), "); run rotor plan again"));
    }
    if (v.binding.empty() || !MatchesBinding(v.key, *value, v.binding)) {
      return absl::FailedPreconditionError(absl::StrCat(
          "saved plan ", plan_file, " was made with another value of ", v.source,
          "; the plan would write or pass a value nobody reviewed, so nothing was applied: run "
          "rotor plan again"));
    }
  }
  return absl::OkStatus();
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
    return absl::FailedPreconditionError(
        absl::StrCat("certificate ", s.desired.certificate->pfx_path, " fails ", failed.size(),
                     failed.size() == 1 ? " check: " : " checks: ", absl::StrJoin(failed, "; ")));
  }
  return absl::OkStatus();
}

std::string ShortDuration(absl::Duration d) {
  int64_t s = absl::ToInt64Seconds(d);
  if (s >= 60) return absl::StrCat(s / 60, "m", s % 60, "s");
  return absl::StrCat(s, "s");
}

// Reports an apply: a line per change started and finished on `out`
// (Terraform's), and the deployment's progress while it runs: a status line
// rewritten in place on a terminal, a timestamped line every 10 s otherwise
// (on `out`, or live on stderr for a fleet's registry), events with
// --log-format json. --quiet: nothing.
class PrintingObserver : public ApplyObserver {
 public:
  PrintingObserver(std::ostream& out, Io& io, bool quiet)
      : out_(out), clock_(io.clock), console_(io.console), scope_(io.scope), quiet_(quiet) {}
  ~PrintingObserver() override { ForgetDeployment(this); }

  void OnChangeStarted(const Change& c) override {
    started_[c.address] = clock_.Now();
    if (c.Kind() == "deployment") first_deployment_ = c.action == Action::kCreate;
    // What a Ctrl-C from now on leaves running (interrupt.h).
    if (c.deployment.has_value()) {
      NoteDeployment(this, {scope_, c.deployment->resource_group, c.deployment->name, false});
    }
    if (Json()) {
      console_->Event(
          "info", scope_, "change.started",
          {StringField("address", c.address), StringField("action", ActionName(c.action))});
      return;
    }
    if (quiet_) return;
    out_ << c.address << ": " << Verb(c) << "...\n";
    out_.flush();
  }
  void OnChangeFinished(const Change& c, const absl::Status& status) override {
    if (c.deployment.has_value()) ForgetDeployment(this);
    absl::Duration took = clock_.Now() - started_[c.address];
    if (console_ != nullptr) console_->EndProgress(scope_);
    if (Json()) {
      console_->Event(
          status.ok() ? "info" : "error", scope_, "change.finished",
          {StringField("address", c.address), StringField("action", ActionName(c.action)),
           BoolField("ok", status.ok()), NumberField("seconds", absl::ToDoubleSeconds(took))});
      return;
    }
    if (quiet_) return;
    if (status.ok()) {
      out_ << c.address << ": " << Done(c) << " [" << ShortDuration(took) << "]\n";
    } else {
      out_ << c.address << ": failed [" << ShortDuration(took) << "]\n";
    }
    out_.flush();
  }
  void OnDeploymentProgress(const Deployment& d, absl::Duration elapsed) override {
    NoteDeployment(this, {scope_, d.resource_group, d.name, true});
    const char* still = first_deployment_ ? "Still deploying..." : "Still redeploying...";
    const std::string text =
        absl::StrCat("deployment.registry: ", still, " (", d.name, " is ", d.provisioning_state,
                     ") [", ShortDuration(elapsed), " elapsed]");
    if (console_ != nullptr && (console_->json() || console_->status_line())) {
      // The status line puts the time first: a narrow terminal cuts the end.
      console_->Progress(
          scope_, "deployment.progress",
          console_->json()
              ? text
              : absl::StrCat("deployment.registry: ", still, " [", ShortDuration(elapsed),
                             " elapsed] ", d.name, " is ", d.provisioning_state),
          {StringField("deployment", d.name), StringField("resource_group", d.resource_group),
           StringField("state", d.provisioning_state),
           NumberField("elapsed_seconds", absl::ToDoubleSeconds(elapsed))});
      return;
    }
    if (quiet_ || (console_ != nullptr && console_->quiet())) return;
    if (elapsed - last_progress_ < absl::Seconds(10)) return;
    last_progress_ = elapsed;
    if (console_ != nullptr && !scope_.empty()) {
      console_->Line(scope_, text);  // a fleet: live, while the output waits
      return;
    }
    out_ << absl::FormatTime("%Y-%m-%dT%H:%M:%SZ ", clock_.Now(), absl::UTCTimeZone()) << text
         << "\n";
    out_.flush();
  }
  void OnMessage(absl::string_view message) override {
    if (Json()) {
      console_->Event("info", scope_, "apply.message", {StringField("message", message)});
      return;
    }
    if (quiet_) return;
    out_ << "  " << message << "\n";
    out_.flush();
  }

 private:
  bool Json() const { return console_ != nullptr && console_->json(); }
  static const char* Verb(const Change& c) {
    switch (c.action) {
      case Action::kCreate:
        return c.Kind() == "deployment" ? "Deploying" : "Creating";
      case Action::kUpdate:
        return "Writing a new version";
      case Action::kRetire:
        return "Retiring (a new version with its deadline)";
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
      case Action::kRetire:
        return "Retiring";
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
  Console* console_;
  std::string scope_;
  bool quiet_;
  bool first_deployment_ = false;
  std::map<std::string, absl::Time> started_;
  absl::Duration last_progress_ = absl::ZeroDuration();
};

}  // namespace

ProviderOptions ProviderOptionsFor(const CommonOptions& options, Io& io) {
  ProviderOptions provider_options;
  provider_options.clock = &io.clock;
  provider_options.env = &io.env;
  provider_options.parallelism = options.parallelism;
  provider_options.log = &io.err;
  provider_options.log_level = options.log_level;
  if (Console* console = io.console; console != nullptr) {
    const std::string scope = io.scope;
    provider_options.log_sink = [console, scope](absl::string_view level,
                                                 absl::string_view message) {
      console->Log(level, scope, message);
    };
    // Retries are waits: throttling shows as progress. Plain lines at most
    // every 5 s per registry.
    auto last_line = std::make_shared<std::pair<std::mutex, absl::Time>>();
    last_line->second = absl::InfinitePast();
    const Clock* clock = &io.clock;
    provider_options.on_retry = [console, scope, last_line, clock](const RetryNotice& r) {
      const bool throttled = r.status == 429 || r.status == 503;
      std::string text = absl::StrCat(
          throttled ? "throttled: " : "", "retrying ", r.method, " ", r.url, " in ",
          absl::FormatDuration(absl::Trunc(r.delay, absl::Milliseconds(100))), " after ",
          r.status == 0 ? std::string("a transport failure") : absl::StrCat("HTTP ", r.status),
          r.server_delay ? " (Retry-After)" : "", " (attempt ", r.attempt, ")");
      if (console->json() || console->status_line()) {
        console->Progress(scope, "http.retry", text,
                          {StringField("method", r.method), StringField("url", r.url),
                           IntField("status", r.status), IntField("attempt", r.attempt),
                           NumberField("delay_seconds", absl::ToDoubleSeconds(r.delay)),
                           BoolField("retry_after", r.server_delay)});
        return;
      }
      if (!console->plain_lines()) return;
      {
        std::lock_guard<std::mutex> lock(last_line->first);
        absl::Time now = clock->Now();
        if (now - last_line->second < absl::Seconds(5)) return;
        last_line->second = now;
      }
      console->Line(scope, text);
    };
  }
  return provider_options;
}

int PlanCommand(const PlanOptions& options, Io& io) {
  auto session = Load(options.common, io, /*for_writing=*/false);
  if (!session.ok()) return Fail(io, session.status());
  TextStyle style = StyleFor(options.common, io);
  if (absl::Status certs = CheckCertificateErrors(*session, io, style); !certs.ok()) {
    return Fail(io, certs);
  }
  rotor::PlanOptions plan_options;
  plan_options.replace = options.replace;
  auto plan = Refresh(*session, io, nullptr, plan_options);
  if (!plan.ok()) return Fail(io, plan.status());
  RecordPlan(options.common, *plan);
  if (absl::Status ready = RunPreflight(*plan, *session); !ready.ok()) return Fail(io, ready);
  if (!options.out.empty()) {
    if (absl::Status bound = BindValues(*plan, *session); !bound.ok()) {
      return Fail(io, bound);
    }
  }
  if (options.common.json) {
    io.out << RenderPlanJson(*plan, /*pretty=*/true);
  } else if (options.common.quiet) {
    io.out << RenderSummaryLine(*plan) << "\n";
  } else {
    io.out << RenderPlanText(*plan, style);
  }
  if (!options.out.empty()) {
    absl::Status saved = WriteFileAtomic(options.out, RenderPlanJson(*plan, /*pretty=*/true));
    if (!saved.ok()) return Fail(io, saved);
    if (!options.common.json && !options.common.quiet) {
      io.out << "\nSaved the plan to: " << options.out << "\n"
             << "To perform exactly these actions, run:\n    rotor apply -c "
             << options.common.config << " " << options.out << "\n";
    }
  }
  if (options.detailed_exitcode && plan->HasChanges()) return kExitChanges;
  return kExitOk;
}

namespace {

// A saved plan, read and parsed.
absl::StatusOr<Plan> ReadSavedPlan(const std::string& plan_file) {
  ASSIGN_OR_RETURN(std::string text, ReadFile(plan_file));
  auto parsed = ParsePlanJson(text);
  if (!parsed.ok()) {
    return absl::Status(parsed.status().code(),
                        absl::StrCat(plan_file, ": ", parsed.status().message()));
  }
  return parsed;
}

// A saved plan applies as it was made, or not at all: the same file, the
// same live state, the same values.
absl::Status CheckSavedPlan(const Plan& saved, Session& s, const ApplyOptions& options, Io& io) {
  if (saved.config_digest != s.config.digest) {
    return absl::FailedPreconditionError(
        absl::StrCat("saved plan ", options.plan_file, " was made from a different version of ",
                     options.common.config, "; run rotor plan again"));
  }
  RETURN_IF_ERROR(RefreshActual(s, io));
  if (saved.prior_fingerprint != StateFingerprint(s.actual)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "saved plan ", options.plan_file,
        " is stale: the vault or the deployments changed since it was made; run rotor plan "
        "again"));
  }
  return CheckBindings(saved, s, options.plan_file);
}

// Hands the passwords the apply wrote to their clients; 1 when one failed.
int Publish(const Plan& plan, const ApplyOutputs& outputs, Session& s, std::ostream& human, Io& io,
            bool quiet) {
  if (plan.publishes.empty()) return kExitOk;
  if (!quiet) human << "\n";
  int failed = 0;
  for (const PublishResult& r : RunPublishes(plan, outputs, *s.providers.vault, kCommandTimeout)) {
    const std::string what =
        absl::StrCat("publish user.", r.publish.user, " to ", r.publish.Describe());
    if (r.status.ok()) {
      if (!quiet) human << what << ": done (registry " << r.publish.registry << ")\n";
      continue;
    }
    ++failed;
    io.err << "Error: " << what << ": " << r.status.message() << "\n";
  }
  if (failed == 0) return kExitOk;
  io.err << "Error: " << failed << (failed == 1 ? " hand-off" : " hand-offs")
         << " to clients failed (see above); the registry keeps its new state: fix the sink "
            "and hand the password over again (rotor show names the version)\n";
  return kExitError;
}

// Everything after the plan: preflight, approval, the apply, the
// convergence check (not for a rollback: the configuration still asks for
// what it undid), verify, hand-offs.
int RunApply(Session& s, Plan& plan, bool saved, const ApplyOptions& options, Io& io,
             std::ostream& human, const TextStyle& style) {
  // Before the first write: the deployment can go out.
  if (absl::Status ready = RunPreflight(plan, s); !ready.ok()) return Fail(io, ready);
  if (!plan.HasChanges()) {
    if (saved || options.common.quiet) human << RenderSummaryLine(plan) << "\n";
    if (options.common.json) io.out << RenderOutputsJson(ApplyOutputs{});
    return kExitOk;
  }
  if (!saved && !options.auto_approve) {
    if (!io.in_is_tty) {
      return Fail(io, absl::FailedPreconditionError(absl::StrCat(
                          plan.rollback_of.empty() ? "apply" : "rollback",
                          " needs approval, and no terminal is attached to answer; run rotor ",
                          plan.rollback_of.empty() ? "apply" : "rollback",
                          " --auto-approve, or apply a saved plan file")));
    }
    human << "\nDo you want to perform these actions?\n"
          << "  rotor will perform the actions described above.\n"
          << "  Only 'yes' will be accepted to approve.\n\n  Enter a value: ";
    human.flush();
    std::string answer;
    std::getline(io.in, answer);
    if (absl::StripAsciiWhitespace(answer) != "yes") {
      io.err << "\n" << (plan.rollback_of.empty() ? "Apply" : "Rollback") << " cancelled.\n";
      return kExitError;
    }
  }
  auto deployment_timeout = DurationFromEnvironment(io.env, "ROTOR_DEPLOYMENT_TIMEOUT");
  if (!deployment_timeout.ok()) return Fail(io, deployment_timeout.status());
  if (!options.common.quiet) human << "\n";
  PrintingObserver observer(human, io, options.common.quiet);
  // The issuer, only when this plan issues a certificate.
  std::unique_ptr<CertificateIssuer> issuer;
  if (PlanIssuesCertificate(plan)) {
    auto made =
        MakeCertificateIssuer(s.config, s.providers, ProviderOptionsFor(options.common, io));
    if (!made.ok()) return Fail(io, made.status());
    issuer = *std::move(made);
  }
  rotor::ApplyOptions apply_options;
  apply_options.clock = &io.clock;
  apply_options.capture_deleted_credentials = options.verify;
  apply_options.issuer = issuer.get();
  if (deployment_timeout->has_value()) apply_options.deployment_timeout = **deployment_timeout;
  SessionValues values(s);
  auto outputs = ApplyPlan(plan, values, *s.providers.vault, s.providers.deployments.get(),
                           apply_options, observer);
  if (!outputs.ok()) return Fail(io, outputs.status());

  Plan::Summary sum = plan.Summarize();
  human << (options.common.quiet ? "" : "\n") << (plan.rollback_of.empty() ? "Apply" : "Rollback")
        << " complete! Resources: " << sum.add << " added, " << sum.change << " changed, "
        << sum.destroy << " destroyed, " << sum.redeploy << " redeployed.\n";
  std::string rendered = RenderOutputsText(*outputs);
  if (!rendered.empty() && !options.common.quiet) human << "\nOutputs:\n\n" << rendered;
  if (options.common.json) io.out << RenderOutputsJson(*outputs);

  if (!plan.rollback_of.empty()) {
    human << "\nThe registry is back as it was before apply " << plan.rollback_of << ". "
          << options.common.config
          << " still asks for what that apply did, so the next rotor plan shows it again "
             "(cause config): revert the change in the configuration too (git revert).\n";
    return Publish(plan, *outputs, s, human, io, options.common.quiet);
  }
  // Converged? The next plan must be empty; say so if it is not. What this
  // apply wrote and what the plan read are not read again while the list
  // shows them unchanged (HintAfterApply).
  const RefreshHint hint = HintAfterApply(s.desired, s.actual, *outputs);
  auto after = Refresh(s, io, &hint);
  if (!after.ok()) return Fail(io, after.status());
  RecordPlan(options.common, *after);
  if (after->HasChanges()) {
    io.err << RenderPlanText(*after, style);
    return Fail(io, absl::InternalError(
                        "apply finished but the live state still differs from the configuration "
                        "(see the plan above); run rotor apply again"));
  }
  if (options.verify) {
    human << "\n";
    VerifyReport report;
    int verified =
        VerifyRegistry(s.config, s.desired, *s.providers.vault, s.providers.deployments.get(),
                       {std::move(outputs->deleted_credentials), /*json=*/false,
                        sum.redeploy > 0 ? kRegistryRestartWait : absl::ZeroDuration(), &report},
                       human, io);
    if (!report.checks.empty()) RecordVerify(options.common, report, io.clock.Now());
    // Clients get the new password only once it is proven to work.
    if (verified != kExitOk) return verified;
  }
  return Publish(plan, *outputs, s, human, io, options.common.quiet);
}

}  // namespace

int ApplyCommand(const ApplyOptions& options, Io& io) {
  if (!options.plan_file.empty() && !options.replace.empty()) {
    return Fail(io, absl::InvalidArgumentError(absl::StrCat(
                        "--replace makes a new plan, and saved plan ", options.plan_file,
                        " is applied as it was made; run rotor plan --replace ",
                        options.replace.front(), " --out FILE, then rotor apply FILE")));
  }
  std::optional<Plan> saved;
  if (!options.plan_file.empty()) {
    auto read = ReadSavedPlan(options.plan_file);
    if (!read.ok()) return Fail(io, read.status());
    saved = *std::move(read);
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
  Plan plan;
  if (saved.has_value()) {
    if (absl::Status ok = CheckSavedPlan(*saved, *session, options, io); !ok.ok()) {
      return Fail(io, ok);
    }
    plan = *std::move(saved);
  } else {
    rotor::PlanOptions plan_options;
    plan_options.replace = options.replace;
    auto computed = Refresh(*session, io, nullptr, plan_options);
    if (!computed.ok()) return Fail(io, computed.status());
    plan = *std::move(computed);
    RecordPlan(options.common, plan);
    // --quiet shows the plan only when someone must approve it.
    if (!options.common.quiet || !options.auto_approve) human << RenderPlanText(plan, style);
  }
  return RunApply(*session, plan, !options.plan_file.empty(), options, io, human, style);
}

int RollbackCommand(const RollbackOptions& options, Io& io) {
  ApplyOptions apply = options.apply;
  std::optional<Plan> saved;
  if (!apply.plan_file.empty()) {
    auto read = ReadSavedPlan(apply.plan_file);
    if (!read.ok()) return Fail(io, read.status());
    if (read->rollback_of.empty()) {
      return Fail(io, absl::InvalidArgumentError(absl::StrCat(
                          apply.plan_file, " is not a rollback plan: apply it with rotor apply")));
    }
    saved = *std::move(read);
  }
  auto session = Load(apply.common, io, /*for_writing=*/options.out.empty());
  if (!session.ok()) return Fail(io, session.status());
  TextStyle style = StyleFor(apply.common, io);
  std::ostream& human = apply.common.json && options.out.empty() ? io.err : io.out;
  Plan plan;
  if (saved.has_value()) {
    if (absl::Status ok = CheckSavedPlan(*saved, *session, apply, io); !ok.ok()) {
      return Fail(io, ok);
    }
    plan = *std::move(saved);
  } else {
    if (absl::Status read = RefreshActual(*session, io); !read.ok()) return Fail(io, read);
    auto history = ReadHistory(session->desired, session->actual, *session->providers.vault);
    if (!history.ok()) return Fail(io, history.status());
    rotor::RollbackOptions r;
    r.to = options.to;
    r.deployment_suffix = DeploymentSuffix();
    r.apply_id = MakeApplyId(io.clock.Now(), r.deployment_suffix);
    auto computed =
        ComputeRollbackPlan(session->desired, session->actual, *history, io.clock.Now(), r);
    if (!computed.ok()) return Fail(io, computed.status());
    plan = *std::move(computed);
    plan.tool_version = ROTOR_VERSION;
    plan.prior_fingerprint = StateFingerprint(session->actual);
    if (!options.out.empty()) {
      // Saved, not applied: rotor apply FILE (or rotor rollback FILE) runs it.
      if (absl::Status ready = RunPreflight(plan, *session); !ready.ok()) return Fail(io, ready);
      if (absl::Status bound = BindValues(plan, *session); !bound.ok()) return Fail(io, bound);
      if (apply.common.json) {
        io.out << RenderPlanJson(plan, /*pretty=*/true);
      } else {
        io.out << RenderPlanText(plan, style);
      }
      absl::Status written = WriteFileAtomic(options.out, RenderPlanJson(plan, /*pretty=*/true));
      if (!written.ok()) return Fail(io, written);
      if (!apply.common.json && !apply.common.quiet) {
        io.out << "\nSaved the plan to: " << options.out << "\n"
               << "To perform exactly these actions, run:\n    rotor apply -c "
               << apply.common.config << " " << options.out << "\n";
      }
      return kExitOk;
    }
    if (!apply.common.quiet || !apply.auto_approve) human << RenderPlanText(plan, style);
  }
  return RunApply(*session, plan, saved.has_value(), apply, io, human, style);
}

int DriftCommand(const CommonOptions& options, Io& io) {
  auto session = Load(options, io, /*for_writing=*/false);
  if (!session.ok()) return Fail(io, session.status());
  // Drift only reports: whether the changes could go out is plan's concern.
  rotor::PlanOptions plan_options;
  plan_options.require_deployable = false;
  auto plan = Refresh(*session, io, nullptr, plan_options);
  if (!plan.ok()) return Fail(io, plan.status());
  RecordPlan(options, *plan);
  Plan drift = *plan;
  drift.changes.clear();
  for (const auto& c : plan->changes) {
    if (c.cause == Cause::kDrift) drift.changes.push_back(c);
  }
  size_t pending = plan->changes.size() - drift.changes.size();
  if (options.json) {
    io.out << RenderPlanJson(drift, /*pretty=*/true);
  } else if (drift.HasChanges()) {
    io.out << "Drift: the live state moved outside rotor.\n";
    if (options.quiet) {
      io.out << RenderSummaryLine(drift) << "\n";
    } else {
      io.out << "\n" << RenderPlanText(drift, StyleFor(options, io));
    }
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

namespace {

// validate --json: {"config", "valid", "certificate": {"pfx", "checks",
// "skipped": {"checks", "reason"}}, "error"}; "skipped" only when the
// checks that open the PFX were not run.
std::string ValidateJson(const std::string& config_path, const OfflineValidation* validation,
                         const std::string& error) {
  rapidjson::StringBuffer buffer;
  rapidjson::PrettyWriter<rapidjson::StringBuffer> w(buffer);
  w.SetIndent(' ', 2);
  w.StartObject();
  w.Key("config");
  w.String(config_path);
  w.Key("valid");
  w.Bool(error.empty());
  if (validation != nullptr && validation->certificate.has_value()) {
    const OfflineCertificate& cert = *validation->certificate;
    w.Key("certificate");
    w.StartObject();
    w.Key("pfx");
    w.String(cert.pfx_path);
    w.Key("checks");
    w.StartArray();
    for (const auto& c : cert.checks) {
      w.StartObject();
      w.Key("name");
      w.String(c.name);
      w.Key("level");
      w.String(c.level);
      w.Key("detail");
      w.String(c.detail);
      w.EndObject();
    }
    w.EndArray();
    if (!cert.skipped.empty()) {
      w.Key("skipped");
      w.StartObject();
      w.Key("checks");
      w.StartArray();
      for (const auto& name : cert.skipped) w.String(name);
      w.EndArray();
      w.Key("reason");
      w.String(cert.skipped_reason);
      w.EndObject();
    }
    w.EndObject();
  }
  if (!error.empty()) {
    w.Key("error");
    w.String(error);
  }
  w.EndObject();
  return absl::StrCat(absl::string_view(buffer.GetString(), buffer.GetSize()), "\n");
}

}  // namespace

// Offline, and without any secret value: the PFX password only when its
// source gives one (ValidateOffline).
int ValidateCommand(const CommonOptions& options, Io& io) {
  auto fail = [&](const absl::Status& status, const OfflineValidation* validation) {
    if (options.json) {
      io.out << ValidateJson(options.config, validation, std::string(status.message()));
    }
    return Fail(io, status);
  };
  auto config = LoadConfig(options.config);
  if (!config.ok()) return fail(config.status(), nullptr);
  auto validation = ValidateOffline(*config, io.env, io.clock.Now());
  if (!validation.ok()) return fail(validation.status(), nullptr);
  bool skipped = false;
  if (validation->certificate.has_value()) {
    const OfflineCertificate& cert = *validation->certificate;
    skipped = !cert.skipped.empty();
    if (!options.json && skipped && !options.quiet) {
      io.out << "Certificate checks for " << cert.pfx_path << ": " << cert.skipped.size()
             << " skipped, as each opens the PFX with its password, which is not available:\n  "
             << cert.skipped_reason << "\n  Skipped: " << absl::StrJoin(cert.skipped, ", ")
             << ".\n";
    } else if (!options.json && (!options.quiet || cert.has_errors)) {
      Plan checks_only;
      checks_only.certificate_checks = cert.checks;
      io.out << "Certificate checks for " << cert.pfx_path << ":\n"
             << RenderChecksText(checks_only, StyleFor(options, io));
    }
    if (cert.has_errors) {
      return fail(absl::FailedPreconditionError("the certificate fails its checks"), &*validation);
    }
  }
  if (options.json) {
    io.out << ValidateJson(options.config, &*validation, "");
  } else if (skipped) {
    io.out << "Success! The configuration is valid (the certificate checks were skipped: they "
              "need the PFX password).\n";
  } else {
    io.out << "Success! The configuration is valid.\n";
  }
  return kExitOk;
}

int ShowPlanFileCommand(const CommonOptions& options, const std::string& plan_file, Io& io) {
  auto text = ReadFile(plan_file);
  if (!text.ok()) return Fail(io, text.status());
  auto plan = ParsePlanJson(*text);
  if (!plan.ok()) return Fail(io, WithContext(plan.status(), plan_file));
  if (options.json) {
    io.out << RenderPlanJson(*plan, /*pretty=*/true);
  } else {
    io.out << "Saved plan " << plan_file << " (made by rotor " << plan->tool_version << " from "
           << plan->config_path << ")\n\n"
           << RenderPlanText(*plan, StyleFor(options, io));
  }
  return kExitOk;
}

int ShowCommand(const CommonOptions& options, Io& io) {
  auto config = LoadConfig(options.config);
  if (!config.ok()) return Fail(io, config.status());
  ProviderOptions provider_options = ProviderOptionsFor(options, io);
  auto providers = OpenProviders(*config, provider_options);
  if (!providers.ok()) return Fail(io, providers.status());
  auto report =
      ReadShowReport(*config, *providers->vault, providers->deployments.get(), io.clock.Now());
  if (!report.ok()) return Fail(io, report.status());
  io.out << (options.json ? RenderShowJson(*report) : RenderShowText(*report));
  return kExitOk;
}

}  // namespace rotor::cli
