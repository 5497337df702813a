// [certificate.acme] end to end: the real rotor against a real ACME CA
// (Pebble, validating DNS-01 for real through pebble-challtestsrv), the
// emulated stamp serving the DNS zone through ARM and mirroring its TXT
// record sets into challtestsrv, and a real docker-registry serving what
// the registry VM would after each deployment.
#include <doctest/doctest.h>

#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "certs/keyvault_secret.h"
#include "certs/pfx.h"
#include "certs/testing/make_certs.h"
#include "providers/acme/testing/pebble_server.h"
#include "providers/http/testing/https_test_server.h"
#include "tests/e2e/azure_workspace.h"

namespace rotor::e2e {
namespace {

using acme::testing::PebbleServer;

constexpr char kZone[] = "myreg.localhost";  // the registry host is the apex
constexpr char kSecret[] = "registrycert";   // sorts after the users: never the VM's first

std::unique_ptr<PebbleServer> StartPebble(PebbleServer::Options options = {}) {
  auto pebble = PebbleServer::Start(std::move(options));
  REQUIRE_MESSAGE(pebble.ok(), pebble.status().ToString());
  return *std::move(pebble);
}

WorkspaceOptions StampFor(const PebbleServer& pebble, bool mirror = true) {
  WorkspaceOptions o;
  o.real_registry = true;
  o.emulator_args = {"--dns-zone", kZone};
  if (mirror) {
    o.emulator_args.push_back("--challtestsrv");
    o.emulator_args.push_back(pebble.challtestsrv_url());
  }
  return o;
}

// The stamp with its registry deployed from a PFX (the seed), then the
// config switched to an ACME-issued certificate in a secret of its own.
void UseAcme(AzureWorkspace& w, const PebbleServer& pebble, const std::string& extra = "",
             const std::string& zone = kZone) {
  w.WriteFile("pebble-tls-ca.pem", pebble.tls_ca_pem());
  auto root = pebble.IssuingRootPem();
  REQUIRE_MESSAGE(root.ok(), root.status().ToString());
  // verify trusts Pebble's issuing root for the registry's certificate.
  w.WriteFile("registry-ca.pem", *root);
  w.SetCertificateSecretName(kSecret);
  w.SetCertificateToml(absl::StrCat(
      "dns_names = [\"", kRegistryHost, "\"]\n", extra, "\n[certificate.acme]\ndirectory = \"",
      pebble.directory_url(), "\"\nemail = \"registry-admins@contoso.example\"\n", "dns_zone = \"",
      zone, "\"\ndns_resource_group = \"newregreg\"\n", "ca_bundle = \"pebble-tls-ca.pem\"\n"));
  w.WriteConfig();
}

std::string TxtListPath() {
  return absl::StrCat("/subscriptions/", kSubscription,
                      "/resourceGroups/newregreg/providers/Microsoft.Network/dnsZones/", kZone,
                      "/TXT?api-version=2016-04-01");
}

// The zone's TXT record set names, as ARM lists them.
std::vector<std::string> TxtNames(AzureWorkspace& w) {
  HttpResult r = w.emu().Get(w.emu().ArmUrl(TxtListPath()), w.emu().ArmToken());
  REQUIRE(r.status == 200);
  rapidjson::Document doc = r.Json();
  std::vector<std::string> names;
  for (const auto& set : doc["value"].GetArray()) names.push_back(set["name"].GetString());
  return names;
}

int64_t VaultWrites(AzureWorkspace& w) { return StatInt(w.Stats(), "vaults/newregkv/writes"); }
int64_t Deployments(AzureWorkspace& w) { return StatInt(w.Stats(), "deployments/started"); }

std::string CurrentThumbprint(AzureWorkspace& w) {
  rapidjson::Document d = w.Deployment(w.DeploymentNames().back());
  return JsonString(d, "properties/parameters/pfxThumbprint/value");
}

TEST_CASE(
    "ACME: first issuance through Pebble, served by the registry and verified, then "
    "nothing until due, then a renewal") {
  // Pebble rejects 30% of good nonces: rotor retries badNonce.
  auto pebble = StartPebble({.nonce_reject = 30});
  AzureWorkspace w(StampFor(*pebble));
  w.Seed();
  UseAcme(w, *pebble, "key = \"ec-p256\"\nrenew_before = \"30d\"");

  ProcessResult plan = w.Rotor({"plan", "-c", "rotor.toml", "-no-color", "-detailed-exitcode"});
  CHECK(plan.exit_code == 2);
  CHECK(absl::StrContains(plan.stdout_data, absl::StrCat("certificate.", kSecret)));
  CHECK(absl::StrContains(plan.stdout_data, "ACME"));
  CHECK(TxtNames(w).empty());  // plan requests nothing

  ProcessResult apply = w.Rotor({"apply", "-c", "rotor.toml", "--auto-approve", "--verify"});
  REQUIRE_MESSAGE(apply.exit_code == 0, apply.stdout_data, apply.stderr_data);
  const std::string issued = CurrentThumbprint(w);
  CHECK(issued != w.old_thumbprint());
  w.WaitForRegistry();
  CHECK(w.RegistryHasCertificate(issued));
  CHECK(TxtNames(w).empty());  // the DNS-01 answer was removed

  // The account key: in the vault, longer than any login, and no login.
  HttpResult account = w.emu().Get(
      w.emu().VaultUrl("newregkv", "/secrets/zz-rotor-acme-account?api-version=2016-10-01"),
      w.emu().VaultToken());
  REQUIRE(account.status == 200);
  rapidjson::Document doc = account.Json();
  CHECK(JsonString(doc, "contentType") == "application/x-rotor-acme-account+json");
  CHECK(JsonString(doc, "tags/rotor-role") == "acme-account");
  CHECK(JsonString(doc, "value").size() > 255);
  for (const std::string& login : w.Logins()) CHECK(login.rfind("zz-rotor-acme", 0) != 0);

  ProcessResult again = w.Rotor({"plan", "-c", "rotor.toml", "-no-color", "-detailed-exitcode"});
  CHECK(again.exit_code == 0);
  CHECK(absl::StrContains(again.stdout_data, "No changes."));

  // Due: the certificate in the secret now expires in 10 days (put there
  // by hand, as the PowerShell procedure would, and deployed), within
  // renew_before = 30d.
  certs::testing::TestPki pki(absl::Now());
  auto short_lived = pki.IssueLeaf({.common_name = kRegistryHost,
                                    .dns_names = {kRegistryHost},
                                    .valid_until = absl::Hours(24 * 10)});
  auto value =
      certs::EncodeCertificateSecret(short_lived.ToPfx(kOldPfxPassword), Secret(kOldPfxPassword));
  REQUIRE(value.ok());
  auto short_thumbprint = certs::ThumbprintOfPem(short_lived.CertificatePem(), "short-lived");
  REQUIRE(short_thumbprint.ok());
  rotor::testing::SleepIntoNextSecond();
  const std::string url = w.PutSecret(kSecret, std::string(value->Reveal()), "pfx");
  REQUIRE(w.Deploy("registry-by-hand", url, *short_thumbprint) == "Succeeded");
  ProcessResult due = w.Rotor({"plan", "-c", "rotor.toml", "-no-color", "-detailed-exitcode"});
  CHECK(due.exit_code == 2);
  CHECK(absl::StrContains(due.stdout_data,
                          absl::StrCat("certificate.", kSecret, " will be renewed (expires ")));
  CHECK(absl::StrContains(due.stdout_data, "days < renew_before 30d)"));
  ProcessResult renew = w.Rotor({"apply", "-c", "rotor.toml", "--auto-approve", "--verify"});
  REQUIRE_MESSAGE(renew.exit_code == 0, renew.stdout_data, renew.stderr_data);
  const std::string renewed = CurrentThumbprint(w);
  CHECK(renewed != issued);
  CHECK(renewed != *short_thumbprint);
  w.WaitForRegistry();
  CHECK(w.RegistryHasCertificate(renewed));
  ProcessResult settled = w.Rotor({"plan", "-c", "rotor.toml", "-no-color", "-detailed-exitcode"});
  CHECK(settled.exit_code == 0);
  CHECK(absl::StrContains(settled.stdout_data, "No changes."));
}

TEST_CASE("ACME: a DNS zone that does not exist is named, and nothing is written") {
  auto pebble = StartPebble();
  AzureWorkspace w(StampFor(*pebble));
  w.Seed();
  UseAcme(w, *pebble, "", "nowhere.localhost");
  const int64_t writes = VaultWrites(w);
  const int64_t deployments = Deployments(w);
  ProcessResult apply = w.Rotor({"apply", "-c", "rotor.toml", "--auto-approve"});
  CHECK(apply.exit_code == 1);
  CHECK(absl::StrContains(apply.stderr_data, "dns_zone"));
  CHECK(absl::StrContains(apply.stderr_data, "nowhere.localhost"));
  CHECK(VaultWrites(w) == writes);
  CHECK(Deployments(w) == deployments);
}

TEST_CASE(
    "ACME: a challenge the CA cannot validate fails with its problem document, the TXT "
    "record set is removed and no certificate is written") {
  auto pebble = StartPebble();
  // The emulator does not mirror into challtestsrv: Pebble finds no TXT.
  AzureWorkspace w(StampFor(*pebble, /*mirror=*/false));
  w.Seed();
  UseAcme(w, *pebble);
  const int64_t deployments = Deployments(w);
  ProcessResult apply = w.Rotor({"apply", "-c", "rotor.toml", "--auto-approve"});
  CHECK(apply.exit_code == 1);
  CHECK(absl::StrContains(apply.stderr_data, "urn:ietf:params:acme:error:"));
  CHECK(TxtNames(w).empty());
  CHECK(Deployments(w) == deployments);
  ProcessResult show = w.Rotor({"plan", "-c", "rotor.toml", "-no-color", "-detailed-exitcode"});
  CHECK(show.exit_code == 2);  // still to be issued: nothing half-written
}

TEST_CASE(
    "ACME: kill -9 while the DNS-01 answer is out leaves at most that record, which the "
    "next apply removes before it issues") {
  auto pebble = StartPebble();
  AzureWorkspace w(StampFor(*pebble));
  w.Seed();
  UseAcme(w, *pebble);
  const std::string dns_state = w.Path("emulator-state/emulator/dns.json");
  std::vector<std::string> argv = {rotor::testing::BuildDir() + "/rotor", "apply", "-c",
                                   "rotor.toml", "--auto-approve"};
  ProcessOptions options;
  options.working_dir = w.Path("");
  for (const auto& [k, v] : w.env()) options.env[k] = v;
  auto apply = BackgroundProcess::Start(argv, options, w.Path("killed-apply.log"));
  REQUIRE(apply.ok());
  bool answered = false;
  for (absl::Time end = absl::Now() + absl::Seconds(60); absl::Now() < end && !answered;) {
    std::ifstream in(dns_state);
    std::stringstream text;
    text << in.rdbuf();
    answered = absl::StrContains(text.str(), "_acme-challenge");
    if (!answered) absl::SleepFor(absl::Milliseconds(5));
  }
  REQUIRE(answered);
  apply->Stop(9);
  const std::string stale_thumbprint = CurrentThumbprint(w);
  std::vector<std::string> left = TxtNames(w);
  CHECK(left.size() <= 1);  // at most the one answer that was out
  if (left.empty()) {
    // The kill came after the cleanup (Pebble answers within milliseconds):
    // leave what a kill a moment earlier would have, a set rotor wrote.
    HttpResult put = w.emu().Send(
        "PUT",
        w.emu().ArmUrl(absl::StrCat("/subscriptions/", kSubscription,
                                    "/resourceGroups/newregreg/providers/Microsoft.Network/"
                                    "dnsZones/",
                                    kZone, "/TXT/_acme-challenge?api-version=2016-04-01")),
        R"({"properties":{"TTL":60,"metadata":{"managed-by":"rotor"},"TXTRecords":[{"value":["stale"]}]}})",
        w.emu().ArmToken());
    REQUIRE(put.status / 100 == 2);
  }
  CHECK(TxtNames(w) == std::vector<std::string>{"_acme-challenge"});

  ProcessResult again = w.Rotor({"apply", "-c", "rotor.toml", "--auto-approve", "--verify"});
  REQUIRE_MESSAGE(again.exit_code == 0, again.stdout_data, again.stderr_data);
  CHECK(TxtNames(w).empty());
  CHECK(CurrentThumbprint(w) != stale_thumbprint);
  ProcessResult plan = w.Rotor({"plan", "-c", "rotor.toml", "-no-color", "-detailed-exitcode"});
  CHECK(absl::StrContains(plan.stdout_data, "No changes."));
}

// Hostile CAs, through the real binary: the answer is refused with a clear,
// bounded, inert message, and neither the vault nor the deployments move.
struct HostileCa {
  HostileCa() {
    http::testing::HttpsTestServer::Options options;
    options.names = {"localhost"};
    server = *http::testing::HttpsTestServer::Start(options);
  }
  std::unique_ptr<http::testing::HttpsTestServer> server;
};

void UseHostileCa(AzureWorkspace& w, const HostileCa& ca) {
  w.WriteFile("hostile-ca.pem", ca.server->ca_pem());
  w.SetCertificateSecretName(kSecret);
  w.SetCertificateToml(absl::StrCat(
      "dns_names = [\"", kRegistryHost, "\"]\n[certificate.acme]\ndirectory = \"",
      ca.server->Url("/dir"), "\"\nemail = \"ops@contoso.example\"\ndns_zone = \"", kZone,
      "\"\ndns_resource_group = \"newregreg\"\nca_bundle = \"hostile-ca.pem\"\n"));
  w.WriteConfig();
}

void ExpectRefusedUnchanged(AzureWorkspace& w, const std::string& expected) {
  const int64_t writes = VaultWrites(w);
  const int64_t deployments = Deployments(w);
  ProcessResult apply = w.Rotor({"apply", "-c", "rotor.toml", "--auto-approve"});
  CHECK(apply.exit_code == 1);
  CHECK_MESSAGE(absl::StrContains(apply.stderr_data, expected), apply.stderr_data);
  CHECK(apply.stdout_data.size() + apply.stderr_data.size() < 16 * 1024);
  CHECK_FALSE(absl::StrContains(apply.stdout_data + apply.stderr_data, "\x1b"));
  CHECK(VaultWrites(w) == writes);
  CHECK(Deployments(w) == deployments);
  CHECK(TxtNames(w).empty());
}

TEST_CASE("ACME, hostile CA: a directory past 1 MiB is refused, nothing is written") {
  HostileCa ca;
  ca.server->Handle("GET", "/dir", [](const http::testing::HttpsTestServer::Request&) {
    return http::testing::Json(200, absl::StrCat("{\"pad\":\"", std::string(2 << 20, 'a'), "\"}"));
  });
  WorkspaceOptions o;
  o.emulator_args = {"--dns-zone", kZone};
  AzureWorkspace w(o);
  w.Seed();
  UseHostileCa(w, ca);
  ExpectRefusedUnchanged(w, ca.server->Url("/dir"));
}

TEST_CASE(
    "ACME, hostile CA: a problem document with terminal escapes is shown inert, with its "
    "type, nothing is written") {
  HostileCa ca;
  ca.server->Handle("GET", "/dir", [](const http::testing::HttpsTestServer::Request&) {
    http::testing::HttpsTestServer::Response r =
        http::testing::Json(400,
                            "{\"type\":\"urn:ietf:params:acme:error:malformed\","
                            "\"detail\":\"down \\u001b]0;pwned\\u0007\\u001b[2J for now\"}");
    r.content_type = "application/problem+json";
    return r;
  });
  WorkspaceOptions o;
  o.emulator_args = {"--dns-zone", kZone};
  AzureWorkspace w(o);
  w.Seed();
  UseHostileCa(w, ca);
  ExpectRefusedUnchanged(w, "urn:ietf:params:acme:error:malformed");
}

}  // namespace
}  // namespace rotor::e2e
