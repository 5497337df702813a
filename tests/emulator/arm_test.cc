// ARM deployments of the real rotor-emulator binary.
#include <doctest/doctest.h>

#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "base/files.h"
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
  // Long enough to still be running at the first poll on a loaded machine.
  Emulator emu(Args("3s"));
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

std::string ActionPath(const std::string& rg, const std::string& name, const std::string& action) {
  return absl::StrCat("/subscriptions/0c5a3f9e-1111-2222-3333-444455556666/resourcegroups/", rg,
                      "/providers/Microsoft.Resources/deployments/", name, "/", action,
                      "?api-version=2020-10-01");
}

TEST_CASE("HEAD of a missing deployment - 404 with ARM's JSON content type and no body") {
  Emulator emu(Args());
  HttpResult r = emu.Request("HEAD", emu.ArmUrl(DeploymentPath("newregreg", "none")), std::nullopt,
                             {"Authorization: Bearer " + emu.ArmToken()});
  CHECK(r.status == 404);
  CHECK(r.Header("Content-Type") == "application/json; charset=utf-8");
  CHECK(r.body.empty());
  CHECK(r.Header("x-ms-failure-cause") == "gateway");
}

TEST_CASE("DELETE of a deployment - 202 and Location, then 404 - not while it runs") {
  // The deletion runs a quarter of this (1 s): long enough to be seen on a
  // loaded machine.
  Emulator emu(Args("4s"));
  const std::string token = emu.ArmToken();
  const std::vector<std::string> auth = {"Authorization: Bearer " + token};
  HttpResult r = emu.Send("PUT", emu.ArmUrl(DeploymentPath("newregreg", "gone")), Body(), token);
  REQUIRE(r.status == 201);
  const std::string async = r.Header("Azure-AsyncOperation");
  // Running: cannot be deleted.
  r = emu.Request("DELETE", emu.ArmUrl(DeploymentPath("newregreg", "gone")), std::nullopt, auth);
  CHECK(r.status == 409);
  CHECK(JsonString(r.Json(), "error/code") == "DeploymentActive");
  REQUIRE(WaitForOperation(emu, async, token) == "Succeeded");

  r = emu.Request("DELETE", emu.ArmUrl(DeploymentPath("newregreg", "gone")), std::nullopt, auth);
  REQUIRE(r.status == 202);
  CHECK(r.body.empty());
  CHECK(r.Header("Content-Type").empty());
  CHECK_FALSE(r.Header("x-ms-ratelimit-remaining-subscription-deletes").empty());
  const std::string location = r.Header("Location");
  REQUIRE(absl::StartsWith(location, emu.ArmUrl("/subscriptions/")));
  CHECK(absl::StrContains(location, "/operationresults/"));
  CHECK(absl::StrContains(location, "api-version=2019-10-01"));
  // Deleting (a quarter of --deploy-duration), then done.
  r = emu.Get(location, token);
  CHECK(r.status == 202);
  CHECK(r.Header("Location") == location);
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (r.status == 202 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(100));
    r = emu.Get(location, token);
  }
  CHECK(r.status == 204);
  CHECK(r.body.empty());
  r = emu.Get(emu.ArmUrl(DeploymentPath("newregreg", "gone")), token);
  CHECK(r.status == 404);
  CHECK(JsonString(r.Json(), "error/code") == "DeploymentNotFound");
  r = emu.Get(emu.ArmUrl("/subscriptions/s/resourcegroups/newregreg/providers/"
                         "Microsoft.Resources/deployments/?api-version=2019-10-01"),
              token);
  CHECK(r.Json()["value"].Size() == 0);
  r = emu.Request("DELETE", emu.ArmUrl(DeploymentPath("newregreg", "gone")), std::nullopt, auth);
  CHECK(r.status == 404);
  // The name is free again: a new deployment (201).
  r = emu.Send("PUT", emu.ArmUrl(DeploymentPath("newregreg", "gone")), Body(), token);
  CHECK(r.status == 201);
  CHECK(WaitForOperation(emu, r.Header("Azure-AsyncOperation"), token) == "Succeeded");
  // Gone from the store, not only hidden.
  auto store = ReadFile(emu.state_dir() + "/deployments/newregreg.json");
  REQUIRE(store.ok());
  CHECK(absl::StrContains(*store, "\"gone\""));
  r = emu.Request("DELETE", emu.ArmUrl(DeploymentPath("newregreg", "gone")), std::nullopt, auth);
  CHECK(r.status == 202);
  store = ReadFile(emu.state_dir() + "/deployments/newregreg.json");
  CHECK_FALSE(absl::StrContains(*store, "\"gone\""));
}

