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
// The attribute of a kRetire change holding its deadline for people
// ("2026-12-06 10:00 UTC").
inline constexpr char kRetiresAttribute[] = "retires";
// The attribute of a certificate renewal holding why it is due, for people
// ("expires 2026-12-20, 15 days < renew_before 30d").
inline constexpr char kRenewalAttribute[] = "renewal";
// The saved-plan format this build writes and reads.
// 3: a certificate write may carry `issue` instead of a value (an older
// rotor would not know what to write).
inline constexpr int kPlanFormatVersion = 3;

// Display form of a time in plans: RFC 3339 UTC to the second.
std::string FormatPlanTime(absl::Time t);

// kRetire: a user the config no longer declares keeps its login until a
// deadline (policy.retire_after); apply writes its value again as a new
// version tagged with the deadline, and the first apply after it deletes it.
enum class Action { kNoOp, kCreate, kUpdate, kDelete, kRecover, kRedeploy, kRetire };

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

// A certificate apply gets from an issuer ([certificate.acme] or
// [certificate.issuer]) instead of a value: apply generates the key (or
// reuses the current one), sends the CSR, checks the chain it gets back and
// writes the PFX it builds with a generated password.
struct PlannedIssuance {
  std::string issuer;    // "acme" | "command"
  std::string describe;  // "ACME https://acme.example/dir", "command [\"/usr/local/bin/issue\"]"
  std::vector<std::string> dns_names;  // what the certificate must cover
  std::string key_type;                // "rsa-2048" | "rsa-3072" | "ec-p256"
  bool reuse_key = false;              // keep the current version's key
  // The checks the issued certificate must pass, as a PFX's do.
  int min_valid_days = 30;
  std::string ca_bundle;  // a PEM file the chain must lead to; "" skips
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
  // Set: a certificate apply issues (no value_key).
  std::optional<PlannedIssuance> issue;
};

// One parameter of a deployment apply sends.
struct PlannedParameter {
  enum class Source {
    kCarried,         // the base deployment's value (value_json)
    kLiteral,         // a value the plan sets (value_json)
    kValue,           // a PlannedValue (value_key), sent as a JSON string
    kCertificateUrl,  // the certificate secret's versioned URL after the writes
    // The certificate's thumbprint after the writes (one apply issues).
    kCertificateThumbprint,
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

// A hand-off of a user's new password to its clients ([[user]] publish),
// run after the apply's redeploy succeeded (and --verify passed). The
// password is read back from the version the apply wrote.
// "command [\"PROGRAM\", \"ARG\"]": a program and its arguments, for people.
std::string DescribeCommand(const std::vector<std::string>& command);

struct PlannedPublish {
  std::string user;      // the login
  std::string registry;  // host[:port]: the key under the Docker config's "auths"
  // Exactly one: a Docker config.json to merge the login into, or a program
  // and its arguments that read {"registry", "username", "password"} on
  // standard input.
  std::string docker_config;
  std::vector<std::string> command;
  // "docker_config PATH" / "command [\"PROGRAM\", ...]", for people.
  std::string Describe() const;
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

// What the plan read of the live state, for monitoring (the CLI's
// --metrics-file, cli/metrics.h) and programs reading plan --json: facts,
// never a value. Times are to the second, as plans print them.
struct ObservedLogin {
  std::string name;  // a user secret (declared, or of the user kind), as stored
  absl::Time updated = absl::UnixEpoch();  // when its latest version was written
  bool enabled = true;
};
struct ObservedCertificate {
  std::string secret;      // the declared certificate secret
  std::string thumbprint;  // of its latest version
  absl::Time not_after = absl::UnixEpoch();
};
struct Observed {
  absl::Time at = absl::UnixEpoch();               // when the plan was computed
  std::optional<ObservedCertificate> certificate;  // absent: not in the vault
  std::vector<ObservedLogin> logins;               // by name
  // The vault's live secrets, and how the registry VM's first page (the
  // first kVmListedSecrets by name, engine/model/registry_vm.h) reads them
  // now: logins on it, and logins beyond it (which get no login).
  int vault_secrets = 0;
  int vm_first_page_logins = 0;
  int vm_logins_beyond_first_page = 0;
  std::optional<absl::Time> last_successful_deployment;
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
  // The id this plan's writes and deployment carry (engine/model/
  // apply_history.h); a rollback plan also names the apply it undoes.
  std::string apply_id;
  std::string rollback_of;
  std::vector<PlannedPublish> publishes;
  Observed observed;

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
