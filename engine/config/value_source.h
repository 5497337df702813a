// Resolving value sources ({ env }, { file }, { command }, literals) into
// secrets, and generating passwords for { generate = N }.
//
// Resolution is separate from loading (engine/config/config.h) because it touches
// the environment, the file system and other programs; the Environment is
// injectable so tests need not change the process's variables.
#ifndef ROTOR_ENGINE_CONFIG_VALUE_SOURCE_H_
#define ROTOR_ENGINE_CONFIG_VALUE_SOURCE_H_

#include <map>
#include <optional>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "base/process.h"
#include "base/secret.h"
#include "engine/config/config.h"

namespace rotor {

// Read access to environment variables.
class Environment {
 public:
  virtual ~Environment() = default;
  // The variable's value, or nullopt when it is not set.
  virtual std::optional<std::string> Get(absl::string_view name) const = 0;
};

// The process's own environment, indexed once when constructed: getenv
// scans the whole environment on each call, which a config with thousands
// of { env = ... } sources turns quadratic. rotor never changes its own
// environment; a variable set after construction is not seen. The index
// points into the environment's strings, so values are not copied.
class ProcessEnvironment : public Environment {
 public:
  ProcessEnvironment();
  std::optional<std::string> Get(absl::string_view name) const override;

 private:
  absl::flat_hash_map<std::string, const char*> index_;  // name -> value
};

// A map-backed environment for tests.
class FakeEnvironment : public Environment {
 public:
  FakeEnvironment() = default;
  explicit FakeEnvironment(std::map<std::string, std::string> values)
      : values_(std::move(values)) {}
  void Set(const std::string& name, const std::string& value) { values_[name] = value; }
  void Unset(const std::string& name) { values_.erase(name); }
  std::optional<std::string> Get(absl::string_view name) const override;

 private:
  std::map<std::string, std::string> values_;
};

// The most a { file } source or a { command }'s output may hold: every value
// source is a password, a client secret or an id, at most a few hundred
// characters (a user password at most 255), so 8 KiB is generous. A longer
// one (a file such as /dev/zero, a program such as `yes`) is refused when
// this is passed, before more is read.
inline constexpr size_t kMaxSecretSourceBytes = 8 << 10;

// Resolves `source` to its value. Errors read "<config key>: <what, naming
// the source> (at <file:line:col>)", each part once, never the value:
//   user[admin].password: environment variable REGISTRY_ADMIN_PASSWORD is
//   not set (at rotor.toml:14:12)
//   [deployment] client_secret: command "pass" exited with code 1: ...
// The key is DisplayKey of the source's key_path, else of `owner`.
//  - env: the variable must be set and non-empty (InvalidArgument);
//  - file: one trailing newline ("\n" or "\r\n") is dropped; a missing file
//    is NotFound; an empty value is InvalidArgument; a file larger than
//    kMaxSecretSourceBytes is ResourceExhausted, one with no end within
//    kFileReadTimeout (a FIFO with no writer) DeadlineExceeded;
//  - command: run without a shell (rotor::RunProcess) in its own process
//    group, at most kCommandTimeout and kMaxSecretSourceBytes of output (past
//    either the group is killed: DeadlineExceeded / ResourceExhausted); a
//    non-zero exit is FailedPrecondition naming argv[0],
//    the exit code and the first line of stderr (stdout never appears in a
//    message); one trailing newline is dropped from stdout;
//  - literal: the value itself;
//  - generate: FailedPrecondition (see GeneratePassword).
// A value longer than source.max_length (when non-zero) is InvalidArgument.
absl::StatusOr<Secret> ResolveValue(const ValueSource& source, const Environment& env,
                                    absl::string_view owner);

// How a message names a config key: "[deployment] client_secret" for
// "deployment.client_secret" (a key of a table, as the file spells it);
// other key paths ("user[admin].password") as they are.
std::string DisplayKey(absl::string_view key_path);

// A source as messages name it: ValueSource::Describe(), but a command by
// its program alone ("command pass": its arguments stay out of messages).
std::string DescribeSource(const ValueSource& source);

// How a message about a value that was read names it: the config key
// (DisplayKey of the source's key_path, else of `key`) and the source,
// never the value: "[deployment] client_secret (env
// REGISTRY_SPN_CLIENT_SECRET)", "user[ops].password (command pass)".
std::string NameValue(const ValueSource& source, absl::string_view key = "");

// "No such file or directory" from ReadFile's "open /x/y: No such file or
// directory" (or RunProcess's "run prog: ..."), for a message that names the
// file or program already.
std::string FileErrorReason(const absl::Status& status);

// Fills cloud->tenant_id and cloud->subscription_id from AZURE_TENANT_ID and
// AZURE_SUBSCRIPTION_ID when the config leaves them empty (kinds azurestack
// and azure; nothing to do for local). InvalidArgument naming both the key
// and the variable when one is still missing.
absl::Status ResolveCloudIdentity(CloudConfig* cloud, const Environment& env);

}  // namespace rotor

#endif  // ROTOR_ENGINE_CONFIG_VALUE_SOURCE_H_
