// ARM deployments of the real rotor-emulator binary.
#include <doctest/doctest.h>

#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "tests/emulator/emulator_harness.h"

namespace rotor::emulator::testing {
namespace {

constexpr char kTemplate[] = R"({
  "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
  "contentVersion": "1.0.0.0",
  "parameters": {
    "adminUsername": {"type": "string"},
    "location": {"type": "string", "defaultValue": "local"},
    "vmSize": {"type": "string", "defaultValue": "Standard_A2"},
    "servicePrincipalClientSecret": {"type": "securestring"}
  },
  "variables": {"vmName": "registry-vm"},
  "resources": [
    {"type": "Microsoft.Compute/virtualMachines", "apiVersion": "2020-06-01",
     "name": "[variables('vmName')]", "location": "[parameters('location')]"}
  ],
  "outputs": {
    "admin": {"type": "string", "value": "[parameters('adminUsername')]"},
    "where": {"type": "string", "value": "[parameters('location')]"},
    "vm": {"type": "string", "value": "[variables('vmName')]"},
    "literal": {"type": "int", "value": 3},
    "computed": {"type": "string", "value": "[concat('a', 'b')]"}
  }
})";

std::string Body(const std::string& admin = "azureuser") {
  return absl::StrCat(R"({"properties":{"mode":"Incremental","template":)", kTemplate,
                      R"(,"parameters":{"adminUsername":{"value":")", admin,
                      R"("},"servicePrincipalClientSecret":{"value":"sp-secret-value"}}}})");
}

std::string DeploymentPath(const std::string& rg, const std::string& name,
                           const std::string& version = "2019-10-01") {
  return absl::StrCat("/subscriptions/0c5a3f9e-1111-2222-3333-444455556666/resourcegroups/", rg,
                      "/providers/Microsoft.Resources/deployments/", name,
                      "?api-version=", version);
}

std::vector<std::string> Args(const std::string& duration = "300ms") {
  return {"--vault",           "newregkv", "--resource-group",
          "newregreg",         "--client", absl::StrCat(kClientId, ":", kClientSecret),
          "--deploy-duration", duration};
}

