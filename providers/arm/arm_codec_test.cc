// The ARM codec against every official deployments example (2019-10-01,
// 2025-04-01) and the recorded 2020-10-01 lifecycle, plus the error
// formatting and the PUT body.
#include "providers/arm/arm_codec.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "rapidjson/document.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"
#include "tests/support/testing.h"

namespace rotor::arm {
namespace {

std::string ReferenceDir() { return testing::SourceDir() + "/tests/data/azure-reference"; }

std::string ToText(const rapidjson::Value& v) {
  rapidjson::StringBuffer b;
  rapidjson::Writer<rapidjson::StringBuffer> w(b);
  v.Accept(w);
  return std::string(b.GetString(), b.GetSize());
}

rapidjson::Document Load(const std::string& path) {
  rapidjson::Document doc;
  std::string text = testing::ReadFileOrDie(path);
  doc.Parse(text.data(), text.size());
  REQUIRE_FALSE(doc.HasParseError());
  return doc;
}

TEST_CASE("official PUT deployment examples: 200/201 bodies parse as deployments") {
  const std::string dir = ReferenceDir() + "/azure-rest-examples/";
  if (!std::filesystem::exists(dir)) {
    MESSAGE("reference examples not found; skipped");
    return;
  }
  int parsed = 0;
  for (const char* file :
       {"arm-2019-10-01-PutDeploymentWithOnErrorDeploymentLastSuccessful.json",
        "arm-2019-10-01-PutDeploymentWithOnErrorDeploymentSpecificDeployment.json",
        "arm-2025-04-01-PutDeploymentResourceGroup.json"}) {
    INFO(file);
    auto doc = Load(dir + file);
    // The request body of the example has the shape rotor's body has.
    const auto& request = doc["parameters"]["parameters"]["properties"];
    const std::string mode = request["mode"].GetString();
    CHECK((mode == "Incremental" || mode == "Complete"));
    for (const auto& r : doc["responses"].GetObject()) {
      auto d = ParseDeployment(ToText(r.value["body"]), "fallback-rg");
      REQUIRE_MESSAGE(d.ok(), d.status().ToString());
      CHECK_FALSE(d->name.empty());
      CHECK(d->resource_group != "fallback-rg");  // read from the id
      CHECK_FALSE(d->provisioning_state.empty());
      CHECK(d->mode == mode);
      ++parsed;
    }
  }
  CHECK(parsed == 6);
  auto put = Load(dir + "arm-2025-04-01-PutDeploymentResourceGroup.json");
  auto d = ParseDeployment(ToText(put["responses"]["200"]["body"]), "x");
  CHECK(d->resource_group == "my-resource-group");
  CHECK(d->timestamp == *ParseArmTime("2020-06-05T01:20:01.723776Z"));
}

TEST_CASE("official validate examples: 200 ok, 400 nested details") {
  const std::string file =
      ReferenceDir() +
      "/azure-rest-examples/arm-2025-04-01-PostDeploymentValidateOnResourceGroup.json";
  if (!std::filesystem::exists(file)) return;
  auto doc = Load(file);
  auto ok = ParseValidateResult(ToText(doc["responses"]["200"]["body"]));
  REQUIRE(ok.ok());
  CHECK(ok->empty());
  auto bad = ParseValidateResult(ToText(doc["responses"]["400"]["body"]));
  REQUIRE(bad.ok());
  INFO(*bad);
  CHECK(absl::StartsWith(*bad, "InvalidTemplateDeployment: The template deployment"));
  CHECK(absl::StrContains(*bad, "\n  PreflightValidationCheckFailed: "));
  CHECK(absl::StrContains(*bad, "\n    AccountNameInvalid (a): "));
}

TEST_CASE("official what-if examples: bare templateLink string, error formatting") {
  const std::string dir = ReferenceDir() + "/azure-rest-examples/";
  for (const char* file : {"arm-2019-10-01-PostDeploymentWhatIfOnResourceGroup.json",
                           "arm-2025-04-01-PostDeploymentWhatIfOnResourceGroup.json"}) {
    if (!std::filesystem::exists(dir + file)) return;
    auto doc = Load(dir + file);
    // The request's properties parse with ParseDeployment's lenient reader.
    std::string request = absl::StrCat(R"({"name":"whatif","properties":)",
                                       ToText(doc["parameters"]["parameters"]["properties"]), "}");
    auto d = ParseDeployment(request, "rg");
    REQUIRE_MESSAGE(d.ok(), d.status().ToString());
    CHECK_FALSE(d->template_link_uri.empty());
  }
}

TEST_CASE("recorded 2020-10-01 lifecycle: every body parses as its kind says") {
  const std::string file =
      ReferenceDir() + "/recorded-traffic/arm/arm-2020-10-01-deployment-lifecycle.json";
  if (!std::filesystem::exists(file)) return;
  auto doc = Load(file);
  std::map<std::string, int> seen;
  for (const auto& e : doc["exchanges"].GetArray()) {
    const std::string kind = e["kind"].GetString();
    const auto& response = e["response"];
    if (!response["body"].IsObject()) continue;
    const std::string body = ToText(response["body"]);
    INFO(kind);
    if (kind == "arm_deployment_put" || kind == "arm_deployment_get" || kind == "arm_validate") {
      auto d = ParseDeployment(body, "rg");
      REQUIRE(d.ok());
      CHECK(d->name == "pytestdeployment667e10fe");
      CHECK(d->resource_group == "rgname");
      CHECK(d->parameters.at("location").value_json == R"("West US")");
      CHECK(d->parameters.at("location").type == "String");
      CHECK(d->timestamp > absl::FromUnixSeconds(1618500000));
    } else if (kind == "arm_deployment_list") {
      auto page = ParseDeploymentList(body, "rg");
      REQUIRE(page.ok());
      CHECK(page->items.size() == 1);
    } else if (kind == "arm_poll_async_operation" || kind == "arm_poll_location") {
      auto s = ParseOperationStatus(body);
      REQUIRE(s.ok());
      if (s->status == "Failed") {
        CHECK(absl::StartsWith(s->error, "InvalidTemplate: Deployment template validation failed"));
      }
    } else if (kind == "arm_deployment_operations") {
      if (!body.empty() && response["body"].HasMember("value")) {
        auto ops = ParseDeploymentOperations(body);
        REQUIRE(ops.ok());
        CHECK(ops->failures.empty());  // all succeeded
      }
    } else if (kind == "arm_export_template") {
      auto t = ParseExportedTemplate(body);
      REQUIRE(t.ok());
      CHECK(absl::StartsWith(*t, R"({"$schema":)"));
    } else if (kind == "arm_cancel") {
      CHECK(absl::StartsWith(FormatArmError(body), "DeploymentCannotBeCancelled: "));
    } else {
      continue;
    }
    ++seen[kind];
  }
  CHECK(seen.size() >= 7);
}

TEST_CASE("failed deployment: JSON messages inside details are parsed") {
  // contracts §4.9
  const std::string error =
      R"({"code":"DeploymentFailed","message":"At least one resource deployment operation failed. Please list deployment operations for details. Please see https://aka.ms/arm-debug for usage details.","details":[{"code":"Conflict","message":"{\r\n  \"error\": {\r\n    \"message\": \"Conflict\",\r\n    \"code\": \"Conflict\"\r\n  }\r\n}"}]})";
  std::string text = FormatArmError(error);
  CHECK(text ==
        "DeploymentFailed: At least one resource deployment operation failed. Please list "
        "deployment operations for details. Please see https://aka.ms/arm-debug for usage "
        "details.\n  Conflict: Conflict");
  auto d = ParseDeployment(
      absl::StrCat(R"({"name":"d","properties":{"provisioningState":"Failed","error":)", error,
                   "}}"),
      "rg");
  REQUIRE(d.ok());
  CHECK(d->error == text);

  // Operations: 2019-10-01 free-form statusMessage and 2025-04-01 {status, error}.
  auto ops = ParseDeploymentOperations(R"({"value":[
    {"operationId":"1","properties":{"provisioningState":"Succeeded"}},
    {"operationId":"2","properties":{"provisioningState":"Failed","statusCode":"Conflict",
      "statusMessage":{"error":{"code":"VMExtensionProvisioningError","message":"VM has reported a failure"}},
      "targetResource":{"resourceType":"Microsoft.Compute/virtualMachines/extensions","resourceName":"vm/ext"}}},
    {"operationId":"3","properties":{"provisioningState":"Failed","statusCode":"BadRequest",
      "statusMessage":{"status":"Failed","error":{"code":"InvalidParameter","message":"bad url","details":[{"code":"Inner","message":"{\"error\":{\"code\":\"Deep\",\"message\":\"deepest\"}}"}]}}}},
    {"operationId":"4","properties":{"provisioningState":"Failed","statusMessage":"plain words"}}
  ],"nextLink":"https://management.localhost/next"})");
  REQUIRE(ops.ok());
  REQUIRE(ops->failures.size() == 3);
  CHECK(ops->failures[0] ==
        "Microsoft.Compute/virtualMachines/extensions/vm/ext: VMExtensionProvisioningError: VM has "
        "reported a failure");
  CHECK(ops->failures[1] == "operation 3: InvalidParameter: bad url\n  Inner:\n    Deep: deepest");
  CHECK(ops->failures[2] == "operation 4: plain words");
  CHECK(ops->next_link == "https://management.localhost/next");
}

