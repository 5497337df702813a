#include "providers/auth/cloud.h"

#include <doctest/doctest.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "providers/http/testing/https_test_server.h"

namespace rotor::auth {
namespace {

using http::testing::HttpsTestServer;
using http::testing::Json;

CloudOptions Stack(const std::string& arm = "https://management.local.azurestack.external") {
  CloudOptions c;
  c.flavor = CloudFlavor::kAzureStack;
  c.arm_endpoint = arm;
  c.profile = "2020-09-01-hybrid";
  return c;
}

// The documented answer (azure-stack-rest-api-use.md, contracts §3.2).
constexpr char kAadMetadata[] = R"({
  "galleryEndpoint": "https://adminportal.local.azurestack.external:30015/",
  "graphEndpoint":   "https://graph.windows.net/",
  "portalEndpoint":  "https://adminportal.local.azurestack.external/",
  "authentication": { "loginEndpoint": "https://login.windows.net/",
                      "audiences": ["https://contoso.onmicrosoft.com/4de154de-f8a8-4017-af41-df619da68155"] } })";
constexpr char kAdfsMetadata[] = R"({
  "galleryEndpoint": "https://portal.local.azurestack.external:30015/",
  "graphEndpoint": "https://graph.local.azurestack.external/",
  "portalEndpoint": "https://portal.local.azurestack.external/",
  "authentication": { "loginEndpoint": "https://adfs.local.azurestack.external/adfs/",
                      "audiences": ["https://management.adfs.azurestack.local/2d6d9a54-6bd9-4d8d-9a5f-1f9c5e0a3c11"] } })";

