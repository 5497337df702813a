// Replays rotor-emulator's request journal (--journal FILE, one JSON object
// per request, tests/emulator/journal.h) against the invariants of issue 8:
//
//   users        every declared user that has an enabled secret keeps one at
//                every moment (its secret is never deleted, its latest
//                version never disabled), and no secret is deleted before
//                every declared user's secret has landed (the replacement is
//                written first);
//   certificate  no version of a certificate secret (content type pfx or
//                application/x-pkcs12, or a name given) is ever deleted,
//                purged or disabled: registry VMs may still reference it;
//   thumbprint   every deployment PUT's pfx_thumbprint is the thumbprint of
//                the PFX stored at its pfx_secret_url version (a version the
//                journal saw written);
//   running      no deployment PUT arrives while a deployment of its resource
//                group is running.
//
// The journal must cover the emulator's whole life (--journal given at its
// first start) so that every version is known. Lines are in answer order and
// `seq` is the arrival order: a write counts as landed before a delete when
// its line comes first and it arrived first.
#ifndef ROTOR_TESTS_RELIABILITY_JOURNAL_CHECKER_H_
#define ROTOR_TESTS_RELIABILITY_JOURNAL_CHECKER_H_

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace rotor::reliability {

struct JournalEntry {
  int line = 0;  // 1-based line in the journal
  int64_t seq = 0;
  std::string method, path, fault, client, surface;
  int status = 0;  // 0: dropped
  // Key Vault
  std::string vault, op, secret, version, content_type, thumbprint;
  std::optional<bool> enabled;
  // ARM
  std::string resource_group, deployment, pfx_secret_url, pfx_thumbprint;
  std::vector<std::string> running;

  bool Succeeded() const { return status >= 200 && status < 300; }
  bool IsDeploymentPut() const;
};

// Parses every non-empty line; InvalidArgument naming the line otherwise.
absl::StatusOr<std::vector<JournalEntry>> ParseJournal(absl::string_view text);

struct InvariantOptions {
  // The configuration's [[user]] names (case-insensitive, as Key Vault's).
  std::vector<std::string> users;
  // Certificate secret names besides those written with a PFX content type.
  std::vector<std::string> certificate_secrets;
};

struct Violation {
  std::string invariant;  // users, certificate, thumbprint, running
  int line = 0;
  int64_t seq = 0;
  std::string detail;
  std::string ToString() const;
};

// What the replay ends with, for "nothing lost" checks.
struct ReplayedVault {
  // lower-cased secret name -> versions written (2xx SetSecret), in order.
  std::map<std::string, std::vector<std::string>> written;
  // lower-cased names deleted (soft) and not recovered at the end.
  std::set<std::string> deleted;
  int deployment_puts = 0;       // every deployment PUT sent
  int deployments_accepted = 0;  // ...answered 200/201
};

struct CheckResult {
  std::vector<Violation> violations;
  ReplayedVault vault;
  // One line per violation; "" when none.
  std::string Describe() const;
};

CheckResult CheckJournal(const std::vector<JournalEntry>& entries, const InvariantOptions& options);
// Reads and parses `path`, then checks it; a parse error is a violation.
CheckResult CheckJournalFile(const std::string& path, const InvariantOptions& options);

}  // namespace rotor::reliability

#endif  // ROTOR_TESTS_RELIABILITY_JOURNAL_CHECKER_H_
