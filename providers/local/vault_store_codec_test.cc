#include "providers/local/vault_store_codec.h"

#include <doctest/doctest.h>

#include <string>

#include "absl/strings/match.h"
#include "absl/time/time.h"

namespace rotor::local {
namespace {

// A store as VaultModel::ToJson wrote it before the codec had a file of its
// own: a file written then must still read, and be written again, byte for
// byte.
constexpr char kStore[] = R"({
  "format_version": 1,
  "kind": "rotor-local-vault",
  "soft_delete": true,
  "retention_days": 7,
  "generation": 42,
  "secrets": [
    {
      "name": "alpha",
      "deleted": {
        "deleted_date": 1700000100,
        "scheduled_purge_date": 1800000000
      },
      "versions": [
        {
          "version": "00000000000000000000000000000000",
          "value": "a",
          "content_type": "",
          "tags": {},
          "enabled": true,
          "created": 1,
          "updated": 2
        }
      ]
    },
    {
      "name": "Zeta",
      "versions": [
        {
          "version": "0123456789abcdef0123456789abcdef",
          "value": "zé\n\"q\"\\\t\u0001 😀",
          "content_type": "user credentials",
          "tags": {
            "managed-by": "rotor",
            "rotor-role": "user"
          },
          "enabled": false,
          "created": 1700000000,
          "updated": 1700000005
        },
        {
          "version": "fedcba9876543210fedcba9876543210",
          "value": "",
          "content_type": "",
          "tags": {},
          "enabled": true,
          "created": 1700000010,
          "updated": 1700000011
        }
      ]
    }
  ]
})";

bool SkipNone(const StoredSecret&) { return false; }

TEST_CASE("VaultStoreCodec: a store decodes and encodes back byte for byte") {
  auto store = DecodeVaultStore(kStore);
  REQUIRE(store.ok());
  CHECK(store->options.soft_delete);
  CHECK(store->options.retention_days == 7);
  CHECK(store->generation == 42);
  REQUIRE(store->secrets.size() == 2);

  const StoredSecret& alpha = store->secrets.at("alpha");
  CHECK(alpha.deleted);
  CHECK(alpha.deleted_date == absl::FromUnixSeconds(1700000100));
  CHECK(alpha.scheduled_purge_date == absl::FromUnixSeconds(1800000000));

  // Keyed by the lower-cased name; the name keeps its case.
  const StoredSecret& zeta = store->secrets.at("zeta");
  CHECK(zeta.name == "Zeta");
  CHECK_FALSE(zeta.deleted);
  REQUIRE(zeta.versions.size() == 2);
  const StoredSecretVersion& first = zeta.versions[0];
  CHECK(first.version == "0123456789abcdef0123456789abcdef");
  CHECK(first.value.Reveal() == "z\xc3\xa9\n\"q\"\\\t\x01 \xf0\x9f\x98\x80");
  CHECK(first.content_type == "user credentials");
  CHECK(first.tags.at("rotor-role") == "user");
  CHECK_FALSE(first.enabled);
  CHECK(first.created == absl::FromUnixSeconds(1700000000));
  CHECK(first.updated == absl::FromUnixSeconds(1700000005));
  CHECK(zeta.versions[1].value.Reveal().empty());

  CHECK(EncodeVaultStore(*store, SkipNone).Reveal() == kStore);
}

