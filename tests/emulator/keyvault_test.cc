// The Key Vault data plane of the real rotor-emulator binary, over HTTPS.
#include <doctest/doctest.h>

#include <atomic>
#include <set>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "base/files.h"
#include "tests/emulator/emulator_harness.h"

namespace rotor::emulator::testing {
namespace {

std::vector<std::string> Args() {
  return {"--vault", "newregkv", "--vault",
          "other",   "--client", absl::StrCat(kClientId, ":", kClientSecret)};
}

// A state folder that outlives one emulator (for restarts).
class TempDirState {
 public:
  std::string dir() const { return temp_.Path("state"); }

 private:
  rotor::testing::TempDir temp_;
};

std::string Path(const std::string& p, const std::string& version = "7.4") {
  return absl::StrCat(p, p.find('?') == std::string::npos ? "?" : "&", "api-version=", version);
}

TEST_CASE("an unauthenticated request gets Key Vault's 401 challenge") {
  Emulator emu(Args());
  // The SDKs' first request: PUT with an empty body and no Authorization.
  HttpResult r = emu.Request("PUT", emu.VaultUrl("newregkv", Path("/secrets/admin")), "",
                             {"Content-Type: application/json"});
  CHECK(r.status == 401);
  CHECK(r.Header("WWW-Authenticate") ==
        absl::StrCat("Bearer authorization=\"https://login.localhost:", emu.port(), "/", kTenant,
                     "\", resource=\"https://vault.localhost:", emu.port(), "\""));
  CHECK(r.Header("Content-Type") == "application/json; charset=utf-8");
  auto body = r.Json();
  CHECK(JsonString(body, "error/code") == "Unauthorized");
  CHECK(JsonString(body, "error/message") == "AKV10000: Request is missing a Bearer or PoP token.");
  CHECK_FALSE(r.Header("x-ms-request-id").empty());

  // A token for ARM is not a Key Vault token.
  r = emu.Get(emu.VaultUrl("newregkv", Path("/secrets")), emu.ArmToken());
  CHECK(r.status == 401);
  CHECK(absl::StartsWith(JsonString(r.Json(), "error/message"), "AKV10022: Invalid audience."));
  // Nor is a token the emulator did not sign.
  r = emu.Get(emu.VaultUrl("newregkv", Path("/secrets")),
              "eyJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJ4In0.c2lnbmF0dXJl");
  CHECK(r.status == 401);
  CHECK_FALSE(r.Header("WWW-Authenticate").empty());
}

TEST_CASE("every secret operation, with Key Vault's bodies and codes") {
  Emulator emu(Args());
  const std::string token = emu.VaultToken();
  auto url = [&](const std::string& p) { return emu.VaultUrl("newregkv", Path(p)); };
  const std::string base = emu.Url("newregkv.vault.localhost", "");

  // Set: the bundle with its value and a fresh 32-hex version.
  HttpResult r = emu.Send("PUT", url("/secrets/Admin"),
                          R"({"value":"pw-one","contentType":"user credentials",)"
                          R"("tags":{"managed-by":"rotor"}})",
                          token);
  REQUIRE_MESSAGE(r.status == 200, r.body);
  auto set1 = r.Json();
  CHECK(JsonString(set1, "value") == "pw-one");
  CHECK(JsonString(set1, "contentType") == "user credentials");
  CHECK(JsonString(set1, "tags/managed-by") == "rotor");
  CHECK(JsonString(set1, "attributes/enabled") == "true");
  CHECK(JsonString(set1, "attributes/recoveryLevel") == "Recoverable+Purgeable");
  CHECK(JsonString(set1, "attributes/recoverableDays") == "90");
  const std::string id1 = JsonString(set1, "id");
  REQUIRE(absl::StartsWith(id1, base + "/secrets/Admin/"));
  const std::string v1 = id1.substr(id1.rfind('/') + 1);
  CHECK(v1.size() == 32);

  r = emu.Send("PUT", url("/secrets/admin"), R"({"value":"pw-two"})", token);
  REQUIRE(r.status == 200);
  const std::string id2 = JsonString(r.Json(), "id");
  CHECK(absl::StartsWith(id2, base + "/secrets/Admin/"));  // the stored case
  const std::string v2 = id2.substr(id2.rfind('/') + 1);
  CHECK(v2 != v1);

  // Get: latest (trailing slash, any case), by version.
  r = emu.Get(url("/secrets/ADMIN/"), token);
  CHECK(r.status == 200);
  CHECK(JsonString(r.Json(), "value") == "pw-two");
  r = emu.Get(url("/secrets/admin/" + v1), token);
  CHECK(r.status == 200);
  CHECK(JsonString(r.Json(), "value") == "pw-one");
  CHECK(JsonString(r.Json(), "contentType") == "user credentials");

  // Versions: ids with versions, no values.
  r = emu.Get(url("/secrets/admin/versions"), token);
  REQUIRE(r.status == 200);
  auto versions = r.Json();
  REQUIRE(versions["value"].Size() == 2);
  CHECK_FALSE(versions["value"][0].HasMember("value"));
  CHECK(JsonString(versions, "nextLink") == "null");
  // Versions of a missing secret: 200 and an empty list (as 2016-10-01 does).
  r = emu.Get(url("/secrets/missing/versions"), token);
  CHECK(r.status == 200);
  CHECK(r.Json()["value"].Size() == 0);

  // Update: attributes only; a disabled version cannot be read.
  r = emu.Send("PATCH", url("/secrets/admin/" + v2),
               R"({"contentType":"text/plain","attributes":{"enabled":false},"tags":{"a":"b"}})",
               token);
  REQUIRE_MESSAGE(r.status == 200, r.body);
  CHECK_FALSE(r.Json().HasMember("value"));
  CHECK(JsonString(r.Json(), "attributes/enabled") == "false");
  CHECK(JsonString(r.Json(), "contentType") == "text/plain");
  r = emu.Get(url("/secrets/admin/"), token);
  CHECK(r.status == 403);
  CHECK(JsonString(r.Json(), "error/code") == "Forbidden");
  CHECK(JsonString(r.Json(), "error/innererror/code") == "SecretDisabled");
  CHECK(JsonString(r.Json(), "error/message") ==
        "Operation get is not allowed on a disabled secret.");
  r = emu.Send("PATCH", url("/secrets/admin/" + v2), R"({"attributes":{"enabled":true}})", token);
  CHECK(r.status == 200);

  // Not found.
  r = emu.Get(url("/secrets/nothing"), token);
  CHECK(r.status == 404);
  CHECK(JsonString(r.Json(), "error/code") == "SecretNotFound");
  CHECK(absl::StartsWith(JsonString(r.Json(), "error/message"),
                         "A secret with (name/id) nothing was not found in this key vault."));

  // Delete: soft delete, recoverable.
  r = emu.Request("DELETE", url("/secrets/admin"), std::nullopt,
                  {"Authorization: Bearer " + token});
  REQUIRE(r.status == 200);
  auto deleted = r.Json();
  CHECK(JsonString(deleted, "recoveryId") == base + "/deletedsecrets/Admin");
  CHECK_FALSE(JsonString(deleted, "deletedDate").empty());
  CHECK_FALSE(JsonString(deleted, "scheduledPurgeDate").empty());
  CHECK_FALSE(deleted.HasMember("value"));
  CHECK(JsonString(deleted, "id") == id2);
  r = emu.Get(url("/secrets/admin"), token);
  CHECK(r.status == 404);
  // Its name cannot be reused until recovered or purged.
  r = emu.Send("PUT", url("/secrets/admin"), R"({"value":"again"})", token);
  CHECK(r.status == 409);
  CHECK(JsonString(r.Json(), "error/code") == "Conflict");
  CHECK(JsonString(r.Json(), "error/innererror/code") == "ObjectIsDeletedButRecoverable");

  r = emu.Get(url("/deletedsecrets/admin"), token);
  CHECK(r.status == 200);
  CHECK(JsonString(r.Json(), "recoveryId") == base + "/deletedsecrets/Admin");
  r = emu.Get(url("/deletedsecrets"), token);
  REQUIRE(r.status == 200);
  REQUIRE(r.Json()["value"].Size() == 1);
  CHECK(JsonString(r.Json(), "value/0/id") == base + "/secrets/Admin");

  // Recover: the latest version back.
  r = emu.Request("POST", url("/deletedsecrets/admin/recover"), std::nullopt,
                  {"Authorization: Bearer " + token});
  REQUIRE(r.status == 200);
  CHECK(JsonString(r.Json(), "id") == id2);
  CHECK_FALSE(r.Json().HasMember("value"));
  r = emu.Get(url("/secrets/admin/"), token);
  CHECK(r.status == 200);
  CHECK(JsonString(r.Json(), "value") == "pw-two");

  // Purge: 204 without a body; then gone for good.
  r = emu.Request("DELETE", url("/secrets/admin"), std::nullopt,
                  {"Authorization: Bearer " + token});
  REQUIRE(r.status == 200);
  r = emu.Request("DELETE", url("/deletedsecrets/admin"), std::nullopt,
                  {"Authorization: Bearer " + token});
  CHECK(r.status == 204);
  CHECK(r.body.empty());
  CHECK(r.Header("Content-Type").empty());
  r = emu.Get(url("/deletedsecrets/admin"), token);
  CHECK(r.status == 404);
  CHECK(JsonString(r.Json(), "error/code") == "SecretNotFound");
  r = emu.Send("PUT", url("/secrets/admin"), R"({"value":"fresh"})", token);
  CHECK(r.status == 200);

  // Bad requests.
  r = emu.Send("PUT", url("/secrets/bad_name"), R"({"value":"x"})", token);
  CHECK(r.status == 400);
  CHECK(JsonString(r.Json(), "error/code") == "BadParameter");
  r = emu.Send("PUT", url("/secrets/novalue"), R"({"contentType":"x"})", token);
  CHECK(r.status == 400);
  CHECK(JsonString(r.Json(), "error/code") == "BadParameter");
  r = emu.Send("PUT", url("/secrets/big"),
               absl::StrCat(R"({"value":")", std::string(25601, 'x'), R"("})"), token);
  CHECK(r.status == 400);

  // Stats count the vault's requests by operation.
  auto stats = emu.Stats();
  CHECK(JsonString(stats, "vaults/newregkv/operations/SetSecret") != "");
  CHECK(JsonString(stats, "vaults/newregkv/status/409") == "1");
}

TEST_CASE("lists page with maxresults and a nextLink on the server's own host:port") {
  Emulator emu(Args());
  const std::string token = emu.VaultToken();
  for (int i = 0; i < 30; ++i) {
    HttpResult r = emu.Send("PUT", emu.VaultUrl("newregkv", Path(absl::StrCat("/secrets/s", i))),
                            R"({"value":"v"})", token);
    REQUIRE(r.status == 200);
  }
  // Default page: 25, then a nextLink.
  HttpResult r = emu.Get(emu.VaultUrl("newregkv", Path("/secrets")), token);
  REQUIRE(r.status == 200);
  CHECK(r.Json()["value"].Size() == 25);
  std::string next = JsonString(r.Json(), "nextLink");
  CHECK(absl::StartsWith(next, emu.VaultUrl("newregkv", "/secrets?api-version=7.4&$skiptoken=")));

  // maxresults=7: follow nextLink verbatim to the end.
  std::set<std::string> ids;
  std::string link = emu.VaultUrl("newregkv", Path("/secrets?maxresults=7"));
  int pages = 0;
  while (link != "null" && !link.empty() && pages < 20) {
    r = emu.Get(link, token);
    REQUIRE_MESSAGE(r.status == 200, r.body);
    auto page = r.Json();
    CHECK(page["value"].Size() <= 7);
    for (const auto& item : page["value"].GetArray()) ids.insert(item["id"].GetString());
    link = JsonString(page, "nextLink");
    if (link != "null") CHECK(absl::StrContains(link, "maxresults=7"));
    ++pages;
  }
  CHECK(pages == 5);
  CHECK(ids.size() == 30);

  // Versions page too.
  for (int i = 0; i < 4; ++i) {
    REQUIRE(
        emu.Send("PUT", emu.VaultUrl("newregkv", Path("/secrets/multi")), R"({"value":"v"})", token)
            .status == 200);
  }
  r = emu.Get(emu.VaultUrl("newregkv", Path("/secrets/multi/versions?maxresults=3")), token);
  REQUIRE(r.status == 200);
  CHECK(r.Json()["value"].Size() == 3);
  r = emu.Get(JsonString(r.Json(), "nextLink"), token);
  REQUIRE(r.status == 200);
  CHECK(r.Json()["value"].Size() == 1);
  CHECK(JsonString(r.Json(), "nextLink") == "null");

  // Out of range.
  r = emu.Get(emu.VaultUrl("newregkv", Path("/secrets?maxresults=26")), token);
  CHECK(r.status == 400);
  CHECK(JsonString(r.Json(), "error/code") == "BadParameter");
  r = emu.Get(emu.VaultUrl("newregkv", Path("/secrets?maxresults=0")), token);
  CHECK(r.status == 400);
}

TEST_CASE("api-versions 2016-10-01, 7.x and date-style, names URL-encoded") {
  Emulator emu(Args());
  const std::string token = emu.VaultToken();
  REQUIRE(emu.Send("PUT", emu.VaultUrl("newregkv", Path("/secrets/a")), R"({"value":"v"})", token)
              .status == 200);
  struct Case {
    std::string query;
    bool recoverable_days;
  };
  for (const Case& c : std::vector<Case>{{"api-version=2016-10-01", false},
                                         {"api-version=7.0", false},
                                         {"api-version=7.2", true},
                                         {"api-version=7.4-preview.1", true},
                                         {"api-version=7.6", true},
                                         {"api%2Dversion=2025-07-01", true},
                                         {"api-version=2025-06-01-preview", true}}) {
    CAPTURE(c.query);
    HttpResult r = emu.Get(emu.VaultUrl("newregkv", "/secrets/a/?" + c.query), token);
    REQUIRE(r.status == 200);
    CHECK(r.Json()["attributes"].HasMember("recoverableDays") == c.recoverable_days);
  }
  HttpResult r = emu.Get(emu.VaultUrl("newregkv", "/secrets/a?api-version=1999-01-01"), token);
  CHECK(r.status == 400);
  CHECK(JsonString(r.Json(), "error/code") == "BadParameter");
  r = emu.Get(emu.VaultUrl("newregkv", "/secrets/a"), token);
  CHECK(r.status == 400);
  // nextLink carries the request's own api-version.
  for (int i = 0; i < 3; ++i) {
    REQUIRE(emu.Send("PUT", emu.VaultUrl("newregkv", Path(absl::StrCat("/secrets/p", i))),
                     R"({"value":"v"})", token)
                .status == 200);
  }
  r = emu.Get(emu.VaultUrl("newregkv", "/secrets?api-version=2016-10-01&maxresults=1"), token);
  CHECK(absl::StrContains(JsonString(r.Json(), "nextLink"), "api-version=2016-10-01"));
}

TEST_CASE("vaults are routed by the Host header - the bare address serves the first vault") {
  Emulator emu(Args());
  const std::string token = emu.VaultToken();
  REQUIRE(
      emu.Send("PUT", emu.VaultUrl("other", Path("/secrets/only-other")), R"({"value":"o"})", token)
          .status == 200);
  REQUIRE(emu.Send("PUT", emu.VaultUrl("NewRegKV", Path("/secrets/only-first")), R"({"value":"f"})",
                   token)
              .status == 200);
  CHECK(emu.Get(emu.VaultUrl("newregkv", Path("/secrets/only-other")), token).status == 404);
  CHECK(emu.Get(emu.VaultUrl("other", Path("/secrets/only-other")), token).status == 200);
  // 127.0.0.1 and localhost: the first vault, ids on that host.
  HttpResult r = emu.Get(emu.Url("127.0.0.1", Path("/secrets/only-first")), token);
  CHECK(r.status == 200);
  CHECK(absl::StartsWith(JsonString(r.Json(), "id"),
                         absl::StrCat("https://127.0.0.1:", emu.port(), "/secrets/only-first/")));
  CHECK(emu.Get(emu.Url("localhost", Path("/secrets/only-first")), token).status == 200);
  // A vault the emulator does not serve.
  r = emu.Get(emu.VaultUrl("nosuchvault", Path("/secrets")), token);
  CHECK(r.status == 404);
  CHECK(JsonString(r.Json(), "error/code") == "VaultNotFound");
  auto stats = emu.Stats();
  CHECK(JsonString(stats, "vaults/other/requests") == "2");
}

TEST_CASE("many concurrent clients are served") {
  Emulator emu(Args());
  const std::string token = emu.VaultToken();
  std::atomic<int> ok{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < 20; ++c) {
    clients.emplace_back([&, c] {
      for (int i = 0; i < 3; ++i) {
        HttpResult r =
            emu.Send("PUT", emu.VaultUrl("newregkv", Path(absl::StrCat("/secrets/c", c, "-", i))),
                     R"({"value":"v"})", token);
        if (r.status == 200) ++ok;
      }
    });
  }
  for (auto& t : clients) t.join();
  CHECK(ok.load() == 60);
  HttpResult r = emu.Get(emu.VaultUrl("newregkv", Path("/secrets?maxresults=25")), token);
  CHECK(r.status == 200);
  CHECK(JsonString(emu.Stats(), "vaults/newregkv/writes") == "60");
}

TEST_CASE("nbf and exp are stored per version and returned wherever Key Vault returns them") {
  TempDirState state;
  std::string v1, v2;
  {
    Emulator emu(Args(), state.dir());
    const std::string token = emu.VaultToken();
    auto url = [&](const std::string& p) { return emu.VaultUrl("newregkv", Path(p)); };
    HttpResult r =
        emu.Send("PUT", url("/secrets/cert"),
                 R"({"value":"v1","attributes":{"nbf":1564536012,"exp":1567128012}})", token);
    REQUIRE_MESSAGE(r.status == 200, r.body);
    CHECK(JsonString(r.Json(), "attributes/nbf") == "1564536012");
    CHECK(JsonString(r.Json(), "attributes/exp") == "1567128012");
    // Key Vault's order: enabled, nbf, exp, created, ...
    CHECK(absl::StrContains(r.body, R"("attributes":{"enabled":true,"nbf":1564536012,)"
                                    R"("exp":1567128012,"created":)"));
    const std::string id1 = JsonString(r.Json(), "id");
    v1 = id1.substr(id1.rfind('/') + 1);
    // A second version without them: attributes are per version.
    r = emu.Send("PUT", url("/secrets/cert"), R"({"value":"v2"})", token);
    REQUIRE(r.status == 200);
    CHECK_FALSE(r.Json()["attributes"].HasMember("nbf"));
    const std::string id2 = JsonString(r.Json(), "id");
    v2 = id2.substr(id2.rfind('/') + 1);
    r = emu.Get(url("/secrets/cert/" + v1), token);
    CHECK(JsonString(r.Json(), "attributes/exp") == "1567128012");
    r = emu.Get(url("/secrets/cert/versions"), token);
    REQUIRE(r.status == 200);
    int with_exp = 0;
    const auto versions = r.Json();  // the range below must not outlive it
    for (const auto& item : versions["value"].GetArray()) {
      with_exp += item["attributes"].HasMember("exp") ? 1 : 0;
    }
    CHECK(with_exp == 1);
    // Update: exp of the latest version by version; the other stays.
    r = emu.Send("PATCH", url("/secrets/cert/" + v2), R"({"attributes":{"exp":2208992461}})",
                 token);
    REQUIRE_MESSAGE(r.status == 200, r.body);
    CHECK(JsonString(r.Json(), "attributes/exp") == "2208992461");
    CHECK_FALSE(r.Json()["attributes"].HasMember("nbf"));
    r = emu.Get(url("/secrets"), token);
    CHECK(JsonString(r.Json(), "value/0/attributes/exp") == "2208992461");
    // Not an IntDate: BadParameter.
    r = emu.Send("PATCH", url("/secrets/cert/" + v2), R"({"attributes":{"nbf":"tomorrow"}})",
                 token);
    CHECK(r.status == 400);
    CHECK(JsonString(r.Json(), "error/code") == "BadParameter");
    r = emu.Send("PUT", url("/secrets/other"), R"({"value":"x","attributes":{"exp":1.5}})", token);
    CHECK(r.status == 400);
    // Tags given as {} come back as {}; no tags, no "tags".
    r = emu.Send("PUT", url("/secrets/other"), R"({"value":"x","tags":{}})", token);
    CHECK(absl::StrContains(r.body, R"("tags":{})"));
    r = emu.Send("PUT", url("/secrets/other"), R"({"value":"x"})", token);
    CHECK_FALSE(r.Json().HasMember("tags"));
  }
  // They survive a restart, and follow the secret through delete and
  // recover; null clears one.
  Emulator emu(Args(), state.dir());
  const std::string token = emu.VaultToken();
  auto url = [&](const std::string& p) { return emu.VaultUrl("newregkv", Path(p)); };
  HttpResult r = emu.Get(url("/secrets/cert/" + v1), token);
  CHECK(JsonString(r.Json(), "attributes/nbf") == "1564536012");
  r = emu.Request("DELETE", url("/secrets/cert"), std::nullopt, {"Authorization: Bearer " + token});
  REQUIRE(r.status == 200);
  CHECK(JsonString(r.Json(), "attributes/exp") == "2208992461");
  r = emu.Get(url("/deletedsecrets/cert"), token);
  CHECK(JsonString(r.Json(), "attributes/exp") == "2208992461");
  r = emu.Get(url("/deletedsecrets"), token);
  CHECK(JsonString(r.Json(), "value/0/attributes/exp") == "2208992461");
  r = emu.Request("POST", url("/deletedsecrets/cert/recover"), std::nullopt,
                  {"Authorization: Bearer " + token});
  CHECK(JsonString(r.Json(), "attributes/exp") == "2208992461");
  r = emu.Send("PATCH", url("/secrets/cert/" + v2), R"({"attributes":{"exp":null}})", token);
  CHECK_FALSE(r.Json()["attributes"].HasMember("exp"));
  // Purged: the name starts afresh.
  emu.Request("DELETE", url("/secrets/cert"), std::nullopt, {"Authorization: Bearer " + token});
  r = emu.Request("DELETE", url("/deletedsecrets/cert"), std::nullopt,
                  {"Authorization: Bearer " + token});
  CHECK(r.status == 204);
  auto store = ReadFile(state.dir() + "/emulator/attributes/newregkv.json");
  REQUIRE(store.ok());
  CHECK_FALSE(absl::StrContains(*store, v1));
}

TEST_CASE("a full page carries a nextLink - a list ending on one ends with an empty page") {
  Emulator emu(Args());
  const std::string token = emu.VaultToken();
  for (int i = 0; i < 3; ++i) {
    REQUIRE(
        emu.Send("PUT", emu.VaultUrl("newregkv", Path("/secrets/three")), R"({"value":"v"})", token)
            .status == 200);
  }
  std::string link = emu.VaultUrl("newregkv", Path("/secrets/three/versions?maxresults=1"));
  std::vector<size_t> sizes;
  while (link != "null" && !link.empty() && sizes.size() < 10) {
    HttpResult r = emu.Get(link, token);
    REQUIRE(r.status == 200);
    sizes.push_back(r.Json()["value"].Size());
    link = JsonString(r.Json(), "nextLink");
  }
  CHECK(sizes == std::vector<size_t>{1, 1, 1, 0});
  HttpResult r = emu.Get(emu.VaultUrl("newregkv", Path("/secrets?maxresults=1")), token);
  CHECK(r.Json()["value"].Size() == 1);
  r = emu.Get(JsonString(r.Json(), "nextLink"), token);
  CHECK(r.Json()["value"].Size() == 0);
  CHECK(JsonString(r.Json(), "nextLink") == "null");
}

TEST_CASE("--replication-delay: deletes and recovers are seen after a while") {
  std::vector<std::string> args = Args();
  args.insert(args.end(), {"--replication-delay", "1s"});
  Emulator emu(args);
  const std::string token = emu.VaultToken();
  auto url = [&](const std::string& p) { return emu.VaultUrl("newregkv", Path(p)); };
  const std::vector<std::string> auth = {"Authorization: Bearer " + token};
  REQUIRE(emu.Send("PUT", url("/secrets/gone"), R"({"value":"v"})", token).status == 200);
  REQUIRE(emu.Request("DELETE", url("/secrets/gone"), std::nullopt, auth).status == 200);
  // Being deleted: not found yet, not listed, its name not reusable.
  HttpResult r = emu.Get(url("/deletedsecrets/gone"), token);
  CHECK(r.status == 404);
  CHECK(JsonString(r.Json(), "error/code") == "SecretNotFound");
  CHECK(emu.Get(url("/deletedsecrets"), token).Json()["value"].Size() == 0);
  r = emu.Send("PUT", url("/secrets/gone"), R"({"value":"again"})", token);
  CHECK(r.status == 409);
  CHECK(JsonString(r.Json(), "error/innererror/code") == "ObjectIsBeingDeleted");
  absl::SleepFor(absl::Milliseconds(1100));
  CHECK(emu.Get(url("/deletedsecrets/gone"), token).status == 200);
  r = emu.Send("PUT", url("/secrets/gone"), R"({"value":"again"})", token);
  CHECK(JsonString(r.Json(), "error/innererror/code") == "ObjectIsDeletedButRecoverable");
  // Being recovered: the secret is not found yet.
  REQUIRE(emu.Request("POST", url("/deletedsecrets/gone/recover"), std::nullopt, auth).status ==
          200);
  CHECK(emu.Get(url("/secrets/gone"), token).status == 404);
  r = emu.Send("PUT", url("/secrets/gone"), R"({"value":"again"})", token);
  CHECK(r.status == 409);
  CHECK(JsonString(r.Json(), "error/innererror/code") == "ObjectIsBeingRecovered");
  absl::SleepFor(absl::Milliseconds(1100));
  CHECK(emu.Get(url("/secrets/gone"), token).status == 200);
}

}  // namespace
}  // namespace rotor::emulator::testing
