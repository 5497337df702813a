// KeyVaultClient against a loopback HTTPS server playing Key Vault: paging,
// error codes, write idempotence on retry,
// throttling and concurrency.
#include "providers/keyvault/keyvault_client.h"

#include <doctest/doctest.h>

#include <atomic>
#include <mutex>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "providers/http/testing/https_test_server.h"
#include "rapidjson/document.h"

namespace rotor::keyvault {
namespace {

using http::testing::HttpsTestServer;
using http::testing::Json;
using Answer = HttpsTestServer::Response;
using Req = HttpsTestServer::Request;

struct Fixture {
  explicit Fixture(int parallelism = 16) {
    HttpsTestServer::Options options;
    options.names = {"localhost", "*.vault.localhost"};
    server = *HttpsTestServer::Start(options);
    http::HttpClientOptions client_options;
    client_options.ca_bundle_pem = server->ca_pem();
    client_options.time_scale = 0.001;
    client_options.parallelism = parallelism;
    client = std::shared_ptr<http::HttpClient>(*http::HttpClient::Create(client_options));
    KeyVaultOptions o;
    o.name = "kv";
    o.base_url = Base();
    o.resource_id = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv";
    o.api_version = "2016-10-01";
    o.time_scale = 0.001;
    o.parallelism = parallelism;
    vault = *KeyVaultClient::Create(client, o);
  }
  std::string Base() const { return absl::StrCat("https://kv.vault.localhost:", server->port()); }
  std::string Id(const std::string& name, const std::string& version = "") const {
    return absl::StrCat(Base(), "/secrets/", name, version.empty() ? "" : "/", version);
  }
  std::string Item(const std::string& name, const std::string& version, int created,
                   const std::string& value = "") const {
    return absl::StrCat(
        R"({)", value.empty() ? "" : absl::StrCat(R"("value":")", value, R"(",)"), R"("id":")",
        Id(name, version), R"(","attributes":{"enabled":true,"created":)", created,
        R"(,"updated":)", created,
        R"(,"recoveryLevel":"Recoverable+Purgeable"},"contentType":"user credentials","tags":{"managed-by":"rotor"}})");
  }
  std::unique_ptr<HttpsTestServer> server;
  std::shared_ptr<http::HttpClient> client;
  std::unique_ptr<KeyVaultClient> vault;
};

Answer KvError(int status, const std::string& code, const std::string& inner = "") {
  std::string body = absl::StrCat(
      R"({"error":{"code":")", code, R"(","message":"m")",
      inner.empty() ? "" : absl::StrCat(R"(,"innererror":{"code":")", inner, R"("})"), "}}");
  return Json(status, body);
}

TEST_CASE("ListSecrets follows every nextLink: one request per page, nothing per secret") {
  Fixture f;
  f.server->Handle("GET", "/secrets", [&](const Req& r) {
    CHECK(r.Param("api-version") == "2016-10-01");
    const std::string token = r.Param("$skiptoken");
    if (token.empty()) {
      return Json(200,
                  absl::StrCat(R"({"value":[)", f.Item("a", "", 1), ",", f.Item("b", "", 2),
                               R"(],"nextLink":")", f.Base(),
                               R"(/secrets?api-version=2016-10-01&$skiptoken=p2&maxresults=2"})"));
    }
    if (token == "p2") {  // empty but with a nextLink
      return Json(200, absl::StrCat(R"({"value":[],"nextLink":")", f.Base(),
                                    R"(/secrets?api-version=2016-10-01&$skiptoken=p3"})"));
    }
    return Json(200, absl::StrCat(R"({"value":[)", f.Item("C", "", 3), R"(],"nextLink":null})"));
  });
  auto list = f.vault->ListSecrets();
  REQUIRE_MESSAGE(list.ok(), list.status().ToString());
  REQUIRE(list->size() == 3);
  std::map<std::string, SecretVersion> by_name;
  for (auto& s : *list) by_name[s.name] = s;
  // The list carries no versions: they stay empty, the ids unversioned.
  CHECK(by_name["a"].version.empty());
  CHECK(by_name["a"].id == f.Id("a"));
  CHECK(by_name["C"].version.empty());
  CHECK(by_name["b"].updated == absl::FromUnixSeconds(2));
  CHECK(by_name["a"].content_type == "user credentials");
  CHECK(by_name["a"].ManagedByRotor());
  CHECK(by_name["a"].enabled);
  CHECK(f.server->RequestCount("GET", "/secrets") == 3);
  // Neither version listings nor reads.
  CHECK(f.server->RequestCount("GET", "/secrets/a/versions") == 0);
  CHECK(f.server->RequestCount("GET", "/secrets/C/") == 0);
  CHECK(f.server->RequestCount("GET", "/secrets/a/") == 0);
}

