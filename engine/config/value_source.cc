#include "engine/config/value_source.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/files.h"
#include "base/inert_text.h"
#include "base/process.h"

namespace rotor {
namespace {

// Takes `value` into a Secret, wiping the original buffer.
Secret TakeSecret(std::string* value) {
  Secret secret{std::string(value->data(), value->size())};
  WipeString(*value);
  return secret;
}

void StripOneTrailingNewline(std::string* value) {
  if (absl::EndsWith(*value, "\r\n")) {
    value->resize(value->size() - 2);
  } else if (absl::EndsWith(*value, "\n")) {
    value->resize(value->size() - 1);
  }
}

// Builds "<key>: <what> (at <file:line:col>)", where <what> names the
// source: the config key and the source once each, whoever calls.
class Messages {
 public:
  Messages(const ValueSource& source, absl::string_view owner)
      : head_(DisplayKey(!source.key_path.empty() ? absl::string_view(source.key_path)
                         : owner.empty()          ? absl::string_view("value")
                                                  : owner)) {
    if (!source.location.file.empty()) {
      tail_ = absl::StrCat(" (at ", source.location.file, ":", source.location.line, ":",
                           source.location.column, ")");
    }
  }
  std::string operator()(absl::string_view what) const {
    return absl::StrCat(head_, ": ", what, tail_);
  }

 private:
  std::string head_;
  std::string tail_;
};

// The first line of a program's stderr, trimmed, cut and made inert, for
// messages.
std::string FirstLine(absl::string_view text) {
  text = absl::StripLeadingAsciiWhitespace(text);
  size_t end = text.find_first_of("\r\n");
  absl::string_view line = absl::StripTrailingAsciiWhitespace(text.substr(0, end));
  return ShowInert(line, 200);
}

absl::StatusOr<std::string> ResolveRaw(const ValueSource& source, const Environment& env,
                                       const Messages& message) {
  switch (source.kind) {
    case ValueSource::Kind::kEnv: {
      std::optional<std::string> value = env.Get(source.env);
      if (!value.has_value()) {
        return absl::InvalidArgumentError(
            message(absl::StrCat("environment variable ", source.env, " is not set")));
      }
      if (value->empty()) {
        return absl::InvalidArgumentError(
            message(absl::StrCat("environment variable ", source.env, " is empty")));
      }
      return std::move(*value);
    }
    case ValueSource::Kind::kFile: {
      absl::StatusOr<std::string> contents = ReadFile(
          source.file, ReadLimit{.max_bytes = kMaxSecretSourceBytes, .what = "a secret value"});
      if (!contents.ok()) {
        return absl::Status(contents.status().code(),
                            message(absl::StrCat("cannot read file ", ShowPath(source.file), ": ",
                                                 FileErrorReason(contents.status()))));
      }
      StripOneTrailingNewline(&*contents);
      if (contents->empty()) {
        return absl::InvalidArgumentError(
            message(absl::StrCat("file ", ShowPath(source.file), " is empty")));
      }
      return std::move(*contents);
    }
    case ValueSource::Kind::kCommand: {
      if (source.command.empty() || source.command[0].empty()) {
        return absl::InvalidArgumentError(message("the command is empty"));
      }
      const std::string program = absl::StrCat("command \"", ShowPath(source.command[0]), "\"");
      ProcessOptions options;
      options.timeout = kCommandTimeout;
      options.max_stdout_bytes = kMaxSecretSourceBytes;
      options.max_stderr_bytes = 64 << 10;  // only its first line is shown
      absl::StatusOr<ProcessResult> result = RunProcess(source.command, options);
      if (!result.ok()) {
        return absl::Status(result.status().code(),
                            message(absl::StrCat(program, " could not be started: ",
                                                 FileErrorReason(result.status()))));
      }
      std::string out = std::move(result->stdout_data);
      std::string err_line = FirstLine(result->stderr_data);
      WipeString(result->stdout_data);
      WipeString(result->stderr_data);
      if (result->output_exceeded) {
        WipeString(out);
        return absl::ResourceExhaustedError(
            message(absl::StrCat(program, " printed more than ", ShowBytes(kMaxSecretSourceBytes),
                                 ", the limit for a secret value")));
      }
      if (result->timed_out) {
        WipeString(out);
        return absl::DeadlineExceededError(message(absl::StrCat(
            program, " did not finish within ", absl::FormatDuration(kCommandTimeout))));
      }
      if (result->exit_code != 0) {
        WipeString(out);
        return absl::FailedPreconditionError(
            message(absl::StrCat(program, " exited with code ", result->exit_code,
                                 err_line.empty() ? "" : absl::StrCat(": ", err_line))));
      }
      StripOneTrailingNewline(&out);
      if (out.empty()) {
        return absl::InvalidArgumentError(message(absl::StrCat(program, " printed nothing")));
      }
      return out;
    }
    case ValueSource::Kind::kLiteral:
      return std::string(source.literal.Reveal());
    case ValueSource::Kind::kGenerate:
      return absl::FailedPreconditionError(
          message("a { generate = N } value is created by rotor when it writes the secret, "
                  "not resolved; use GeneratePassword"));
  }
  return absl::InternalError(message("unknown value source kind"));
}

}  // namespace

ProcessEnvironment::ProcessEnvironment() {
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    const char* equals = std::strchr(*entry, '=');
    if (equals == nullptr) continue;
    // The first definition wins, as with getenv.
    index_.emplace(std::string(*entry, equals - *entry), equals + 1);
  }
}

