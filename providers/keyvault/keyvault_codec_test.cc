// The codec against every official Key Vault secrets example (7.4, 7.6) and
// every recorded response body (2016-10-01 ... 7.4), plus round trips of
// the bodies rotor writes.
#include "providers/keyvault/keyvault_codec.h"

#include <doctest/doctest.h>

#include <filesystem>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "providers/http/http_message.h"
#include "rapidjson/document.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"
#include "tests/support/testing.h"

namespace rotor::keyvault {
namespace {

std::string ReferenceDir() { return testing::SourceDir() + "/tests/data/azure-reference"; }

std::string ToText(const rapidjson::Value& v) {
  rapidjson::StringBuffer b;
  rapidjson::Writer<rapidjson::StringBuffer> w(b);
  v.Accept(w);
  return std::string(b.GetString(), b.GetSize());
}

std::vector<std::string> Files(const std::string& dir, const std::string& prefix) {
  std::vector<std::string> out;
  if (!std::filesystem::exists(dir)) return out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    std::string name = e.path().filename().string();
    if (absl::StartsWith(name, prefix) && absl::EndsWith(name, ".json")) {
      out.push_back(e.path().string());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

void CheckMeta(const SecretVersion& m) {
  CHECK_FALSE(m.name.empty());
  CHECK(absl::StartsWith(m.id, "https://"));
  CHECK(m.created > absl::UnixEpoch());
}

TEST_CASE("every official Key Vault secrets example parses") {
  auto files = Files(ReferenceDir() + "/azure-rest-examples", "keyvault-");
  REQUIRE_MESSAGE(!files.empty(), "no examples under ", ReferenceDir());
  int parsed = 0;
  for (const auto& file : files) {
    INFO(file);
    rapidjson::Document doc;
    std::string text = testing::ReadFileOrDie(file);
    doc.Parse(text.data(), text.size());
    REQUIRE_FALSE(doc.HasParseError());
    const std::string op = file.substr(file.find_last_of('-') + 1);
    for (const auto& response : doc["responses"].GetObject()) {
      if (!response.value.HasMember("body")) {
        CHECK(op == "PurgeDeletedSecret.json");
        continue;
      }
      const std::string body = ToText(response.value["body"]);
      if (op == "GetSecrets.json" || op == "GetSecretVersions.json") {
        auto page = ParseSecretList(body);
        REQUIRE_MESSAGE(page.ok(), page.status().ToString());
        REQUIRE_FALSE(page->items.empty());
        for (const auto& m : page->items) CheckMeta(m);
        CHECK(absl::StartsWith(page->next_link, "https://myvault.vault.azure.net:443/"));
        if (op == "GetSecrets.json") CHECK(page->items[0].version.empty());
        if (op == "GetSecretVersions.json") CHECK_FALSE(page->items[0].version.empty());
      } else if (op == "GetDeletedSecrets.json") {
        auto page = ParseDeletedSecretList(body);
        REQUIRE_MESSAGE(page.ok(), page.status().ToString());
        REQUIRE_FALSE(page->items.empty());
        CheckMeta(page->items[0].latest);
        CHECK(page->items[0].deleted_date > absl::UnixEpoch());
        CHECK(page->items[0].scheduled_purge_date > page->items[0].deleted_date);
        CHECK(page->items[0].latest.recovery_level == "Recoverable+Purgeable");
      } else if (op == "DeleteSecret.json" || op == "GetDeletedSecret.json") {
        auto d = ParseDeletedSecret(body);
        REQUIRE_MESSAGE(d.ok(), d.status().ToString());
        CheckMeta(d->latest);
        CHECK(d->deleted_date > absl::UnixEpoch());
      } else {
        auto b = ParseSecretBundle(body);
        REQUIRE_MESSAGE(b.ok(), b.status().ToString());
        CheckMeta(b->meta);
        CHECK_FALSE(b->meta.version.empty());
        CHECK(b->has_value == (op == "GetSecret.json" || op == "SetSecret.json"));
        if (op == "UpdateSecret.json") {
          CHECK(b->meta.content_type == "myContentType");
          CHECK_FALSE(b->meta.tags.empty());
        }
      }
      ++parsed;
    }
  }
  CHECK(parsed >= 13);
}

TEST_CASE("every recorded Key Vault response body parses as its kind says") {
  auto files = Files(ReferenceDir() + "/recorded-traffic/keyvault-secrets", "");
  REQUIRE_MESSAGE(!files.empty(), "no recorded traffic under ", ReferenceDir());
  std::map<std::string, int> seen;
  for (const auto& file : files) {
    rapidjson::Document doc;
    std::string text = testing::ReadFileOrDie(file);
    doc.Parse(text.data(), text.size());
    REQUIRE_FALSE(doc.HasParseError());
    for (const auto& e : doc["exchanges"].GetArray()) {
      const std::string kind = e["kind"].GetString();
      const auto& response = e["response"];
      INFO(file, " #", e["index"].GetInt(), " ", kind);
      if (std::string(response["body_encoding"].GetString()) != "json") continue;
      const std::string body = ToText(response["body"]);
      const int status = response["status"].GetInt();
      if (kind == "set_secret" || kind == "get_secret_latest" || kind == "get_secret_version" ||
          kind == "update_secret" || kind == "recover_deleted") {
        auto b = ParseSecretBundle(body);
        REQUIRE_MESSAGE(b.ok(), b.status().ToString());
        CHECK_FALSE(b->meta.version.empty());
        CHECK(b->has_value == (kind != "update_secret" && kind != "recover_deleted"));
      } else if (kind == "list_secrets" || kind == "list_versions") {
        auto page = ParseSecretList(body);
        REQUIRE_MESSAGE(page.ok(), page.status().ToString());
        for (const auto& m : page->items) {
          CHECK(m.version.empty() == (kind == "list_secrets"));
        }
      } else if (kind == "list_deleted") {
        REQUIRE(ParseDeletedSecretList(body).ok());
      } else if (kind == "delete_secret" || kind == "get_deleted_secret") {
        auto d = ParseDeletedSecret(body);
        REQUIRE_MESSAGE(d.ok(), d.status().ToString());
        CHECK(d->deleted_date > absl::UnixEpoch());
      } else if (status >= 400) {
        http::ServiceError error = http::ParseServiceError(body);
        CHECK_FALSE(error.code.empty());
        if (kind == "get_secret_disabled_403") CHECK(error.inner_code == "SecretDisabled");
        if (kind == "get_secret_404") CHECK(error.code == "SecretNotFound");
        if (kind == "conflict_409_keys_analog") {
          CHECK((error.inner_code == "ObjectIsDeletedButRecoverable" ||
                 error.inner_code == "ObjectIsBeingDeleted"));
        }
      } else {
        continue;
      }
      ++seen[kind];
    }
  }
  CHECK(seen["set_secret"] >= 70);
  CHECK(seen["list_secrets"] >= 10);
  CHECK(seen["list_deleted"] >= 5);
  CHECK(seen["get_secret_disabled_403"] == 1);
}

TEST_CASE("the 2016-10-01 shape (no recoverableDays) and the lenient corners") {
  auto b = ParseSecretBundle(
      R"({"value":"v","id":"https://vaultname.vault.azure.net/secrets/s/0123abcd","attributes":{"enabled":false,"created":1617300000,"updated":1617300001.5,"recoveryLevel":"Purgeable"},"tags":{}})");
  REQUIRE(b.ok());
  CHECK_FALSE(b->meta.enabled);
  CHECK(b->meta.recovery_level == "Purgeable");
  CHECK(b->meta.updated == absl::FromUnixMillis(1617300001500));
  auto page = ParseSecretList(R"({"value":[],"nextLink":null})");
  REQUIRE(page.ok());
  CHECK(page->next_link.empty());
  CHECK_FALSE(ParseSecretList(R"({"nextLink":null})").ok());
  CHECK_FALSE(ParseSecretBundle(R"({"value":"v"})").ok());
  CHECK_FALSE(ParseSecretBundle("{oops").ok());
  // A parse error never quotes the value.
  auto bad = ParseSecretBundle(R"({"value":"Top-Secret","id":"nope"})");
  CHECK_FALSE(absl::StrContains(bad.status().message(), "Top-Secret"));
}

TEST_CASE("secret ids") {
  auto id = ParseSecretId("https://kv.vault.azure.net:443/secrets/Admin/0123abcd");
  REQUIRE(id.ok());
  CHECK(id->origin == "https://kv.vault.azure.net:443");
  CHECK(id->collection == "secrets");
  CHECK(id->name == "Admin");
  CHECK(id->version == "0123abcd");
  auto bare = ParseSecretId("https://kv.vault.azure.net/secrets/admin/");
  REQUIRE(bare.ok());
  CHECK(bare->version.empty());
  CHECK(ParseSecretId("https://kv/deletedsecrets/x")->collection == "deletedsecrets");
  CHECK_FALSE(ParseSecretId("https://kv/keys/x").ok());
  CHECK_FALSE(ParseSecretId("https://kv/secrets/x/y/z").ok());
  CHECK_FALSE(ParseSecretId("kv/secrets/x").ok());
}

TEST_CASE("request bodies: JSON-escaped value, content type, tags, round trip") {
  SetSecretRequest r;
  r.value = Secret("quote\" backslash\\ newline\n unicode \xC3\xA9 ctl \x01");
  r.content_type = "user credentials";
  r.tags = {{"managed-by", "rotor"}, {"role", "user"}};
  Secret body = SetSecretBody(r);
  rapidjson::Document doc;
  doc.Parse(body.Reveal().data(), body.Reveal().size());
  REQUIRE_FALSE(doc.HasParseError());
  CHECK(std::string(doc["value"].GetString(), doc["value"].GetStringLength()) == r.value.Reveal());
  CHECK(std::string(doc["contentType"].GetString()) == "user credentials");
  CHECK(std::string(doc["tags"]["managed-by"].GetString()) == "rotor");

  SetSecretRequest plain;
  plain.value = Secret("v");
  CHECK(SetSecretBody(plain).Reveal() == R"({"value":"v"})");
  CHECK(UpdateEnabledBody(false) == R"({"attributes":{"enabled":false}})");
}

}  // namespace
}  // namespace rotor::keyvault

namespace rotor::keyvault {
namespace {

// A known field of the wrong type is an error naming it, never "not given".
TEST_CASE("wrong-typed known fields are refused, naming the field") {
  struct Case {
    std::string body;
    std::string message;
  };
  const std::string id = R"("id":"https://v.vault.azure.net/secrets/a/0123456789abcdef")";
  for (const Case& c : std::vector<Case>{
           {absl::StrCat("{", id, R"(,"value":7})"), "field \"value\" is a number, not a string"},
           {absl::StrCat("{", id, R"(,"value":"x","contentType":[]})"),
            "field \"contentType\" is an array, not a string"},
           {absl::StrCat("{", id, R"(,"value":"x","attributes":{"enabled":"true"}})"),
            "field \"attributes.enabled\" is a string, not a boolean"},
           {absl::StrCat("{", id, R"(,"value":"x","attributes":{"created":"2020"}})"),
            "field \"attributes.created\" is a string, not a number"},
           {absl::StrCat("{", id, R"(,"value":"x","attributes":[]})"),
            "field \"attributes\" is an array, not an object"},
           {absl::StrCat("{", id, R"(,"value":"x","tags":{"a":1}})"),
            "field \"tags.a\" is a number, not a string"},
           {R"({"id":5,"value":"x"})", "field \"id\" is a number, not a string"},
       }) {
    CAPTURE(c.body);
    auto parsed = ParseSecretBundle(c.body);
    REQUIRE_FALSE(parsed.ok());
    CHECK(parsed.status().message() == c.message);
  }
  // Null is "not given", as the service may send it.
  CHECK(ParseSecretBundle(absl::StrCat("{", id, R"(,"value":"x","contentType":null})")).ok());

  auto list = ParseSecretList(
      absl::StrCat(R"({"value":[{"id":"https://v.vault.azure.net/secrets/a"},{"id":"https://v.)",
                   R"(vault.azure.net/secrets/b","attributes":{"enabled":1}}],"nextLink":null})"));
  REQUIRE_FALSE(list.ok());
  CHECK(list.status().message() ==
        "field \"value[1].attributes.enabled\" is a number, not a boolean");
  CHECK(ParseSecretList(R"({"value":[3]})").status().message() ==
        "field \"value[0]\" is a number, not an object");
  CHECK(ParseSecretList(R"({"value":[],"nextLink":false})").status().message() ==
        "field \"nextLink\" is a boolean, not a string");
  CHECK(ParseDeletedSecretList(
            R"({"value":[{"id":"https://v.vault.azure.net/deletedsecrets/a","deletedDate":"x"}]})")
            .status()
            .message() == "field \"value[0].deletedDate\" is a string, not a number");
}

}  // namespace
}  // namespace rotor::keyvault
