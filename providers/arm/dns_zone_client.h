// ArmDnsZoneClient: TXT record sets of an Azure DNS zone
// (Microsoft.Network/dnsZones) through ARM, for ACME DNS-01 challenges on
// the stamp's own zone. Azure Stack Hub serves api-version 2016-04-01,
// public Azure 2018-05-01 (the cloud profile picks, auth::ApiVersions::dns).
//
//   GET    .../resourceGroups/{rg}/providers/Microsoft.Network/dnsZones/{zone}
//   GET    .../dnsZones/{zone}/TXT                      (list, nextLink)
//   PUT    .../dnsZones/{zone}/TXT/{relativeName}
//   DELETE .../dnsZones/{zone}/TXT/{relativeName}       (404 is success)
//
// Record sets rotor writes carry the metadata managed-by = rotor, so a later
// run can find and remove what an interrupted one left behind.
#ifndef ROTOR_PROVIDERS_ARM_DNS_ZONE_CLIENT_H_
#define ROTOR_PROVIDERS_ARM_DNS_ZONE_CLIENT_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "providers/http/http_client.h"

namespace rotor::arm {

struct DnsZoneOptions {
  std::string arm_endpoint;  // "https://management.local.azurestack.external"
  std::string subscription_id;
  std::string resource_group;
  std::string zone;  // "registry.contoso.com": the zone's name
  std::string api_version = "2016-04-01";
  int max_pages = 100;
};

struct TxtRecordSet {
  std::string name;                 // relative to the zone: "_acme-challenge.registry", "@"
  std::vector<std::string> values;  // one string per record
  bool managed_by_rotor = false;    // metadata managed-by = rotor
};

class ArmDnsZoneClient {
 public:
  static absl::StatusOr<std::unique_ptr<ArmDnsZoneClient>> Create(
      std::shared_ptr<http::HttpSender> sender, DnsZoneOptions options);

  // OK when the zone exists; NotFound naming the zone, the resource group
  // and the URL otherwise.
  absl::Status CheckZone();

  // The relative name of `fqdn` in the zone ("_acme-challenge.reg" for
  // "_acme-challenge.reg.contoso.com" in "contoso.com"; "@" for the apex),
  // or InvalidArgument when the zone does not contain it.
  absl::StatusOr<std::string> RelativeName(absl::string_view fqdn) const;

  // Replaces the record set `relative_name` with one record per value
  // (TTL 60 s), tagged managed-by = rotor.
  absl::Status SetTxt(absl::string_view relative_name, const std::vector<std::string>& values);
  // Deletes the record set; one that does not exist is success.
  absl::Status DeleteTxt(absl::string_view relative_name);
  // Every TXT record set of the zone.
  absl::StatusOr<std::vector<TxtRecordSet>> ListTxt();

  const DnsZoneOptions& options() const { return options_; }

 private:
  ArmDnsZoneClient(std::shared_ptr<http::HttpSender> sender, DnsZoneOptions options);
  std::string ZoneUrl(absl::string_view suffix) const;
  absl::StatusOr<http::HttpResponse> Send(http::HttpRequest request);

  std::shared_ptr<http::HttpSender> sender_;
  DnsZoneOptions options_;
};

}  // namespace rotor::arm

#endif  // ROTOR_PROVIDERS_ARM_DNS_ZONE_CLIENT_H_
