#include "tests/emulator/dns.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "base/files.h"
#include "base/status_context.h"
#include "base/status_macros.h"
#include "providers/http/http_client.h"
#include "tests/emulator/arm.h"
#include "tests/emulator/json_internal.h"
#include "tests/emulator/template.h"
#include "tests/emulator/util.h"

namespace rotor::emulator {

struct DnsZones::TxtSet {
  std::string name;  // relative name, lower case ("@" for the apex)
  std::string etag;
  int64_t ttl = 3600;
  std::map<std::string, std::string> metadata;
  std::vector<std::vector<std::string>> records;  // each record's strings
};

struct DnsZones::Zone {
  std::string resource_group;  // as first given
  std::string name;            // lower case
  std::string etag;
  std::map<std::string, std::string> tags;
  std::map<std::string, TxtSet> txt;  // by relative name
};

namespace {

constexpr char kZoneType[] = "Microsoft.Network/dnszones";
constexpr char kTxtType[] = "Microsoft.Network/dnszones/TXT";
// The name servers Azure DNS delegates public zones to (the emulator serves
// no DNS itself; challtestsrv answers for it).
constexpr const char* kNameServers[] = {"ns1-01.azure-dns.com.", "ns2-01.azure-dns.net.",
                                        "ns3-01.azure-dns.org.", "ns4-01.azure-dns.info."};
// Record sets every zone holds from its creation (SOA and NS at the apex).
constexpr size_t kApexRecordSets = 2;

HttpResponse BadRequest(absl::string_view message) { return ArmError(400, "BadRequest", message); }

bool LabelChar(char c, bool underscore) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-' || (underscore && c == '_');
}

// A DNS label: 1..63 letters, digits, hyphens (and underscores in record
// names: _acme-challenge), not starting or ending with a hyphen.
bool ValidLabel(absl::string_view label, bool underscore) {
  if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
    return false;
  }
  return std::all_of(label.begin(), label.end(), [&](char c) { return LabelChar(c, underscore); });
}

// A zone name: at least two labels, at most 253 characters, no trailing dot.
absl::Status CheckZoneName(absl::string_view zone) {
  std::vector<absl::string_view> labels = absl::StrSplit(zone, '.');
  bool ok = zone.size() <= 253 && labels.size() >= 2;
  for (absl::string_view l : labels) ok = ok && ValidLabel(l, false);
  if (!ok) {
    return absl::InvalidArgumentError(
        absl::StrCat("The zone name '", zone.substr(0, 260),
                     "' is invalid: use at least two DNS labels (letters, digits, hyphens) "
                     "separated by dots, at most 253 characters, without a trailing dot."));
  }
  return absl::OkStatus();
}

// A relative record set name: "@" (the apex) or DNS labels ("*" first
// allowed), with the zone at most 253 characters.
absl::Status CheckRecordName(absl::string_view name, absl::string_view zone) {
  bool ok = name == "@";
  if (!ok) {
    std::vector<absl::string_view> labels = absl::StrSplit(name, '.');
    ok = name.size() + 1 + zone.size() <= 253;
    for (size_t i = 0; i < labels.size(); ++i) {
      ok = ok && (ValidLabel(labels[i], true) || (i == 0 && labels[i] == "*"));
    }
  }
  if (!ok) {
    return absl::InvalidArgumentError(absl::StrCat(
        "The record set name '", name.substr(0, 260),
        "' is invalid: use '@' or DNS labels (letters, digits, hyphens, underscores) separated "
        "by dots, at most 253 characters with the zone name."));
  }
  return absl::OkStatus();
}

// "{name}.{zone}." ("{zone}." for "@").
std::string Fqdn(absl::string_view name, absl::string_view zone) {
  return name == "@" ? absl::StrCat(zone, ".") : absl::StrCat(name, ".", zone, ".");
}

