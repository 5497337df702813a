// The seed's two certificate procedures, end to end through the real `rotor`
// binary on the local provider: a new certificate under the existing secret
// name, and under a new name. PFX files are made at run time.
#include <doctest/doctest.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/files.h"
#include "base/process.h"
#include "certs/pfx.h"
#include "certs/testing/make_certs.h"
#include "providers/local/local_vault.h"
#include "tests/e2e/azure_workspace.h"
#include "tests/support/testing.h"

namespace rotor {
namespace {

constexpr char kPfxPassword[] = "Pfx-Distinctive-\"Pass\\word";
constexpr char kTemplate[] = R"({
  "contentVersion": "1.0.0.0",
  "parameters": {
    "pfxKeyVaultResourceId": { "type": "string" },
    "pfxKeyVaultSecretUrl": { "type": "string" },
    "pfxThumbprint": { "type": "string" },
    "servicePrincipalClientId": { "type": "string" },
    "servicePrincipalClientSecret": { "type": "securestring" }
  },
  "resources": []
})";

class CertWorkspace {
 public:
  // The PKI's clock is real time, so the rotor binary sees the certificates
  // as currently valid.
  CertWorkspace() : pki_(absl::Now()) {
    dir_.Write("template.json", kTemplate);
    dir_.Write("pfx-password.txt", std::string(kPfxPassword) + "\n");
    WriteConfig("containersecret");
  }

