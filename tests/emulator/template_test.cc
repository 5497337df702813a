// ARM template evaluation (template.h), in process.
#include "tests/emulator/template.h"

#include <doctest/doctest.h>

#include "absl/strings/str_cat.h"
#include "rapidjson/document.h"
#include "tests/support/registry_deployment.h"

namespace rotor::emulator {
namespace {

TemplateScope Scope() {
  TemplateScope scope;
  scope.subscription = "sub-1";
  scope.resource_group = "newregreg";
  scope.tenant = "tenant-1";
  scope.deployment = "registry";
  return scope;
}

TEST_CASE("the gallery template's registryFqdn resolves through reference() of its public IP") {
  TemplateScope scope = Scope();
  scope.parameters["pipname"] = R"("registry-pip")";
  scope.parameters["pipdomainnamelabel"] = R"("MyReg")";
  scope.parameters["pfxthumbprint"] = R"("ABC")";
  auto tpl = Template::Parse(rotor::testing::kGalleryTemplateJson, scope);
  REQUIRE(tpl != nullptr);

  std::map<std::string, std::string> outputs;
  for (const auto& o : tpl->Outputs()) outputs[o.name] = o.value_json;
  CHECK(outputs["registryFqdn"] == R"("myreg.local.cloudapp.localhost")");
  CHECK(outputs["pfxThumbprint"] == R"("ABC")");

  // Resources: names evaluated (variables built from resourceGroup()),
  // nested types, dependencies.
  const auto& resources = tpl->Resources();
  REQUIRE(resources.size() == 3);
  CHECK(resources[0].id ==
        "/subscriptions/sub-1/resourceGroups/newregreg/providers/Microsoft.Network/"
        "publicIPAddresses/registry-pip");
  CHECK(resources[0].location == "local");
  CHECK(resources[1].name == "newregreg-vm");
  CHECK(resources[1].depends_on == std::vector<std::string>{resources[0].id});
  CHECK(resources[2].id ==
        "/subscriptions/sub-1/resourceGroups/newregreg/providers/Microsoft.Compute/"
        "virtualMachines/newregreg-vm/extensions/cse");
  CHECK(resources[2].depends_on == std::vector<std::string>{resources[1].id});

  auto full = tpl->Reference(resources[0].id, true);
  REQUIRE(full.has_value());
  rapidjson::Document doc;
  doc.Parse(full->c_str());
  REQUIRE(doc.IsObject());
  CHECK(std::string(doc["id"].GetString()) == resources[0].id);
  CHECK(std::string(doc["apiVersion"].GetString()) == "2017-10-01");
  const auto& props = doc["properties"];
  CHECK(std::string(props["dnsSettings"]["domainNameLabel"].GetString()) == "MyReg");
  CHECK(std::string(props["dnsSettings"]["fqdn"].GetString()) == "myreg.local.cloudapp.localhost");
  CHECK(std::string(props["publicIPAllocationMethod"].GetString()) == "dynamic");
  CHECK(std::string(props["provisioningState"].GetString()) == "Succeeded");
  CHECK(std::string(props["ipAddress"].GetString()) == "127.0.0.1");
  CHECK(props["resourceGuid"].GetStringLength() == 36);
}

TEST_CASE("what cannot be evaluated is left out") {
  // The label is unknown (not given, no default): no fqdn, so no output.
  TemplateScope scope = Scope();
  scope.parameters["pipname"] = R"("registry-pip")";
  auto tpl = Template::Parse(rotor::testing::kGalleryTemplateJson, scope);
  REQUIRE(tpl != nullptr);
  for (const auto& o : tpl->Outputs()) CHECK(o.name != "registryFqdn");
  CHECK_FALSE(tpl->Evaluate("[reference('nothing-declared')]").has_value());
  CHECK_FALSE(tpl->Evaluate("[listKeys('x', '2019-01-01')]").has_value());
  CHECK_FALSE(Template::Parse("[1, 2]", Scope()));
}

TEST_CASE("expressions: literals, functions, property and index access") {
  const char* kTemplate = R"({
    "parameters": {
      "name": {"type": "string", "defaultValue": "[toUpper('abc')]"},
      "count": {"type": "int", "defaultValue": 3},
      "secret": {"type": "securestring", "defaultValue": "never-used"}
    },
    "variables": {
      "prefix": "[concat(parameters('name'), '-', resourceGroup().name)]",
      "list": ["[variables('prefix')]", "b"],
      "loop": "[variables('loop')]"
    },
    "resources": [
      {"type": "Microsoft.Compute/availabilitySets", "name": "set1", "apiVersion": "2019-07-01",
       "location": "West US", "properties": {}},
      {"type": "Microsoft.Storage/storageAccounts", "name": "[variables('prefix')]",
       "condition": "[equals(parameters('count'), 4)]"}
    ]
  })";
  auto tpl = Template::Parse(kTemplate, Scope());
  REQUIRE(tpl != nullptr);
  struct Case {
    const char* expression;
    const char* json;
  };
  for (const Case& c : std::vector<Case>{
           {"[variables('prefix')]", R"("ABC-newregreg")"},
           {"[variables('list')[0]]", R"("ABC-newregreg")"},
           {"[length(variables('list'))]", "2"},
           {"[parameters('count')]", "3"},
           {"[format('{0}/{1}', 'a', 7)]", R"("a/7")"},
           {"[if(equals(1, 1), 'yes', parameters('secret'))]", R"("yes")"},
           {"[subscription().tenantId]", R"("tenant-1")"},
           {"[resourceGroup()['location']]", R"("local")"},
           {"[resourceId('Microsoft.Compute/virtualMachines/extensions', 'vm', 'cse')]",
            R"("/subscriptions/sub-1/resourceGroups/newregreg/providers/Microsoft.Compute/)"
            R"(virtualMachines/vm/extensions/cse")"},
           {"[reference('Microsoft.Compute/availabilitySets/set1')]",
            R"({"platformUpdateDomainCount":5,"platformFaultDomainCount":3})"},
           {"[string(true())]", R"("True")"},
           {"[replace('a-b-c', '-', '')]", R"("abc")"},
           {"[split('a,b', ',')[1]]", R"("b")"},
           {"[[not an expression]", R"("[not an expression]")"},
           {"plain", R"("plain")"},
           {"[concat('it''s', ' ok')]", R"("it's ok")"},
       }) {
    const std::string expression = c.expression;
    CAPTURE(expression);
    auto v = tpl->Evaluate(c.expression);
    REQUIRE(v.has_value());
    CHECK(*v == c.json);
  }
  // A securestring is never evaluated, not even from its default; a cycle
  // is not evaluable; a false condition leaves the resource out.
  CHECK_FALSE(tpl->Evaluate("[parameters('secret')]").has_value());
  CHECK_FALSE(tpl->Evaluate("[variables('loop')]").has_value());
  CHECK(tpl->Resources().size() == 1);
  CHECK(ResourceIdOf("s", "g", "Microsoft.Network/publicIPAddresses", "a/b") == "");
}

}  // namespace
}  // namespace rotor::emulator
