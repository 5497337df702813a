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

// "password" from "user[admin].password".
absl::string_view LastKey(absl::string_view key_path) {
  size_t dot = key_path.rfind('.');
  return dot == absl::string_view::npos ? key_path : key_path.substr(dot + 1);
}

// Builds "<owner>: <key>: <what> (<key path> at <file:line:col>)".
class Messages {
 public:
  Messages(const ValueSource& source, absl::string_view owner) {
    const std::string key_path = source.key_path.empty() ? "value" : source.key_path;
    head_ = owner.empty() ? key_path : absl::StrCat(owner, ": ", LastKey(key_path));
    std::string where = owner.empty() ? "" : key_path;
    if (!source.location.file.empty()) {
      absl::StrAppend(&where, where.empty() ? "" : " ", "at ", source.location.file, ":",
                      source.location.line, ":", source.location.column);
    }
    tail_ = where.empty() ? "" : absl::StrCat(" (", where, ")");
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
        // ReadFile says "open <path>: <reason>"; keep the reason.
        std::string reason(contents.status().message());
        absl::string_view r = reason;
        if (size_t colon = r.rfind(": "); colon != absl::string_view::npos) {
          r = r.substr(colon + 2);
        }
        return absl::Status(
            contents.status().code(),
            message(absl::StrCat("cannot read file ", ShowPath(source.file), ": ", r)));
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
      const std::string program = ShowPath(source.command[0]);
      ProcessOptions options;
      options.timeout = kCommandTimeout;
      options.max_stdout_bytes = kMaxSecretSourceBytes;
      options.max_stderr_bytes = 64 << 10;  // only its first line is shown
      absl::StatusOr<ProcessResult> result = RunProcess(source.command, options);
      if (!result.ok()) {
        return absl::Status(result.status().code(),
                            message(absl::StrCat("command \"", program, "\" could not be started: ",
                                                 result.status().message())));
      }
      std::string out = std::move(result->stdout_data);
      std::string err_line = FirstLine(result->stderr_data);
      WipeString(result->stdout_data);
      WipeString(result->stderr_data);
      if (result->output_exceeded) {
        WipeString(out);
        return absl::ResourceExhaustedError(message(
            absl::StrCat("command \"", program, "\" printed more than ",
                         ShowBytes(kMaxSecretSourceBytes), ", the limit for a secret value")));
      }
      if (result->timed_out) {
        WipeString(out);
        return absl::DeadlineExceededError(
            message(absl::StrCat("command \"", program, "\" did not finish within ",
                                 absl::FormatDuration(kCommandTimeout))));
      }
      if (result->exit_code != 0) {
        WipeString(out);
        return absl::FailedPreconditionError(
            message(absl::StrCat("command \"", program, "\" exited with code ", result->exit_code,
                                 err_line.empty() ? "" : absl::StrCat(": ", err_line))));
      }
      StripOneTrailingNewline(&out);
      if (out.empty()) {
        return absl::InvalidArgumentError(
            message(absl::StrCat("command \"", program, "\" printed nothing")));
      }
      return out;
    }
    case ValueSource::Kind::kLiteral:
      return std::string(source.literal.Reveal());
    case ValueSource::Kind::kGenerate:
      return absl::FailedPreconditionError(
          message("a { generate = N } value is created by rotor when it writes "
                  "the secret, "
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
        "the value (from ", source.Describe(), ") is ", length, " characters long; at most ",
        source.max_length, " are allowed (the registry turns only secrets of at most ",
        source.max_length, " characters into logins)")));
  }
  return TakeSecret(&*raw);
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
