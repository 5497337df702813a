// Azure DNS zones through ARM (Microsoft.Network/dnsZones), as public Azure
// and Azure Stack Hub serve them, for rotor's ACME DNS-01 challenges:
//
//   PUT|GET|DELETE .../resourceGroups/{rg}/providers/Microsoft.Network/dnsZones/{zone}
//   GET            .../dnsZones/{zone}/TXT                      (list)
//   PUT|GET|DELETE .../dnsZones/{zone}/TXT/{relativeName}
//
// api-versions kDnsApiVersions only (others: 400 NoRegisteredProviderFound,
// as ARM answers a version the resource type does not register). Zones and
// TXT record sets persist in {state}/emulator/dns.json, written before the
// answer. Only TXT record sets are served (other types: 404).
//
// With a challtestsrv URL (--challtestsrv), every TXT record set stored is
// mirrored into pebble-challtestsrv's management API so that Pebble (started
// with -dnsserver at challtestsrv's DNS port) validates DNS-01 against what
// was written through ARM: a PUT clears the name (POST /clear-txt
// {"host"}) and sets each record (POST /set-txt {"host", "value"}, the
// record's strings joined, as a resolver reads one TXT record); a DELETE of
// the set, or of its zone, clears the name. The host is the record set's
// fqdn ("{relativeName}.{zone}.", "{zone}." for "@"), lower case. A
// mirroring failure fails the ARM request (500 ChallTestSrvMirrorFailed)
// and leaves the stored set as it was. At start-up the stored sets are
// mirrored again (challtestsrv keeps nothing across its own restarts).
#ifndef ROTOR_TESTS_EMULATOR_DNS_H_
#define ROTOR_TESTS_EMULATOR_DNS_H_

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "tests/emulator/http_types.h"

namespace rotor::http {
class HttpClient;
}

namespace rotor::emulator {

// The Microsoft.Network dnsZones api-versions the emulator serves: what
// Azure Stack Hub's profiles use (2016-04-01) and public Azure's stable
// version (2018-05-01).
inline constexpr const char* kDnsApiVersions[] = {"2016-04-01", "2018-05-01"};

// Bounds of a TXT record set (Azure DNS's limits where it documents them).
inline constexpr size_t kMaxTxtStringLength = 255;  // characters per string
inline constexpr size_t kMaxTxtStrings = 16;        // strings per record
inline constexpr size_t kMaxTxtRecords = 20;        // records per record set
inline constexpr size_t kMaxRecordSets = 5000;      // per zone (SOA and NS included)
inline constexpr size_t kMaxMetadata = 50;          // tags / metadata entries

struct DnsOptions {
  std::string state_dir;
  // http://HOST:PORT of pebble-challtestsrv's management API on loopback;
  // "" for none.
  std::string challtestsrv;
};

class DnsZones {
 public:
  // Loads {state}/emulator/dns.json and, with a challtestsrv URL, mirrors
  // the stored TXT record sets into it.
  static absl::StatusOr<std::unique_ptr<DnsZones>> Open(DnsOptions options);
  ~DnsZones();

  // An ARM request under .../resourceGroups/{rg}/providers/Microsoft.Network/
  // dnsZones, the resource group known to exist; `rest` is the path after
  // "dnsZones" ({zone}, {zone, TYPE} or {zone, TYPE, name}).
  HttpResponse Handle(const HttpRequest& request, const std::string& sub, const std::string& rg,
                      absl::Span<const std::string> rest);

  // Creates the zone `zone` in `rg` unless it exists (--dns-zone).
  absl::Status EnsureZone(const std::string& rg, const std::string& zone);

 private:
  struct TxtSet;
  struct Zone;
  explicit DnsZones(DnsOptions options);

  HttpResponse ZoneRequest(const HttpRequest& request, const std::string& sub,
                           const std::string& rg, const std::string& zone);
  HttpResponse TxtRequest(const HttpRequest& request, const std::string& sub, const std::string& rg,
                          const std::string& zone, const std::string& name);
  // A record set as Azure answers it.
  static std::string TxtSetJson(const std::string& sub, const Zone& z, const TxtSet& set);
  HttpResponse ListTxt(const std::string& sub, const std::string& rg, const std::string& zone);
  // Makes challtestsrv answer `records` (each joined) for `host`, or
  // nothing when `records` is empty. OK without --challtestsrv.
  absl::Status Mirror(const std::string& host,
                      const std::vector<std::vector<std::string>>& records);
  absl::Status Save() const;  // needs mu_

  DnsOptions options_;
  std::unique_ptr<http::HttpClient> challtestsrv_;
  mutable std::mutex mu_;  // zones_; held while mirroring, so mirrors apply in order
  std::map<std::string, std::unique_ptr<Zone>> zones_;  // "rg/zone", lower case
};

}  // namespace rotor::emulator

#endif  // ROTOR_TESTS_EMULATOR_DNS_H_
