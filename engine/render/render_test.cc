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

// valijson's errors for `json` against schemas/plan.schema.json; "" when it
// validates.
std::string PlanSchemaErrors(const std::string& json) {
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
  REQUIRE_FALSE(doc.HasParseError());
  valijson::Validator validator;
  valijson::ValidationResults results;
  valijson::adapters::RapidJsonAdapter adapter(doc);
  if (validator.validate(schema, adapter, &results)) return "";
  std::string errors = "invalid:\n";
  valijson::ValidationResults::Error error;
  while (results.popError(error)) errors += error.description + "\n";
  return errors;
}

// A plan's header fields, without changes.
Plan EmptyPlan() {
  Plan plan;
  plan.tool_version = "0.1.0";
  plan.config_path = "rotor.toml";
  plan.config_digest = std::string(64, 'a');
  plan.prior_fingerprint = std::string(64, 'b');
  plan.vault = "newregkv";
  return plan;
}

Plan SamplePlan() {
  Plan plan = EmptyPlan();
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

  CHECK(PlanSchemaErrors(json) == "");

  // An empty plan validates too.
  Plan empty = plan;
  empty.changes.clear();
  CHECK(PlanSchemaErrors(RenderPlanJson(empty, false)) == "");
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

// ---------------------------------------------------------------------------
// A plan that issues a certificate: the renewal heading, the issuer, and the
// issuance a saved plan carries.

constexpr char kIssuer[] = "command [\"/usr/local/bin/issue\"]";

Plan RenewalPlan() {
  Plan plan = EmptyPlan();
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

TEST_CASE("an issued certificate: the heading says why it is renewed, and by whom") {
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

TEST_CASE("an issued certificate: the saved plan carries the issuance and round-trips") {
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

  CHECK(PlanSchemaErrors(json) == "");

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
