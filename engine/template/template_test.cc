#include "engine/template/template.h"

#include <doctest/doctest.h>

#include "absl/strings/match.h"
#include "tests/support/registry_deployment.h"

namespace rotor {
namespace {

TEST_CASE("ParseTemplateInfo: parameters, their types and defaults, the CustomScript extension") {
  auto info = ParseTemplateInfo(testing::kGalleryTemplateJson);
  REQUIRE_MESSAGE(info.ok(), info.status().ToString());
  const TemplateParameterInfo* id = info->FindParameter("servicePrincipalClientId");
  REQUIRE(id != nullptr);
  CHECK(id->IsSecure());
  CHECK_FALSE(id->has_default);
  CHECK(info->FindParameter("SERVICEPRINCIPALCLIENTSECRET")->IsSecure());
  CHECK(info->FindParameter("registryReplicas")->has_default);
  CHECK_FALSE(info->FindParameter("pipDomainNameLabel")->has_default);
  CHECK(info->FindParameter("nothing") == nullptr);
  CHECK(info->has_custom_script);
  CHECK(info->custom_script_name == "[concat(variables('vmName'), '/cse')]");

  auto plain = ParseTemplateInfo(R"({"parameters": {"a": {"type": "String"}}, "resources": []})");
  REQUIRE(plain.ok());
  CHECK_FALSE(plain->has_custom_script);
  CHECK(plain->FindParameter("a")->type == "string");
  CHECK(ParseTemplateInfo("[]").status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(ParseTemplateInfo(R"({"parameters": "x"})").status().code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(ParseTemplateInfo(R"({"parameters": {"a": 1}})").status().code() ==
        absl::StatusCode::kInvalidArgument);
}

TEST_CASE("WithForceUpdateTag sets the extension's tag and leaves the rest") {
  auto tagged = WithForceUpdateTag(testing::kGalleryTemplateJson, "tag-1");
  REQUIRE_MESSAGE(tagged.ok(), tagged.status().ToString());
  CHECK(absl::StrContains(*tagged, R"("forceUpdateTag":"tag-1")"));
  CHECK(absl::StrContains(*tagged, "commandToExecute"));
  auto again = WithForceUpdateTag(*tagged, "tag-2");
  REQUIRE(again.ok());
  CHECK(absl::StrContains(*again, R"("forceUpdateTag":"tag-2")"));
  CHECK_FALSE(absl::StrContains(*again, "tag-1"));
  CHECK(WithForceUpdateTag(R"({"resources": []})", "t").status().code() ==
        absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace rotor
