#include <doctest/doctest.h>

// RapidJSON before valijson, on purpose: every file must see the same
// RAPIDJSON_ASSERT (RapidJSON is templates; two definitions would break the
// one-definition rule), so valijson's adapter may not install its throwing
// one, and says so in a #warning at each build.
#include <rapidjson/document.h>

#include <valijson/adapters/rapidjson_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validation_results.hpp>
#include <valijson/validator.hpp>

#include "absl/strings/match.h"
#include "engine/render/render.h"
#include "tests/support/testing.h"

namespace rotor {
namespace {

Plan SamplePlan() {
  Plan plan;
  plan.tool_version = "0.1.0";
  plan.config_path = "rotor.toml";
  plan.config_digest = std::string(64, 'a');
  plan.prior_fingerprint = std::string(64, 'b');
  plan.vault = "newregkv";
  Change create;
  create.address = "user.admin1";
  create.action = Action::kCreate;
  create.attributes = {{"value", "", kSensitiveValue}, {"content_type", "", "user credentials"}};
  create.reasons = {"declared in rotor.toml but absent from vault newregkv"};
  Change remove;
  remove.address = "stale_user.admin";
  remove.action = Action::kDelete;
  remove.attributes = {{"value", kSensitiveValue, ""}};
  remove.reasons = {"not declared in rotor.toml"};
  Change cert;
  cert.address = "certificate.containersecret";
  cert.action = Action::kUpdate;
  cert.cause = Cause::kDrift;
  cert.attributes = {{"thumbprint", "AAAA", "BBBB"},
                     {"subject", "CN=r", "CN=r"},
                     {"value", kSensitiveValue, kSensitiveValue}};
  cert.reasons = {"the thumbprint differs"};
  Change redeploy;
  redeploy.address = "deployment.registry";
  redeploy.action = Action::kRedeploy;
  redeploy.attributes = {{"deployment", "registry", kKnownAfterApply},
                         {"pfxThumbprint", "AAAA", "BBBB"}};
  redeploy.reasons = {"this plan changes 3 secrets"};
  plan.changes = {create, cert, remove, redeploy};
  plan.warnings = {{"secret.db", "short"}};
  plan.certificate_checks = {{"Parse PFX", "OK", ""}, {"Issuer", "WARNING", "self-signed"}};
  plan.observed.at = absl::FromUnixSeconds(1767225600);
  plan.observed.certificate =
      ObservedCertificate{"containersecret", "AAAA", absl::FromUnixSeconds(1769817600)};
  plan.observed.logins = {{"admin", absl::FromUnixSeconds(1767052800), true},
                          {"old", absl::FromUnixSeconds(1767052801), false}};
  plan.observed.vault_secrets = 3;
  plan.observed.vm_first_page_logins = 2;
  plan.observed.last_successful_deployment = absl::FromUnixSeconds(1767222000);
  return plan;
}

TEST_CASE("the text plan, golden") {
  const std::string expected = R"(Certificate checks:
  Parse PFX: OK
  Issuer: WARNING (self-signed)

rotor will perform the following actions on vault newregkv:

  # user.admin1 will be created
  + user.admin1
      + value        = (sensitive value)
      + content_type = "user credentials"
      reason (config): declared in rotor.toml but absent from vault newregkv

  # certificate.containersecret will be updated with a new secret version
  ~ certificate.containersecret
      ~ thumbprint = "AAAA" -> "BBBB"
      ~ value      = (sensitive value)
      reason (drift): the thumbprint differs

  # stale_user.admin will be deleted
  - stale_user.admin
      - value = (sensitive value)
      reason (config): not declared in rotor.toml

  # deployment.registry will be redeployed
  ~ deployment.registry
      ~ deployment    = "registry" -> (known after apply)
      ~ pfxThumbprint = "AAAA" -> "BBBB"
      reason (config): this plan changes 3 secrets

Plan: 1 to add, 1 to change, 1 to destroy, 1 to redeploy.

Warning: secret.db: short
)";
  CHECK(RenderPlanText(SamplePlan(), TextStyle{false}) == expected);
}

TEST_CASE("colour only when asked, and no changes says so") {
  Plan empty;
  CHECK(RenderPlanText(empty, TextStyle{false}) ==
        "No changes. The vault and the deployment match the configuration.\n");
  CHECK(RenderPlanText(empty, TextStyle{true}).find("\x1b[") != std::string::npos);
  CHECK(RenderPlanText(SamplePlan(), TextStyle{false}).find('\x1b') == std::string::npos);
}

TEST_CASE("the JSON plan round-trips and validates against schemas/plan.schema.json") {
  const Plan plan = SamplePlan();
  std::string json = RenderPlanJson(plan, /*pretty=*/true);

  auto parsed = ParsePlanJson(json);
  REQUIRE(parsed.ok());
  CHECK(RenderPlanJson(*parsed, true) == json);
  // What the plan observed comes back as it was.
  CHECK(parsed->observed.certificate->not_after == absl::FromUnixSeconds(1769817600));
  CHECK(parsed->observed.logins.size() == 2);
  CHECK_FALSE(parsed->observed.logins[1].enabled);
  CHECK(absl::StrContains(json, "\"at\": \"2026-01-01T00:00:00Z\""));

  rapidjson::Document schema_doc;
  schema_doc.Parse(
      testing::ReadFileOrDie(testing::SourceDir() + "/schemas/plan.schema.json").c_str());
  REQUIRE_FALSE(schema_doc.HasParseError());
  valijson::Schema schema;
  valijson::SchemaParser parser;
  valijson::adapters::RapidJsonAdapter schema_adapter(schema_doc);
  parser.populateSchema(schema_adapter, schema);

  rapidjson::Document doc;
  doc.Parse(json.c_str());
  valijson::Validator validator;
  valijson::ValidationResults results;
  valijson::adapters::RapidJsonAdapter adapter(doc);
  bool valid = validator.validate(schema, adapter, &results);
  std::string errors;
  valijson::ValidationResults::Error error;
  while (results.popError(error)) errors += error.description + "\n";
  INFO(errors);
  CHECK(valid);

  // An empty plan validates too.
  Plan empty = plan;
  empty.changes.clear();
  rapidjson::Document empty_doc;
  empty_doc.Parse(RenderPlanJson(empty, false).c_str());
  valijson::adapters::RapidJsonAdapter empty_adapter(empty_doc);
  CHECK(validator.validate(schema, empty_adapter, nullptr));
}

TEST_CASE("a plan file of another format version or malformed is refused clearly") {
  std::string json = RenderPlanJson(SamplePlan(), false);
  std::string v1 = json;
  v1.replace(v1.find("\"format_version\":3"), 18, "\"format_version\":2");
  auto other = ParsePlanJson(v1);
  REQUIRE_FALSE(other.ok());
  CHECK(other.status().message() ==
        "the plan file has format version 2; this rotor reads version 3: make a new plan with "
        "this rotor");
  auto broken = ParsePlanJson("{\"format_version\": 3,");
  REQUIRE_FALSE(broken.ok());
  CHECK(std::string(broken.status().message())
            .rfind("malformed plan file: JSON error at offset", 0) == 0);
}

}  // namespace
}  // namespace rotor
