// CommandIssuer: the enterprise CA hook ([certificate.issuer] command). It
// runs a program of the user's (argv as given, no shell) with the request's
// CSR (PEM) on standard input, and takes the PEM chain, leaf first, that
// the program prints on standard output: what a script around an
// enterprise CA's tooling (certreq, step, openssl ca, a CA's REST API)
// naturally does. The program never sees a private key.
#ifndef ROTOR_PROVIDERS_ISSUER_COMMAND_COMMAND_ISSUER_H_
#define ROTOR_PROVIDERS_ISSUER_COMMAND_COMMAND_ISSUER_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "engine/model/certificate_issuer.h"

namespace rotor::issuer_command {

struct CommandIssuerOptions {
  std::vector<std::string> command;  // argv; command[0] is looked up in PATH
  absl::Duration timeout = absl::Seconds(30);
  // Where the command was configured, first in every error:
  // "[certificate.issuer] command".
  std::string describe;
};

class CommandIssuer : public CertificateIssuer {
 public:
  explicit CommandIssuer(CommandIssuerOptions options);

  // Runs the command once. Errors (all name `describe` and the program):
  //   it cannot be started (NotFound / PermissionDenied);
  //   it runs past `timeout`: its whole process group is killed
  //     (DeadlineExceeded, "timed out after N s");
  //   it prints more than certs::kMaxChainPemBytes: killed the same way
  //     (ResourceExhausted);
  //   it exits non-zero: the status and the inert tail of its standard
  //     error (FailedPrecondition);
  //   its output is not a PEM chain (certs::ParsePemChain) or the leaf is
  //     for another key than the CSR's (InvalidArgument).
  // Returns the chain as PEM, leaf first, as certs::ParsePemChain rewrote it.
  absl::StatusOr<std::string> Issue(const IssueRequest& request) override;

 private:
  CommandIssuerOptions options_;
};

}  // namespace rotor::issuer_command

#endif  // ROTOR_PROVIDERS_ISSUER_COMMAND_COMMAND_ISSUER_H_