TEST_CASE("parameters: values re-serialised, secure ones empty") {
  auto d = ParseDeployment(
      R"({"id":"/subscriptions/s/resourceGroups/RG1/providers/Microsoft.Resources/deployments/d",
    "name":"d","tags":{"managed-by":"rotor"},"properties":{"provisioningState":"Running","mode":"Incremental",
    "templateLink":{"uri":"https://example/t.json","contentVersion":"1.0.0.0"},
    "parameters":{"s":{"type":"String","value":"x\"y"},"n":{"type":"Int","value":3},
      "o":{"type":"Object","value":{"a":[1,true,null]}},
      "secret":{"type":"SecureString"},"leaky":{"type":"securestring","value":"should-not-pass"}}}})",
      "rg");
  REQUIRE(d.ok());
  CHECK(d->resource_group == "RG1");
  CHECK(d->template_link_uri == "https://example/t.json");
  CHECK(d->tags.at("managed-by") == "rotor");
  CHECK(d->parameters.at("s").value_json == R"("x\"y")");
  CHECK(d->parameters.at("n").value_json == "3");
  CHECK(d->parameters.at("o").value_json == R"({"a":[1,true,null]})");
  CHECK(d->parameters.at("secret").value_json.empty());
  CHECK(d->parameters.at("secret").type == "SecureString");
  CHECK(d->parameters.at("leaky").value_json.empty());
  CHECK(d->timestamp == absl::UnixEpoch());
}

