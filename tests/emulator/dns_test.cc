// Azure DNS zones and TXT record sets through ARM (dns.h) of the real
// rotor-emulator binary, and their mirror in a real pebble-challtestsrv,
// read back over DNS.
#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "base/files.h"
#include "base/process.h"
#include "tests/emulator/emulator_harness.h"
#include "tests/support/testing.h"

namespace rotor::emulator::testing {
namespace {

constexpr char kSub[] = "0c5a3f9e-1111-2222-3333-444455556666";
constexpr char kChalltestsrv[] = "/usr/bin/pebble-challtestsrv";

std::string ZonePath(const std::string& zone, const std::string& version = "2018-05-01",
                     const std::string& rg = "dnsrg") {
  return absl::StrCat("/subscriptions/", kSub, "/resourceGroups/", rg,
                      "/providers/Microsoft.Network/dnsZones/", zone, "?api-version=", version);
}

std::string TxtPath(const std::string& zone, const std::string& name,
                    const std::string& version = "2018-05-01") {
  return absl::StrCat("/subscriptions/", kSub, "/resourceGroups/dnsrg",
                      "/providers/Microsoft.Network/dnsZones/", zone, "/TXT/", name,
                      "?api-version=", version);
}

// A record set PUT's body: one TXT record per entry of `records`, each with
// its strings.
std::string TxtBody(const std::vector<std::vector<std::string>>& records, int ttl = 60) {
  std::string body = absl::StrCat(R"({"properties":{"TTL":)", ttl, R"(,"TXTRecords":[)");
  for (size_t i = 0; i < records.size(); ++i) {
    absl::StrAppend(&body, i ? "," : "", R"({"value":[)");
    for (size_t j = 0; j < records[i].size(); ++j) {
      absl::StrAppend(&body, j ? "," : "", "\"", records[i][j], "\"");
    }
    absl::StrAppend(&body, "]}");
  }
  absl::StrAppend(&body, "]}}");
  return body;
}

std::vector<std::string> Args(std::vector<std::string> extra = {}) {
  std::vector<std::string> args = {"--resource-group", "dnsrg", "--client",
                                   absl::StrCat(kClientId, ":", kClientSecret)};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

// The TXT records a DNS server on 127.0.0.1:`port` answers for `name`
// (each record's strings joined), asked over UDP; an empty set for an
// answer without TXT records. `ok` false when no well-formed answer came.
std::set<std::string> QueryTxt(int port, const std::string& name, bool* ok) {
  *ok = false;
  std::string q = {'\x52', '\x0f', '\x01', '\x00', 0, 1, 0, 0, 0, 0, 0, 0};  // id, RD, 1 question
  for (absl::string_view label : absl::StrSplit(name, '.', absl::SkipEmpty())) {
    q.push_back(static_cast<char>(label.size()));
    q.append(label.data(), label.size());
  }
  q.append({'\0', '\0', '\x10', '\0', '\x01'});  // root, QTYPE TXT, QCLASS IN
  const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  REQUIRE(fd >= 0);
  timeval timeout{2, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  unsigned char a[4096];
  ssize_t n = -1;
  if (::sendto(fd, q.data(), q.size(), 0, reinterpret_cast<sockaddr*>(&addr), sizeof addr) ==
      static_cast<ssize_t>(q.size())) {
    n = ::recv(fd, a, sizeof a, 0);
  }
  ::close(fd);
  std::set<std::string> out;
  if (n < 12 || a[0] != 0x52 || a[1] != 0x0f || (a[2] & 0x80) == 0) return out;
  size_t at = 12;
  // Skips a (possibly compressed) name; false when it runs off the end.
  auto skip_name = [&]() {
    while (at < static_cast<size_t>(n)) {
      const unsigned char len = a[at];
      if (len == 0) return ++at, true;
      if ((len & 0xc0) == 0xc0) return at += 2, at <= static_cast<size_t>(n);
      at += 1 + len;
    }
    return false;
  };
  const int questions = a[4] << 8 | a[5], answers = a[6] << 8 | a[7];
  for (int i = 0; i < questions; ++i) {
    if (!skip_name()) return out;
    at += 4;
  }
  for (int i = 0; i < answers; ++i) {
    if (!skip_name() || at + 10 > static_cast<size_t>(n)) return out;
    const int type = a[at] << 8 | a[at + 1];
    const size_t rdlength = a[at + 8] << 8 | a[at + 9];
    at += 10;
    if (at + rdlength > static_cast<size_t>(n)) return out;
    if (type == 16) {
      std::string value;
      for (size_t p = at; p < at + rdlength; p += 1 + a[p]) {
        value.append(reinterpret_cast<const char*>(a + p + 1),
                     std::min<size_t>(a[p], at + rdlength - p - 1));
      }
      out.insert(value);
    }
    at += rdlength;
  }
  *ok = true;
  return out;
}

TEST_CASE("DNS zones through ARM - create, replace, read, delete, refusals") {
  Emulator emu(Args());
  const std::string token = emu.ArmToken();

  HttpResult r = emu.Get(emu.ArmUrl(ZonePath("example.com")), token);
  CHECK(r.status == 404);
  CHECK(JsonString(r.Json(), "error/code") == "ResourceNotFound");
  r = emu.Get(emu.ArmUrl(ZonePath("example.com", "2018-05-01", "nogroup")), token);
  CHECK(r.status == 404);
  CHECK(JsonString(r.Json(), "error/code") == "ResourceGroupNotFound");

  r = emu.Send("PUT", emu.ArmUrl(ZonePath("Example.com")),
               R"({"location":"global","tags":{"owner":"rotor"}})", token);
  REQUIRE_MESSAGE(r.status == 201, r.body);
  auto z = r.Json();
  CHECK(JsonString(z, "id") == absl::StrCat("/subscriptions/", kSub,
                                            "/resourceGroups/dnsrg/providers/"
                                            "Microsoft.Network/dnszones/example.com"));
  CHECK(JsonString(z, "name") == "example.com");
  CHECK(JsonString(z, "type") == "Microsoft.Network/dnszones");
  CHECK(JsonString(z, "location") == "global");
  CHECK(JsonString(z, "tags/owner") == "rotor");
  CHECK(JsonString(z, "properties/numberOfRecordSets") == "2");
  CHECK(JsonString(z, "properties/maxNumberOfRecordSets") == "5000");
  CHECK(JsonString(z, "properties/zoneType") == "Public");
  REQUIRE(z["properties"]["nameServers"].IsArray());
  CHECK(z["properties"]["nameServers"].Size() == 4);
  const std::string etag = JsonString(z, "etag");
  CHECK_FALSE(etag.empty());

  // Replaced: 200 and a new etag; 2016-04-01 (Azure Stack Hub's profiles)
  // answers without zoneType.
  r = emu.Send("PUT", emu.ArmUrl(ZonePath("example.com", "2016-04-01")), R"({"location":"Global"})",
               token);
  REQUIRE_MESSAGE(r.status == 200, r.body);
  CHECK(JsonString(r.Json(), "etag") != etag);
  CHECK_FALSE(r.Json()["properties"].HasMember("zoneType"));
  CHECK_FALSE(r.Json()["tags"].HasMember("owner"));
  r = emu.Get(emu.ArmUrl(ZonePath("example.com")), token);
  REQUIRE(r.status == 200);
  CHECK(JsonString(r.Json(), "name") == "example.com");

  // Refusals, with ARM's error bodies.
  r = emu.Get(emu.ArmUrl(ZonePath("example.com", "2019-10-01")), token);
  CHECK(r.status == 400);
  CHECK(JsonString(r.Json(), "error/code") == "NoRegisteredProviderFound");
  CHECK(absl::StrContains(JsonString(r.Json(), "error/message"), "2016-04-01, 2018-05-01"));
  r = emu.Get(emu.ArmUrl(ZonePath("example.com", "latest")), token);
  CHECK(r.status == 400);
  CHECK(JsonString(r.Json(), "error/code") == "InvalidApiVersionParameter");
  r = emu.Send("PUT", emu.ArmUrl(ZonePath("other.com")), R"({"tags":{}})", token);
  CHECK(r.status == 400);
  CHECK(JsonString(r.Json(), "error/code") == "LocationRequired");
  r = emu.Send("PUT", emu.ArmUrl(ZonePath("other.com")), R"({"location":"westus"})", token);
  CHECK(r.status == 400);
  CHECK(JsonString(r.Json(), "error/code") == "LocationNotAvailableForResourceType");
  r = emu.Send("PUT", emu.ArmUrl(ZonePath("other.com")), R"({"location":)", token);
  CHECK(r.status == 400);
  CHECK(JsonString(r.Json(), "error/code") == "InvalidRequestContent");
  r = emu.Send("PUT", emu.ArmUrl(ZonePath("other.com")), R"({"location":"global","tags":{"n":1}})",
               token);
  CHECK(r.status == 400);
  CHECK(JsonString(r.Json(), "error/code") == "BadRequest");
  for (const char* bad : {"localhost", "a..com", "-a.com", "a_b.com"}) {
    CAPTURE(bad);
    r = emu.Send("PUT", emu.ArmUrl(ZonePath(bad)), R"({"location":"global"})", token);
    CHECK(r.status == 400);
    CHECK(JsonString(r.Json(), "error/code") == "BadRequest");
  }
  r = emu.Send("PUT", emu.ArmUrl(ZonePath(std::string(250, 'a') + ".com")),
               R"({"location":"global"})", token);
  CHECK(r.status == 400);
  r = emu.Get(emu.ArmUrl(ZonePath("other.com")), token);
  CHECK(r.status == 404);  // nothing refused was stored
  r = emu.Send("POST", emu.ArmUrl(ZonePath("example.com")), "{}", token);
  CHECK(r.status == 405);

  r = emu.Send("DELETE", emu.ArmUrl(ZonePath("example.com")), "", token);
  CHECK(r.status == 200);
  r = emu.Get(emu.ArmUrl(ZonePath("example.com")), token);
  CHECK(r.status == 404);
  r = emu.Send("DELETE", emu.ArmUrl(ZonePath("example.com")), "", token);
  CHECK(r.status == 204);
}

TEST_CASE("TXT record sets - 201 then 200, Azure's answer, 204 when absent, bounds, restarts") {
  rotor::testing::TempDir dir;
  const std::string state = dir.Path("state");
  auto emu = std::make_unique<Emulator>(Args({"--dns-zone", "example.com"}), state);
  std::string token = emu->ArmToken();
  const std::string acme = TxtPath("example.com", "_acme-challenge");

  HttpResult r = emu->Send("PUT", emu->ArmUrl(TxtPath("missing.com", "_acme-challenge")),
                           TxtBody({{"v"}}), token);
  CHECK(r.status == 404);
  CHECK(JsonString(r.Json(), "error/code") == "ParentResourceNotFound");
  r = emu->Get(emu->ArmUrl(TxtPath("missing.com", "_acme-challenge")), token);
  CHECK(r.status == 404);

  r = emu->Get(emu->ArmUrl(acme), token);
  CHECK(r.status == 404);
  CHECK(JsonString(r.Json(), "error/code") == "NotFound");

  r = emu->Send("PUT", emu->ArmUrl(acme), TxtBody({{"first-token"}}), token);
  REQUIRE_MESSAGE(r.status == 201, r.body);
  auto set = r.Json();
  CHECK(JsonString(set, "id") ==
        absl::StrCat("/subscriptions/", kSub,
                     "/resourceGroups/dnsrg/providers/Microsoft.Network/dnszones/example.com/TXT/"
                     "_acme-challenge"));
  CHECK(JsonString(set, "name") == "_acme-challenge");
  CHECK(JsonString(set, "type") == "Microsoft.Network/dnszones/TXT");
  CHECK(JsonString(set, "properties/fqdn") == "_acme-challenge.example.com.");
  CHECK(JsonString(set, "properties/TTL") == "60");
  CHECK(JsonString(set, "properties/provisioningState") == "Succeeded");
  REQUIRE(set["properties"]["TXTRecords"].Size() == 1);
  CHECK(std::string(set["properties"]["TXTRecords"][0]["value"][0].GetString()) == "first-token");
  const std::string first_etag = JsonString(set, "etag");
  CHECK_FALSE(first_etag.empty());

  // Replaced: 200, a new etag, the new records; If-None-Match: * refuses
  // an existing set, If-Match a stale etag.
  const std::string max = std::string(255, 'x');
  r = emu->Send("PUT", emu->ArmUrl(acme), TxtBody({{"second"}, {max, "tail"}}, 120), token);
  REQUIRE_MESSAGE(r.status == 200, r.body);
  set = r.Json();
  CHECK(JsonString(set, "etag") != first_etag);
  CHECK(JsonString(set, "properties/TTL") == "120");
  REQUIRE(set["properties"]["TXTRecords"].Size() == 2);
  CHECK(set["properties"]["TXTRecords"][1]["value"].Size() == 2);
  const std::string etag = JsonString(set, "etag");
  r = emu->Request(
      "PUT", emu->ArmUrl(acme), TxtBody({{"x"}}),
      {"Content-Type: application/json", "Authorization: Bearer " + token, "If-None-Match: *"});
  CHECK(r.status == 412);
  CHECK(JsonString(r.Json(), "error/code") == "PreconditionFailed");
  r = emu->Request("PUT", emu->ArmUrl(acme), TxtBody({{"x"}}),
                   {"Content-Type: application/json", "Authorization: Bearer " + token,
                    "If-Match: " + first_etag});
  CHECK(r.status == 412);

  // The apex and a list of the zone's TXT record sets.
  r = emu->Send("PUT", emu->ArmUrl(TxtPath("example.com", "@")), TxtBody({{"v=spf1 -all"}}), token);
  REQUIRE_MESSAGE(r.status == 201, r.body);
  CHECK(JsonString(r.Json(), "properties/fqdn") == "example.com.");
  r = emu->Get(emu->ArmUrl(absl::StrCat("/subscriptions/", kSub,
                                        "/resourceGroups/dnsrg/providers/Microsoft.Network/"
                                        "dnsZones/example.com/TXT?api-version=2016-04-01")),
               token);
  REQUIRE(r.status == 200);
  CHECK(r.Json()["value"].Size() == 2);

  // Bad input: ARM's 400 bodies, nothing stored.
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"{", "InvalidRequestContent"},
      {R"({"TTL":60})", "BadRequest"},
      {TxtBody({{std::string(256, 'y')}}), "BadRequest"},
      {TxtBody(std::vector<std::vector<std::string>>(21, {"r"})), "BadRequest"},
      {TxtBody({std::vector<std::string>(17, "s")}), "BadRequest"},
      {TxtBody({{"v"}}, -1), "BadRequest"},
      {R"({"properties":{"TTL":"60","TXTRecords":[]}})", "BadRequest"},
      {R"({"properties":{"TTL":60,"TXTRecords":[{"value":[]}]}})", "BadRequest"},
      {R"({"properties":{"TTL":60,"TXTRecords":[{"value":[1]}]}})", "BadRequest"},
      {R"({"properties":{"TTL":60,"TXTRecords":{}}})", "BadRequest"},
  };
  for (const auto& refused : bad) {
    const std::string shown = refused.first.substr(0, 80);
    CAPTURE(shown);
    r = emu->Send("PUT", emu->ArmUrl(TxtPath("example.com", "bad")), refused.first, token);
    CHECK(r.status == 400);
    CHECK(JsonString(r.Json(), "error/code") == refused.second);
  }
  r = emu->Get(emu->ArmUrl(TxtPath("example.com", "bad")), token);
  CHECK(r.status == 404);
  for (const char* name : {"a..b", "-a", "a%20b", "x.*"}) {
    CAPTURE(name);
    r = emu->Send("PUT", emu->ArmUrl(TxtPath("example.com", name)), TxtBody({{"v"}}), token);
    CHECK(r.status == 400);
    CHECK(JsonString(r.Json(), "error/code") == "BadRequest");
  }
  r = emu->Send("PUT",
                emu->ArmUrl(absl::StrCat("/subscriptions/", kSub,
                                         "/resourceGroups/dnsrg/providers/Microsoft.Network/"
                                         "dnsZones/example.com/A/www?api-version=2018-05-01")),
                R"({"properties":{"TTL":60,"ARecords":[{"ipv4Address":"127.0.0.1"}]}})", token);
  CHECK(r.status == 404);
  r = emu->Get(emu->ArmUrl(TxtPath("example.com", "_acme-challenge", "2020-01-01")), token);
  CHECK(r.status == 400);
  CHECK(JsonString(r.Json(), "error/code") == "NoRegisteredProviderFound");

  // State survives a restart on the same folder: zones, record sets, etags.
  CHECK(emu->Stop() == 0);
  emu = std::make_unique<Emulator>(Args(), state);
  token = emu->ArmToken();
  r = emu->Get(emu->ArmUrl(acme), token);
  REQUIRE_MESSAGE(r.status == 200, r.body);
  CHECK(JsonString(r.Json(), "etag") == etag);
  CHECK(JsonString(r.Json(), "properties/TTL") == "120");
  CHECK(r.Json()["properties"]["TXTRecords"][1]["value"][0].GetString() == max);
  r = emu->Get(emu->ArmUrl(ZonePath("example.com")), token);
  REQUIRE(r.status == 200);
  CHECK(JsonString(r.Json(), "properties/numberOfRecordSets") == "4");

  r = emu->Send("DELETE", emu->ArmUrl(acme), "", token);
  CHECK(r.status == 200);
  r = emu->Get(emu->ArmUrl(acme), token);
  CHECK(r.status == 404);
  r = emu->Send("DELETE", emu->ArmUrl(acme), "", token);
  CHECK(r.status == 204);
  r = emu->Send("DELETE", emu->ArmUrl(TxtPath("missing.com", "_acme-challenge")), "", token);
  CHECK(r.status == 404);
}

TEST_CASE("--dns-zone needs a resource group - --challtestsrv must be a loopback http URL") {
  const std::string bin = rotor::testing::BuildDir() + "/rotor-emulator";
  rotor::testing::TempDir dir;
  auto r = RunProcess({bin, "--state", dir.Path("a"), "--dns-zone", "example.com"});
  REQUIRE(r.ok());
  CHECK(r->exit_code != 0);
  CHECK(absl::StrContains(r->stderr_data, "--dns-zone needs a --resource-group"));
  for (const char* url : {"https://127.0.0.1:8055", "http://example.com:8055", "127.0.0.1:8055",
                          "http://127.0.0.1"}) {
    CAPTURE(url);
    r = RunProcess({bin, "--state", dir.Path("b"), "--challtestsrv", url});
    REQUIRE(r.ok());
    CHECK(r->exit_code == 2);
    CHECK(absl::StrContains(r->stderr_data, "--challtestsrv"));
  }
}

// pebble-challtestsrv on free loopback ports (DNS-01 and management only),
// stopped with the object.
class ChallTestSrv {
 public:
  ChallTestSrv() : management_(rotor::testing::FreeLoopbackPort()) {
    do {
      dns_ = rotor::testing::FreeLoopbackPort();
    } while (dns_ == management_);
    auto proc = BackgroundProcess::Start(
        {kChalltestsrv, "-management", absl::StrCat("127.0.0.1:", management_), "-dns01",
         absl::StrCat("127.0.0.1:", dns_), "-http01", "", "-https01", "", "-tlsalpn01", ""},
        {}, dir_.Path("challtestsrv.log"));
    REQUIRE_MESSAGE(proc.ok(), proc.status().message());
    process_.emplace(*std::move(proc));
    // Up once its DNS port answers.
    const absl::Time deadline = absl::Now() + absl::Seconds(10);
    bool ok = false;
    while (!ok && absl::Now() < deadline && process_->Running()) {
      QueryTxt(dns_, "up.example.com", &ok);
      if (!ok) absl::SleepFor(absl::Milliseconds(50));
    }
    REQUIRE_MESSAGE(ok, Log());
  }
  ~ChallTestSrv() { Stop(); }
  void Stop() {
    if (process_) process_->Stop(15, absl::Seconds(5));
    process_.reset();
  }
  std::string Url() const { return absl::StrCat("http://127.0.0.1:", management_); }
  int dns_port() const { return dns_; }
  std::string Log() const { return rotor::testing::ReadFileOrDie(dir_.Path("challtestsrv.log")); }