TEST_CASE("validate - 200 with the validated deployment or 400 InvalidTemplate - records nothing") {
  Emulator emu(Args());
  const std::string token = emu.ArmToken();
  HttpResult r =
      emu.Send("POST", emu.ArmUrl(ActionPath("newregreg", "checked", "validate")), Body(), token);
  REQUIRE_MESSAGE(r.status == 200, r.body);
  auto v = r.Json();
  CHECK(JsonString(v, "name") == "checked");
  CHECK(absl::EndsWith(JsonString(v, "id"), "/deployments/checked"));
  CHECK(JsonString(v, "properties/provisioningState") == "Succeeded");
  CHECK(JsonString(v, "properties/mode") == "Incremental");
  CHECK_FALSE(JsonString(v, "properties/templateHash").empty());
  CHECK(JsonString(v, "properties/parameters/location/value") == "local");
  CHECK(JsonString(v, "properties/parameters/servicePrincipalClientSecret/type") == "SecureString");
  CHECK_FALSE(v["properties"]["parameters"]["servicePrincipalClientSecret"].HasMember("value"));
  CHECK_FALSE(absl::StrContains(r.body, "sp-secret-value"));
  CHECK(absl::EndsWith(JsonString(v, "properties/validatedResources/0/id"),
                       "/providers/Microsoft.Compute/virtualMachines/registry-vm"));
  CHECK_FALSE(v["properties"].HasMember("outputs"));

  // A required parameter missing: ARM's error, located in the request.
  const std::string missing =
      absl::StrCat(R"({"properties":{"mode":"Incremental","template":)", kTemplate, "}}");
  r = emu.Send("POST", emu.ArmUrl(ActionPath("newregreg", "checked", "validate")), missing, token);
  CHECK(r.status == 400);
  auto e = r.Json();
  CHECK(JsonString(e, "error/code") == "InvalidTemplate");
  CHECK(absl::StrContains(JsonString(e, "error/message"),
                          "The value for the template parameter 'adminUsername' at line '1' and "
                          "column '"));
  CHECK(JsonString(e, "error/additionalInfo/0/type") == "TemplateViolation");
  CHECK(JsonString(e, "error/additionalInfo/0/info/path") ==
        "properties.template.parameters.adminUsername");
  // An unknown parameter, a wrong type.
  r = emu.Send("POST", emu.ArmUrl(ActionPath("newregreg", "checked", "validate")),
               absl::StrCat(R"({"properties":{"mode":"Incremental","template":)", kTemplate,
                            R"(,"parameters":{"adminUsername":{"value":1},)",
                            R"("servicePrincipalClientSecret":{"value":"x"}}}})"),
               token);
  CHECK(r.status == 400);
  CHECK(JsonString(r.Json(), "error/code") == "InvalidTemplate");
  // Nothing was recorded.
  r = emu.Get(emu.ArmUrl(DeploymentPath("newregreg", "checked")), token);
  CHECK(r.status == 404);
  r = emu.Send("POST", emu.ArmUrl(ActionPath("nogroup", "checked", "validate")), Body(), token);
  CHECK(r.status == 404);
  CHECK(JsonString(r.Json(), "error/code") == "ResourceGroupNotFound");
}