  void WriteConfig(const std::string& secret_name) {
    dir_.Write("rotor.toml", absl::StrCat(R"([cloud]
kind = "local"

[vault]
name = "newregkv"
resource_group = "newregreg"

[[user]]
name = "admin"
password = "Local-Literal-Admin-Pw"

[certificate]
secret_name = ")",
                                          secret_name, R"("
pfx = "registry.pfx"
password = { file = "pfx-password.txt" }
dns_name = "myreg.local.cloudapp.azurestack.external"

[deployment]
resource_group = "newregreg"
client_id = "11111111-2222-3333-4444-555555555555"
client_secret = "Local-Literal-Spn-Secret"
template = "template.json"
)"));
  }

  // Issues a certificate for the registry and writes it as registry.pfx;
  // returns its thumbprint.
  std::string IssuePfx(certs::testing::CertOptions options = {}) {
    if (options.dns_names.empty()) options.dns_names = {"myreg.local.cloudapp.azurestack.external"};
    options.common_name = "myreg.local.cloudapp.azurestack.external";
    last_ = pki_.IssueLeaf(options);
    return WritePfx(*last_);
  }
  // The same certificate exported again (new bytes, same thumbprint).
  std::string ReExport() { return WritePfx(*last_, certs::testing::PfxEncryption::kTripleDes); }

  std::string WritePfx(
      const certs::testing::TestCert& cert,
      certs::testing::PfxEncryption encryption = certs::testing::PfxEncryption::kAes256,
      const certs::testing::PfxContents& contents = {}) {
    std::string pfx = cert.ToPfx(kPfxPassword, encryption, contents);
    dir_.Write("registry.pfx", pfx);
    auto opened = certs::Pfx::Open(pfx, Secret(kPfxPassword), "test");
    return opened.ok() ? opened->Thumbprint() : "";
  }

  ProcessResult Rotor(std::vector<std::string> args) {
    std::vector<std::string> argv = {testing::BuildDir() + "/rotor"};
    argv.insert(argv.end(), args.begin(), args.end());
    ProcessOptions options;
    options.working_dir = dir_.path();
    options.timeout = absl::Seconds(60);
    options.env["NO_COLOR"] = "1";
    auto result = RunProcess(argv, options);
    REQUIRE(result.ok());
    const std::string leaks =
        e2e::FindSecretLeaks(result->stdout_data, result->stderr_data,
                             {kPfxPassword, "Local-Literal-Admin-Pw", "Local-Literal-Spn-Secret"});
    CHECK_MESSAGE(leaks.empty(), leaks);
    return *std::move(result);
  }

  void WriteRaw(const std::string& name, const std::string& contents) {
    dir_.Write(name, contents);
  }
  std::string VaultFile() const { return dir_.Read(".rotor/vaults/newregkv.json"); }
  bool RegistryHas(const std::string& file) const {
    return PathExists(dir_.Path(absl::StrCat(".rotor/registry/", file)));
  }
  std::unique_ptr<local::LocalVault> OpenVault() const {
    local::LocalVaultOptions options;
    options.state_dir = dir_.Path(".rotor");
    options.name = "newregkv";
    options.resource_group = "newregreg";
    return *local::LocalVault::Open(options);
  }
  certs::testing::TestPki& pki() { return pki_; }

 private:
  testing::TempDir dir_;
  certs::testing::TestPki pki_;
  std::optional<certs::testing::TestCert> last_;
};

TEST_CASE("a new certificate under the existing secret name: new version, redeploy, outputs") {
  CertWorkspace w;
  std::string first = w.IssuePfx();
  auto apply = w.Rotor({"apply", "--auto-approve"});
  INFO(apply.stdout_data, apply.stderr_data);
  REQUIRE(apply.exit_code == 0);
  CHECK(w.RegistryHas(first + ".crt"));
  CHECK(w.RegistryHas(first + ".prv"));
  CHECK(w.Rotor({"plan", "--detailed-exitcode"}).exit_code == 0);

  certs::testing::CertOptions renewed;
  renewed.valid_until = absl::Hours(24 * 400);
  std::string second = w.IssuePfx(renewed);
  auto plan = w.Rotor({"plan", "--detailed-exitcode"});
  CHECK(plan.exit_code == 2);
  CHECK(absl::StrContains(plan.stdout_data, "~ certificate.containersecret"));
  CHECK(absl::StrContains(plan.stdout_data,
                          absl::StrCat("~ thumbprint = \"", first, "\" -> \"", second, "\"")));
  CHECK(absl::StrContains(plan.stdout_data, "~ not_after  = "));
  CHECK(absl::StrContains(plan.stdout_data,
                          "Plan: 0 to add, 1 to change, 0 to destroy, 1 to redeploy."));

  auto rotate = w.Rotor({"apply", "--auto-approve"});
  INFO(rotate.stdout_data, rotate.stderr_data);
  REQUIRE(rotate.exit_code == 0);
  auto versions = w.OpenVault()->ListSecretVersions("containersecret");
  REQUIRE(versions.ok());
  CHECK(versions->size() == 2);
  auto latest = w.OpenVault()->GetSecret("containersecret");
  REQUIRE(latest.ok());
  CHECK(absl::StrContains(rotate.stdout_data,
                          absl::StrCat("PFX KeyVaultSecretUrl        : ", latest->meta.id)));
  CHECK(absl::StrContains(rotate.stdout_data,
                          "PFX KeyVaultResourceId       : "
                          "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/"
                          "newregreg/providers/Microsoft.KeyVault/vaults/newregkv"));
  CHECK(absl::StrContains(rotate.stdout_data,
                          absl::StrCat("PFX Certificate Thumbprint   : ", second)));
  CHECK(w.RegistryHas(second + ".crt"));
  CHECK(w.Rotor({"plan", "--detailed-exitcode"}).exit_code == 0);
}

TEST_CASE("a new certificate under a new secret name keeps the old secret") {
  CertWorkspace w;
  w.IssuePfx();
  REQUIRE(w.Rotor({"apply", "--auto-approve"}).exit_code == 0);
  std::string second = w.IssuePfx();
  w.WriteConfig("containersecret2");
  auto plan = w.Rotor({"plan"});
  CHECK(absl::StrContains(plan.stdout_data, "+ certificate.containersecret2"));
  CHECK_FALSE(absl::StrContains(plan.stdout_data, "stale_certificate"));
  CHECK(absl::StrContains(plan.stdout_data,
                          "Plan: 1 to add, 0 to change, 0 to destroy, 1 to redeploy."));
  auto apply = w.Rotor({"apply", "--auto-approve"});
  INFO(apply.stdout_data, apply.stderr_data);
  REQUIRE(apply.exit_code == 0);
  CHECK(w.OpenVault()->GetSecret("containersecret").ok());
  CHECK(absl::StrContains(apply.stdout_data, "/secrets/containersecret2/"));
  CHECK(w.RegistryHas(second + ".crt"));
  CHECK(w.Rotor({"plan", "--detailed-exitcode"}).exit_code == 0);
}

TEST_CASE("validate prints every certificate check, one per line") {
  CertWorkspace w;
  w.IssuePfx();
  auto ok = w.Rotor({"validate"});
  INFO(ok.stdout_data, ok.stderr_data);
  CHECK(ok.exit_code == 0);
  for (const char* line :
       {"  Parse PFX: OK (", "  Private Key: OK (", "  Expiry Date: OK (",
        "  Signature Algorithm: OK (", "  Key Size: OK (RSA 2048 bits)", "  Key Usage: OK (",
        "  Cert Chain: OK (", "  Chain Order: OK (", "  Other Certificates: OK (none)",
        "  DNS Names: OK (myreg.local.cloudapp.azurestack.external)", "  Issuer: OK ("}) {
    CHECK_MESSAGE(absl::StrContains(ok.stdout_data, line), line);
  }
  CHECK(absl::StrContains(ok.stdout_data, "Success! The configuration is valid."));

  certs::testing::CertOptions sha1;
  sha1.sha1_signature = true;
  w.IssuePfx(sha1);
  auto bad = w.Rotor({"validate"});
  CHECK(bad.exit_code == 1);
  CHECK(absl::StrContains(bad.stdout_data, "  Signature Algorithm: ERROR ("));
  CHECK(bad.stderr_data == "Error: the certificate fails its checks\n");
}

TEST_CASE("re-exporting the same certificate plans no change") {
  CertWorkspace w;
  std::string first = w.IssuePfx();
  REQUIRE(w.Rotor({"apply", "--auto-approve"}).exit_code == 0);
  CHECK(w.ReExport() == first);
  auto plan = w.Rotor({"plan", "--detailed-exitcode"});
  CHECK(plan.exit_code == 0);
  CHECK(absl::StrContains(plan.stdout_data, "No changes."));
}

TEST_CASE("each bad PFX is an error that changes nothing in the vault") {
  CertWorkspace w;
  w.IssuePfx();
  REQUIRE(w.Rotor({"apply", "--auto-approve"}).exit_code == 0);
  const std::string before = w.VaultFile();

  struct Case {
    const char* name;
    std::function<void(CertWorkspace&)> make;
    const char* expected;
  };
  certs::testing::CertOptions expired;
  expired.valid_from = -absl::Hours(24 * 400);
  expired.valid_until = -absl::Hours(24);
  certs::testing::CertOptions short_lived;
  short_lived.valid_until = absl::Hours(24 * 10);
  certs::testing::CertOptions weak;
  weak.key_bits = 1024;
  certs::testing::CertOptions wrong_name;
  wrong_name.dns_names = {"other.example.com"};
  std::vector<Case> cases = {
      {"garbage", [](CertWorkspace& cw) { cw.WriteRaw("registry.pfx", "not a PFX"); }, "Parse PFX"},
      {"expired", [&](CertWorkspace& cw) { cw.IssuePfx(expired); }, "Expiry Date (expired"},
      {"short-lived", [&](CertWorkspace& cw) { cw.IssuePfx(short_lived); }, "Expiry Date ("},
      {"weak key", [&](CertWorkspace& cw) { cw.IssuePfx(weak); }, "Key Size ("},
      {"wrong name", [&](CertWorkspace& cw) { cw.IssuePfx(wrong_name); }, "DNS Names ("},
      {"no key",
       [](CertWorkspace& cw) {
         certs::testing::PfxContents contents;
         contents.no_key = true;
         cw.WritePfx(cw.pki().IssueLeaf({}), certs::testing::PfxEncryption::kAes256, contents);
       },
       "holds no private key"},
      {"wrong key",
       [](CertWorkspace& cw) {
         certs::testing::PfxContents contents;
         contents.wrong_key = true;
         cw.WritePfx(cw.pki().IssueLeaf({}), certs::testing::PfxEncryption::kAes256, contents);
       },
       "matches none of its certificates"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.name);
    c.make(w);
    auto plan = w.Rotor({"plan"});
    CHECK(plan.exit_code == 1);
    CHECK(absl::StrContains(plan.stderr_data, "Error: "));
    CHECK(absl::StrContains(plan.stdout_data + plan.stderr_data, c.expected));
    auto apply = w.Rotor({"apply", "--auto-approve"});
    CHECK(apply.exit_code == 1);
    CHECK(w.VaultFile() == before);
  }
}

}  // namespace
}  // namespace rotor
