// ArmDns01Solver: ACME's DNS-01 answers written as TXT record sets of the
// stamp's Azure DNS zone through ARM ([certificate.acme] dns_zone,
// dns_resource_group). The composition root's adapter between the ACME
// client and the ARM DNS client, which know nothing of each other.
//
// A run killed between Present and CleanUp leaves a record set behind; the
// next run's first Present removes every _acme-challenge record set rotor
// wrote (metadata managed-by = rotor) before it writes its own.
#ifndef ROTOR_CLI_ARM_DNS01_SOLVER_H_
#define ROTOR_CLI_ARM_DNS01_SOLVER_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "providers/acme/dns01_solver.h"
#include "providers/arm/dns_zone_client.h"

namespace rotor::cli {

class ArmDns01Solver : public acme::Dns01Solver {
 public:
  explicit ArmDns01Solver(std::unique_ptr<arm::ArmDnsZoneClient> zone);

  absl::Status Present(absl::string_view record_name, absl::string_view txt_value) override;
  absl::Status CleanUp(absl::string_view record_name) override;

  // OK when the zone exists (ArmDnsZoneClient::CheckZone).
  absl::Status CheckZone() { return zone_->CheckZone(); }
  // Deletes the _acme-challenge record sets an earlier run left behind.
  absl::Status RemoveStale();

 private:
  std::unique_ptr<arm::ArmDnsZoneClient> zone_;
  bool stale_removed_ = false;
  // Relative record name -> the values presented under it.
  std::map<std::string, std::vector<std::string>> presented_;
};

}  // namespace rotor::cli

#endif  // ROTOR_CLI_ARM_DNS01_SOLVER_H_