TEST_CASE("a nextLink to another host is not followed") {
  Fixture f;
  f.server->Handle("GET", "/secrets", [&](const Req&) {
    return Json(200, absl::StrCat(R"({"value":[],"nextLink":"https://evil.vault.localhost:)",
                                  f.server->port(), R"(/secrets?$skiptoken=x"})"));
  });
  auto list = f.vault->ListSecrets();
  REQUIRE_FALSE(list.ok());
  CHECK(absl::StrContains(list.status().message(), "refusing nextLink"));
  CHECK(absl::StrContains(list.status().message(), "$skiptoken=REDACTED"));
}

TEST_CASE("service errors map to the engine's codes") {
  Fixture f;
  f.server->Handle("GET", "/secrets/gone/",
                   [](const Req&) { return KvError(404, "SecretNotFound"); });
  f.server->Handle("GET", "/secrets/off/",
                   [](const Req&) { return KvError(403, "Forbidden", "SecretDisabled"); });
  f.server->Handle("PUT", "/secrets/deleted", [](const Req&) {
    return KvError(409, "Conflict", "ObjectIsDeletedButRecoverable");
  });
  f.server->Handle("PUT", "/secrets/recovering",
                   [](const Req&) { return KvError(409, "Conflict", "ObjectIsBeingRecovered"); });
  f.server->Handle("GET", "/secrets/missing/versions",
                   [](const Req&) { return Json(200, R"({"value":[],"nextLink":null})"); });

  auto gone = f.vault->GetSecret("gone");
  CHECK(gone.status().code() == absl::StatusCode::kNotFound);
  CHECK(VaultErrorCode(gone.status()) == "SecretNotFound");
  auto off = f.vault->GetSecret("off");
  CHECK(off.status().code() == absl::StatusCode::kPermissionDenied);
  CHECK(VaultErrorCode(off.status()) == kSecretDisabled);
  SetSecretRequest r;
  r.value = Secret("x");
  auto deleted = f.vault->SetSecret("deleted", r);
  CHECK(deleted.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(VaultErrorCode(deleted.status()) == kObjectIsDeletedButRecoverable);
  CHECK(VaultErrorCode(f.vault->SetSecret("recovering", r).status()) == kObjectIsBeingRecovered);
  CHECK(f.server->RequestCount("PUT", "/secrets/deleted") == 1);  // 409 is not retried
  auto missing = f.vault->ListSecretVersions("missing");
  CHECK(missing.status().code() == absl::StatusCode::kNotFound);
  CHECK(f.vault->GetSecret("bad/name").status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(f.vault->GetSecret("ok", "../x").status().code() == absl::StatusCode::kInvalidArgument);
}

// A Key Vault that stores a PUT, optionally failing the answer afterwards.
struct WriteFixture : Fixture {
  WriteFixture() {
    server->Handle("PUT", "/secrets/admin", [this](const Req& r) {
      std::lock_guard<std::mutex> lock(mu);
      ++puts;
      Answer fail;
      bool store = true;
      if (!script.empty()) {
        auto [answer, stores] = script.front();
        script.erase(script.begin());
        fail = answer;
        store = stores;
        if (!store) return fail;
      }
      rapidjson::Document doc;
      doc.Parse(r.body.c_str());
      value = doc["value"].GetString();
      content_type = doc.HasMember("contentType") ? doc["contentType"].GetString() : "";
      version = absl::StrCat("00", puts);
      Answer ok = Json(200, Item("admin", version, 1000 + puts, value));
      return fail.status != 200 || fail.drop ? fail : ok;
    });
    server->Handle("GET", "/secrets/admin/", [this](const Req&) {
      std::lock_guard<std::mutex> lock(mu);
      if (version.empty()) return KvError(404, "SecretNotFound");
      return Json(200, Item("admin", version, 1000, value));
    });
  }
  std::mutex mu;
  int puts = 0;
  std::string value, content_type, version;
  // Per PUT: the answer and whether the write is stored first.
  std::vector<std::pair<Answer, bool>> script;
};

SetSecretRequest UserWrite(const std::string& value) {
  SetSecretRequest r;
  r.value = Secret(value);
  r.content_type = "user credentials";
  r.tags = {{"managed-by", "rotor"}};
  return r;
}

TEST_CASE("a PUT that landed but answered 503 is not sent again") {
  WriteFixture f;
  f.version = "0000";
  f.value = "old";
  f.script.push_back({KvError(503, "ServiceUnavailable"), true});
  auto written = f.vault->SetSecret("admin", UserWrite("New-Pass-1"));
  REQUIRE_MESSAGE(written.ok(), written.status().ToString());
  CHECK(f.puts == 1);
  CHECK(written->version == "001");
  CHECK(written->id == f.Id("admin", "001"));
  CHECK(f.vault->stats().write_checks == 1);
  CHECK(f.vault->stats().landed_without_answer == 1);
}

TEST_CASE("a PUT that failed before landing is sent again after the read-back") {
  WriteFixture f;
  f.version = "0000";
  f.value = "old";
  f.script.push_back({KvError(500, "InternalServerError"), false});
  auto written = f.vault->SetSecret("admin", UserWrite("New-Pass-2"));
  REQUIRE_MESSAGE(written.ok(), written.status().ToString());
  CHECK(f.puts == 2);
  CHECK(f.value == "New-Pass-2");
  CHECK(f.server->RequestCount("GET", "/secrets/admin/") == 1);
  CHECK(f.vault->stats().write_retries == 1);
}

TEST_CASE("a dropped connection after the write: read back, landed, one version") {
  WriteFixture f;
  Answer drop;
  drop.drop = true;
  f.script.push_back({drop, true});
  auto written = f.vault->SetSecret("admin", UserWrite("New-Pass-3"));
  REQUIRE_MESSAGE(written.ok(), written.status().ToString());
  CHECK(f.puts == 1);
  // Same value but another content type: not the write rotor made.
  WriteFixture g;
  g.version = "0000";
  g.value = "same";
  g.script.push_back({drop, false});
  SetSecretRequest other = UserWrite("same");
  other.content_type = "pfx";
  auto again = g.vault->SetSecret("admin", other);
  REQUIRE(again.ok());
  CHECK(g.puts == 2);
}

TEST_CASE("429 on a PUT: sent again by the client's paced lane, without a read-back") {
  WriteFixture f;
  f.script.push_back({KvError(429, "Throttled"), false});
  Answer with_retry_after = KvError(429, "Throttled");
  with_retry_after.headers.push_back({"Retry-After", "2"});
  f.script.push_back({with_retry_after, false});
  auto written = f.vault->SetSecret("admin", UserWrite("New-Pass-4"));
  REQUIRE_MESSAGE(written.ok(), written.status().ToString());
  CHECK(f.puts == 3);
  CHECK(f.server->RequestCount("GET", "/secrets/admin/") == 0);
  CHECK(f.client->stats().throttled == 2);
  CHECK(f.vault->stats().write_checks == 0);
}

TEST_CASE("a write that keeps failing gives up with the service's error, never the value") {
  WriteFixture f;
  for (int i = 0; i < 10; ++i) f.script.push_back({KvError(429, "Throttled"), false});
  auto written = f.vault->SetSecret("admin", UserWrite("Never-Shown-Value"));
  REQUIRE_FALSE(written.ok());
  CHECK(written.status().code() == absl::StatusCode::kUnavailable);
  CHECK(VaultErrorCode(written.status()) == "Throttled");
  CHECK(absl::StrContains(written.status().message(), "gave up after 6 attempts"));
  CHECK_FALSE(absl::StrContains(written.status().message(), "Never-Shown-Value"));
  // The client's six sends, and no more: the write does not send it again
  // on top (6 x 6), nor reads back a write that was not processed.
  CHECK(f.puts == 6);
  CHECK(f.server->RequestCount("GET", "/secrets/admin/") == 0);
}

TEST_CASE("GetSecrets and SetSecrets run concurrently") {
  Fixture f(8);
  std::atomic<int> in_flight{0}, peak{0};
  auto track = [&](Answer a) {
    int now = ++in_flight;
    int p = peak.load();
    while (now > p && !peak.compare_exchange_weak(p, now)) {
    }
    // Long enough that the requests overlap even when TLS handshakes are slow
    // (a loaded machine, the sanitizer build).
    absl::SleepFor(absl::Milliseconds(300));
    --in_flight;
    return a;
  };
  std::vector<std::string> names;
  for (int i = 0; i < 12; ++i) {
    std::string n = absl::StrCat("user", i);
    names.push_back(n);
    f.server->Handle("GET", absl::StrCat("/secrets/", n, "/"), [&, n](const Req&) {
      return track(Json(200, f.Item(n, "00f1", 1, absl::StrCat("pw-", n))));
    });
    f.server->Handle("PUT", absl::StrCat("/secrets/", n),
                     [&, n](const Req&) { return track(Json(200, f.Item(n, "00f2", 2, "v"))); });
  }
  auto read = f.vault->GetSecrets(names);
  REQUIRE(read.size() == 12);
  for (size_t i = 0; i < read.size(); ++i) {
    REQUIRE(read[i].ok());
    CHECK(read[i]->value.Reveal() == absl::StrCat("pw-", names[i]));
  }
  CHECK(peak >= 4);
  peak = 0;
  std::vector<SetSecretRequest> requests;
  for (size_t i = 0; i < names.size(); ++i) requests.push_back(UserWrite("v"));
  std::vector<std::pair<std::string, const SetSecretRequest*>> writes;
  for (size_t i = 0; i < names.size(); ++i) writes.emplace_back(names[i], &requests[i]);
  auto written = f.vault->SetSecrets(writes);
  for (auto& w : written) {
    REQUIRE(w.ok());
    CHECK(w->version == "00f2");
  }
  CHECK(peak >= 4);
}

TEST_CASE("delete, deleted secrets, recover, purge, enable/disable") {
  Fixture f;
  f.server->Handle("DELETE", "/secrets/old", [&](const Req&) {
    return Json(
        200,
        absl::StrCat(
            R"({"recoveryId":")", f.Base(),
            R"(/deletedsecrets/old","deletedDate":1700000000,"scheduledPurgeDate":1707776000,"id":")",
            f.Id("old", "00d1"),
            R"(","attributes":{"enabled":true,"created":1600000000,"updated":1600000000,"recoveryLevel":"Recoverable+Purgeable"}})"));
  });
  f.server->Handle("GET", "/deletedsecrets", [&](const Req&) {
    return Json(
        200,
        absl::StrCat(
            R"({"value":[{"recoveryId":")", f.Base(),
            R"(/deletedsecrets/old","deletedDate":1700000000,"scheduledPurgeDate":1707776000,"id":")",
            f.Id("old"),
            R"(","attributes":{"enabled":true,"created":1600000000,"updated":1600000000}}],"nextLink":null})"));
  });
  f.server->Handle("POST", "/deletedsecrets/old/recover",
                   [&](const Req&) { return Json(200, f.Item("old", "00d1", 1600000000)); });
  f.server->Handle("DELETE", "/deletedsecrets/old",
                   [](const Req&) { return http::testing::Status(204); });
  f.server->Handle("PATCH", "/secrets/old/00d1", [&](const Req& r) {
    CHECK(r.body == R"({"attributes":{"enabled":false}})");
    std::string item = f.Item("old", "00d1", 1600000000);
    return Json(200, absl::StrReplaceAll(item, {{"\"enabled\":true", "\"enabled\":false"}}));
  });

  auto deleted = f.vault->DeleteSecret("old");
  REQUIRE_MESSAGE(deleted.ok(), deleted.status().ToString());
  CHECK(deleted->latest.name == "old");
  CHECK(deleted->latest.version == "00d1");
  CHECK(deleted->deleted_date == absl::FromUnixSeconds(1700000000));
  auto listed = f.vault->ListDeletedSecrets();
  REQUIRE(listed.ok());
  REQUIRE(listed->size() == 1);
  CHECK((*listed)[0].latest.name == "old");
  f.server->Handle("GET", "/deletedsecrets/old", [&](const Req&) {
    return Json(
        200,
        absl::StrCat(
            R"({"recoveryId":")", f.Base(),
            R"(/deletedsecrets/old","deletedDate":1700000000,"scheduledPurgeDate":1707776000,"id":")",
            f.Id("old", "00d1"), R"(","attributes":{"enabled":true,"created":1600000000}})"));
  });
  auto one = f.vault->GetDeletedSecret("old");
  REQUIRE(one.ok());
  CHECK(one->latest.id == f.Id("old", "00d1"));
  CHECK(f.vault->GetDeletedSecret("never").status().code() == absl::StatusCode::kNotFound);
  auto recovered = f.vault->RecoverDeletedSecret("old");
  REQUIRE(recovered.ok());
  CHECK(recovered->version == "00d1");
  CHECK(f.vault->PurgeDeletedSecret("old").ok());
  auto disabled = f.vault->SetVersionEnabled("old", "00d1", false);
  REQUIRE(disabled.ok());
  CHECK_FALSE(disabled->enabled);
  CHECK(f.vault->info().base_url == f.Base());
  CHECK(f.vault->info().name == "kv");
}

}  // namespace
}  // namespace rotor::keyvault
