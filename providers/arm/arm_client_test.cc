// ArmDeploymentClient against a loopback HTTPS server playing ARM: paging,
// the PUT and its async operation, polling with Retry-After and progress,
// failures with operations, DeploymentActive, the lost-answer PUT, and
// validate's synchronous and long-running shapes.
#include "providers/arm/arm_client.h"

#include <doctest/doctest.h>

#include <atomic>
#include <mutex>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "providers/http/testing/https_test_server.h"
#include "rapidjson/document.h"

namespace rotor::arm {
namespace {

using http::testing::ErrorJson;
using http::testing::HttpsTestServer;
using http::testing::Json;
using Answer = HttpsTestServer::Response;
using Req = HttpsTestServer::Request;

constexpr char kPrefix[] =
    "/subscriptions/sub1/resourcegroups/rg1/providers/Microsoft.Resources/deployments/";

struct Fixture {
  explicit Fixture(const std::string& api_version = "2019-10-01") {
    HttpsTestServer::Options options;
    options.names = {"localhost", "management.localhost"};
    server = *HttpsTestServer::Start(options);
    http::HttpClientOptions client_options;
    client_options.ca_bundle_pem = server->ca_pem();
    client_options.time_scale = 0.001;
    client = std::shared_ptr<http::HttpClient>(*http::HttpClient::Create(client_options));
    ArmOptions o;
    o.arm_endpoint = Arm();
    o.subscription_id = "sub1";
    o.api_version = api_version;
    o.time_scale = 0.001;
    o.min_poll_interval = absl::Seconds(1);
    arm = *ArmDeploymentClient::Create(client, o);
  }
  std::string Arm() const { return absl::StrCat("https://management.localhost:", server->port()); }
  std::string Path(const std::string& suffix) const { return absl::StrCat(kPrefix, suffix); }
  static std::string Body(const std::string& name, const std::string& state,
                          const std::string& extra = "") {
    return absl::StrCat(
        R"({"id":"/subscriptions/sub1/resourceGroups/rg1/providers/Microsoft.Resources/deployments/)",
        name, R"(","name":")", name,
        R"(","type":"Microsoft.Resources/deployments","properties":{"provisioningState":")", state,
        R"(","mode":"Incremental","timestamp":"2026-11-25T19:35:00.1234567Z",)",
        R"("parameters":{"pfxThumbprint":{"type":"String","value":"AB"},"servicePrincipalClientSecret":{"type":"SecureString"}})",
        extra, "}}");
  }
  std::unique_ptr<HttpsTestServer> server;
  std::shared_ptr<http::HttpClient> client;
  std::unique_ptr<ArmDeploymentClient> arm;
};

DeploymentRequest Request(const std::string& name) {
  DeploymentRequest r;
  r.name = name;
  r.template_json = R"({"resources":[]})";
  r.parameters["pfxThumbprint"] = Secret(R"("CD")");
  r.parameters["servicePrincipalClientSecret"] = Secret(R"("Spn-Secret-Value")");
  r.tags = {{"managed-by", "rotor"}};
  return r;
}

TEST_CASE("list follows nextLink, get and exportTemplate") {
  Fixture f;
  f.server->Handle("GET", f.Path(""), [&](const Req& r) {
    CHECK(r.Param("api-version") == "2019-10-01");
    if (r.Param("$skiptoken").empty()) {
      return Json(
          200, absl::StrCat(R"({"value":[)", Fixture::Body("a", "Succeeded"), R"(],"nextLink":")",
                            f.Arm(), f.Path(""), R"(?api-version=2019-10-01&$skiptoken=2"})"));
    }
    return Json(200, absl::StrCat(R"({"value":[)", Fixture::Body("b", "Failed"), "]}"));
  });
  f.server->Handle("GET", f.Path("a"),
                   [](const Req&) { return Json(200, Fixture::Body("a", "Succeeded")); });
  f.server->Handle("POST", f.Path("a/exportTemplate"), [](const Req& r) {
    CHECK(r.body.empty());
    return Json(200, R"({"template":{"$schema":"s","resources":[]}})");
  });
  auto list = f.arm->ListDeployments("rg1");
  REQUIRE_MESSAGE(list.ok(), list.status().ToString());
  REQUIRE(list->size() == 2);
  CHECK((*list)[1].name == "b");
  CHECK((*list)[0].parameters.at("pfxThumbprint").value_json == R"("AB")");
  auto a = f.arm->GetDeployment("rg1", "a");
  REQUIRE(a.ok());
  CHECK(a->Succeeded());
  CHECK(a->resource_group == "rg1");
  auto t = f.arm->ExportTemplate("rg1", "a");
  REQUIRE(t.ok());
  CHECK(*t == R"({"$schema":"s","resources":[]})");
  f.server->Handle(
      "GET", "/subscriptions/sub1/resourcegroups/nope/providers/Microsoft.Resources/deployments/",
      [](const Req&) {
        return ErrorJson(404, "ResourceGroupNotFound", "Resource group 'nope' could not be found.");
      });
  auto missing = f.arm->ListDeployments("nope");
  CHECK(missing.status().code() == absl::StatusCode::kNotFound);
  CHECK(absl::StrContains(missing.status().message(), "ResourceGroupNotFound"));
  CHECK(f.arm->GetDeployment("rg1", "../x").status().code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("start then wait: Azure-AsyncOperation polled with Retry-After, progress reported") {
  Fixture f;
  std::string put_body;
  f.server->Handle("PUT", f.Path("registry-2"), [&](const Req& r) {
    put_body = r.body;
    Answer a = Json(201, Fixture::Body("registry-2", "Accepted"));
    a.headers.push_back(
        {"Azure-AsyncOperation", absl::StrCat(f.Arm(), f.Path("registry-2/operationStatuses/op1"),
                                              "?api-version=2019-10-01")});
    return a;
  });
  f.server->Script("GET", f.Path("registry-2/operationStatuses/op1"),
                   {Json(200, R"({"status":"Accepted"})"), Json(200, R"({"status":"Running"})")},
                   Json(200, R"({"status":"Succeeded"})"));
  f.server->Handle("GET", f.Path("registry-2"),
                   [](const Req&) { return Json(200, Fixture::Body("registry-2", "Succeeded")); });
  auto started = f.arm->StartDeployment("rg1", Request("registry-2"));
  REQUIRE_MESSAGE(started.ok(), started.status().ToString());
  CHECK(started->provisioning_state == "Accepted");
  rapidjson::Document body;
  body.Parse(put_body.c_str());
  CHECK(std::string(body["properties"]["mode"].GetString()) == "Incremental");
  CHECK(std::string(body["properties"]["parameters"]["servicePrincipalClientSecret"]["value"]
                        .GetString()) == "Spn-Secret-Value");

  std::vector<std::string> states;
  auto done = f.arm->WaitForDeployment(
      "rg1", "registry-2",
      [&](const Deployment& d, absl::Duration) { states.push_back(d.provisioning_state); },
      absl::Minutes(5));
  REQUIRE_MESSAGE(done.ok(), done.status().ToString());
  CHECK(done->Succeeded());
  CHECK(done->parameters.count("servicePrincipalClientSecret") == 1);
  CHECK(states == std::vector<std::string>{"Accepted", "Running"});
  CHECK(f.server->RequestCount("GET", f.Path("registry-2/operationStatuses/op1")) == 3);
}

TEST_CASE("a failed deployment carries ARM's error and the failed operations") {
  Fixture f;
  f.server->Handle("GET", f.Path("bad"), [](const Req&) {
    return Json(
        200,
        Fixture::Body(
            "bad", "Failed",
            R"(,"error":{"code":"DeploymentFailed","message":"At least one resource deployment operation failed.","details":[{"code":"VMExtensionProvisioningError","message":"{\"error\":{\"code\":\"VMExtensionProvisioningError\",\"message\":\"thumbprint mismatch\"}}"}]})"));
  });
  f.server->Handle(
      "GET", "/subscriptions/sub1/resourcegroups/rg1/deployments/bad/operations", [](const Req&) {
        return Json(
            200,
            R"({"value":[{"operationId":"9","properties":{"provisioningState":"Failed","statusCode":"Conflict","statusMessage":{"status":"Failed","error":{"code":"VMExtensionProvisioningError","message":"AADSTS7000215: Invalid client secret provided."}},"targetResource":{"resourceType":"Microsoft.Compute/virtualMachines/extensions","resourceName":"registry/install"}}}]})");
      });
  auto done = f.arm->WaitForDeployment("rg1", "bad", nullptr, absl::Minutes(1));
  REQUIRE(done.ok());
  CHECK(done->provisioning_state == "Failed");
  INFO(done->error);
  CHECK(absl::StartsWith(done->error,
                         "DeploymentFailed: At least one resource deployment operation failed.\n"
                         "  VMExtensionProvisioningError: thumbprint mismatch\n"
                         "Failed operations:\n"
                         "  Microsoft.Compute/virtualMachines/extensions/registry/install: "
                         "VMExtensionProvisioningError: AADSTS7000215"));
}

TEST_CASE("a deployment already running: 409 DeploymentActive is a clear FailedPrecondition") {
  Fixture f;
  f.server->Handle("PUT", f.Path("second"), [](const Req&) {
    return ErrorJson(
        409, "DeploymentActive",
        "Unable to edit or replace deployment 'second': previous deployment is still active.");
  });
  auto started = f.arm->StartDeployment("rg1", Request("second"));
  CHECK(started.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(absl::StrContains(started.status().message(), "already has a deployment running"));
  CHECK(f.server->RequestCount("PUT", f.Path("second")) == 1);
}

TEST_CASE("a PUT whose answer was lost is not sent twice, one refused before landing is") {
  Fixture f;
  std::atomic<int> puts{0};
  std::atomic<bool> exists{false};
  f.server->Handle("PUT", f.Path("lost"), [&](const Req&) {
    ++puts;
    exists = true;
    return ErrorJson(503, "ServiceUnavailable", "try later");
  });
  f.server->Handle("GET", f.Path("lost"), [&](const Req&) {
    return exists ? Json(200, Fixture::Body("lost", "Running"))
                  : ErrorJson(404, "DeploymentNotFound", "no");
  });
  auto started = f.arm->StartDeployment("rg1", Request("lost"));
  REQUIRE_MESSAGE(started.ok(), started.status().ToString());
  CHECK(started->provisioning_state == "Running");
  CHECK(puts == 1);

  std::atomic<int> throttled_puts{0};
  f.server->Script("PUT", f.Path("throttled"), {ErrorJson(429, "TooManyRequests", "slow down")},
                   Json(201, Fixture::Body("throttled", "Accepted")));
  auto second = f.arm->StartDeployment("rg1", Request("throttled"));
  REQUIRE(second.ok());
  CHECK(f.server->RequestCount("PUT", f.Path("throttled")) == 2);
  CHECK(f.server->RequestCount("GET", f.Path("throttled")) == 0);
  (void)throttled_puts;
}

TEST_CASE("waiting gives up at the timeout, transient poll failures are tolerated") {
  Fixture f;
  f.server->Script("GET", f.Path("slow"), {ErrorJson(500, "InternalServerError", "blip")},
                   Json(200, Fixture::Body("slow", "Running")));
  auto waited = f.arm->WaitForDeployment("rg1", "slow", nullptr, absl::Milliseconds(200));
  CHECK(waited.status().code() == absl::StatusCode::kDeadlineExceeded);
  CHECK(absl::StrContains(waited.status().message(), "still Running"));
}

TEST_CASE("validate: 2018-05-01 synchronous 400, 2019-10-01+ 202 and Location") {
  {
    Fixture f("2018-05-01");
    f.server->Handle("POST", f.Path("v/validate"), [](const Req&) {
      return Json(
          400,
          R"({"error":{"code":"InvalidTemplate","message":"Deployment template validation failed."}})");
    });
    auto v = f.arm->ValidateDeployment("rg1", Request("v"));
    CHECK(v.code() == absl::StatusCode::kInvalidArgument);
    CHECK(
        absl::StrContains(v.message(), "InvalidTemplate: Deployment template validation failed."));
  }
  Fixture f("2025-04-01");
  f.server->Handle("POST", f.Path("v/validate"), [&](const Req&) {
    Answer a = http::testing::Status(202);
    a.headers.push_back(
        {"Location", "/subscriptions/sub1/operationResults/xyz?api-version=2025-04-01"});
    a.headers.push_back({"Retry-After", "1"});
    return a;
  });
  f.server->Script(
      "GET", "/subscriptions/sub1/operationResults/xyz", {http::testing::Status(202)},
      Json(
          400,
          R"({"error":{"code":"InvalidTemplateDeployment","message":"not valid","details":[{"code":"PreflightValidationCheckFailed","message":"Preflight validation failed.","details":[{"code":"AccountNameInvalid","target":"a","message":"bad name"}]}]}})"));
  auto v = f.arm->ValidateDeployment("rg1", Request("v"));
  CHECK(v.code() == absl::StatusCode::kInvalidArgument);
  CHECK(absl::StrContains(v.message(), "    AccountNameInvalid (a): bad name"));
  CHECK(f.server->RequestCount("GET", "/subscriptions/sub1/operationResults/xyz") == 2);
}

}  // namespace
}  // namespace rotor::arm