TEST_CASE("a deployment is a long-running operation: Accepted, Running, Succeeded") {
  Emulator emu(Args());
  const std::string token = emu.ArmToken();

  HttpResult r = emu.Request("HEAD", emu.ArmUrl(DeploymentPath("newregreg", "registry")),
                             std::nullopt, {"Authorization: Bearer " + token});
  CHECK(r.status == 404);

  r = emu.Send("PUT", emu.ArmUrl(DeploymentPath("newregreg", "registry")), Body(), token);
  REQUIRE_MESSAGE(r.status == 201, r.body);
  auto put = r.Json();
  CHECK(JsonString(put, "properties/provisioningState") == "Accepted");
  CHECK(JsonString(put, "id") ==
        "/subscriptions/0c5a3f9e-1111-2222-3333-444455556666/resourceGroups/newregreg/providers/"
        "Microsoft.Resources/deployments/registry");
  CHECK(JsonString(put, "type") == "Microsoft.Resources/deployments");
  const std::string async = r.Header("Azure-AsyncOperation");
  REQUIRE(absl::StartsWith(async, emu.ArmUrl("/subscriptions/")));
  CHECK(absl::StrContains(async, "/operationStatuses/"));
  CHECK(absl::StrContains(async, "api-version=2019-10-01"));

  r = emu.Get(async, token);
  REQUIRE(r.status == 200);
  const std::string first = JsonString(r.Json(), "status");
  CHECK((first == "Accepted" || first == "Running"));
  CHECK(WaitForOperation(emu, async, token) == "Succeeded");

  r = emu.Get(emu.ArmUrl(DeploymentPath("newregreg", "registry")), token);
  REQUIRE(r.status == 200);
  auto d = r.Json();
  CHECK(JsonString(d, "properties/provisioningState") == "Succeeded");
  CHECK(JsonString(d, "properties/mode") == "Incremental");
  CHECK(absl::StartsWith(JsonString(d, "properties/duration"), "PT"));
  CHECK_FALSE(JsonString(d, "properties/correlationId").empty());
  // Parameters: given, defaulted, and a securestring without its value.
  CHECK(JsonString(d, "properties/parameters/adminUsername/value") == "azureuser");
  CHECK(JsonString(d, "properties/parameters/adminUsername/type") == "String");
  CHECK(JsonString(d, "properties/parameters/location/value") == "local");
  CHECK(JsonString(d, "properties/parameters/servicePrincipalClientSecret/type") == "SecureString");
  CHECK_FALSE(d["properties"]["parameters"]["servicePrincipalClientSecret"].HasMember("value"));
  CHECK_FALSE(absl::StrContains(r.body, "sp-secret-value"));
  // Outputs resolve parameters (and defaults), variables and literals.
  CHECK(JsonString(d, "properties/outputs/admin/value") == "azureuser");
  CHECK(JsonString(d, "properties/outputs/admin/type") == "String");
  CHECK(JsonString(d, "properties/outputs/where/value") == "local");
  CHECK(JsonString(d, "properties/outputs/vm/value") == "registry-vm");
  CHECK(JsonString(d, "properties/outputs/literal/value") == "3");

  // HEAD, list, exportTemplate, operations.
  r = emu.Request("HEAD", emu.ArmUrl(DeploymentPath("newregreg", "registry")), std::nullopt,
                  {"Authorization: Bearer " + token});
  CHECK(r.status == 204);
  r = emu.Get(emu.ArmUrl("/subscriptions/s/resourcegroups/newregreg/providers/"
                         "Microsoft.Resources/deployments/?api-version=2019-10-01"),
              token);
  REQUIRE(r.status == 200);
  CHECK(r.Json()["value"].Size() == 1);
  r = emu.Request("POST",
                  emu.ArmUrl("/subscriptions/s/resourcegroups/newregreg/providers/"
                             "Microsoft.Resources/deployments/registry/exportTemplate"
                             "?api-version=2019-10-01"),
                  std::nullopt, {"Authorization: Bearer " + token});
  REQUIRE(r.status == 200);
  CHECK(JsonString(r.Json(), "template/parameters/adminUsername/type") == "string");
  r = emu.Get(emu.ArmUrl("/subscriptions/s/resourcegroups/newregreg/deployments/registry/"
                         "operations?api-version=2019-10-01"),
              token);
  REQUIRE(r.status == 200);
  auto ops = r.Json();
  REQUIRE(ops["value"].Size() == 2);
  CHECK(JsonString(ops, "value/0/properties/targetResource/resourceType") ==
        "Microsoft.Compute/virtualMachines");
  const std::string op_id = JsonString(ops, "value/0/operationId");
  r = emu.Get(emu.ArmUrl(absl::StrCat("/subscriptions/s/resourcegroups/newregreg/deployments/"
                                      "registry/operations/",
                                      op_id, "?api-version=2019-10-01")),
              token);
  CHECK(r.status == 200);
  // Cancel of a finished deployment.
  r = emu.Request("POST",
                  emu.ArmUrl("/subscriptions/s/resourcegroups/newregreg/providers/"
                             "Microsoft.Resources/deployments/registry/cancel"
                             "?api-version=2019-10-01"),
                  std::nullopt, {"Authorization: Bearer " + token});
  CHECK(r.status == 409);
  CHECK(JsonString(r.Json(), "error/code") == "DeploymentCannotBeCancelled");

  // Redeploying under the same name replaces it: 200; path segments are
  // case-insensitive; each documented api-version works.
  for (const std::string version : {"2018-05-01", "2020-10-01", "2025-04-01"}) {
    CAPTURE(version);
    r = emu.Send("PUT",
                 emu.ArmUrl(absl::StrCat("/SUBSCRIPTIONS/s/ResourceGroups/NEWREGREG/providers/"
                                         "microsoft.resources/DEPLOYMENTS/registry?api-version=",
                                         version)),
                 Body("second"), token);
    REQUIRE_MESSAGE(r.status == 200, r.body);
    CHECK(WaitForOperation(emu, r.Header("Azure-AsyncOperation"), token) == "Succeeded");
  }
  r = emu.Get(emu.ArmUrl(DeploymentPath("newregreg", "registry", "2025-04-01")), token);
  CHECK(JsonString(r.Json(), "properties/outputs/admin/value") == "second");

  // api-version is required.
  r = emu.Get(emu.ArmUrl("/subscriptions/s/resourcegroups/newregreg/providers/"
                         "Microsoft.Resources/deployments/registry"),
              token);
  CHECK(r.status == 400);
  CHECK(JsonString(r.Json(), "error/code") == "MissingApiVersionParameter");

  auto stats = emu.Stats();
  CHECK(JsonString(stats, "deployments/started") == "4");
  CHECK(JsonString(stats, "deployments/succeeded") == "4");
}