// An object of string values (tags, metadata), at most kMaxMetadata entries.
absl::StatusOr<std::map<std::string, std::string>> StringMap(const rapidjson::Value* v,
                                                             absl::string_view what) {
  std::map<std::string, std::string> out;
  if (v == nullptr || v->IsNull()) return out;
  if (!v->IsObject() || v->MemberCount() > kMaxMetadata) {
    return absl::InvalidArgumentError(absl::StrCat("The property '", what,
                                                   "' must be an object of at most ", kMaxMetadata,
                                                   " string values."));
  }
  for (const auto& m : v->GetObject()) {
    if (!m.value.IsString() || m.name.GetStringLength() > 512 || m.value.GetStringLength() > 256) {
      return absl::InvalidArgumentError(absl::StrCat(
          "The property '", what,
          "' must hold string values (names up to 512, values up to 256 characters)."));
    }
    out[m.name.GetString()] = std::string(m.value.GetString(), m.value.GetStringLength());
  }
  return out;
}

void WriteRecords(json::Writer& w, const std::vector<std::vector<std::string>>& records) {
  w.StartArray();
  for (const auto& record : records) {
    w.StartObject();
    json::Key(w, "value");
    w.StartArray();
    for (const auto& s : record) json::Str(w, s);
    w.EndArray();
    w.EndObject();
  }
  w.EndArray();
}

// A request body parsed into `doc`; false unless it is a JSON object.
bool ParseObject(const std::string& body, rapidjson::Document& doc) {
  doc.Parse<rapidjson::kParseIterativeFlag>(body.data(), body.size());
  return !doc.HasParseError() && doc.IsObject();
}

// ARM's refusal of a body that is not a JSON object (Refused answers it).
absl::Status NotAnObject() {
  return absl::InvalidArgumentError(
      "InvalidRequestContent: The request content was invalid and could not be deserialized: a "
      "JSON object is expected.");
}

// The body of a record set PUT: {"properties": {"TTL", "TXTRecords",
// "metadata"}} (property names case-insensitive, as ARM reads them).
absl::Status ParseTxtBody(const std::string& body, int64_t& ttl,
                          std::map<std::string, std::string>& metadata,
                          std::vector<std::vector<std::string>>& records) {
  rapidjson::Document doc;
  if (!ParseObject(body, doc)) return NotAnObject();
  const rapidjson::Value* props = json::MemberCi(doc, "properties");
  if (props == nullptr || !props->IsObject()) {
    return absl::InvalidArgumentError("The record set has no 'properties' object.");
  }
  if (const rapidjson::Value* t = json::MemberCi(*props, "TTL"); t != nullptr && !t->IsNull()) {
    if (!t->IsInt64() || t->GetInt64() < 0 || t->GetInt64() > 2147483647) {
      return absl::InvalidArgumentError(
          "The value of 'TTL' is invalid: an integer from 0 to 2147483647 is expected.");
    }
    ttl = t->GetInt64();
  }
  ASSIGN_OR_RETURN(metadata, StringMap(json::MemberCi(*props, "metadata"), "metadata"));
  const rapidjson::Value* txt = json::MemberCi(*props, "TXTRecords");
  if (txt == nullptr || txt->IsNull()) return absl::OkStatus();
  if (!txt->IsArray() || txt->Size() > kMaxTxtRecords) {
    return absl::InvalidArgumentError(absl::StrCat(
        "The property 'TXTRecords' must be an array of at most ", kMaxTxtRecords, " records."));
  }
  for (const auto& r : txt->GetArray()) {
    const rapidjson::Value* value = json::MemberCi(r, "value");
    if (value == nullptr || !value->IsArray() || value->Empty() || value->Size() > kMaxTxtStrings) {
      return absl::InvalidArgumentError(absl::StrCat(
          "Each TXT record needs a 'value': an array of 1 to ", kMaxTxtStrings, " strings."));
    }
    std::vector<std::string> strings;
    for (const auto& s : value->GetArray()) {
      if (!s.IsString() || s.GetStringLength() > kMaxTxtStringLength) {
        return absl::InvalidArgumentError(
            absl::StrCat("A TXT record's value must hold strings of at most ", kMaxTxtStringLength,
                         " characters."));
      }
      strings.emplace_back(s.GetString(), s.GetStringLength());
    }
    records.push_back(std::move(strings));
  }
  return absl::OkStatus();
}

