// The JSON of Azure DNS TXT record sets (Microsoft.Network/dnsZones), kept
// apart from the client so RapidJSON stays in codec files.
#ifndef ROTOR_PROVIDERS_ARM_DNS_ZONE_CODEC_H_
#define ROTOR_PROVIDERS_ARM_DNS_ZONE_CODEC_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "base/secret.h"
#include "providers/arm/dns_zone_client.h"

namespace rotor::arm {

// {"properties": {"TTL": ttl, "metadata": {"managed-by": "rotor"},
//  "TXTRecords": [{"value": [v]}, ...]}}
Secret TxtRecordSetBody(const std::vector<std::string>& values, int ttl_seconds);

struct TxtRecordSetPage {
  std::vector<TxtRecordSet> items;
  std::string next_link;
};
// A list answer ({"value": [...], "nextLink"}); `url` names it in errors.
absl::StatusOr<TxtRecordSetPage> ParseTxtRecordSetList(absl::string_view body,
                                                       absl::string_view url);

}  // namespace rotor::arm

#endif  // ROTOR_PROVIDERS_ARM_DNS_ZONE_CODEC_H_
