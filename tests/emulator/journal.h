// The request journal (--journal FILE): an append-only record of every
// request the emulator receives (not the /_emulator/ ones), one JSON object
// per line, written and flushed as the request is answered, so a test can
// replay what a client did against invariants (tests/reliability) while the
// client runs, after it was killed, or after the emulator restarted on the
// same file.
//
// Never a value: no body, no header, no query string. A line holds
//   seq      arrival order (1, 2, ...; lines are written in answer order)
//   time     arrival, UTC with milliseconds; ms: time to answer
//   method, path (percent-decoded, no query), status (0: dropped)
//   fault    "" or what the fault injection did: drop, 500, 503 (--fail-rate),
//            corrupt (--corrupt-rate), slow (--slow-rate), scripted
//            (/_emulator/answer)
//   client   the User-Agent's first word ("rotor/0.1.0", "curl/7.88.1")
//   surface  kv, arm, token, metadata or other
// and for Key Vault requests: vault, op (SetSecret, DeleteSecret,
// UpdateSecret, RecoverDeletedSecret, PurgeDeletedSecret, GetSecret, ...),
// secret (the name as sent), version (the one addressed, or the one a
// write made), content_type and enabled (what a SetSecret or UpdateSecret
// asked for), thumbprint (of the PFX a SetSecret stored, when its content
// type is pfx or application/x-pkcs12; pfx_error when it does not open);
// for ARM deployment requests: resource_group, deployment, and for a PUT
// pfx_secret_url, pfx_thumbprint (the parameters it passes), managed_by
// (its tag) and running (the deployments of the group that were Running
// when it arrived); for Azure DNS requests: resource_group, dns_zone and
// record_type and record_set (as sent) when the path names them (never a
// record's value).
#ifndef ROTOR_TESTS_EMULATOR_JOURNAL_H_
#define ROTOR_TESTS_EMULATOR_JOURNAL_H_

#include <cstdint>
#include <cstdio>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tests/emulator/http_types.h"

namespace rotor::emulator {

// What the emulator knows about a request beyond the request and answer.
struct JournalContext {
  int64_t seq = 0;
  absl::Time arrival;
  absl::Duration took;
  std::string fault;
  std::string vault;  // Key Vault requests: the vault that served it
  // Deployment PUTs: the group's deployments Running at arrival.
  std::vector<std::string> running;
};

class Journal {
 public:
  // Opens `path` for appending (created 0600 when missing).
  static absl::StatusOr<std::unique_ptr<Journal>> Open(const std::string& path);
  ~Journal();
  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;

  // The next arrival number.
  int64_t Arrive();
  void Record(const JournalContext& context, const HttpRequest& request,
              const HttpResponse& response);

 private:
  explicit Journal(std::FILE* file, int64_t first_seq) : file_(file), next_seq_(first_seq) {}
  std::mutex mu_;
  std::FILE* file_;
  int64_t next_seq_;
};

// The journal line for a request (exposed for tests).
std::string JournalLine(const JournalContext& context, const HttpRequest& request,
                        const HttpResponse& response);

// (resource group, deployment) when `request` is a PUT of an ARM deployment.
std::optional<std::pair<std::string, std::string>> DeploymentPut(const HttpRequest& request);

}  // namespace rotor::emulator

#endif  // ROTOR_TESTS_EMULATOR_JOURNAL_H_