// A refusal of ParseTxtBody or a name check as ARM's 400 ("Code: message",
// else BadRequest).
HttpResponse Refused(const absl::Status& status) {
  absl::string_view message = status.message();
  if (absl::ConsumePrefix(&message, "InvalidRequestContent: ")) {
    return ArmError(400, "InvalidRequestContent", message);
  }
  return BadRequest(message);
}

// ARM's answer for a record set request in a zone that does not exist.
HttpResponse ParentNotFound(absl::string_view zone) {
  return ArmError(404, "ParentResourceNotFound",
                  absl::StrCat("Can not perform requested operation on nested resource. Parent "
                               "resource '",
                               zone, "' not found."));
}

HttpResponse Answer(int status, std::string body = "") {
  HttpResponse r;
  if (body.empty()) {
    r.status = status;
  } else {
    r.Json(status, std::move(body));
  }
  return r;
}

}  // namespace

DnsZones::DnsZones(DnsOptions options) : options_(std::move(options)) {}
DnsZones::~DnsZones() = default;

absl::StatusOr<std::unique_ptr<DnsZones>> DnsZones::Open(DnsOptions options) {
  std::unique_ptr<DnsZones> dns(new DnsZones(std::move(options)));
  if (!dns->options_.challtestsrv.empty()) {
    http::HttpClientOptions client;
    client.allow_insecure_loopback = true;
    client.connect_timeout = absl::Seconds(2);
    client.request_timeout = absl::Seconds(5);
    client.retry.max_attempts = 1;
    client.parallelism = 1;
    client.user_agent = "rotor-emulator";
    auto created = http::HttpClient::Create(std::move(client));
    if (!created.ok()) return WithContext(created.status(), "--challtestsrv");
    dns->challtestsrv_ = *std::move(created);
  }
  const std::string path = absl::StrCat(dns->options_.state_dir, "/emulator/dns.json");
  if (!PathExists(path)) return dns;
  ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseIterativeFlag>(text.data(), text.size());
  const rapidjson::Value* zones = doc.HasParseError() ? nullptr : json::Member(doc, "zones");
  if (zones == nullptr || !zones->IsArray()) {
    return absl::DataLossError(absl::StrCat(path, ": not the emulator's DNS state"));
  }
  for (const auto& z : zones->GetArray()) {
    auto zone = std::make_unique<Zone>();
    zone->resource_group = json::StrMember(z, "resource_group").value_or("");
    zone->name = json::StrMember(z, "name").value_or("");
    zone->etag = json::StrMember(z, "etag").value_or("");
    auto tags = StringMap(json::Member(z, "tags"), "tags");
    if (!tags.ok()) return WithContext(tags.status(), path);
    zone->tags = *std::move(tags);
    if (zone->resource_group.empty() || !CheckZoneName(zone->name).ok()) {
      return absl::DataLossError(absl::StrCat(path, ": a zone without a valid name or group"));
    }
    if (const rapidjson::Value* sets = json::Member(z, "txt"); sets != nullptr && sets->IsArray()) {
      for (const auto& s : sets->GetArray()) {
        TxtSet set;
        set.name = json::StrMember(s, "name").value_or("");
        set.etag = json::StrMember(s, "etag").value_or("");
        if (const rapidjson::Value* t = json::Member(s, "ttl"); t != nullptr && t->IsInt64()) {
          set.ttl = t->GetInt64();
        }
        auto metadata = StringMap(json::Member(s, "metadata"), "metadata");
        if (!metadata.ok()) return WithContext(metadata.status(), path);
        set.metadata = *std::move(metadata);
        if (const rapidjson::Value* rs = json::Member(s, "records");
            rs != nullptr && rs->IsArray()) {
          for (const auto& r : rs->GetArray()) {
            if (!r.IsArray()) continue;
            std::vector<std::string> strings;
            for (const auto& v : r.GetArray()) {
              if (v.IsString()) strings.emplace_back(v.GetString(), v.GetStringLength());
            }
            set.records.push_back(std::move(strings));
          }
        }
        if (!CheckRecordName(set.name, zone->name).ok()) {
          return absl::DataLossError(absl::StrCat(path, ": a record set without a valid name"));
        }
        const std::string name = set.name;
        zone->txt[name] = std::move(set);
      }
    }
    const std::string key = ArmResourceKey(zone->resource_group, zone->name);
    dns->zones_[key] = std::move(zone);
  }
  // challtestsrv keeps nothing across its restarts: give it the stored sets.
  for (const auto& [key, zone] : dns->zones_) {
    for (const auto& [name, set] : zone->txt) {
      if (absl::Status s = dns->Mirror(Fqdn(name, zone->name), set.records); !s.ok()) {
        return WithContext(s, "--challtestsrv: mirroring the stored TXT record sets");
      }
    }
  }
  return dns;
}

