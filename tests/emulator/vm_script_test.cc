// The registry VM's script as the emulator replays it: bash's handling of an
// unquoted value, the CustomScript configuration that decides whether the
// script runs again, and, against the real emulator, the re-run rule, the
// login check and the token the VM asks for.
#include "tests/emulator/vm_script.h"

#include <doctest/doctest.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "certs/keyvault_secret.h"
#include "certs/pfx.h"
#include "certs/testing/make_certs.h"
#include "providers/local/htpasswd.h"
#include "tests/emulator/emulator_harness.h"
#include "tests/support/registry_deployment.h"
#include "tests/support/testing.h"

namespace rotor::emulator {
namespace {

using testing::Emulator;
using testing::HttpResult;
using testing::JsonString;

TEST_CASE("UnquotedWords: word splitting and pathname expansion as bash does them") {
  const std::vector<std::string> files = {"stderr", "stdout"};
  using V = std::vector<std::string>;
  CHECK(UnquotedWords("plain-Pw1", files) == V{"plain-Pw1"});
  CHECK(UnquotedWords("two words", files) == V{"two", "words"});
  CHECK(UnquotedWords("  padded\t", files) == V{"padded"});
  CHECK(UnquotedWords("", files).empty());
  CHECK(UnquotedWords(" \n ", files).empty());
  CHECK(UnquotedWords("std*", files) == V{"stderr", "stdout"});
  CHECK(UnquotedWords("stdo?t", files) == V{"stdout"});
  CHECK(UnquotedWords("[s]tdout", files) == V{"stdout"});
  CHECK(UnquotedWords("x*y?z[", files) == V{"x*y?z["});  // matches nothing: kept
  CHECK(UnquotedWords("*", {".hidden", "stdout"}) == V{"stdout"});
}

TEST_CASE("ConfigureScript: what a deployment configures, and only that") {
  std::map<std::string, Secret> p;
  p["pfxthumbprint"] = Secret("\"AAAA\"");
  p["serviceprincipalclientid"] = Secret("\"sp\"");
  p["serviceprincipalclientsecret"] = Secret("\"s1\"");
  p["registryreplicas"] = Secret("\"2\"");
  p["pipdomainnamelabel"] = Secret("\"myreg\"");
  p["adminpublickey"] = Secret("\"ssh-rsa A\"");
  ScriptConfiguration base = ConfigureScript(rotor::testing::kGalleryTemplateJson, p);
  REQUIRE(base.present);
  CHECK(base.name == "[concat(variables('vmName'), '/cse')]");
  CHECK(base.fingerprint.size() == 64);
  auto with = [&](const char* name, const char* value) {
    std::map<std::string, Secret> q;
    for (const auto& [k, v] : p) q[k] = v.Clone();
    q[name] = Secret(value);
    return ConfigureScript(rotor::testing::kGalleryTemplateJson, q).fingerprint;
  };
  // Parameters the command is built from change it...
  CHECK(with("pfxthumbprint", "\"BBBB\"") != base.fingerprint);
  CHECK(with("serviceprincipalclientsecret", "\"s2\"") != base.fingerprint);
  CHECK(with("registryreplicas", "\"3\"") != base.fingerprint);
  // ...others do not (the SSH key is the VM's, not the extension's).
  CHECK(with("adminpublickey", "\"ssh-rsa B\"") == base.fingerprint);
  CHECK(ConfigureScript(rotor::testing::kGalleryTemplateJson, p).fingerprint == base.fingerprint);
  // forceUpdateTag is part of the configuration.
  std::string tagged = rotor::testing::kGalleryTemplateJson;
  tagged.replace(tagged.find("\"settings\": {},"), 15,
                 "\"settings\": {}, \"forceUpdateTag\": \"t1\",");
  CHECK(ConfigureScript(tagged, p).fingerprint != base.fingerprint);
  // A template without a CustomScript extension.
  CHECK_FALSE(ConfigureScript(R"({"resources": []})", p).present);
  CHECK_FALSE(ConfigureScript("not json", p).present);
}

// --- against the emulator

constexpr char kSpId[] = "registry-sp";
constexpr char kSpSecret[] = "registry-sp-secret";

struct Registry {
  rotor::testing::TempDir dir;
  std::string registry_dir = dir.Path("registry");
  std::unique_ptr<Emulator> emu;
  std::string vault_token;
  std::string secret_url;
  std::string thumbprint;