 private:
  rotor::testing::TempDir dir_;
  int management_ = 0, dns_ = 0;
  std::optional<BackgroundProcess> process_;
};

TEST_CASE("--challtestsrv mirrors TXT record sets into pebble-challtestsrv, answered over DNS") {
  REQUIRE_MESSAGE(PathExists(kChalltestsrv),
                  "pebble-challtestsrv is missing: install package pebble "
                  "(scripts/bootstrap.sh test)");
  ChallTestSrv cts;
  rotor::testing::TempDir dir;
  const std::string state = dir.Path("state");
  const std::string journal = dir.Path("journal.jsonl");
  auto emu = std::make_unique<Emulator>(
      Args({"--dns-zone", "example.com", "--challtestsrv", cts.Url(), "--journal", journal}),
      state);
  const std::string token = emu->ArmToken();
  const std::string acme = TxtPath("example.com", "_acme-challenge");
  bool ok = false;
  CHECK(QueryTxt(cts.dns_port(), "_acme-challenge.example.com", &ok).empty());
  CHECK(ok);

  HttpResult r = emu->Send("PUT", emu->ArmUrl(acme), TxtBody({{"token-one"}}), token);
  REQUIRE_MESSAGE(r.status == 201, r.body);
  CHECK(QueryTxt(cts.dns_port(), "_acme-challenge.example.com", &ok) ==
        std::set<std::string>{"token-one"});
  CHECK(ok);

  // Replacing the set replaces what DNS answers (a record's strings read
  // as one value).
  r = emu->Send("PUT", emu->ArmUrl(acme), TxtBody({{"token-two"}, {"token-", "three"}}), token);
  REQUIRE_MESSAGE(r.status == 200, r.body);
  CHECK(QueryTxt(cts.dns_port(), "_acme-challenge.example.com", &ok) ==
        std::set<std::string>{"token-two", "token-three"});
  r = emu->Send("PUT", emu->ArmUrl(TxtPath("example.com", "_acme-challenge.www")),
                TxtBody({{"www-token"}}), token);
  REQUIRE_MESSAGE(r.status == 201, r.body);
  CHECK(QueryTxt(cts.dns_port(), "_acme-challenge.www.example.com", &ok) ==
        std::set<std::string>{"www-token"});

  // DELETE clears it.
  r = emu->Send("DELETE", emu->ArmUrl(acme), "", token);
  CHECK(r.status == 200);
  CHECK(QueryTxt(cts.dns_port(), "_acme-challenge.example.com", &ok).empty());
  CHECK(ok);
  CHECK(QueryTxt(cts.dns_port(), "_acme-challenge.www.example.com", &ok) ==
        std::set<std::string>{"www-token"});

  // The journal names the zone and the record set of each request, never
  // a value.
  const std::string lines = rotor::testing::ReadFileOrDie(journal);
  CHECK_FALSE(absl::StrContains(lines, "token-one"));
  int deletes = 0;
  for (absl::string_view line : absl::StrSplit(lines, '\n', absl::SkipEmpty())) {
    auto entry = ParseJson(std::string(line));
    if (JsonString(entry, "method") != "DELETE") continue;
    ++deletes;
    CHECK(JsonString(entry, "surface") == "arm");
    CHECK(JsonString(entry, "resource_group") == "dnsrg");
    CHECK(JsonString(entry, "dns_zone") == "example.com");
    CHECK(JsonString(entry, "record_type") == "TXT");
    CHECK(JsonString(entry, "record_set") == "_acme-challenge");
    CHECK(JsonString(entry, "status") == "200");
  }
  CHECK(deletes == 1);

  // A restarted emulator gives a restarted challtestsrv what it stores.
  CHECK(emu->Stop() == 0);
  cts.Stop();
  ChallTestSrv fresh;
  emu = std::make_unique<Emulator>(Args({"--challtestsrv", fresh.Url()}), state);
  CHECK(QueryTxt(fresh.dns_port(), "_acme-challenge.www.example.com", &ok) ==
        std::set<std::string>{"www-token"});

  // challtestsrv gone: the PUT fails with ARM's 500 naming it, and stores
  // nothing; DELETE fails the same way and keeps the set.
  fresh.Stop();
  r = emu->Send("PUT", emu->ArmUrl(acme), TxtBody({{"lost"}}), emu->ArmToken());
  CHECK(r.status == 500);
  CHECK(JsonString(r.Json(), "error/code") == "ChallTestSrvMirrorFailed");
  CHECK(absl::StrContains(JsonString(r.Json(), "error/message"), "pebble-challtestsrv"));
  r = emu->Get(emu->ArmUrl(acme), emu->ArmToken());
  CHECK(r.status == 404);
  r = emu->Send("DELETE", emu->ArmUrl(TxtPath("example.com", "_acme-challenge.www")), "",
                emu->ArmToken());
  CHECK(r.status == 500);
  r = emu->Get(emu->ArmUrl(TxtPath("example.com", "_acme-challenge.www")), emu->ArmToken());
  CHECK(r.status == 200);

  // Nor can the stored sets be given to it at start-up: the emulator stops.
  CHECK(emu->Stop() == 0);
  auto run = RunProcess({rotor::testing::BuildDir() + "/rotor-emulator", "--state", state,
                         "--challtestsrv", fresh.Url()});
  REQUIRE(run.ok());
  CHECK(run->exit_code != 0);
  CHECK(absl::StrContains(run->stderr_data, "mirroring the stored TXT record sets"));
}

}  // namespace
}  // namespace rotor::emulator::testing