absl::Status DnsZones::Save() const {
  rapidjson::StringBuffer b;
  json::Writer w(b);
  w.StartObject();
  json::Key(w, "zones");
  w.StartArray();
  for (const auto& [key, zone] : zones_) {
    w.StartObject();
    json::KeyStr(w, "resource_group", zone->resource_group);
    json::KeyStr(w, "name", zone->name);
    json::KeyStr(w, "etag", zone->etag);
    json::KeyStrMap(w, "tags", zone->tags);
    json::Key(w, "txt");
    w.StartArray();
    for (const auto& [name, set] : zone->txt) {
      w.StartObject();
      json::KeyStr(w, "name", set.name);
      json::KeyStr(w, "etag", set.etag);
      json::Key(w, "ttl");
      w.Int64(set.ttl);
      json::KeyStrMap(w, "metadata", set.metadata);
      json::Key(w, "records");
      w.StartArray();
      for (const auto& record : set.records) {
        w.StartArray();
        for (const auto& s : record) json::Str(w, s);
        w.EndArray();
      }
      w.EndArray();
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  const std::string dir = absl::StrCat(options_.state_dir, "/emulator");
  RETURN_IF_ERROR(MakeDirs(dir));
  return WriteFileAtomic(absl::StrCat(dir, "/dns.json"), json::Text(b), 0600);
}

absl::Status DnsZones::Mirror(const std::string& host,
                              const std::vector<std::vector<std::string>>& records) {
  if (!challtestsrv_) return absl::OkStatus();
  auto post = [&](absl::string_view action, const std::string* value) -> absl::Status {
    rapidjson::StringBuffer b;
    json::Writer w(b);
    w.StartObject();
    json::KeyStr(w, "host", absl::AsciiStrToLower(host));
    if (value != nullptr) json::KeyStr(w, "value", *value);
    w.EndObject();
    const std::string url = absl::StrCat(options_.challtestsrv, "/", action);
    ASSIGN_OR_RETURN(http::HttpResponse r,
                     challtestsrv_->Send(http::Post(url, Secret(json::Text(b)))));
    if (r.status != 200) {
      return absl::UnavailableError(absl::StrCat("POST ", url, " answered ", r.status, ": ",
                                                 absl::string_view(r.body).substr(0, 200)));
    }
    return absl::OkStatus();
  };
  RETURN_IF_ERROR(post("clear-txt", nullptr));
  for (const auto& record : records) {
    // A resolver reads a TXT record's strings as one value (RFC 8555's
    // DNS-01 check included).
    const std::string value = absl::StrJoin(record, "");
    RETURN_IF_ERROR(post("set-txt", &value));
  }
  return absl::OkStatus();
}

absl::Status DnsZones::EnsureZone(const std::string& rg, const std::string& zone) {
  if (absl::Status s = CheckZoneName(zone); !s.ok()) return WithContext(s, "--dns-zone");
  std::lock_guard<std::mutex> lock(mu_);
  auto& slot = zones_[ArmResourceKey(rg, zone)];
  if (slot) return absl::OkStatus();
  slot = std::make_unique<Zone>();
  slot->resource_group = rg;
  slot->name = absl::AsciiStrToLower(zone);
  slot->etag = NewUuid();
  return Save();
}

HttpResponse DnsZones::Handle(const HttpRequest& request, const std::string& sub,
                              const std::string& rg, absl::Span<const std::string> rest) {
  const std::string api_version = request.Query("api-version");
  if (std::find(std::begin(kDnsApiVersions), std::end(kDnsApiVersions), api_version) ==
      std::end(kDnsApiVersions)) {
    return ArmError(
        400, "NoRegisteredProviderFound",
        absl::StrCat("No registered resource provider found for location 'global' and API "
                     "version '",
                     api_version, "' for type 'dnszones'. The supported api-versions are '",
                     absl::StrJoin(kDnsApiVersions, ", "),
                     "'. The supported locations are 'global'."));
  }
  if (rest.empty() || rest.size() > 3) {
    return ArmError(404, "NotFound", absl::StrCat("No route for ", request.path));
  }
  const std::string zone = absl::AsciiStrToLower(rest[0]);
  if (auto s = CheckZoneName(zone); !s.ok()) return Refused(s);
  if (rest.size() == 1) return ZoneRequest(request, sub, rg, zone);
  if (!absl::EqualsIgnoreCase(rest[1], "TXT")) {
    return ArmError(404, "NotFound",
                    absl::StrCat("The emulator serves TXT record sets only, not '", rest[1], "' (",
                                 request.method, " ", request.path, ")."));
  }
  if (rest.size() == 2) {
    if (request.method != "GET") {
      return ArmError(405, "MethodNotAllowed", "Use GET to list record sets.");
    }
    return ListTxt(sub, rg, zone);
  }
  return TxtRequest(request, sub, rg, zone, absl::AsciiStrToLower(rest[2]));
}

HttpResponse DnsZones::ZoneRequest(const HttpRequest& request, const std::string& sub,
                                   const std::string& rg, const std::string& zone) {
  const std::string& m = request.method;
  std::lock_guard<std::mutex> lock(mu_);
  auto it = zones_.find(ArmResourceKey(rg, zone));
  auto not_found = [&]() {
    return ArmError(404, "ResourceNotFound",
                    absl::StrCat("The Resource '", kZoneType, "/", zone, "' under resource group '",
                                 rg, "' was not found."));
  };
  auto zone_json = [&](const Zone& z, int status) {
    rapidjson::StringBuffer b;
    json::Writer w(b);
    w.StartObject();
    json::KeyStr(w, "id", ResourceIdOf(sub, z.resource_group, kZoneType, z.name));
    json::KeyStr(w, "name", z.name);
    json::KeyStr(w, "type", kZoneType);
    json::KeyStr(w, "etag", z.etag);
    json::KeyStr(w, "location", "global");
    json::KeyStrMap(w, "tags", z.tags);
    json::Key(w, "properties");
    w.StartObject();
    json::Key(w, "maxNumberOfRecordSets");
    w.Uint64(kMaxRecordSets);
    json::Key(w, "maxNumberOfRecordsPerRecordSet");
    w.Uint64(kMaxTxtRecords);
    json::Key(w, "numberOfRecordSets");
    w.Uint64(kApexRecordSets + z.txt.size());
    json::Key(w, "nameServers");
    w.StartArray();
    for (const char* ns : kNameServers) json::Str(w, ns);
    w.EndArray();
    if (request.Query("api-version") != "2016-04-01") json::KeyStr(w, "zoneType", "Public");
    w.EndObject();
    w.EndObject();
    return Answer(status, json::Text(b));
  };
  if (m == "GET") {
    if (it == zones_.end()) return not_found();
    return zone_json(*it->second, 200);
  }
  if (m == "PUT") {
    rapidjson::Document doc;
    if (!ParseObject(request.body, doc)) return Refused(NotAnObject());
    const std::optional<std::string> location = [&]() -> std::optional<std::string> {
      const rapidjson::Value* l = json::MemberCi(doc, "location");
      if (l == nullptr || !l->IsString()) return std::nullopt;
      return std::string(l->GetString(), l->GetStringLength());
    }();
    if (!location.has_value() || location->empty()) {
      return ArmError(400, "LocationRequired",
                      "The location property is required for this definition.");
    }
    if (!absl::EqualsIgnoreCase(*location, "global")) {
      return ArmError(400, "LocationNotAvailableForResourceType",
                      absl::StrCat("The provided location '", location->substr(0, 64),
                                   "' is not available for resource type "
                                   "'Microsoft.Network/dnszones'. List of available regions for "
                                   "the resource type is 'global'."));
    }
    auto tags = StringMap(json::MemberCi(doc, "tags"), "tags");
    if (!tags.ok()) return Refused(tags.status());
    const bool created = it == zones_.end();
    std::unique_ptr<Zone> next = std::make_unique<Zone>();
    if (!created) *next = *it->second;
    next->resource_group = created ? rg : next->resource_group;
    next->name = zone;
    next->etag = NewUuid();
    next->tags = *std::move(tags);
    std::unique_ptr<Zone>& slot = zones_[ArmResourceKey(rg, zone)];
    std::swap(slot, next);
    if (absl::Status s = Save(); !s.ok()) {
      std::swap(slot, next);
      if (!slot) zones_.erase(ArmResourceKey(rg, zone));
      return ArmError(500, "InternalServerError", s.message());
    }
    return zone_json(*slot, created ? 201 : 200);
  }
  if (m == "DELETE") {
    if (it == zones_.end()) return Answer(204);
    for (const auto& [name, set] : it->second->txt) {
      if (absl::Status s = Mirror(Fqdn(name, zone), {}); !s.ok()) {
        return ArmError(500, "ChallTestSrvMirrorFailed",
                        absl::StrCat("Clearing the TXT record set '", name,
                                     "' in pebble-challtestsrv failed: ", s.message()));
      }
    }
    std::unique_ptr<Zone> removed = std::move(it->second);
    zones_.erase(it);
    if (absl::Status s = Save(); !s.ok()) {
      zones_[ArmResourceKey(rg, zone)] = std::move(removed);
      return ArmError(500, "InternalServerError", s.message());
    }
    return Answer(200);
  }
  return ArmError(405, "MethodNotAllowed",
                  absl::StrCat("The emulator does not support ", m, " on DNS zones."));
}

std::string DnsZones::TxtSetJson(const std::string& sub, const Zone& z, const TxtSet& set) {
  rapidjson::StringBuffer b;
  json::Writer w(b);
  w.StartObject();
  json::KeyStr(w, "id",
               ResourceIdOf(sub, z.resource_group, kTxtType, absl::StrCat(z.name, "/", set.name)));
  json::KeyStr(w, "name", set.name);
  json::KeyStr(w, "type", kTxtType);
  json::KeyStr(w, "etag", set.etag);
  json::Key(w, "properties");
  w.StartObject();
  if (!set.metadata.empty()) json::KeyStrMap(w, "metadata", set.metadata);
  json::KeyStr(w, "fqdn", Fqdn(set.name, z.name));
  json::Key(w, "TTL");
  w.Int64(set.ttl);
  json::Key(w, "TXTRecords");
  WriteRecords(w, set.records);
  json::KeyStr(w, "provisioningState", "Succeeded");
  w.EndObject();
  w.EndObject();
  return json::Text(b);
}

HttpResponse DnsZones::ListTxt(const std::string& sub, const std::string& rg,
                               const std::string& zone) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = zones_.find(ArmResourceKey(rg, zone));
  if (it == zones_.end()) {
    return ParentNotFound(zone);
  }
  const Zone& z = *it->second;
  rapidjson::StringBuffer b;
  json::Writer w(b);
  w.StartObject();
  json::Key(w, "value");
  w.StartArray();
  for (const auto& [name, set] : z.txt) json::Raw(w, TxtSetJson(sub, z, set));
  w.EndArray();
  w.EndObject();
  return Answer(200, json::Text(b));
}

HttpResponse DnsZones::TxtRequest(const HttpRequest& request, const std::string& sub,
                                  const std::string& rg, const std::string& zone,
                                  const std::string& name) {
  const std::string& m = request.method;
  if (m != "GET" && m != "PUT" && m != "DELETE") {
    return ArmError(405, "MethodNotAllowed",
                    absl::StrCat("The emulator does not support ", m, " on record sets."));
  }
  if (auto s = CheckRecordName(name, zone); !s.ok()) return Refused(s);
  std::lock_guard<std::mutex> lock(mu_);
  auto zit = zones_.find(ArmResourceKey(rg, zone));
  if (zit == zones_.end()) {
    return ParentNotFound(zone);
  }
  Zone& z = *zit->second;
  auto sit = z.txt.find(name);
  const std::string fqdn = Fqdn(name, z.name);

  // If-Match / If-None-Match, as Azure DNS reads them for optimistic
  // concurrency.
  const std::string if_match = request.Header("if-match");
  const std::string if_none_match = request.Header("if-none-match");
  if ((!if_match.empty() &&
       (sit == z.txt.end() || (if_match != "*" && if_match != sit->second.etag))) ||
      (if_none_match == "*" && sit != z.txt.end())) {
    return ArmError(
        412, "PreconditionFailed",
        absl::StrCat("The condition of the If-Match or If-None-Match header is not "
                     "met for the record set '",
                     name, "' (etag '", sit == z.txt.end() ? std::string("none") : sit->second.etag,
                     "')."));
  }

  auto set_json = [&](const TxtSet& set, int status) {
    return Answer(status, TxtSetJson(sub, z, set));
  };
  auto mirror_failed = [&](absl::string_view what, const absl::Status& s) {
    return ArmError(500, "ChallTestSrvMirrorFailed",
                    absl::StrCat(what, " the TXT record set '", fqdn,
                                 "' in pebble-challtestsrv failed: ", s.message()));
  };

  if (m == "GET") {
    if (sit == z.txt.end()) {
      return ArmError(
          404, "NotFound",
          absl::StrCat("The resource record '", name, "' does not exist in resource group '", rg,
                       "' of subscription '", sub, "'."));
    }
    return set_json(sit->second, 200);
  }
  if (m == "DELETE") {
    if (sit == z.txt.end()) return Answer(204);
    if (absl::Status s = Mirror(fqdn, {}); !s.ok()) return mirror_failed("Clearing", s);
    TxtSet removed = std::move(sit->second);
    z.txt.erase(sit);
    if (absl::Status s = Save(); !s.ok()) {
      (void)Mirror(fqdn, removed.records);
      z.txt[name] = std::move(removed);
      return ArmError(500, "InternalServerError", s.message());
    }
    return Answer(200);
  }
  // PUT
  TxtSet next;
  next.name = name;
  if (absl::Status s = ParseTxtBody(request.body, next.ttl, next.metadata, next.records); !s.ok()) {
    return Refused(s);
  }
  const bool created = sit == z.txt.end();
  if (created && kApexRecordSets + z.txt.size() >= kMaxRecordSets) {
    return ArmError(409, "RecordSetLimitExceeded",
                    absl::StrCat("The zone '", z.name, "' holds its maximum of ", kMaxRecordSets,
                                 " record sets."));
  }
  next.etag = NewUuid();
  if (absl::Status s = Mirror(fqdn, next.records); !s.ok()) {
    // Give challtestsrv back what the emulator still stores.
    (void)Mirror(fqdn, created ? std::vector<std::vector<std::string>>{} : sit->second.records);
    return mirror_failed("Setting", s);
  }
  std::optional<TxtSet> previous;
  if (!created) previous = sit->second;
  z.txt[name] = next;
  if (absl::Status s = Save(); !s.ok()) {
    if (previous.has_value()) {
      z.txt[name] = *previous;
    } else {
      z.txt.erase(name);
    }
    (void)Mirror(
        fqdn, previous.has_value() ? previous->records : std::vector<std::vector<std::string>>{});
    return ArmError(500, "InternalServerError", s.message());
  }
  return set_json(next, created ? 201 : 200);
}

}  // namespace rotor::emulator
