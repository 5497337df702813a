// Dns01Solver: where the ACME client puts the TXT records of DNS-01
// (RFC 8555 §8.4). The CLI adapts the stamp's Azure DNS zone (through ARM)
// to it; tests drive pebble-challtestsrv's management API
// (providers/acme/testing/pebble_server.h).
#ifndef ROTOR_PROVIDERS_ACME_DNS01_SOLVER_H_
#define ROTOR_PROVIDERS_ACME_DNS01_SOLVER_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace rotor::acme {

// The label DNS-01 puts in front of the validated name (RFC 8555 §8.4).
inline constexpr char kAcmeChallengeLabel[] = "_acme-challenge";

class Dns01Solver {
 public:
  virtual ~Dns01Solver() = default;
  // Adds `txt_value` to the TXT records of `record_name`
  // ("_acme-challenge.registry.example.com", no trailing dot), keeping the
  // values already there: an order for a name and its wildcard presents two
  // values under one name. Returns once the DNS servers the CA asks answer
  // with it.
  virtual absl::Status Present(absl::string_view record_name, absl::string_view txt_value) = 0;
  // Removes every TXT value this solver presented under `record_name`.
  virtual absl::Status CleanUp(absl::string_view record_name) = 0;
};

}  // namespace rotor::acme

#endif  // ROTOR_PROVIDERS_ACME_DNS01_SOLVER_H_
