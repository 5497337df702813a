// Plan: what apply will do, as plain data (computed by diff.h, printed by
// render.h, saved by plan_file.h, executed by apply.h; they share only these
// types).
//
// A Change's `reasons` and `cause` explain it to people; the executor acts on
// `address`, `action` and `after` alone. Secret values never appear here:
// attributes that hold one render as "(sensitive value)".
#ifndef ROTOR_ENGINE_MODEL_PLAN_H_
#define ROTOR_ENGINE_MODEL_PLAN_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace rotor {

inline constexpr char kSensitiveValue[] = "(sensitive value)";
inline constexpr char kKnownAfterApply[] = "(known after apply)";
// The saved-plan format this build writes and reads.
inline constexpr int kPlanFormatVersion = 1;

// Display form of a time in plans: RFC 3339 UTC to the second.
std::string FormatPlanTime(absl::Time t);

enum class Action { kNoOp, kCreate, kUpdate, kDelete, kRecover, kRedeploy };

absl::string_view ActionName(Action action);  // "create", "update", ...
bool ParseAction(absl::string_view name, Action* action);

// Why a change is planned: the TOML asks for something new (config), or the
// live state moved outside rotor (drift).
enum class Cause { kConfig, kDrift };
absl::string_view CauseName(Cause cause);
bool ParseCause(absl::string_view name, Cause* cause);

// An attribute shown before -> after; empty strings mean "absent".
struct Attribute {
  std::string name;
  std::string before;
  std::string after;
};

struct Change {
  // "user.admin", "stale_user.old", "certificate.containersecret",
  // "stale_certificate.oldcert", "deployment.registry".
  std::string address;
  Action action = Action::kNoOp;
  Cause cause = Cause::kConfig;
  std::vector<Attribute> attributes;
  std::vector<std::string> reasons;

  // The part of the address after the first dot (the secret name for
  // secrets, "registry" for the deployment).
  std::string Name() const;
  std::string Kind() const;  // the part before the first dot
  // The `after` value of attribute `name`, or "" when absent.
  std::string After(absl::string_view name) const;
};

// A problem worth attention that apply will not fix (lints).
struct Warning {
  std::string subject;  // "secret.foo", "vault", "certificate"
  std::string message;
};

// Certificate checks (certs/checks.h), carried as text so the plan stays
// plain data: one "Name: OK|WARNING|ERROR (detail)" line each.
struct CheckLine {
  std::string name;
  std::string level;  // "OK", "WARNING", "ERROR"
  std::string detail;
};

struct Plan {
  int format_version = kPlanFormatVersion;
  std::string tool_version;
  std::string config_path;
  std::string config_digest;      // SHA-256 of the config file
  std::string prior_fingerprint;  // of the state the plan was computed on
  std::string vault;              // the vault's name
  std::vector<Change> changes;    // only actions other than kNoOp
  std::vector<Warning> warnings;
  std::vector<CheckLine> certificate_checks;

  bool HasChanges() const { return !changes.empty(); }
  struct Summary {
    int add = 0, change = 0, destroy = 0, redeploy = 0;
  };
  Summary Summarize() const;
  bool HasDrift() const;
};

}  // namespace rotor

#endif  // ROTOR_ENGINE_MODEL_PLAN_H_
