// The shipped examples and the config schema, checked two ways: through
// rotor's loader (LoadConfig) and against schemas/rotor.schema.json alone,
// with valijson, as an editor (Taplo) or another tool would use it. The two
// must agree on what a bad config is.
#include <doctest/doctest.h>
#include <toml++/toml.h>

// RapidJSON before valijson, on purpose: every file must see the same
// RAPIDJSON_ASSERT (RapidJSON is templates; two definitions would break the
// one-definition rule), so valijson's adapter may not install its throwing
// one, and says so in a #warning at each build.
#include <rapidjson/document.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <sstream>
#include <string>
#include <valijson/adapters/rapidjson_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validation_results.hpp>
#include <valijson/validator.hpp>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "engine/config/config.h"
#include "tests/support/testing.h"

namespace rotor {
namespace {

namespace fs = std::filesystem;
using ::rotor::testing::ReadFileOrDie;
using ::rotor::testing::SourceDir;
using ::rotor::testing::TempDir;

// schemas/rotor.schema.json as checked in (not the compiled-in copy).
const valijson::Schema& FileSchema() {
  static const valijson::Schema* const schema = [] {
    static rapidjson::Document document;
    document.Parse(ReadFileOrDie(SourceDir() + "/schemas/rotor.schema.json").c_str());
    REQUIRE_FALSE(document.HasParseError());
    auto* s = new valijson::Schema;
    valijson::SchemaParser parser(valijson::SchemaParser::kDraft7);
    valijson::adapters::RapidJsonAdapter adapter(document);
    parser.populateSchema(adapter, *s);
    return s;
  }();
  return *schema;
}

struct SchemaResult {
  bool parsed = false;  // the TOML itself parsed
  bool valid = false;
  std::string errors;  // valijson's, one per line
};

// Converts the TOML to JSON with toml++ and validates it against the schema
// file: no rotor code on the way.
SchemaResult ValidateWithSchemaOnly(const std::string& toml_text) {
  SchemaResult result;
  toml::table table;
  try {
    table = toml::parse(toml_text);
  } catch (const toml::parse_error& e) {
    result.errors = std::string(e.description());
    return result;
  }
  result.parsed = true;
  std::ostringstream json;
  json << toml::json_formatter{table};
  rapidjson::Document document;
  document.Parse(json.str().c_str());
  REQUIRE_FALSE(document.HasParseError());
  valijson::Validator validator;
  valijson::ValidationResults results;
  valijson::adapters::RapidJsonAdapter adapter(document);
  result.valid = validator.validate(FileSchema(), adapter, &results);
  valijson::ValidationResults::Error error;
  while (results.popError(error)) {
    std::string where;
    for (const std::string& part : error.context) where += part;
    result.errors += where + ": " + error.description + "\n";
  }
  return result;
}

std::vector<std::string> ExampleConfigs() {
  std::vector<std::string> files;
  for (const fs::directory_entry& entry : fs::directory_iterator(SourceDir() + "/examples")) {
    if (entry.is_regular_file() && entry.path().extension() == ".toml")
      files.push_back(entry.path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

TEST_CASE("examples: the four configs are there") {
  std::vector<std::string> names;
  for (const std::string& file : ExampleConfigs()) names.push_back(fs::path(file).filename());
  for (const char* expected :
       {"quickstart.toml", "azure-stack-hub-aad.toml", "azure-stack-hub-adfs.toml", "azure.toml"}) {
    CAPTURE(expected);
    CHECK(std::find(names.begin(), names.end(), expected) != names.end());
  }
}

TEST_CASE("examples: every config loads with rotor's loader") {
  for (const std::string& file : ExampleConfigs()) {
    CAPTURE(file);
    absl::StatusOr<Config> config = LoadConfig(file);
    CHECK_MESSAGE(config.ok(), config.status().message());
  }
}

TEST_CASE("examples: every config validates against schemas/rotor.schema.json alone") {
  for (const std::string& file : ExampleConfigs()) {
    CAPTURE(file);
    SchemaResult result = ValidateWithSchemaOnly(ReadFileOrDie(file));
    INFO(result.errors);
    CHECK(result.parsed);
    CHECK(result.valid);
  }
}

TEST_CASE("examples: every config names the schema for Taplo on its first line") {
  for (const std::string& file : ExampleConfigs()) {
    CAPTURE(file);
    const std::string text = ReadFileOrDie(file);
    const std::string first = text.substr(0, text.find('\n'));
    CHECK(first == "#:schema ../schemas/rotor.schema.json");
    // The directive is relative to the example: it must reach the schema.
    CHECK(fs::exists(fs::path(file).parent_path() / "../schemas/rotor.schema.json"));
  }
}

TEST_CASE("examples: the cloud examples are what their names say") {
  const std::string dir = SourceDir() + "/examples/";
  absl::StatusOr<Config> aad = LoadConfig(dir + "azure-stack-hub-aad.toml");
  REQUIRE(aad.ok());
  CHECK(aad->cloud.kind == CloudKind::kAzureStack);
  CHECK(aad->auth.method == AuthMethod::kClientSecret);

  absl::StatusOr<Config> adfs = LoadConfig(dir + "azure-stack-hub-adfs.toml");
  REQUIRE(adfs.ok());
  CHECK(adfs->cloud.kind == CloudKind::kAzureStack);
  CHECK(adfs->cloud.tenant_id == "adfs");
  CHECK(adfs->auth.method == AuthMethod::kClientCertificate);

  absl::StatusOr<Config> azure = LoadConfig(dir + "azure.toml");
  REQUIRE(azure.ok());
  CHECK(azure->cloud.kind == CloudKind::kAzure);
  CHECK(azure->cloud.arm_endpoint == "https://management.azure.com");

  absl::StatusOr<Config> local = LoadConfig(dir + "quickstart.toml");
  REQUIRE(local.ok());
  CHECK(local->cloud.kind == CloudKind::kLocal);

  absl::StatusOr<Config> issuer = LoadConfig(dir + "issuer.toml");
  REQUIRE(issuer.ok());
  REQUIRE(issuer->certificate.has_value());
  CHECK(issuer->certificate->issuer.has_value());
  CHECK(issuer->certificate->pfx.empty());

  absl::StatusOr<Config> acme = LoadConfig(dir + "acme.toml");
  REQUIRE(acme.ok());
  REQUIRE(acme->certificate.has_value());
  REQUIRE(acme->certificate->acme.has_value());
  CHECK(acme->certificate->acme->eab_hmac_key.has_value());
}

TEST_CASE("examples: no secret value is written in a cloud example") {
  // Literals are refused outside kind = "local" anyway; this also keeps
  // every secret of the cloud examples on env, file or command.
  for (const char* name : {"azure-stack-hub-aad.toml", "azure-stack-hub-adfs.toml", "azure.toml",
                           "acme.toml", "issuer.toml"}) {
    CAPTURE(name);
    absl::StatusOr<Config> config = LoadConfig(SourceDir() + "/examples/" + name);
    REQUIRE(config.ok());
    std::vector<const ValueSource*> sources;
    if (config->auth.client_secret) sources.push_back(&*config->auth.client_secret);
    if (config->auth.client_certificate_password)
      sources.push_back(&*config->auth.client_certificate_password);
    for (const UserConfig& user : config->users) sources.push_back(&user.password);
    if (config->certificate && !config->certificate->HasIssuer())
      sources.push_back(&config->certificate->password);
    if (config->certificate && config->certificate->acme && config->certificate->acme->eab_hmac_key)
      sources.push_back(&*config->certificate->acme->eab_hmac_key);
    if (config->deployment && config->deployment->client_secret)
      sources.push_back(&*config->deployment->client_secret);
    CHECK(sources.size() >= 3);
    for (const ValueSource* source : sources) {
      CAPTURE(source->key_path);
      CHECK(source->kind != ValueSource::Kind::kLiteral);
    }
  }
}

TEST_CASE("examples: the CI workflow runs plan --detailed-exitcode on a schedule") {
  const std::string yaml = ReadFileOrDie(SourceDir() + "/examples/ci/rotor-drift.yml");
  CHECK(absl::StrContains(yaml, "rotor plan --detailed-exitcode"));
  CHECK(absl::StrContains(yaml, "\non:\n"));
  CHECK(absl::StrContains(yaml, "  schedule:\n    - cron: "));
  // Exit 2 (changes present) fails the job.
  CHECK(absl::StrContains(yaml, "2) echo \"::error"));
  CHECK(absl::StrContains(yaml, "exit 2 ;;"));
  // GitHub Actions YAML takes no tabs.
  CHECK(yaml.find('\t') == std::string::npos);
}

// ---------------------------------------------------------------------------
// The schema and the loader agree on bad configs.

constexpr char kCloudLocal[] = "[cloud]\nkind = \"local\"\n";
constexpr char kVault[] = "[vault]\nname = \"newregkv\"\n";
constexpr char kCert[] =
    "[certificate]\nsecret_name = \"containersecret\"\npfx = \"r.pfx\"\n"
    "password = { env = \"PFX_PASSWORD\" }\n";

std::string Local(const std::string& rest) { return std::string(kCloudLocal) + kVault + rest; }

struct BadConfig {
  const char* what;
  std::string toml;
  const char* loader_says;  // a part of LoadConfig's message
};

std::vector<BadConfig> BadConfigs() {
  return {
      {"unknown top-level table", std::string(kCloudLocal) + kVault + "[vualt]\nname = \"x\"\n",
       "vualt: unknown table"},
      {"unknown key in a table", std::string(kCloudLocal) + "[vault]\nnmae = \"newregkv\"\n",
       "vault.nmae: unknown key; did you mean \"name\"?"},
      {"missing [vault]", kCloudLocal, "missing required table [vault]"},
      {"missing cloud.kind", std::string("[cloud]\nstate_dir = \".rotor\"\n") + kVault,
       "missing required key \"kind\""},
      {"unknown cloud kind", std::string("[cloud]\nkind = \"aws\"\n") + kVault,
       "cloud.kind: unknown value"},
      {"vault name too short", std::string(kCloudLocal) + "[vault]\nname = \"kv\"\n",
       "vault.name: \"kv\" is too short"},
      {"vault name with --", std::string(kCloudLocal) + "[vault]\nname = \"new--kv\"\n",
       "vault.name: invalid value"},
      {"user name with a colon", Local("[[user]]\nname = \"ad:min\"\npassword = { env = \"P\" }\n"),
       "invalid value"},
      {"generated password too short",
       Local("[[user]]\nname = \"ci\"\npassword = { generate = 8 }\n"), "out of range"},
      {"generate for the certificate password",
       Local("[certificate]\nsecret_name = \"c\"\npfx = \"r.pfx\"\npassword = { generate = 32 }\n"),
       "generate is only for [[user]] passwords"},
      {"two sources in one password",
       Local("[[user]]\nname = \"ci\"\npassword = { env = \"P\", file = \"p.txt\" }\n"),
       "user[ci].password"},
      {"empty command", Local("[[user]]\nname = \"ci\"\npassword = { command = [] }\n"),
       "must not be empty"},
      {"bad env variable name", Local("[[user]]\nname = \"ci\"\npassword = { env = \"1PASS\" }\n"),
       "an environment variable name"},
      {"renew_before over 99%",
       Local("[certificate]\nsecret_name = \"c\"\nrenew_before = \"100%\"\n"
             "[certificate.issuer]\ncommand = [\"issue\"]\n"),
       "certificate.renew_before: invalid value"},
      {"an unknown key type",
       Local("[certificate]\nsecret_name = \"c\"\nkey = \"dsa\"\n"
             "[certificate.issuer]\ncommand = [\"issue\"]\n"),
       "certificate.key: unknown value"},
      {"rotate_after not a duration",
       Local("[[user]]\nname = \"ci\"\npassword = { generate = 32 }\nrotate_after = \"90 days\"\n"),
       "a duration is a whole number"},
      {"user as a single table", Local("[user]\nname = \"ci\"\npassword = { generate = 32 }\n"),
       "write [[user]] for each entry"},
      {"min_valid_days as a string", Local(std::string(kCert) + "min_valid_days = \"30\"\n"),
       "remove the quotes"},
      {"min_valid_days out of range", Local(std::string(kCert) + "min_valid_days = 5000\n"),
       "out of range"},
      {"a boolean as a string", Local("[policy]\ndelete_stale_users = \"yes\"\n"),
       "expected a boolean"},
      {"deployment without resource_group", Local("[deployment]\nname = \"latest\"\n"),
       "resource_group"},
      {"unknown template parameter name",
       Local("[deployment]\nresource_group = \"rg\"\n[deployment.parameter_names]\nthumbprint = "
             "\"x\"\n"),
       "deployment.parameter_names.thumbprint: unknown key"},
      {"subscription id not a GUID",
       "[cloud]\nkind = \"azure\"\nsubscription_id = \"my-subscription\"\n[auth]\nmethod = "
       "\"environment\"\n" +
           std::string(kVault),
       "a subscription id is a GUID"},
      {"arm_endpoint with a path",
       "[cloud]\nkind = \"azurestack\"\narm_endpoint = "
       "\"https://management.x/api\"\n[auth]\nmethod "
       "= \"environment\"\n" +
           std::string(kVault),
       "cloud.arm_endpoint: invalid value"},
      {"unknown auth method",
       "[cloud]\nkind = \"azure\"\n[auth]\nmethod = \"password\"\n" + std::string(kVault),
       "auth.method: unknown value"},
      {"literal password longer than 255 characters",
       Local("[[user]]\nname = \"ci\"\npassword = \"" + std::string(300, 'x') + "\"\n"),
       "too long: 300 characters, at most 255"},
      {"registry url without a scheme", Local("[registry]\nurl = \"myreg.example.com\"\n"),
       "registry.url: invalid value"},
  };
}

TEST_CASE("schema and loader: a valid base config passes both (control)") {
  const std::string toml = Local(std::string(kCert) +
                                 "[[user]]\nname = \"ci\"\npassword = { generate = 32 }\n"
                                 "[deployment]\nresource_group = \"rg\"\n");
  SchemaResult schema = ValidateWithSchemaOnly(toml);
  INFO(schema.errors);
  CHECK(schema.valid);
  TempDir dir;
  absl::StatusOr<Config> config = LoadConfig(dir.Write("rotor.toml", toml));
  CHECK_MESSAGE(config.ok(), config.status().message());
}

TEST_CASE("schema and loader: both reject each bad config") {
  const std::vector<BadConfig> bad = BadConfigs();
  CHECK(bad.size() >= 10);
  TempDir dir;
  for (const BadConfig& c : bad) {
    CAPTURE(c.what);
    CAPTURE(c.toml);
    SchemaResult schema = ValidateWithSchemaOnly(c.toml);
    CHECK(schema.parsed);
    CHECK_FALSE(schema.valid);

    absl::StatusOr<Config> config = LoadConfig(dir.Write("rotor.toml", c.toml));
    REQUIRE_FALSE(config.ok());
    CHECK(config.status().code() == absl::StatusCode::kInvalidArgument);
    const std::string message(config.status().message());
    CAPTURE(message);
    CHECK(absl::StrContains(message, c.loader_says));
    // A literal secret is never echoed back.
    CHECK_FALSE(absl::StrContains(message, std::string(300, 'x')));
  }
}

TEST_CASE("schema and loader: cross-field rules are the loader's alone") {
  // The schema's description says so: these pass the schema (an editor
  // cannot flag them) and rotor refuses them.
  const std::vector<BadConfig> cross = {
      {"a literal secret outside kind = local",
       "[cloud]\nkind = \"azure\"\n[auth]\nmethod = \"environment\"\n" + std::string(kVault) +
           "[[user]]\nname = \"ci\"\npassword = \"hunter2-hunter2\"\n",
       "a literal secret is only allowed when cloud.kind = \"local\""},
      {"certificate without a password",
       Local("[certificate]\nsecret_name = \"c\"\npfx = \"r.pfx\"\n"),
       "certificate.pfx: needs password"},
      {"a PFX and an issuer",
       Local(std::string(kCert) + "[certificate.issuer]\ncommand = [\"issue\"]\n"),
       "certificate.issuer: not with certificate.pfx"},
      {"a certificate without a source", Local("[certificate]\nsecret_name = \"c\"\n"),
       "needs exactly one source for the certificate"},
      {"half an External Account Binding",
       Local("[certificate]\nsecret_name = \"c\"\n[certificate.acme]\ndirectory = "
             "\"https://acme.localhost/dir\"\nemail = \"ops@example.com\"\ndns_zone = "
             "\"localhost\"\ndns_resource_group = \"dnsrg\"\neab_key_id = \"kid\"\n"),
       "External Account Binding needs both eab_key_id and eab_hmac_key"},
      {"renew_before with a PFX", Local(std::string(kCert) + "renew_before = \"30d\"\n"),
       "only used with [certificate.acme] or [certificate.issuer]"},
      {"warn_days below min_valid_days",
       Local(std::string(kCert) + "min_valid_days = 60\nwarn_days = 30\n"),
       "is less than min_valid_days"},
      {"users differing only in case",
       Local("[[user]]\nname = \"ci\"\npassword = { generate = 32 }\n"
             "[[user]]\nname = \"CI\"\npassword = { generate = 32 }\n"),
       "duplicate user"},
      {"rotate_after without generate",
       Local("[[user]]\nname = \"ci\"\npassword = { env = \"P\" }\nrotate_after = \"90d\"\n"),
       "only used with password = { generate = N }"},
      {"an Azure key with kind = local",
       "[cloud]\nkind = \"local\"\nprofile = \"latest\"\n" + std::string(kVault),
       "not used when kind = \"local\""},
  };
  TempDir dir;
  for (const BadConfig& c : cross) {
    CAPTURE(c.what);
    SchemaResult schema = ValidateWithSchemaOnly(c.toml);
    INFO(schema.errors);
    CHECK(schema.valid);
    absl::StatusOr<Config> config = LoadConfig(dir.Write("rotor.toml", c.toml));
    REQUIRE_FALSE(config.ok());
    CHECK(absl::StrContains(config.status().message(), c.loader_says));
  }
}

}  // namespace
}  // namespace rotor

namespace rotor {
namespace {

// The ```toml blocks of README.md between the heading `from` and the next
// heading of level 2.
std::vector<std::string> ReadmeTomlBlocks(const std::string& from) {
  const std::string readme = ReadFileOrDie(SourceDir() + "/README.md");
  size_t start = readme.find("\n" + from + "\n");
  REQUIRE(start != std::string::npos);
  size_t end = readme.find("\n## ", start + 1);
  std::string section = readme.substr(start, end == std::string::npos ? end : end - start);
  std::vector<std::string> blocks;
  for (size_t at = section.find("```toml\n"); at != std::string::npos;
       at = section.find("```toml\n", at + 1)) {
    size_t body = at + 8;
    size_t close = section.find("```", body);
    REQUIRE(close != std::string::npos);
    blocks.push_back(section.substr(body, close - body));
  }
  return blocks;
}

TEST_CASE("README: the ACME section's two setups are configs rotor and the schema accept") {
  std::vector<std::string> blocks = ReadmeTomlBlocks("### Certificates from ACME");
  REQUIRE(blocks.size() == 2);
  for (const std::string& block : blocks) {
    INFO(block);
    const std::string toml =
        "[cloud]\nkind = \"azurestack\"\narm_endpoint = "
        "\"https://management.local.azurestack.external\"\n[auth]\nmethod = \"environment\"\n" +
        std::string(kVault) + "resource_group = \"newregreg\"\n" + block +
        "\n[deployment]\nresource_group = \"newregreg\"\n";
    SchemaResult schema = ValidateWithSchemaOnly(toml);
    INFO(schema.errors);
    CHECK(schema.valid);
    TempDir dir;
    absl::StatusOr<Config> config = LoadConfig(dir.Write("rotor.toml", toml));
    REQUIRE_MESSAGE(config.ok(), config.status().message());
    REQUIRE(config->certificate.has_value());
    CHECK(config->certificate->acme.has_value());
  }
}

}  // namespace
}  // namespace rotor