TEST_CASE("the PUT body: template inline or linked, parameters raw, tags") {
  DeploymentRequest r;
  r.name = "registry-20261125T193500Z";
  r.template_json = R"({"resources":[]})";
  r.parameters["pfxThumbprint"] = Secret(R"("ABCDEF")");
  r.parameters["servicePrincipalClientSecret"] = Secret(R"("Spn-Secret-Value")");
  r.parameters["count"] = Secret("2");
  r.tags = {{"managed-by", "rotor"}};
  auto body = DeploymentBody(r);
  REQUIRE(body.ok());
  rapidjson::Document doc;
  doc.Parse(body->Reveal().data(), body->Reveal().size());
  REQUIRE_FALSE(doc.HasParseError());
  CHECK(std::string(doc["properties"]["mode"].GetString()) == "Incremental");
  CHECK(doc["properties"]["template"]["resources"].IsArray());
  CHECK(std::string(doc["properties"]["parameters"]["pfxThumbprint"]["value"].GetString()) ==
        "ABCDEF");
  CHECK(doc["properties"]["parameters"]["count"]["value"].GetInt() == 2);
  CHECK(std::string(doc["tags"]["managed-by"].GetString()) == "rotor");

  DeploymentRequest linked;
  linked.name = "x";
  linked.template_link_uri = "https://example/t.json";
  auto l = DeploymentBody(linked);
  REQUIRE(l.ok());
  CHECK(absl::StrContains(l->Reveal(), R"("templateLink":{"uri":"https://example/t.json"})"));

  DeploymentRequest bad;
  bad.name = "x";
  bad.template_json = "{}";
  bad.parameters["servicePrincipalClientSecret"] = Secret("unquoted-Secret-Value");
  auto refused = DeploymentBody(bad);
  CHECK(refused.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(absl::StrContains(refused.status().message(), "servicePrincipalClientSecret"));
  CHECK_FALSE(absl::StrContains(refused.status().message(), "unquoted-Secret-Value"));
  bad.parameters.clear();
  bad.template_link_uri = "https://both";
  CHECK_FALSE(DeploymentBody(bad).ok());
  DeploymentRequest broken;
  broken.template_json = "{\"a\":";
  CHECK_FALSE(DeploymentBody(broken).ok());
}

TEST_CASE("ARM date-times") {
  CHECK(*ParseArmTime("2021-04-16T10:08:10.3066046Z") ==
        absl::FromUnixMicros(1618567690306604) + absl::Nanoseconds(600));
  CHECK(*ParseArmTime("2021-04-16T10:08:10Z") == absl::FromUnixSeconds(1618567690));
  CHECK(*ParseArmTime("2021-04-16T12:08:10+02:00") == absl::FromUnixSeconds(1618567690));
  CHECK(*ParseArmTime("2021-04-16T10:08:10.5") == absl::FromUnixMillis(1618567690500));
  CHECK_FALSE(ParseArmTime("yesterday").ok());
}

}  // namespace
}  // namespace rotor::arm

namespace rotor::arm {
namespace {

TEST_CASE("wrong-typed known fields are refused, naming the field") {
  // properties.parameters as a string was read as "no parameters", and a
  // redeploy without the carried-over parameters followed.
  auto list = ParseDeploymentList(
      R"({"value":[{"name":"registry","properties":{"provisioningState":"Succeeded","parameters":"x"}}]})",
      "rg");
  REQUIRE_FALSE(list.ok());
  CHECK(list.status().message() ==
        "field \"value[0].properties.parameters\" is a string, not an object");
  struct Case {
    std::string body;
    std::string message;
  };
  for (const Case& c : std::vector<Case>{
           {R"({"name":"d","properties":{"parameters":{"p":"v"}}})",
            "field \"properties.parameters.p\" is a string, not an object"},
           {R"({"name":"d","properties":{"parameters":{"p":{"type":1,"value":"v"}}}})",
            "field \"properties.parameters.p.type\" is a number, not a string"},
           {R"({"name":"d","properties":{"provisioningState":true}})",
            "field \"properties.provisioningState\" is a boolean, not a string"},
           {R"({"name":"d","properties":"Succeeded"})",
            "field \"properties\" is a string, not an object"},
           {R"({"name":"d","tags":{"a":["b"]}})", "field \"tags.a\" is an array, not a string"},
           {R"({"name":"d","properties":{"templateLink":7}})",
            "field \"properties.templateLink\" is a number, not an object"},
           {R"({"name":"d","properties":{"error":"boom"}})",
            "field \"properties.error\" is a string, not an object"},
           {R"({"name":["d"]})", "field \"name\" is an array, not a string"},
       }) {
    CAPTURE(c.body);
    auto d = ParseDeployment(c.body, "rg");
    REQUIRE_FALSE(d.ok());
    CHECK(d.status().message() == c.message);
  }
  // Null is "not given"; a bare templateLink string is what one official
  // example has.
  CHECK(ParseDeployment(R"({"name":"d","properties":{"parameters":null,"templateLink":"u"}})", "rg")
            .ok());
  CHECK(ParseOperationStatus(R"({"status":"Failed","error":"x"})").status().message() ==
        "field \"error\" is a string, not an object");
  CHECK(ParseDeploymentOperations(R"({"value":[{"properties":{"provisioningState":5}}]})")
            .status()
            .message() ==
        "field \"value[0].properties.provisioningState\" is a number, not a string");
  CHECK(ParseValidateResult(R"({"error":"bad"})").status().message() ==
        "field \"error\" is a string, not an object");
}

TEST_CASE("a formatted ARM error is bounded and inert") {
  const std::string message = FormatArmError(
      "{\"error\":{\"code\":\"Bad\\u001b[2J\",\"message\":\"\\u001b]0;pwned\\u0007 text\"}}");
  CHECK(message.find('\x1b') == std::string::npos);
  CHECK(absl::StrContains(message, "\\e]0;pwned\\x07 text"));
  std::string many = R"({"error":{"code":"A","message":"m","details":[)";
  for (int i = 0; i < 1000; ++i)
    absl::StrAppend(&many, i ? "," : "", R"({"code":"D","message":"x"})");
  absl::StrAppend(&many, "]}}");
  const std::string lines = FormatArmError(many);
  CHECK(std::count(lines.begin(), lines.end(), '\n') < 60);
}

}  // namespace
}  // namespace rotor::arm