std::optional<std::string> ProcessEnvironment::Get(absl::string_view name) const {
  auto it = index_.find(name);
  if (it == index_.end()) return std::nullopt;
  return std::string(it->second);
}

std::optional<std::string> FakeEnvironment::Get(absl::string_view name) const {
  auto it = values_.find(std::string(name));
  if (it == values_.end()) return std::nullopt;
  return it->second;
}

absl::StatusOr<Secret> ResolveValue(const ValueSource& source, const Environment& env,
                                    absl::string_view owner) {
  Messages message(source, owner);
  absl::StatusOr<std::string> raw = ResolveRaw(source, env, message);
  if (!raw.ok()) return raw.status();
  if (source.max_length > 0 && raw->size() > source.max_length) {
    const size_t length = raw->size();
    WipeString(*raw);
    return absl::InvalidArgumentError(message(absl::StrCat(
        "the value from ", DescribeSource(source), " is ", length, " characters long; at most ",
        source.max_length, " are allowed (the registry turns only secrets of at most ",
        source.max_length, " characters into logins)")));
  }
  return TakeSecret(&*raw);
}

std::string DisplayKey(absl::string_view key_path) {
  const size_t dot = key_path.find('.');
  if (dot == absl::string_view::npos || key_path.find_first_of(".[", dot + 1) != key_path.npos ||
      key_path.substr(0, dot).find('[') != absl::string_view::npos) {
    return std::string(key_path);
  }
  return absl::StrCat("[", key_path.substr(0, dot), "] ", key_path.substr(dot + 1));
}

std::string DescribeSource(const ValueSource& source) {
  // A command by its program alone: its arguments stay out of messages.
  if (source.kind == ValueSource::Kind::kCommand && !source.command.empty()) {
    return absl::StrCat("command ", source.command[0]);
  }
  return source.Describe();
}

std::string NameValue(const ValueSource& source, absl::string_view key) {
  return absl::StrCat(DisplayKey(!source.key_path.empty() ? absl::string_view(source.key_path)
                                 : key.empty()            ? absl::string_view("value")
                                                          : key),
                      " (", DescribeSource(source), ")");
}

std::string FileErrorReason(const absl::Status& status) {
  absl::string_view r = status.message();
  if (size_t colon = r.rfind(": "); colon != absl::string_view::npos) r = r.substr(colon + 2);
  return std::string(r);
}

absl::Status ResolveCloudIdentity(CloudConfig* cloud, const Environment& env) {
  if (cloud->kind == CloudKind::kLocal) return absl::OkStatus();
  std::vector<std::string> missing;
  struct Field {
    std::string* value;
    const char* key;
    const char* variable;
  };
  for (const Field& f :
       {Field{&cloud->tenant_id, "cloud.tenant_id", "AZURE_TENANT_ID"},
        Field{&cloud->subscription_id, "cloud.subscription_id", "AZURE_SUBSCRIPTION_ID"}}) {
    if (!f.value->empty()) continue;
    std::optional<std::string> value = env.Get(f.variable);
    if (value.has_value() && !value->empty()) {
      *f.value = std::string(absl::StripAsciiWhitespace(*value));
    } else {
      missing.push_back(
          absl::StrCat(f.key, " is not set and neither is the environment variable ", f.variable));
    }
  }
  if (!missing.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(absl::StrJoin(missing, "; "), "; set it in [cloud] or export the variable"));
  }
  return absl::OkStatus();
}

}  // namespace rotor
