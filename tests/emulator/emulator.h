// Emulator: one HTTPS port serving every Azure Stack Hub surface rotor
// talks to, dispatched by path (paths never collide), with Key Vault
// requests routed to a vault by the Host header ({vault}.vault.{suffix};
// any other host goes to the first vault):
//
//   GET  /metadata/endpoints?api-version=...    Azure Stack Hub discovery
//   POST /{tenant}/oauth2/token                 AAD v1 token (resource=)
//   POST /{tenant}/oauth2/v2.0/token            AAD v2 token (scope=)
//   POST /adfs/oauth2/token                     ADFS token (resource=)
//   GET  /{tenant}[/v2.0]/.well-known/openid-configuration, /adfs/.well-known/...
//   GET  /{tenant}/discovery/v2.0/keys          the token signing key (JWKS)
//   GET  /common/discovery/instance             MSAL instance discovery
//   /secrets..., /deletedsecrets...             Key Vault data plane
//   /subscriptions/...                          ARM (see arm.h)
//   GET  /_emulator/stats                       counters (see stats.h)
//   POST /_emulator/stats/reset
//   POST /_emulator/deploy-fail?resourceGroup=RG   like --deploy-fail
//   GET  /_emulator/health, /_emulator/endpoints
//
// /_emulator/ requests get no latency, faults or authentication.
#ifndef ROTOR_TESTS_EMULATOR_EMULATOR_H_
#define ROTOR_TESTS_EMULATOR_EMULATOR_H_

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "tests/emulator/arm.h"
#include "tests/emulator/endpoints.h"
#include "tests/emulator/faults.h"
#include "tests/emulator/http_types.h"
#include "tests/emulator/journal.h"
#include "tests/emulator/keyvault.h"
#include "tests/emulator/options.h"
#include "tests/emulator/registry.h"
#include "tests/emulator/stats.h"
#include "tests/emulator/tls.h"
#include "tests/emulator/tokens.h"

namespace rotor::emulator {

class Emulator {
 public:
  // `port` is the bound port (the one clients use).
  static absl::StatusOr<std::unique_ptr<Emulator>> Create(EmulatorOptions options, int port,
                                                          const TlsFiles& tls);
  ~Emulator();

  HttpResponse Handle(const HttpRequest& request);

  // One line per endpoint, for the start-up banner.
  std::vector<std::string> EndpointLines() const;
  // The same as JSON (GET /_emulator/endpoints, DIR/endpoints.json).
  std::string EndpointsJson() const;
  uint64_t seed() const { return seed_; }
  // Stops running deployments and the registry command.
  void Shutdown();

  // --seed-registry (seed.cc): stands up what Microsoft's manual procedure
  // leaves behind, unless the state folder holds it already, and returns
  // the lines to print ("KEY VALUE"; never a password).
  absl::StatusOr<std::vector<std::string>> SeedRegistry();

 private:
  Emulator(EmulatorOptions options, int port);

  HttpResponse Route(const HttpRequest& request);
  HttpResponse Admin(const HttpRequest& request);
  HttpResponse Metadata(const HttpRequest& request) const;
  HttpResponse OpenIdConfiguration(const HttpRequest& request, const std::string& tenant,
                                   bool v2) const;
  HttpResponse KeyVault(const HttpRequest& request);
  HttpResponse Arm(const HttpRequest& request);
  SlidingWindow& Window(const std::string& vault, bool write);
  // The vault a Key Vault request is routed to ("" when none), for the journal.
  std::string JournalVault(const HttpRequest& request) const;

  EmulatorOptions options_;
  // The first --client, kept for --seed-registry (the token service owns
  // the list).
  std::optional<std::pair<std::string, Secret>> first_client_;
  Endpoints endpoints_;
  uint64_t seed_ = 0;
  Stats stats_;
  std::unique_ptr<FaultInjector> faults_;
  std::unique_ptr<Journal> journal_;  // --journal
  ScriptedAnswers scripted_;
  std::unique_ptr<TokenService> tokens_;
  std::unique_ptr<KeyVaultService> vaults_;
  std::unique_ptr<RegistryProvisioner> registry_;
  std::unique_ptr<ArmService> arm_;
  std::mutex windows_mu_;
  std::map<std::string, std::unique_ptr<SlidingWindow>> windows_;
};

}  // namespace rotor::emulator

#endif  // ROTOR_TESTS_EMULATOR_EMULATOR_H_