TEST_CASE("whatIf - Create, then NoChange or Deploy once deployed - Failed when refused") {
  Emulator emu(Args("0s"));
  const std::string token = emu.ArmToken();
  auto what_if = [&](const std::string& body) {
    HttpResult r =
        emu.Send("POST", emu.ArmUrl(ActionPath("newregreg", "registry", "whatIf")), body, token);
    REQUIRE_MESSAGE(r.status == 202, r.body);
    CHECK(r.body.empty());
    const std::string location = r.Header("Location");
    for (int i = 0; i < 100; ++i) {
      r = emu.Get(location, token);
      if (r.status != 202) break;
      absl::SleepFor(absl::Milliseconds(20));
    }
    REQUIRE(r.status == 200);
    return r.Json();
  };
  auto result = what_if(Body());
  CHECK(JsonString(result, "status") == "Succeeded");
  CHECK(JsonString(result, "properties/changes/0/changeType") == "Create");
  CHECK(absl::EndsWith(JsonString(result, "properties/changes/0/resourceId"),
                       "/virtualMachines/registry-vm"));
  CHECK(JsonString(result, "properties/changes/0/after/name") == "registry-vm");

  HttpResult r =
      emu.Send("PUT", emu.ArmUrl(DeploymentPath("newregreg", "registry")), Body(), token);
  REQUIRE(r.status == 201);
  REQUIRE(WaitForOperation(emu, r.Header("Azure-AsyncOperation"), token) == "Succeeded");
  result = what_if(Body());
  CHECK(JsonString(result, "properties/changes/0/changeType") == "NoChange");

  result =
      what_if(absl::StrCat(R"({"properties":{"mode":"Incremental","template":)", kTemplate, "}}"));
  CHECK(JsonString(result, "status") == "Failed");
  CHECK(JsonString(result, "error/code") == "InvalidTemplate");
  CHECK(JsonString(result, "error/additionalInfo/0/info/lineNumber") == "1");
}

TEST_CASE("deployment operations carry a serviceRequestId - outputs, providers, resources") {
  Emulator emu(Args("0s"));
  const std::string token = emu.ArmToken();
  HttpResult r =
      emu.Send("PUT", emu.ArmUrl(DeploymentPath("newregreg", "registry")), Body(), token);
  REQUIRE(r.status == 201);
  auto put = r.Json();
  CHECK(JsonString(put, "properties/providers/0/namespace") == "Microsoft.Compute");
  CHECK(JsonString(put, "properties/providers/0/resourceTypes/0/resourceType") ==
        "virtualMachines");
  CHECK(JsonString(put, "properties/providers/0/resourceTypes/0/locations/0") == "local");
  REQUIRE(WaitForOperation(emu, r.Header("Azure-AsyncOperation"), token) == "Succeeded");
  r = emu.Get(emu.ArmUrl("/subscriptions/s/resourcegroups/newregreg/deployments/registry/"
                         "operations?api-version=2019-10-01"),
              token);
  auto ops = r.Json();
  REQUIRE(ops["value"].Size() == 2);
  const std::string request_id = JsonString(ops, "value/0/properties/serviceRequestId");
  CHECK(request_id.size() == 36);
  CHECK(request_id[8] == '-');
  CHECK_FALSE(ops["value"][1]["properties"].HasMember("serviceRequestId"));
  CHECK(JsonString(ops, "value/1/properties/provisioningOperation") == "EvaluateDeploymentOutput");
  // The same id on every read.
  r = emu.Get(emu.ArmUrl("/subscriptions/s/resourcegroups/newregreg/deployments/registry/"
                         "operations?api-version=2019-10-01"),
              token);
  CHECK(JsonString(r.Json(), "value/0/properties/serviceRequestId") == request_id);
  r = emu.Get(emu.ArmUrl(DeploymentPath("newregreg", "registry")), token);
  auto d = r.Json();
  CHECK(JsonString(d, "properties/outputs/computed/value") == "ab");
  CHECK(absl::EndsWith(JsonString(d, "properties/outputResources/0/id"),
                       "/providers/Microsoft.Compute/virtualMachines/registry-vm"));
}

}  // namespace
}  // namespace rotor::emulator::testing