TEST_CASE("VaultStoreCodec: absent members take their defaults, skip leaves secrets out") {
  auto store = DecodeVaultStore(
      R"({"format_version": 1, "secrets": [
          {"name": "b", "versions": [{"version": "11111111111111111111111111111111",
                                      "value": "v", "created": 5.9, "updated": 6}]},
          {"name": "a", "unknown": [1], "versions": [{"version": "22222222222222222222222222222222",
                                      "value": "w", "created": 1, "updated": 1}]}]})");
  REQUIRE(store.ok());
  CHECK(store->options.soft_delete == VaultModelOptions{}.soft_delete);
  CHECK(store->options.retention_days == kDefaultRetentionDays);
  CHECK(store->generation == 0);
  const StoredSecretVersion& b = store->secrets.at("b").versions.at(0);
  CHECK(b.content_type.empty());
  CHECK(b.tags.empty());
  CHECK(b.enabled);
  CHECK(b.created == absl::FromUnixSeconds(5));  // whole seconds

  const std::string text = std::string(
      EncodeVaultStore(*store, [](const StoredSecret& s) { return s.name == "a"; }).Reveal());
  CHECK(absl::StrContains(text, "\"kind\": \"rotor-local-vault\""));
  CHECK(absl::StrContains(text, "\"retention_days\": 90"));
  CHECK(absl::StrContains(text, "\"name\": \"b\""));
  CHECK_FALSE(absl::StrContains(text, "\"name\": \"a\""));
  CHECK_FALSE(absl::StrContains(text, "unknown"));

  // Secrets are written in key order whatever order they were read in.
  const std::string both = std::string(EncodeVaultStore(*store, SkipNone).Reveal());
  CHECK(both.find("\"name\": \"a\"") < both.find("\"name\": \"b\""));
}

TEST_CASE("VaultStoreCodec: bad stores are refused and never quote a value") {
  constexpr char kValue[] = "value-that-must-not-leak";
  auto version = [&](const std::string& id) {
    return std::string(R"({"version": ")") + id + R"(", "value": ")" + kValue +
           R"(", "created": 1, "updated": 1})";
  };
  const std::string good = version("0123456789abcdef0123456789abcdef");
  const struct {
    std::string text;
    absl::StatusCode code;
    const char* message;
  } cases[] = {
      {"{not json", absl::StatusCode::kDataLoss, "vault store: not valid JSON"},
      {"[]", absl::StatusCode::kDataLoss, "the top level must be an object"},
      {R"({"secrets": []})", absl::StatusCode::kDataLoss, "\"format_version\" is missing"},
      {R"({"format_version": 2, "secrets": []})", absl::StatusCode::kFailedPrecondition,
       "vault store has format_version 2; this rotor reads format_version 1"},
      {R"({"format_version": 1, "kind": "other", "secrets": []})", absl::StatusCode::kDataLoss,
       "\"kind\" is not \"rotor-local-vault\""},
      {R"({"format_version": 1, "retention_days": -1, "secrets": []})", absl::StatusCode::kDataLoss,
       "\"retention_days\" must be a non-negative integer"},
      {R"({"format_version": 1})", absl::StatusCode::kDataLoss, "\"secrets\" must be an array"},
      {R"({"format_version": 1, "secrets": [{"name": "bad name", "versions": [)" + good + "]}]}",
       absl::StatusCode::kDataLoss, "invalid secret name \"bad name\""},
      {R"({"format_version": 1, "secrets": [{"name": "a", "versions": []}]})",
       absl::StatusCode::kDataLoss, "secret a: \"versions\" must be a non-empty array"},
      {R"({"format_version": 1, "secrets": [{"name": "a", "versions": [)" +
           version("0123456789ABCDEF0123456789abcdef") + "]}]}",
       absl::StatusCode::kDataLoss, "secret a: invalid version id"},
      {R"({"format_version": 1, "secrets": [{"name": "a", "versions": [)" + good +
           R"(]}, {"name": "A", "versions": [)" + good + "]}]}",
       absl::StatusCode::kDataLoss, "secret A appears twice"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.text);
    auto store = DecodeVaultStore(c.text);
    REQUIRE_FALSE(store.ok());
    CHECK(store.status().code() == c.code);
    CHECK(absl::StrContains(store.status().message(), c.message));
    CHECK_FALSE(absl::StrContains(store.status().ToString(), kValue));
  }
}

}  // namespace
}  // namespace rotor::local