TEST_CASE("deployment errors: unknown group, invalid template, injected failure, cancel") {
  Emulator emu(Args("1s"));
  const std::string token = emu.ArmToken();
  HttpResult r = emu.Send("PUT", emu.ArmUrl(DeploymentPath("nogroup", "d")), Body(), token);
  CHECK(r.status == 404);
  CHECK(JsonString(r.Json(), "error/code") == "ResourceGroupNotFound");

  // A required parameter missing: ARM's synchronous 400.
  r = emu.Send("PUT", emu.ArmUrl(DeploymentPath("newregreg", "d")),
               absl::StrCat(R"({"properties":{"mode":"Incremental","template":)", kTemplate, "}}"),
               token);
  CHECK(r.status == 400);
  CHECK(JsonString(r.Json(), "error/code") == "InvalidTemplate");
  r = emu.Send("PUT", emu.ArmUrl(DeploymentPath("newregreg", "d")), "{not json", token);
  CHECK(r.status == 400);

  // --deploy-fail armed through the admin endpoint.
  r = emu.Request("POST", emu.Url("127.0.0.1", "/_emulator/deploy-fail?resourceGroup=newregreg"));
  CHECK(r.status == 204);
  r = emu.Send("PUT", emu.ArmUrl(DeploymentPath("newregreg", "d")), Body(), token);
  REQUIRE(r.status == 201);
  const std::string async = r.Header("Azure-AsyncOperation");
  // A second deployment while one runs in the group.
  HttpResult busy = emu.Send("PUT", emu.ArmUrl(DeploymentPath("newregreg", "d")), Body(), token);
  CHECK(busy.status == 409);
  CHECK(JsonString(busy.Json(), "error/code") == "DeploymentActive");
  CHECK(WaitForOperation(emu, async, token) == "Failed");
  r = emu.Get(async, token);
  CHECK(JsonString(r.Json(), "error/code") == "DeploymentFailed");
  r = emu.Get(emu.ArmUrl(DeploymentPath("newregreg", "d")), token);
  auto d = r.Json();
  CHECK(JsonString(d, "properties/provisioningState") == "Failed");
  CHECK(JsonString(d, "properties/error/code") == "DeploymentFailed");
  CHECK(JsonString(d, "properties/error/details/0/code") == "ResourceDeploymentFailure");
  CHECK_FALSE(d["properties"].HasMember("outputs"));
  r = emu.Get(emu.ArmUrl("/subscriptions/s/resourcegroups/newregreg/deployments/d/operations"
                         "?api-version=2019-10-01"),
              token);
  CHECK(JsonString(r.Json(), "value/0/properties/provisioningState") == "Failed");
  CHECK(JsonString(r.Json(), "value/0/properties/statusMessage/error/code") ==
        "ResourceDeploymentFailure");

  // Only the next one fails.
  r = emu.Send("PUT", emu.ArmUrl(DeploymentPath("newregreg", "d")), Body(), token);
  REQUIRE(r.status == 200);
  // Cancel while running.
  HttpResult cancel = emu.Request(
      "POST",
      emu.ArmUrl("/subscriptions/s/resourcegroups/newregreg/providers/Microsoft.Resources/"
                 "deployments/d/cancel?api-version=2019-10-01"),
      std::nullopt, {"Authorization: Bearer " + token});
  CHECK(cancel.status == 204);
  CHECK(WaitForOperation(emu, r.Header("Azure-AsyncOperation"), token) == "Canceled");
  r = emu.Send("PUT", emu.ArmUrl(DeploymentPath("newregreg", "d")), Body(), token);
  REQUIRE(r.status == 200);
  CHECK(WaitForOperation(emu, r.Header("Azure-AsyncOperation"), token) == "Succeeded");
  auto stats = emu.Stats();
  CHECK(JsonString(stats, "deployments/failed") == "2");
  CHECK(JsonString(stats, "deployments/succeeded") == "1");
}