  explicit Registry(std::vector<std::string> more = {}) {
    std::vector<std::string> args = {
        "--vault",           "newregkv",
        "--resource-group",  "newregreg",
        "--client",          absl::StrCat(testing::kClientId, ":", testing::kClientSecret),
        "--client",          absl::StrCat(kSpId, ":", kSpSecret),
        "--deploy-duration", "50ms",
        "--bcrypt-cost",     "4",
        "--registry-dir",    registry_dir};
    args.insert(args.end(), more.begin(), more.end());
    emu = std::make_unique<Emulator>(args);
    vault_token = emu->VaultToken();
    certs::testing::TestPki pki(absl::Now());
    auto leaf = pki.IssueLeaf({.common_name = "localhost", .dns_names = {"localhost"}});
    thumbprint = *certs::ThumbprintOfPem(leaf.CertificatePem(), "leaf");
    auto value = certs::EncodeCertificateSecret(leaf.ToPfx("pfx-pass"), Secret("pfx-pass"));
    REQUIRE(value.ok());
    secret_url = Put("containersecret", std::string(value->Reveal()), "pfx");
  }

  std::string Put(const std::string& name, const std::string& value,
                  const std::string& content_type = "user credentials") {
    HttpResult r = emu->Send(
        "PUT", emu->VaultUrl("newregkv", "/secrets/" + name + "?api-version=2016-10-01"),
        absl::StrCat(R"({"value":")", value, R"(","contentType":")", content_type, R"("})"),
        vault_token);
    REQUIRE_MESSAGE(r.status == 200, r.body);
    return JsonString(r.Json(), "id");
  }

  // Deploys the gallery template; returns the final state.
  std::string Deploy(const std::string& name, const std::string& force_update_tag = "") {
    std::string body = rotor::testing::GalleryDeploymentBody(
        {.vault_resource_id = rotor::testing::VaultResourceId("s", "newregreg", "newregkv"),
         .secret_url = secret_url,
         .thumbprint = thumbprint,
         .sp_client_id = kSpId,
         .sp_client_secret = kSpSecret},
        force_update_tag);
    const std::string token = emu->ArmToken();
    HttpResult r =
        emu->Send("PUT",
                  emu->ArmUrl(absl::StrCat("/subscriptions/s/resourcegroups/newregreg/providers/"
                                           "Microsoft.Resources/deployments/",
                                           name, "?api-version=2019-10-01")),
                  body, token);
    REQUIRE_MESSAGE((r.status == 201 || r.status == 200), r.body);
    return testing::WaitForOperation(*emu, r.Header("Azure-AsyncOperation"), token);
  }

  std::string Error(const std::string& name) {
    HttpResult r =
        emu->Get(emu->ArmUrl(absl::StrCat("/subscriptions/s/resourcegroups/newregreg/providers/"
                                          "Microsoft.Resources/deployments/",
                                          name, "?api-version=2019-10-01")),
                 emu->ArmToken());
    rapidjson::Document d = r.Json();
    return absl::StrCat(JsonString(d, "properties/error/details/0/code"), ": ",
                        JsonString(d, "properties/error/details/0/message"));
  }

  bool ScriptRan() {
    rapidjson::Document stats = emu->Stats();
    const auto& ran = stats["last_provisioning"]["result"]["script_ran"];
    return ran.IsBool() && ran.GetBool();
  }

