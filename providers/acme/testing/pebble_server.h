// PebbleServer: a real ACME CA for tests. Starts pebble-challtestsrv (DNS-01
// answers and its management API only) and Pebble (Let's Encrypt's test
// CA, Debian package `pebble`) on free loopback ports, Pebble resolving
// through challtestsrv and serving HTTPS with a certificate made at run
// time for localhost and 127.0.0.1. Validation is real (PEBBLE_VA_NOSLEEP
// only removes Pebble's random sleeps). Both programs run in process groups
// of their own and are killed with the object.
//
// ChallTestSrvSolver is the Dns01Solver tests give the ACME client: it sets
// and clears TXT records through challtestsrv's management API
// (/set-txt, /clear-txt) and remembers what it presented.
#ifndef ROTOR_PROVIDERS_ACME_TESTING_PEBBLE_SERVER_H_
#define ROTOR_PROVIDERS_ACME_TESTING_PEBBLE_SERVER_H_

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "providers/acme/dns01_solver.h"
#include "providers/http/http_client.h"

namespace rotor::acme::testing {

inline constexpr char kPebbleBinary[] = "/usr/bin/pebble";
inline constexpr char kChallTestSrvBinary[] = "/usr/bin/pebble-challtestsrv";

class PebbleServer {
 public:
  struct Options {
    // PEBBLE_WFE_NONCEREJECT: the percentage of good nonces Pebble rejects
    // as bad; unset: Pebble's default (5).
    std::optional<int> nonce_reject;
    // PEBBLE_AUTHZREUSE: the percentage of valid authorizations reused in
    // new orders; unset: Pebble's default (50).
    std::optional<int> authz_reuse;
    // externalAccountBindingRequired, with these key ids and base64url MAC
    // keys, when not empty.
    std::map<std::string, std::string> eab_keys;
  };

  // Fails (naming the program and quoting its log) when either program is
  // missing or does not come up within 30 s.
  static absl::StatusOr<std::unique_ptr<PebbleServer>> Start(Options options);
  static absl::StatusOr<std::unique_ptr<PebbleServer>> Start() { return Start(Options()); }
  ~PebbleServer();
  PebbleServer(const PebbleServer&) = delete;
  PebbleServer& operator=(const PebbleServer&) = delete;

  // "https://127.0.0.1:PORT/dir".
  std::string directory_url() const;
  // The CA of Pebble's own HTTPS certificate (made at start), to trust.
  const std::string& tls_ca_pem() const;
  // "http://127.0.0.1:PORT" of challtestsrv's management API.
  std::string challtestsrv_url() const;
  // Pebble's issuing root (from its management endpoint /roots/0), PEM:
  // the anchor of every chain it issues.
  absl::StatusOr<std::string> IssuingRootPem() const;
  // Both programs' output so far, for failure messages.
  std::string Logs() const;

 private:
  struct State;
  explicit PebbleServer(std::unique_ptr<State> state);
  // One start on freshly picked ports; Aborted when one was taken meanwhile.
  static absl::StatusOr<std::unique_ptr<PebbleServer>> StartOnce(const Options& options);
  std::unique_ptr<State> state_;
};

class ChallTestSrvSolver : public Dns01Solver {
 public:
  explicit ChallTestSrvSolver(std::string challtestsrv_url);
  ~ChallTestSrvSolver() override;

  absl::Status Present(absl::string_view record_name, absl::string_view txt_value) override;
  absl::Status CleanUp(absl::string_view record_name) override;

  // Present() writes "wrong-" + the value instead (to test a failed
  // validation).
  void set_present_wrong_values(bool wrong) { wrong_values_ = wrong; }
  // Record names presented and not cleaned up yet.
  std::set<std::string> live() const;
  // Every record name ever presented.
  std::set<std::string> presented() const;
  int cleanups() const;

 private:
  absl::Status Call(absl::string_view action, absl::string_view record_name,
                    absl::string_view value);
  std::string url_;
  std::unique_ptr<http::HttpClient> http_;
  bool wrong_values_ = false;
  mutable std::mutex mu_;
  std::set<std::string> live_;
  std::set<std::string> presented_;
  int cleanups_ = 0;
};

}  // namespace rotor::acme::testing

#endif  // ROTOR_PROVIDERS_ACME_TESTING_PEBBLE_SERVER_H_
