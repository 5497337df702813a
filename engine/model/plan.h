// Plan: what apply will do, as complete plain data: computed by
// engine/diff, printed and saved by engine/render, executed by engine/apply;
// they share only these types.
//
// A Change's `attributes`, `reasons` and `cause` explain it to people; the
// executor acts on its `action`, `write` and `deployment` alone, so what was
// reviewed is what runs. Secret values never appear here: a value the plan
// writes or passes is a PlannedValue, named by a key and its source, which
// apply gets from the configuration's sources again (ValueSet); a saved plan
// binds each to the value it was made with (`binding`).
#ifndef ROTOR_ENGINE_MODEL_PLAN_H_
#define ROTOR_ENGINE_MODEL_PLAN_H_

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace rotor {

inline constexpr char kSensitiveValue[] = "(sensitive value)";
inline constexpr char kKnownAfterApply[] = "(known after apply)";
// The saved-plan format this build writes and reads.
inline constexpr int kPlanFormatVersion = 2;

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

// A value the plan writes or passes, named but never held.
struct PlannedValue {
  // "user.admin", "certificate.containersecret", "deployment.client_id",
  // "deployment.client_secret".
  std::string key;
  // Where it comes from, for messages: "[deployment] client_secret (env
  // REGISTRY_SPN_CLIENT_SECRET)". Never a value.
  std::string source;
  // A saved plan only: a salted, slow hash of the value when the plan was
  // made (base/value_binding.h), so apply refuses a value that changed.
  std::string binding;
};

// A new version of a secret.
struct SecretWrite {
  std::string name;
  std::string content_type;
  std::map<std::string, std::string> tags;
  // The PlannedValue it writes; empty when `generate_length` is set.
  std::string value_key;
  // > 0: a fresh random password of this many characters, made by apply.
  int generate_length = 0;
};

// One parameter of a deployment apply sends.
struct PlannedParameter {
  enum class Source {
    kCarried,         // the base deployment's value (value_json)
    kLiteral,         // a value the plan sets (value_json)
    kValue,           // a PlannedValue (value_key), sent as a JSON string
    kCertificateUrl,  // the certificate secret's versioned URL after the writes
  };
  std::string name;
  Source source = Source::kLiteral;
  std::string value_json;  // kCarried, kLiteral: JSON text, never secret
  std::string value_key;   // kValue
};

// The deployment apply makes.
struct PlannedDeployment {
  std::string resource_group;
  std::string name;  // of the new deployment
  std::string base;  // the deployment it redeploys; "" for the first one
  std::string mode = "Incremental";
  // The template: the base's, exported, or its link when it was linked;
  // the first deployment's from the config (`template_json`, not secret).
  std::string template_link_uri;
  std::string template_json;
  std::vector<PlannedParameter> parameters;
  std::map<std::string, std::string> tags;
  // The certificate the deployment passes: the secret, its versioned URL
  // now (used unless this apply writes a new version), and the thumbprint
  // the PFX at the URL must have (apply reads it back before deploying).
  std::string certificate_secret;
  std::string certificate_url;
  std::string certificate_thumbprint;
  // Set the CustomScript extension's forceUpdateTag (engine/template) so the
  // registry VM reads Key Vault again: a digest of what it will read, from
  // `login_stamps` (secrets that stay: name -> the version or update time
  // listed) and the versions this apply writes.
  bool set_force_update_tag = false;
  std::map<std::string, std::string> login_stamps;
};

struct Change {
  // "user.admin", "stale_user.old", "certificate.containersecret",
  // "stale_certificate.oldcert", "deployment.registry".
  std::string address;
  Action action = Action::kNoOp;
  Cause cause = Cause::kConfig;
  std::vector<Attribute> attributes;
  std::vector<std::string> reasons;
  // What the executor does: a new secret version (create, update, and a
  // recover that writes), or the deployment (create, redeploy). Deletes and
  // recovers act on Name().
  std::optional<SecretWrite> write;
  std::optional<PlannedDeployment> deployment;

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
  std::string config_digest;         // SHA-256 of the config file
  std::string prior_fingerprint;     // of the state the plan was computed on
  std::string vault;                 // the vault's name
  std::vector<Change> changes;       // only actions other than kNoOp
  std::vector<PlannedValue> values;  // every value the changes write or pass
  std::vector<Warning> warnings;
  std::vector<CheckLine> certificate_checks;

  bool HasChanges() const { return !changes.empty(); }
  const PlannedValue* FindValue(absl::string_view key) const;
  struct Summary {
    int add = 0, change = 0, destroy = 0, redeploy = 0;
  };
  Summary Summarize() const;
  bool HasDrift() const;
};

}  // namespace rotor

#endif  // ROTOR_ENGINE_MODEL_PLAN_H_
