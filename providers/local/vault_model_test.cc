#include "providers/local/vault_model.h"

#include <doctest/doctest.h>

#include <set>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "base/clock.h"

namespace rotor::local {
namespace {

constexpr char kBase[] = "https://kv.vault.rotor.local";

absl::Time T0() { return absl::FromUnixSeconds(1700000000); }

SetSecretRequest Req(const std::string& value, const std::string& content_type = "",
                     std::map<std::string, std::string> tags = {}) {
  SetSecretRequest r;
  r.value = Secret(value);
  r.content_type = content_type;
  r.tags = std::move(tags);
  return r;
}

bool IsLowerHex32(const std::string& s) {
  if (s.size() != 32) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

TEST_CASE("VaultModel: set creates versions, the newest is latest") {
  FakeClock clock(T0());
  VaultModel vault(kBase, clock);
  auto v1 = vault.Set("admin", Req("one", kUserContentType));
  REQUIRE(v1.ok());
  CHECK(IsLowerHex32(v1->version));
  CHECK(v1->name == "admin");
  CHECK(v1->id == std::string(kBase) + "/secrets/admin/" + v1->version);
  CHECK(v1->content_type == kUserContentType);
  CHECK(v1->enabled);
  CHECK(v1->created == T0());
  CHECK(v1->updated == T0());
  CHECK(v1->recovery_level == "Recoverable+Purgeable");

  clock.Advance(absl::Seconds(10) + absl::Milliseconds(700));
  auto v2 = vault.Set("admin", Req("two"));
  REQUIRE(v2.ok());
  CHECK(v2->version != v1->version);
  // Key Vault's IntDate: whole seconds.
  CHECK(v2->created == T0() + absl::Seconds(10));

  auto latest = vault.Get("admin");
  REQUIRE(latest.ok());
  CHECK(latest->value.Reveal() == "two");
  CHECK(latest->meta.version == v2->version);
  auto old = vault.Get("admin", v1->version);
  REQUIRE(old.ok());
  CHECK(old->value.Reveal() == "one");

  auto versions = vault.ListVersions("admin");
  REQUIRE(versions.ok());
  REQUIRE(versions->size() == 2);
  CHECK((*versions)[0].version == v1->version);
  CHECK((*versions)[1].version == v2->version);

  auto list = vault.List();
  REQUIRE(list.size() == 1);
  CHECK(list[0].version == v2->version);
}

TEST_CASE("VaultModel: version ids are fresh and random") {
  FakeClock clock(T0());
  VaultModel vault(kBase, clock);
  std::set<std::string> ids;
  for (int i = 0; i < 50; ++i) {
    auto v = vault.Set("s", Req("x"));
    REQUIRE(v.ok());
    ids.insert(v->version);
  }
  CHECK(ids.size() == 50);
}

TEST_CASE("VaultModel: names are case-insensitive and keep the stored case") {
  FakeClock clock(T0());
  VaultModel vault(kBase, clock);
  REQUIRE(vault.Set("Admin-User", Req("one")).ok());
  auto v2 = vault.Set("admin-user", Req("two"));
  REQUIRE(v2.ok());
  CHECK(v2->name == "Admin-User");
  CHECK(v2->id == std::string(kBase) + "/secrets/Admin-User/" + v2->version);
  auto got = vault.Get("ADMIN-USER");
  REQUIRE(got.ok());
  CHECK(got->value.Reveal() == "two");
  CHECK(got->meta.name == "Admin-User");
  CHECK(vault.List().size() == 1);
  REQUIRE(vault.ListVersions("aDmIn-uSeR").ok());
  CHECK(vault.ListVersions("aDmIn-uSeR")->size() == 2);
  // Version ids too are matched case-insensitively.
  std::string upper = v2->version;
  for (char& c : upper) c = static_cast<char>(std::toupper(c));
  CHECK(vault.Get("admin-user", upper).ok());
}

TEST_CASE("VaultModel: list is in name order, latest of every live secret") {
  FakeClock clock(T0());
  VaultModel vault(kBase, clock);
  REQUIRE(vault.Set("zeta", Req("z")).ok());
  REQUIRE(vault.Set("Alpha", Req("a")).ok());
  REQUIRE(vault.Set("mid", Req("m1")).ok());
  auto m2 = vault.Set("mid", Req("m2"));
  REQUIRE(m2.ok());
  REQUIRE(vault.Set("gone", Req("g")).ok());
  REQUIRE(vault.Delete("gone").ok());
  auto list = vault.List();
  REQUIRE(list.size() == 3);
  CHECK(list[0].name == "Alpha");
  CHECK(list[1].name == "mid");
  CHECK(list[1].version == m2->version);
  CHECK(list[2].name == "zeta");
}

TEST_CASE("VaultModel: tags and content type belong to each version") {
  FakeClock clock(T0());
  VaultModel vault(kBase, clock);
  auto v1 = vault.Set("s", Req("1", "pfx", {{"managed-by", "rotor"}, {"k", "v1"}}));
  auto v2 = vault.Set("s", Req("2", "", {{"k", "v2"}}));
  REQUIRE(v1.ok());
  REQUIRE(v2.ok());
  CHECK(v1->ManagedByRotor());
  CHECK_FALSE(v2->ManagedByRotor());
  auto m1 = vault.GetMetadata("s", v1->version);
  REQUIRE(m1.ok());
  CHECK(m1->tags.at("k") == "v1");
  CHECK(m1->content_type == "pfx");
  auto latest = vault.Get("s");
  REQUIRE(latest.ok());
  CHECK(latest->meta.tags == std::map<std::string, std::string>{{"k", "v2"}});
  CHECK(latest->meta.content_type.empty());

  SecretVersionUpdate update;
  update.tags = std::map<std::string, std::string>{{"x", "y"}};
  clock.Advance(absl::Seconds(5));
  auto updated = vault.Update("s", v1->version, update);
  REQUIRE(updated.ok());
  CHECK(updated->tags.at("x") == "y");
  CHECK(updated->content_type == "pfx");  // unchanged
  CHECK(updated->updated == T0() + absl::Seconds(5));
  CHECK(updated->created == T0());
  CHECK(vault.Get("s")->meta.tags.at("k") == "v2");
}

TEST_CASE("VaultModel: get of a missing secret or version is SecretNotFound") {
  FakeClock clock(T0());
  VaultModel vault(kBase, clock);
  auto missing = vault.Get("nope");
  CHECK(missing.status().code() == absl::StatusCode::kNotFound);
  CHECK(VaultErrorCode(missing.status()) == kSecretNotFound);
  CHECK(absl::StrContains(missing.status().message(), "nope"));
  REQUIRE(vault.Set("s", Req("x")).ok());
  auto bad_version = vault.Get("s", "0123456789abcdef0123456789abcdef");
  CHECK(bad_version.status().code() == absl::StatusCode::kNotFound);
  CHECK(VaultErrorCode(bad_version.status()) == kSecretNotFound);
  CHECK(vault.ListVersions("nope").status().code() == absl::StatusCode::kNotFound);
  CHECK(vault.SetEnabled("nope", "", false).status().code() == absl::StatusCode::kNotFound);
  CHECK(vault.Delete("nope").status().code() == absl::StatusCode::kNotFound);
}

TEST_CASE("VaultModel: a disabled version gives 403 SecretDisabled") {
  FakeClock clock(T0());
  VaultModel vault(kBase, clock);
  auto v1 = vault.Set("s", Req("secret-value-1"));
  auto v2 = vault.Set("s", Req("secret-value-2"));
  REQUIRE(v1.ok());
  REQUIRE(v2.ok());
  auto disabled = vault.SetEnabled("s", v1->version, false);
  REQUIRE(disabled.ok());
  CHECK_FALSE(disabled->enabled);
  auto get_old = vault.Get("s", v1->version);
  CHECK(get_old.status().code() == absl::StatusCode::kPermissionDenied);
  CHECK(VaultErrorCode(get_old.status()) == kSecretDisabled);
  CHECK(get_old.status().message() == "Operation get is not allowed on a disabled secret.");
  CHECK(vault.Get("s").ok());  // latest still enabled
  REQUIRE(vault.SetEnabled("s", v2->version, false).ok());
  auto get_latest = vault.Get("s");
  CHECK(VaultErrorCode(get_latest.status()) == kSecretDisabled);
  // Metadata (list, versions) still shows it.
  CHECK_FALSE(vault.List()[0].enabled);
  CHECK(vault.GetMetadata("s").ok());
  REQUIRE(vault.SetEnabled("s", v2->version, true).ok());
  CHECK(vault.Get("s")->value.Reveal() == "secret-value-2");
  // A set may create a version disabled.
  auto v3 = vault.Set("s", Req("three"), /*enabled=*/false);
  REQUIRE(v3.ok());
  CHECK_FALSE(v3->enabled);
  CHECK(VaultErrorCode(vault.Get("s").status()) == kSecretDisabled);
}

TEST_CASE("VaultModel: soft delete, get/list deleted, recover") {
  FakeClock clock(T0());
  VaultModel vault(kBase, clock);
  auto v1 = vault.Set("User1", Req("a"));
  auto v2 = vault.Set("User1", Req("b"));
  REQUIRE(v2.ok());
  clock.Advance(absl::Hours(1));
  auto deleted = vault.Delete("user1");
  REQUIRE(deleted.ok());
  CHECK(deleted->latest.name == "User1");
  CHECK(deleted->latest.version == v2->version);
  CHECK(deleted->deleted_date == T0() + absl::Hours(1));
  CHECK(deleted->scheduled_purge_date == T0() + absl::Hours(1) + absl::Hours(24 * 90));
  CHECK(deleted->latest.recovery_level == "Recoverable+Purgeable");

  CHECK(vault.List().empty());
  CHECK(VaultErrorCode(vault.Get("User1").status()) == kSecretNotFound);
  CHECK(vault.ListVersions("User1").status().code() == absl::StatusCode::kNotFound);
  CHECK(vault.Delete("User1").status().code() == absl::StatusCode::kNotFound);
  auto got_deleted = vault.GetDeleted("USER1");
  REQUIRE(got_deleted.ok());
  CHECK(got_deleted->latest.version == v2->version);
  REQUIRE(vault.ListDeleted().size() == 1);

  auto recovered = vault.Recover("User1");
  REQUIRE(recovered.ok());
  CHECK(recovered->version == v2->version);
  CHECK(vault.ListDeleted().empty());
  CHECK(vault.ListVersions("User1")->size() == 2);
  CHECK(vault.Get("User1", v1->version)->value.Reveal() == "a");
  CHECK(vault.Recover("User1").status().code() == absl::StatusCode::kNotFound);
  CHECK(VaultErrorCode(vault.GetDeleted("User1").status()) == kSecretNotFound);
}

TEST_CASE(
    "VaultModel: set on a deleted-but-recoverable name is 409 with Key Vault's "
    "text") {
  FakeClock clock(T0());
  VaultModel vault(kBase, clock);
  REQUIRE(vault.Set("ci", Req("a")).ok());
  REQUIRE(vault.Delete("ci").ok());
  auto set = vault.Set("CI", Req("super-secret-value"));
  REQUIRE_FALSE(set.ok());
  CHECK(set.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(VaultErrorCode(set.status()) == kObjectIsDeletedButRecoverable);
  CHECK(set.status().message() ==
        "Secret ci is currently in a deleted but recoverable state, and its "
        "name cannot be "
        "reused; in this state, the secret can only be recovered or purged.");
  CHECK_FALSE(absl::StrContains(set.status().ToString(), "super-secret-value"));
  // Purge frees the name; the new secret starts over.
  REQUIRE(vault.Purge("ci").ok());
  CHECK(vault.ListDeleted().empty());
  CHECK(vault.Purge("ci").code() == absl::StatusCode::kNotFound);
  auto fresh = vault.Set("CI", Req("b"));
  REQUIRE(fresh.ok());
  CHECK(fresh->name == "CI");
  CHECK(vault.ListVersions("ci")->size() == 1);
}

TEST_CASE("VaultModel: purge of a live secret is NotFound, deleted secrets expire") {
  FakeClock clock(T0());
  VaultModel vault(kBase, clock);
  REQUIRE(vault.Set("live", Req("a")).ok());
  CHECK(vault.Purge("live").code() == absl::StatusCode::kNotFound);
  REQUIRE(vault.Set("old", Req("a")).ok());
  REQUIRE(vault.Delete("old").ok());
  clock.Advance(absl::Hours(24 * 90) - absl::Seconds(1));
  CHECK(vault.GetDeleted("old").ok());
  clock.Advance(absl::Seconds(1));
  CHECK(vault.GetDeleted("old").status().code() == absl::StatusCode::kNotFound);
  CHECK(vault.ListDeleted().empty());
  CHECK(vault.Set("old", Req("again")).ok());
}

TEST_CASE("VaultModel: without soft delete a delete purges at once") {
  FakeClock clock(T0());
  VaultModelOptions options;
  options.soft_delete = false;
  VaultModel vault(kBase, clock, options);
  auto v = vault.Set("s", Req("a"));
  REQUIRE(v.ok());
  CHECK(v->recovery_level == "Purgeable");
  auto deleted = vault.Delete("s");
  REQUIRE(deleted.ok());
  CHECK(deleted->latest.version == v->version);
  CHECK(deleted->scheduled_purge_date == absl::UnixEpoch());
  CHECK(vault.ListDeleted().empty());
  CHECK(vault.GetDeleted("s").status().code() == absl::StatusCode::kNotFound);
  CHECK(vault.Recover("s").status().code() == absl::StatusCode::kNotFound);
  CHECK(vault.Set("s", Req("b")).ok());
  CHECK(vault.ListVersions("s")->size() == 1);
}

TEST_CASE("VaultModel: limits and name rules") {
  FakeClock clock(T0());
  VaultModel vault(kBase, clock);
  CHECK(vault.Set(std::string(127, 'a'), Req("x")).ok());
  for (const std::string& bad : {std::string(128, 'a'), std::string(""), std::string("a_b"),
                                 std::string("a.b"), std::string("a b"), std::string("é")}) {
    auto r = vault.Set(bad, Req("x"));
    CHECK(r.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(VaultErrorCode(r.status()) == kBadParameter);
    CHECK(vault.Get(bad).status().code() == absl::StatusCode::kInvalidArgument);
  }
  CHECK(vault.Set("big", Req(std::string(25600, 'v'))).ok());
  auto too_big = vault.Set("big", Req(std::string(25601, 'v')));
  CHECK(too_big.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(VaultErrorCode(too_big.status()) == kBadParameter);
  CHECK_FALSE(absl::StrContains(too_big.status().message(), "vvvv"));
  CHECK(vault.Set("ct", Req("x", std::string(256, 'c'))).status().code() ==
        absl::StatusCode::kInvalidArgument);
  std::map<std::string, std::string> tags;
  for (int i = 0; i < 16; ++i) tags.emplace(absl::StrCat("t", i), std::string("v"));
  CHECK(vault.Set("tags", Req("x", "", tags)).status().code() ==
        absl::StatusCode::kInvalidArgument);
  tags.erase("t0");
  CHECK(vault.Set("tags", Req("x", "", tags)).ok());
  CHECK(vault.Set("utf8", Req("\xff\xfe")).status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(vault.Set("utf8", Req("h\xc3\xa9llo \xf0\x9f\x94\x91")).ok());
  CHECK(vault.ListVersions("big")->size() == 1);  // the failed set made no version
}

TEST_CASE("VaultModel: generation counts mutations only") {
  FakeClock clock(T0());
  VaultModel vault(kBase, clock);
  CHECK(vault.generation() == 0);
  auto v = vault.Set("s", Req("a"));
  CHECK(vault.generation() == 1);
  (void)vault.Get("s");
  (void)vault.List();
  (void)vault.Set("bad name", Req("a"));
  CHECK(vault.generation() == 1);
  REQUIRE(vault.SetEnabled("s", v->version, false).ok());
  REQUIRE(vault.Delete("s").ok());
  REQUIRE(vault.Recover("s").ok());
  CHECK(vault.generation() == 4);
}

TEST_CASE("VaultModel: JSON round trip keeps everything, ids follow the base URL") {
  FakeClock clock(T0());
  VaultModel vault(kBase, clock);
  auto a1 = vault.Set("Admin", Req("pässword:1", kUserContentType, {{"managed-by", "rotor"}}));
  clock.Advance(absl::Seconds(3));
  auto a2 = vault.Set("admin", Req("p2\n\"quoted\""));
  REQUIRE(vault.SetEnabled("admin", a1->version, false).ok());
  REQUIRE(vault.Set("deleted", Req("d")).ok());
  REQUIRE(vault.Delete("deleted").ok());
  Secret json = vault.ToJson();
  CHECK(absl::StrContains(json.Reveal(), "\"format_version\": 1"));

  VaultModel copy("https://kv.vault.localhost:8443", clock);
  REQUIRE(copy.Restore(json.Reveal()).ok());
  CHECK(copy.ToJson().Reveal() == json.Reveal());
  CHECK(copy.generation() == vault.generation());
  auto versions = copy.ListVersions("ADMIN");
  REQUIRE(versions.ok());
  REQUIRE(versions->size() == 2);
  CHECK((*versions)[0].version == a1->version);
  CHECK_FALSE((*versions)[0].enabled);
  CHECK((*versions)[0].tags.at("managed-by") == "rotor");
  CHECK((*versions)[0].content_type == kUserContentType);
  CHECK((*versions)[1].created == T0() + absl::Seconds(3));
  CHECK((*versions)[1].id == "https://kv.vault.localhost:8443/secrets/Admin/" + a2->version);
  CHECK(copy.Get("admin")->value.Reveal() == "p2\n\"quoted\"");
  auto deleted = copy.GetDeleted("deleted");
  REQUIRE(deleted.ok());
  CHECK(deleted->deleted_date == T0() + absl::Seconds(3));
  CHECK(VaultErrorCode(copy.Set("deleted", Req("x")).status()) == kObjectIsDeletedButRecoverable);
}

TEST_CASE("VaultModel: Restore rejects bad stores without changing the model") {
  FakeClock clock(T0());
  VaultModel vault(kBase, clock);
  REQUIRE(vault.Set("keep", Req("value-that-must-not-leak")).ok());
  Secret good = vault.ToJson();
  CHECK(vault.Restore("{not json").code() == absl::StatusCode::kDataLoss);
  CHECK(vault.Restore("{\"format_version\": 2, \"secrets\": []}").code() ==
        absl::StatusCode::kFailedPrecondition);
  CHECK(vault.Restore("{\"secrets\": []}").code() == absl::StatusCode::kDataLoss);
  auto bad = vault.Restore(
      "{\"format_version\": 1, \"secrets\": [{\"name\": \"x\", \"versions\": "
      "[{\"version\": \"zz\", \"value\": \"value-that-must-not-leak\", "
      "\"created\": 1, "
      "\"updated\": 1}]}]}");
  CHECK(bad.code() == absl::StatusCode::kDataLoss);
  CHECK_FALSE(absl::StrContains(bad.ToString(), "value-that-must-not-leak"));
  CHECK(vault.ToJson().Reveal() == good.Reveal());
  // soft_delete travels with the store.
  VaultModelOptions off;
  off.soft_delete = false;
  VaultModel purgeable(kBase, clock, off);
  VaultModel reloaded(kBase, clock);
  REQUIRE(reloaded.Restore(purgeable.ToJson().Reveal()).ok());
  CHECK_FALSE(reloaded.soft_delete());
}

}  // namespace
}  // namespace rotor::local
