// A plan that issues a certificate, as people read it and as a saved plan
// carries it: the renewal heading, the issuer, and the issuance round-trip.
#include <doctest/doctest.h>

// RapidJSON before valijson (see render_test.cc).
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

constexpr char kIssuer[] = "command [\"/usr/local/bin/issue\"]";

Plan RenewalPlan() {
  Plan plan;
  plan.tool_version = "0.1.0";
  plan.config_path = "rotor.toml";
  plan.config_digest = std::string(64, 'a');
  plan.prior_fingerprint = std::string(64, 'b');
  plan.vault = "newregkv";
  Change cert;
  cert.address = "certificate.containersecret";
  cert.action = Action::kUpdate;
  cert.attributes = {{kRenewalAttribute, "", "expires 2026-12-20, 15 days < renew_before 30d"},
                     {"issuer", "", kIssuer},
                     {"thumbprint", "AAAA", kKnownAfterApply},
                     {"value", kSensitiveValue, kSensitiveValue}};
  cert.reasons = {
      "the certificate expires 2026-12-20, 15 days < renew_before 30d: rotor issues "
      "a new one from the issuer command"};
  SecretWrite& w = cert.write.emplace();
  w.name = "containersecret";
  w.content_type = "pfx";
  w.tags = {{"managed-by", "rotor"}, {"rotor-role", "certificate"}};
  PlannedIssuance& issue = w.issue.emplace();
  issue.issuer = "command";
  issue.describe = kIssuer;
  issue.dns_names = {"myreg.localhost", "registry.localhost"};
  issue.key_type = "ec-p256";
  issue.reuse_key = true;
  issue.min_valid_days = 7;
  issue.ca_bundle = "/etc/rotor/ca.pem";
  Change redeploy;
  redeploy.address = "deployment.registry";
  redeploy.action = Action::kRedeploy;
  redeploy.attributes = {{"pfxThumbprint", "AAAA", kKnownAfterApply}};
  redeploy.reasons = {"this plan changes 1 secret"};
  PlannedDeployment& d = redeploy.deployment.emplace();
  d.resource_group = "rg";
  d.name = "registry-2";
  d.base = "registry";
  d.certificate_secret = "containersecret";
  d.certificate_thumbprint = kKnownAfterApply;
  d.parameters = {{"pfxThumbprint", PlannedParameter::Source::kCertificateThumbprint, "", ""},
                  {"pfxKeyVaultSecretUrl", PlannedParameter::Source::kCertificateUrl, "", ""}};
  plan.changes = {cert, redeploy};
  return plan;
}

TEST_CASE("issued certificate render: the heading says why it is renewed, and by whom") {
  const std::string text = RenderPlanText(RenewalPlan(), TextStyle{false});
  CAPTURE(text);
  CHECK(absl::StrContains(text,
                          "  # certificate.containersecret will be renewed (expires 2026-12-20, "
                          "15 days < renew_before 30d)\n"
                          "  ~ certificate.containersecret\n"
                          "      + issuer     = \"command [\"/usr/local/bin/issue\"]\"\n"
                          "      ~ thumbprint = \"AAAA\" -> (known after apply)\n"
                          "      ~ value      = (sensitive value)\n"
                          "      reason (config): the certificate expires 2026-12-20"));
  // The renewal is said once, in the heading.
  CHECK_FALSE(absl::StrContains(text, "renewal ="));
  CHECK(absl::StrContains(text, "~ pfxThumbprint = \"AAAA\" -> (known after apply)"));
}

TEST_CASE("issued certificate render: the saved plan carries the issuance and round-trips") {
  const Plan plan = RenewalPlan();
  const std::string json = RenderPlanJson(plan, /*pretty=*/true);
  CHECK(absl::StrContains(json, "\"issue\": {"));
  CHECK(absl::StrContains(json, "\"describe\": \"command [\\\"/usr/local/bin/issue\\\"]\""));
  CHECK(absl::StrContains(json, "\"source\": \"certificate_thumbprint\""));
  CHECK_FALSE(absl::StrContains(json, "\"value_key\""));
  auto parsed = ParsePlanJson(json);
  REQUIRE_MESSAGE(parsed.ok(), parsed.status().ToString());
  CHECK(RenderPlanJson(*parsed, true) == json);
  REQUIRE(parsed->changes[0].write.has_value());
  REQUIRE(parsed->changes[0].write->issue.has_value());
  const PlannedIssuance& issue = *parsed->changes[0].write->issue;
  CHECK(issue.issuer == "command");
  CHECK(issue.describe == kIssuer);
  CHECK(issue.dns_names == std::vector<std::string>{"myreg.localhost", "registry.localhost"});
  CHECK(issue.key_type == "ec-p256");
  CHECK(issue.reuse_key);
  CHECK(issue.min_valid_days == 7);
  CHECK(issue.ca_bundle == "/etc/rotor/ca.pem");
  CHECK(parsed->changes[1].deployment->parameters[0].source ==
        PlannedParameter::Source::kCertificateThumbprint);

  // It validates against schemas/plan.schema.json.
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
  const bool valid = validator.validate(schema, adapter, &results);
  std::string errors;
  valijson::ValidationResults::Error error;
  while (results.popError(error)) errors += error.description + "\n";
  INFO(errors);
  CHECK(valid);

  // An issuance without names is malformed.
  std::string broken = json;
  const size_t at = broken.find("\"myreg.localhost\",");
  REQUIRE(at != std::string::npos);
  broken.erase(at, std::string("\"myreg.localhost\",").size());
  broken.replace(broken.find("\"registry.localhost\""),
                 std::string("\"registry.localhost\"").size(), "");
  auto refused = ParsePlanJson(broken);
  REQUIRE_FALSE(refused.ok());
  CHECK(absl::StrContains(refused.status().message(), ".write.issue is malformed"));
}

}  // namespace
}  // namespace rotor
