// ArmDnsZoneClient against a loopback HTTPS server playing ARM's
// Microsoft.Network/dnsZones: the zone check, the record set PUT body, a
// delete of a missing set, listing with nextLink, and relative names.
#include "providers/arm/dns_zone_client.h"

#include <doctest/doctest.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "providers/http/testing/https_test_server.h"
#include "rapidjson/document.h"

namespace rotor::arm {
namespace {

using http::testing::ErrorJson;
using http::testing::HttpsTestServer;
using http::testing::Json;
using Req = HttpsTestServer::Request;

constexpr char kZonePath[] =
    "/subscriptions/sub1/resourceGroups/dns-rg/providers/Microsoft.Network/dnsZones/contoso.com";

struct Fixture {
  Fixture() {
    HttpsTestServer::Options options;
    options.names = {"localhost", "management.localhost"};
    server = *HttpsTestServer::Start(options);
    http::HttpClientOptions client_options;
    client_options.ca_bundle_pem = server->ca_pem();
    client_options.time_scale = 0.001;
    client = std::shared_ptr<http::HttpClient>(*http::HttpClient::Create(client_options));
    DnsZoneOptions o;
    o.arm_endpoint = absl::StrCat("https://management.localhost:", server->port());
    o.subscription_id = "sub1";
    o.resource_group = "dns-rg";
    o.zone = "Contoso.com";
    dns = *ArmDnsZoneClient::Create(client, o);
  }
  std::unique_ptr<HttpsTestServer> server;
  std::shared_ptr<http::HttpClient> client;
  std::unique_ptr<ArmDnsZoneClient> dns;
};

TEST_CASE("a missing zone is NotFound naming the zone and the resource group") {
  Fixture f;
  f.server->Handle("GET", kZonePath, [](const Req&) {
    return ErrorJson(404, "ResourceNotFound",
                     "The Resource 'Microsoft.Network/dnszones/contoso.com' was not found.");
  });
  absl::Status s = f.dns->CheckZone();
  CHECK(s.code() == absl::StatusCode::kNotFound);
  CHECK(absl::StrContains(s.message(),
                          "DNS zone contoso.com does not exist in resource group dns-rg"));
  CHECK(absl::StrContains(s.message(), "ResourceNotFound"));

  f.server->Handle("GET", kZonePath, [](const Req& r) {
    CHECK(r.Param("api-version") == "2016-04-01");
    return Json(200, R"({"name":"contoso.com"})");
  });
  CHECK(f.dns->CheckZone().ok());
}

TEST_CASE("a TXT record set is written with its values, TTL and rotor's metadata") {
  Fixture f;
  std::string body;
  f.server->Handle("PUT", absl::StrCat(kZonePath, "/TXT/_acme-challenge.reg"), [&](const Req& r) {
    body = r.body;
    return Json(201, "{}");
  });
  REQUIRE(f.dns->SetTxt("_acme-challenge.reg", {"value-one", "value-two"}).ok());
  rapidjson::Document doc;
  doc.Parse(body.c_str());
  REQUIRE(doc.IsObject());
  const auto& props = doc["properties"];
  CHECK(props["TTL"].GetInt() == 60);
  CHECK(std::string(props["metadata"]["managed-by"].GetString()) == "rotor");
  REQUIRE(props["TXTRecords"].Size() == 2);
  CHECK(std::string(props["TXTRecords"][1]["value"][0].GetString()) == "value-two");
}

TEST_CASE("deleting a record set that is not there succeeds, other errors do not") {
  Fixture f;
  // Unhandled paths answer 404 NotFound.
  CHECK(f.dns->DeleteTxt("_acme-challenge.gone").ok());
  f.server->Handle("DELETE", absl::StrCat(kZonePath, "/TXT/_acme-challenge.x"),
                   [](const Req&) { return ErrorJson(403, "AuthorizationFailed", "no write"); });
  absl::Status s = f.dns->DeleteTxt("_acme-challenge.x");
  CHECK(s.code() == absl::StatusCode::kPermissionDenied);
  CHECK(absl::StrContains(s.message(), "AuthorizationFailed"));
}

TEST_CASE("listing follows nextLink on the same host and refuses another host") {
  Fixture f;
  const std::string second = absl::StrCat("https://management.localhost:", f.server->port(),
                                          "/page2?api-version=2016-04-01");
  f.server->Handle("GET", absl::StrCat(kZonePath, "/TXT"), [&](const Req&) {
    return Json(
        200,
        absl::StrCat(
            R"({"value":[{"name":"_acme-challenge.reg","properties":{"metadata":{"managed-by":"rotor"},)",
            R"("TXTRecords":[{"value":["ab","cd"]}]}}],"nextLink":")", second, R"("})"));
  });
  f.server->Handle("GET", "/page2", [](const Req&) {
    return Json(200,
                R"({"value":[{"name":"other","properties":{"TXTRecords":[{"value":["x"]}]}}]})");
  });
  auto sets = f.dns->ListTxt();
  REQUIRE(sets.ok());
  REQUIRE(sets->size() == 2);
  CHECK((*sets)[0].managed_by_rotor);
  CHECK((*sets)[0].values == std::vector<std::string>{"abcd"});
  CHECK_FALSE((*sets)[1].managed_by_rotor);

  f.server->Handle("GET", absl::StrCat(kZonePath, "/TXT"), [](const Req&) {
    return Json(200, R"({"value":[],"nextLink":"https://evil.example/steal"})");
  });
  auto refused = f.dns->ListTxt();
  REQUIRE_FALSE(refused.ok());
  CHECK(absl::StrContains(refused.status().message(),
                          "refusing nextLink https://evil.example/steal"));

  f.server->Handle("GET", absl::StrCat(kZonePath, "/TXT"),
                   [](const Req&) { return Json(200, R"({"value":"nope"})"); });
  auto unreadable = f.dns->ListTxt();
  REQUIRE_FALSE(unreadable.ok());
  CHECK(absl::StrContains(unreadable.status().message(), "\"value\" is not an array"));
}

TEST_CASE("relative names inside the zone, names outside it are refused") {
  Fixture f;
  CHECK(*f.dns->RelativeName("_acme-challenge.reg.contoso.com") == "_acme-challenge.reg");
  CHECK(*f.dns->RelativeName("_ACME-challenge.Contoso.com.") == "_acme-challenge");
  CHECK(*f.dns->RelativeName("contoso.com") == "@");
  auto outside = f.dns->RelativeName("_acme-challenge.notcontoso.com");
  REQUIRE_FALSE(outside.ok());
  CHECK(absl::StrContains(outside.status().message(), "is not in the DNS zone contoso.com"));
}

TEST_CASE("a zone or resource group name that cannot be in a URL is refused up front") {
  DnsZoneOptions o;
  o.arm_endpoint = "https://management.localhost";
  o.subscription_id = "sub1";
  o.resource_group = "dns-rg";
  o.zone = "contoso.com/../x";
  CHECK(ArmDnsZoneClient::Create(nullptr, o).status().code() == absl::StatusCode::kInvalidArgument);
  o.zone = "contoso.com";
  o.resource_group = "rg?x";
  CHECK(ArmDnsZoneClient::Create(nullptr, o).status().code() == absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace rotor::arm