TEST_CASE("resource groups and paged deployment lists") {
  Emulator emu({"--resource-group", "rg1", "--deploy-duration", "0s", "--arm-page-size", "2",
                "--deploy-fail", "rg1"});
  const std::string token = emu.ArmToken();
  HttpResult r =
      emu.Get(emu.ArmUrl("/subscriptions/s/resourcegroups/rg2?api-version=2019-10-01"), token);
  CHECK(r.status == 404);
  CHECK(JsonString(r.Json(), "error/code") == "ResourceGroupNotFound");
  r = emu.Send("PUT", emu.ArmUrl("/subscriptions/s/resourcegroups/rg2?api-version=2019-10-01"),
               R"({"location":"local"})", token);
  CHECK(r.status == 201);
  r = emu.Get(emu.ArmUrl("/subscriptions/s/resourcegroups/rg2?api-version=2019-10-01"), token);
  CHECK(r.status == 200);
  CHECK(JsonString(r.Json(), "name") == "rg2");

  for (int i = 0; i < 5; ++i) {
    r = emu.Send("PUT", emu.ArmUrl(DeploymentPath("rg1", absl::StrCat("dep", i))), Body(), token);
    REQUIRE_MESSAGE(r.status == 201, r.body);
    WaitForOperation(emu, r.Header("Azure-AsyncOperation"), token);
  }
  std::set<std::string> names;
  std::string link = emu.ArmUrl(
      "/subscriptions/s/resourcegroups/rg1/providers/"
      "Microsoft.Resources/deployments/?api-version=2020-10-01");
  int pages = 0;
  while (!link.empty() && pages < 10) {
    r = emu.Get(link, token);
    REQUIRE(r.status == 200);
    // Json() returns a Document by value: keep it alive over the loop.
    const rapidjson::Document page = r.Json();
    for (const auto& v : page["value"].GetArray()) names.insert(v["name"].GetString());
    link = JsonString(r.Json(), "nextLink");
    ++pages;
  }
  CHECK(pages == 3);
  CHECK(names.size() == 5);
  // $filter and $top.
  r = emu.Get(emu.ArmUrl("/subscriptions/s/resourcegroups/rg1/providers/Microsoft.Resources/"
                         "deployments/?api-version=2020-10-01&$filter=provisioningState%20eq%20"
                         "'Failed'"),
              token);
  REQUIRE(r.status == 200);
  CHECK(r.Json()["value"].Size() == 1);  // --deploy-fail rg1 failed the first
  r = emu.Get(emu.ArmUrl("/subscriptions/s/resourcegroups/rg1/providers/Microsoft.Resources/"
                         "deployments/?api-version=2020-10-01&$top=1"),
              token);
  CHECK(r.Json()["value"].Size() == 1);
  CHECK_FALSE(r.Json().HasMember("nextLink"));
}

}  // namespace
}  // namespace rotor::emulator::testing