TEST_CASE("API profiles: defaults per kind, overrides, unknown profiles") {
  CloudOptions c = Stack();
  auto v = ResolveApiVersions(c);
  REQUIRE(v.ok());
  CHECK(v->keyvault == "2016-10-01");
  CHECK(v->deployments == "2019-10-01");
  CHECK(v->dns == "2016-04-01");

  c.profile = "2019-03-01-hybrid";
  v = ResolveApiVersions(c);
  REQUIRE(v.ok());
  CHECK(v->keyvault == "2016-10-01");
  CHECK(v->deployments == "2018-05-01");

  c.profile = "";
  c.flavor = CloudFlavor::kAzure;
  v = ResolveApiVersions(c);
  REQUIRE(v.ok());
  CHECK(v->profile == "latest");
  CHECK(v->keyvault == "7.6");
  CHECK(v->deployments == "2025-04-01");
  CHECK(v->dns == "2018-05-01");

  c.keyvault_api_version = "7.4";
  v = ResolveApiVersions(c);
  REQUIRE(v.ok());
  CHECK(v->keyvault == "7.4");
  CHECK(v->deployments == "2025-04-01");

  c = Stack();
  c.profile = "2018-03-01-hybrid";
  v = ResolveApiVersions(c);
  CHECK(v.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(absl::StrContains(v.status().message(), "2020-09-01-hybrid, 2019-03-01-hybrid, latest"));
  c.keyvault_api_version = "2016-10-01";
  c.deployments_api_version = "2018-05-01";
  v = ResolveApiVersions(c);
  REQUIRE(v.ok());
  CHECK(v->deployments == "2018-05-01");
  CHECK(KnownApiProfiles().size() == 3);
}

TEST_CASE("stamp DNS suffix: ARM host minus its first label, port kept") {
  CHECK(*StampDnsSuffix("https://management.local.azurestack.external") ==
        "local.azurestack.external");
  CHECK(*StampDnsSuffix("https://management.region1.contoso.com/") == "region1.contoso.com");
  CHECK(*StampDnsSuffix("https://Management.LocalHost:8443") == "localhost:8443");
  CHECK_FALSE(StampDnsSuffix("https://127.0.0.1:8443").ok());
  CHECK_FALSE(StampDnsSuffix("https://localhost:8443").ok());
  CHECK_FALSE(StampDnsSuffix("management.local").ok());
}

TEST_CASE("metadata endpoints: documented legacy shape parses") {
  auto m = ParseMetadataEndpoints(kAadMetadata);
  REQUIRE(m.ok());
  CHECK(m->login_endpoint == "https://login.windows.net/");
  REQUIRE(m->audiences.size() == 1);
  CHECK(m->graph_endpoint == "https://graph.windows.net/");
  CHECK_FALSE(ParseMetadataEndpoints("[]").ok());
  CHECK_FALSE(ParseMetadataEndpoints(R"({"authentication":{}})").ok());
  CHECK_FALSE(ParseMetadataEndpoints("not json").ok());
  CHECK(MetadataUrl("https://management.x.y/") ==
        "https://management.x.y/metadata/endpoints?api-version=2015-01-01");
}

TEST_CASE("endpoints on an AAD stamp") {
  auto m = *ParseMetadataEndpoints(kAadMetadata);
  auto e = DeriveEndpoints(Stack(), &m);
  REQUIRE(e.ok());
  CHECK_FALSE(e->adfs);
  CHECK(e->protocol == TokenProtocol::kAadV1);
  CHECK(e->login_endpoint == "https://login.windows.net");
  CHECK(e->Authority("contoso.onmicrosoft.com") ==
        "https://login.windows.net/contoso.onmicrosoft.com");
  CHECK(e->TokenEndpoint("t1") == "https://login.windows.net/t1/oauth2/token");
  CHECK(e->management_audience ==
        "https://contoso.onmicrosoft.com/4de154de-f8a8-4017-af41-df619da68155");
  CHECK(e->vault_dns_suffix == "vault.local.azurestack.external");
  CHECK(e->VaultUrl("NewRegKV") == "https://newregkv.vault.local.azurestack.external");
  CHECK(e->keyvault_audience.empty());
  CHECK(e->keyvault_audience_fallback == "https://vault.local.azurestack.external");
}

TEST_CASE("endpoints on an AD FS stamp: no tenant in the authority") {
  auto m = *ParseMetadataEndpoints(kAdfsMetadata);
  CHECK(IsAdfsLoginEndpoint(m.login_endpoint));
  CHECK(IsAdfsLoginEndpoint("https://adfs.x/ADFS"));
  CHECK_FALSE(IsAdfsLoginEndpoint("https://login.windows.net/"));
  CHECK_FALSE(IsAdfsLoginEndpoint("https://adfs.x/adfsx"));
  CloudOptions c = Stack();
  auto e = DeriveEndpoints(c, &m);
  REQUIRE(e.ok());
  CHECK(e->adfs);
  CHECK(e->protocol == TokenProtocol::kAdfs);
  CHECK(e->Authority("adfs") == "https://adfs.local.azurestack.external/adfs");
  CHECK(e->TokenEndpoint("whatever") == "https://adfs.local.azurestack.external/adfs/oauth2/token");
  CHECK(e->management_audience ==
        "https://management.adfs.azurestack.local/2d6d9a54-6bd9-4d8d-9a5f-1f9c5e0a3c11");
}

TEST_CASE("public Azure: well-known endpoints, AAD v2") {
  CloudOptions c;
  c.flavor = CloudFlavor::kAzure;
  c.arm_endpoint = "https://management.azure.com";
  auto e = DeriveEndpoints(c, nullptr);
  REQUIRE(e.ok());
  CHECK(e->protocol == TokenProtocol::kAadV2);
  CHECK(e->login_endpoint == "https://login.microsoftonline.com");
  CHECK(e->TokenEndpoint("t") == "https://login.microsoftonline.com/t/oauth2/v2.0/token");
  CHECK(e->management_audience == "https://management.azure.com/");
  CHECK(e->VaultUrl("kv") == "https://kv.vault.azure.net");
  CHECK(e->keyvault_audience_fallback == "https://vault.azure.net");

  // A sovereign cloud's ARM: derived the same way, overridable.
  c.arm_endpoint = "https://management.usgovcloudapi.net";
  auto gov = DeriveEndpoints(c, nullptr);
  REQUIRE(gov.ok());
  CHECK(gov->management_audience == "https://management.usgovcloudapi.net/");
  CHECK(gov->VaultUrl("kv") == "https://kv.vault.usgovcloudapi.net");
  CHECK(gov->keyvault_audience_fallback == "https://vault.usgovcloudapi.net");
}

TEST_CASE("overrides win over derivations") {
  CloudOptions c = Stack();
  c.login_endpoint = "https://adfs.other/adfs/";
  c.management_audience = "https://mgmt/aud";
  c.vault_dns_suffix = ".Vault.Other:444";
  c.keyvault_audience = "https://vault.other";
  auto e = DeriveEndpoints(c, nullptr);
  REQUIRE(e.ok());
  CHECK(e->adfs);
  CHECK(e->login_endpoint == "https://adfs.other/adfs");
  CHECK(e->management_audience == "https://mgmt/aud");
  CHECK(e->VaultUrl("kv") == "https://kv.vault.other:444");
  CHECK(e->keyvault_audience == "https://vault.other");
  // Without metadata and without overrides, the stamp cannot be described.
  CHECK_FALSE(DeriveEndpoints(Stack(), nullptr).ok());
}

TEST_CASE("discovery reads /metadata/endpoints once, without a token") {
  HttpsTestServer::Options options;
  options.names = {"localhost", "management.localhost"};
  auto server = *HttpsTestServer::Start(options);
  const std::string login = absl::StrCat("https://login.localhost:", server->port(), "/");
  server->Handle("GET", "/metadata/endpoints", [&](const HttpsTestServer::Request& r) {
    CHECK(r.Param("api-version") == "2015-01-01");
    CHECK(r.Header("Authorization").empty());
    return Json(200, absl::StrCat(R"({"authentication":{"loginEndpoint":")", login,
                                  R"(","audiences":["https://management.localhost/app"]}})"));
  });
  http::HttpClientOptions client_options;
  client_options.ca_bundle_pem = server->ca_pem();
  auto client = *http::HttpClient::Create(client_options);
  CloudOptions c = Stack(absl::StrCat("https://management.localhost:", server->port()));
  auto e = DiscoverEndpoints(c, *client);
  REQUIRE_MESSAGE(e.ok(), e.status().ToString());
  CHECK(e->login_endpoint == absl::StrCat("https://login.localhost:", server->port()));
  CHECK(e->management_audience == "https://management.localhost/app");
  CHECK(e->VaultUrl("kv") == absl::StrCat("https://kv.vault.localhost:", server->port()));
  CHECK(e->keyvault_audience_fallback == absl::StrCat("https://vault.localhost:", server->port()));
  CHECK(server->RequestCount() == 1);

  // Both overrides: no request at all.
  c.login_endpoint = login;
  c.management_audience = "https://management.localhost/app";
  REQUIRE(DiscoverEndpoints(c, *client).ok());
  CHECK(server->RequestCount() == 1);

  // A stamp answering an error: the message says what was being read.
  c.login_endpoint.clear();
  server->Handle("GET", "/metadata/endpoints", [](const HttpsTestServer::Request&) {
    return http::testing::ErrorJson(404, "NotFound", "nope");
  });
  auto failed = DiscoverEndpoints(c, *client);
  CHECK(failed.status().code() == absl::StatusCode::kNotFound);
  CHECK(absl::StrContains(failed.status().message(), "reading the stamp's endpoints"));
}

TEST_CASE("URL helpers") {
  auto p = SplitUrl("https://User@Host.Example:8443/a/b?x=1#f");
  REQUIRE(p.ok());
  CHECK(p->host == "host.example");
  CHECK(p->port == 8443);
  CHECK(p->path == "/a/b");
  CHECK(SameOrigin("https://kv.vault.azure.net:443/secrets", "https://KV.vault.azure.net/x"));
  CHECK_FALSE(SameOrigin("https://kv.vault.azure.net:444/", "https://kv.vault.azure.net/"));
  CHECK_FALSE(SameOrigin("https://evil.example/", "https://kv.vault.azure.net/"));
  CHECK_FALSE(SplitUrl("no-scheme").ok());
}

}  // namespace
}  // namespace rotor::auth