  // Whether the registry's htpasswd accepts `password` for `user`.
  bool Accepts(const std::string& user, const std::string& password) {
    const std::string text = rotor::testing::ReadFileOrDie(registry_dir + "/htpasswd");
    for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
      if (absl::StartsWith(line, user + ":")) return local::VerifyHtpasswd(line, password);
    }
    return false;
  }
};

TEST_CASE("the registry script runs again only when the CustomScript configuration changes") {
  Registry r;
  r.Put("admin", "Admin-Pw-1");
  REQUIRE(r.Deploy("registry") == "Succeeded");
  CHECK(r.ScriptRan());
  CHECK(r.Accepts("admin", "Admin-Pw-1"));

  // A new password alone: the same extension configuration, so the VM keeps
  // its htpasswd and the old password keeps working.
  r.Put("admin", "Admin-Pw-2");
  REQUIRE(r.Deploy("registry-2") == "Succeeded");
  CHECK_FALSE(r.ScriptRan());
  CHECK(r.Accepts("admin", "Admin-Pw-1"));
  CHECK_FALSE(r.Accepts("admin", "Admin-Pw-2"));

  // forceUpdateTag changes the configuration: the script runs.
  REQUIRE(r.Deploy("registry-3", "tag-1") == "Succeeded");
  CHECK(r.ScriptRan());
  CHECK(r.Accepts("admin", "Admin-Pw-2"));
  // The same tag again: nothing to do.
  REQUIRE(r.Deploy("registry-4", "tag-1") == "Succeeded");
  CHECK_FALSE(r.ScriptRan());
}

TEST_CASE("--always-rerun runs the registry script on every deployment") {
  Registry r({"--always-rerun"});
  r.Put("admin", "Admin-Pw-1");
  REQUIRE(r.Deploy("registry") == "Succeeded");
  r.Put("admin", "Admin-Pw-2");
  REQUIRE(r.Deploy("registry-2") == "Succeeded");
  CHECK(r.ScriptRan());
  CHECK(r.Accepts("admin", "Admin-Pw-2"));
}

TEST_CASE("the login check: the first secret listed must log in, else exit code 50") {
  SUBCASE("a certificate secret that sorts first") {
    Registry r;
    r.Put("zz-admin", "Admin-Pw-1");
    HttpResult cert = r.emu->Get(r.secret_url + "?api-version=2016-10-01", r.vault_token);
    r.Put("aaa-cert", JsonString(cert.Json(), "value"), "pfx");
    CHECK(r.Deploy("registry") == "Failed");
    const std::string error = r.Error("registry");
    CHECK(absl::StrContains(error, "VMExtensionProvisioningError"));
    CHECK(absl::StrContains(error, "exit status=50"));
    CHECK(absl::StrContains(error, "'aaa-cert'"));
  }
  SUBCASE("a first user whose password has a space") {
    Registry r;
    r.Put("admin", "two words");
    r.Put("ci", "Ci-Pw-1");
    CHECK(r.Deploy("registry") == "Failed");
    CHECK(absl::StrContains(r.Error("registry"), "exit status=50"));
  }
  SUBCASE("no login at all: exit code 12") {
    Registry r;
    CHECK(r.Deploy("registry") == "Failed");
    CHECK(absl::StrContains(r.Error("registry"), "exit status=12"));
  }
}

TEST_CASE("unquoted values: split and expanded before htpasswd sees them") {
  Registry r;
  r.Put("a-first", "First-Pw-1");
  r.Put("b-space", "two words");
  r.Put("c-glob-many", "std*");
  r.Put("d-glob-one", "stdo?t");
  r.Put("e-padded", " Padded-Pw ");
  REQUIRE(r.Deploy("registry") == "Succeeded");
  CHECK(r.Accepts("a-first", "First-Pw-1"));
  CHECK_FALSE(r.Accepts("b-space", "two words"));
  CHECK_FALSE(r.Accepts("c-glob-many", "std*"));
  // One match: the file name became the password.
  CHECK_FALSE(r.Accepts("d-glob-one", "stdo?t"));
  CHECK(r.Accepts("d-glob-one", "stdout"));
  CHECK_FALSE(r.Accepts("e-padded", " Padded-Pw "));
  CHECK(r.Accepts("e-padded", "Padded-Pw"));
}

TEST_CASE("the stamp issues the Key Vault token the registry VM asks for") {
  Registry r;
  const std::string resource = absl::StrCat("https://vault.localhost:", r.emu->port(), "/",
                                            "e1b7a3c2-9d4f-4f60-8a2b-6c5d4e3f2a10");
  // audiences[0] with https://management. replaced by https://vault.
  CHECK(r.emu->ArmAudience() == absl::StrCat("https://management.localhost:", r.emu->port(),
                                             "/e1b7a3c2-9d4f-4f60-8a2b-6c5d4e3f2a10"));
  const std::string token = r.emu->Token(resource, kSpId, kSpSecret);
  HttpResult list =
      r.emu->Get(r.emu->VaultUrl("newregkv", "/secrets?api-version=2016-10-01"), token);
  CHECK(list.status == 200);
}

}  // namespace
}  // namespace rotor::emulator
