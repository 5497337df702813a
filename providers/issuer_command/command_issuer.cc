#include "providers/issuer_command/command_issuer.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/files.h"
#include "base/inert_text.h"
#include "base/process.h"
#include "base/status_macros.h"
#include "certs/issuance.h"

namespace rotor::issuer_command {
namespace {

// How much of a failing program's standard error an error shows.
constexpr size_t kStderrTailBytes = 500;

// The last kStderrTailBytes of `stderr_text`, starting at a character
// boundary, inert and on one line.
std::string StderrTail(absl::string_view stderr_text) {
  absl::string_view tail = absl::StripAsciiWhitespace(stderr_text);
  if (tail.size() > kStderrTailBytes) {
    tail.remove_prefix(tail.size() - kStderrTailBytes);
    while (!tail.empty() && (static_cast<unsigned char>(tail.front()) & 0xC0) == 0x80) {
      tail.remove_prefix(1);
    }
    return absl::StrCat("...", ShowInert(tail));
  }
  return ShowInert(tail);
}

}  // namespace

CommandIssuer::CommandIssuer(CommandIssuerOptions options) : options_(std::move(options)) {}

absl::StatusOr<std::string> CommandIssuer::Issue(const IssueRequest& request) {
  if (options_.command.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(options_.describe, " is empty"));
  }
  const std::string who = absl::StrCat(options_.describe, " (", ShowPath(options_.command[0]), ")");
  ProcessOptions process;
  process.stdin_data = request.csr_pem;
  process.timeout = options_.timeout;
  process.max_stdout_bytes = certs::kMaxChainPemBytes;
  process.max_stderr_bytes = 64 << 10;
  process.keep_stderr_tail = true;
  absl::StatusOr<ProcessResult> result = RunProcess(options_.command, process);
  if (!result.ok()) {
    return absl::Status(result.status().code(),
                        absl::StrCat(who, " could not be started: ", result.status().message()));
  }
  if (result->timed_out) {
    return absl::DeadlineExceededError(
        absl::StrCat(who, " timed out after ", absl::FormatDuration(options_.timeout), " issuing ",
                     request.secret_name, "; it and what it started were ended"));
  }
  if (result->output_exceeded) {
    return absl::ResourceExhaustedError(
        absl::StrCat(who, " printed more than ", ShowBytes(certs::kMaxChainPemBytes),
                     ", more than a certificate chain takes; it was ended"));
  }
  if (result->exit_code != 0) {
    const std::string tail = StderrTail(result->stderr_data);
    return absl::FailedPreconditionError(absl::StrCat(
        who, " exited with status ", result->exit_code, " issuing ", request.secret_name,
        tail.empty() ? " and printed nothing on standard error"
                     : absl::StrCat("; its standard error ends: ", tail)));
  }
  const std::string source = absl::StrCat("the output of ", who);
  ASSIGN_OR_RETURN(std::vector<std::string> chain,
                   certs::ParsePemChain(result->stdout_data, source));
  RETURN_IF_ERROR(certs::LeafMatchesCsr(request.csr_pem, chain, source));
  return absl::StrJoin(chain, "");
}

}  // namespace rotor::issuer_command
