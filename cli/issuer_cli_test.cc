// [certificate.issuer] end to end through the real `rotor` binary on the
// embedded local vault: the issuer is a bash script that signs the CSR
// rotor writes with `openssl x509 -req` and a test CA made at run time.
// First issuance, convergence, a renewal when due, an issuer that fails and
// one that hangs (nothing written, the vault file unchanged), and no key or
// PFX password in anything rotor prints.
#include <doctest/doctest.h>
#include <sys/stat.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "base/files.h"
#include "base/process.h"
#include "certs/keyvault_secret.h"
#include "certs/pfx.h"
#include "certs/testing/make_certs.h"
#include "providers/local/local_vault.h"
#include "tests/e2e/azure_workspace.h"
#include "tests/support/testing.h"

namespace rotor {
namespace {

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

// Signs the CSR on standard input with ca.pem / ca.key beside it, for the
// number of days in the file `days`; prints the certificate and the CA (the
// chain, leaf first).
constexpr char kSignScript[] = R"sh(#!/bin/bash
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
csr=$(mktemp)
trap 'rm -f "$csr"' EXIT
cat > "$csr"
openssl x509 -req -in "$csr" -CA "$here/ca.pem" -CAkey "$here/ca.key" \
  -set_serial "0x$(openssl rand -hex 8)" -days "$(cat "$here/days")" -sha256 \
  -copy_extensions copy -extfile "$here/ext.cnf" 2>/dev/null
cat "$here/ca.pem"
)sh";
constexpr char kFailScript[] = R"sh(#!/bin/bash
cat > /dev/null
echo "the CA refused the request" >&2
exit 3
)sh";
constexpr char kHangScript[] = R"sh(#!/bin/bash
cat > /dev/null
sleep 120
)sh";

class IssuerWorkspace {
 public:
  IssuerWorkspace() : pki_(absl::Now()) {
    dir_.Write("template.json", kTemplate);
    dir_.Write("ca.pem", pki_.root().CertificatePem());
    dir_.Write("ca.key", pki_.root().KeyPem());
    dir_.Write("ext.cnf",
               "keyUsage = critical, digitalSignature, keyEncipherment\n"
               "extendedKeyUsage = serverAuth\n");
    for (const auto& [name, text] :
         {std::pair{"sign.sh", kSignScript}, std::pair{"fail.sh", kFailScript},
          std::pair{"hang.sh", kHangScript}}) {
      const std::string path = dir_.Write(name, text);
      REQUIRE(chmod(path.c_str(), 0755) == 0);
    }
    SetDays(90);
    WriteConfig("./sign.sh", "");
  }

  // How long the certificates sign.sh issues are valid.
  void SetDays(int days) { dir_.Write("days", absl::StrCat(days, "\n")); }

  // The config with `script` as the issuer and `extra` in [certificate].
  void WriteConfig(const std::string& script, const std::string& extra,
                   const std::string& issuer_extra = "") {
    dir_.Write("rotor.toml", absl::StrCat(R"([cloud]
kind = "local"

[vault]
name = "newregkv"
resource_group = "newregreg"

[[user]]
name = "admin"
password = "Local-Literal-Admin-Pw"

[certificate]
secret_name = "containersecret"
key = "ec-p256"
min_valid_days = 7
)",
                                          extra, R"(

[certificate.issuer]
command = [")",
                                          script, R"("]
)",
                                          issuer_extra, R"(

[deployment]
resource_group = "newregreg"
client_id = "11111111-2222-3333-4444-555555555555"
client_secret = "Local-Literal-Spn-Secret"
template = "template.json"

[registry]
url = "https://myreg.localhost"
)"));
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
    std::vector<std::string> secrets = {"Local-Literal-Admin-Pw", "Local-Literal-Spn-Secret",
                                        pki_.root().KeyPem()};
    // The issued certificate's PFX password and key, when there is one.
    for (std::string& s : CurrentSecrets()) secrets.push_back(std::move(s));
    const std::string leaks =
        e2e::FindSecretLeaks(result->stdout_data, result->stderr_data, secrets);
    CHECK_MESSAGE(leaks.empty(), leaks);
    return *std::move(result);
  }

  std::unique_ptr<local::LocalVault> OpenVault() const {
    local::LocalVaultOptions options;
    options.state_dir = dir_.Path(".rotor");
    options.name = "newregkv";
    options.resource_group = "newregreg";
    return *local::LocalVault::Open(options);
  }
  // The PFX password and the private key of the certificate in the vault.
  std::vector<std::string> CurrentSecrets() const {
    if (!PathExists(dir_.Path(".rotor/vaults/newregkv.json"))) return {};
    auto bundle = OpenVault()->GetSecret("containersecret");
    if (!bundle.ok()) return {};
    auto decoded = certs::DecodeCertificateSecret(bundle->value, bundle->meta.content_type);
    REQUIRE(decoded.ok());
    auto pfx = certs::Pfx::Open(decoded->pfx_der.Reveal(), decoded->password, "vault");
    REQUIRE(pfx.ok());
    return {std::string(decoded->password.Reveal()), std::string(pfx->PrivateKeyPem().Reveal())};
  }
  std::string Thumbprint() const {
    auto bundle = OpenVault()->GetSecret("containersecret");
    REQUIRE(bundle.ok());
    auto decoded = certs::DecodeCertificateSecret(bundle->value, bundle->meta.content_type);
    REQUIRE(decoded.ok());
    return certs::Pfx::Open(decoded->pfx_der.Reveal(), decoded->password, "vault")->Thumbprint();
  }
  std::string VaultFile() const { return dir_.Read(".rotor/vaults/newregkv.json"); }
  bool RegistryHas(const std::string& file) const {
    return PathExists(dir_.Path(absl::StrCat(".rotor/registry/", file)));
  }

 private:
  testing::TempDir dir_;
  certs::testing::TestPki pki_;
};

TEST_CASE("issuer command: first issuance, convergence, renewal when due") {
  IssuerWorkspace w;
  auto plan = w.Rotor({"plan", "--detailed-exitcode"});
  INFO(plan.stdout_data, plan.stderr_data);
  CHECK(plan.exit_code == 2);
  CHECK(absl::StrContains(plan.stdout_data, "# certificate.containersecret will be created"));
  CHECK(absl::StrContains(plan.stdout_data, "+ issuer     = \"command [\""));
  CHECK(absl::StrContains(plan.stdout_data, "/sign.sh\"]\""));
  CHECK(absl::StrContains(plan.stdout_data, "+ dns_names  = \"myreg.localhost\""));
  // Nothing is requested in plan.
  CHECK_FALSE(w.OpenVault()->GetSecret("containersecret").ok());

  auto apply = w.Rotor({"apply", "--auto-approve"});
  INFO(apply.stdout_data, apply.stderr_data);
  REQUIRE(apply.exit_code == 0);
  const std::string first = w.Thumbprint();
  CHECK(
      absl::StrContains(apply.stdout_data, absl::StrCat("PFX Certificate Thumbprint   : ", first)));
  CHECK(w.RegistryHas(first + ".crt"));
  CHECK(w.RegistryHas(first + ".prv"));
  auto again = w.Rotor({"plan", "--detailed-exitcode"});
  CHECK(again.exit_code == 0);
  CHECK(absl::StrContains(again.stdout_data, "No changes."));

  // Due: 90 days of life are within renew_before = "100d"; the renewal
  // lives 200 days, so it is not due after the apply.
  w.WriteConfig("./sign.sh", "renew_before = \"100d\"");
  w.SetDays(200);
  auto due = w.Rotor({"plan", "--detailed-exitcode"});
  INFO(due.stdout_data, due.stderr_data);
  CHECK(due.exit_code == 2);
  CHECK(absl::StrContains(due.stdout_data,
                          "# certificate.containersecret will be renewed (expires "));
  CHECK(absl::StrContains(due.stdout_data, " days < renew_before 100d)"));
  CHECK(absl::StrContains(due.stdout_data, "reason (config): the certificate expires "));
  auto json = w.Rotor({"plan", "--json"});
  CHECK(absl::StrContains(json.stdout_data, "\"issue\":"));
  CHECK(absl::StrContains(json.stdout_data, "\"issuer\": \"command\""));

  auto renew = w.Rotor({"apply", "--auto-approve"});
  INFO(renew.stdout_data, renew.stderr_data);
  REQUIRE(renew.exit_code == 0);
  const std::string second = w.Thumbprint();
  CHECK(second != first);
  CHECK(w.RegistryHas(second + ".crt"));
  auto versions = w.OpenVault()->ListSecretVersions("containersecret");
  REQUIRE(versions.ok());
  CHECK(versions->size() == 2);
  CHECK(w.Rotor({"plan", "--detailed-exitcode"}).exit_code == 0);
  // "99%" of its 200 days: not due right after issuance.
  w.WriteConfig("./sign.sh", "renew_before = \"99%\"");
  CHECK(w.Rotor({"plan", "--detailed-exitcode"}).exit_code == 0);
}

TEST_CASE("issuer command: a failing or hanging issuer is an error and writes nothing") {
  IssuerWorkspace w;
  REQUIRE(w.Rotor({"apply", "--auto-approve"}).exit_code == 0);
  const std::string before = w.VaultFile();

  w.WriteConfig("./fail.sh", "renew_before = \"100d\"");
  auto failed = w.Rotor({"apply", "--auto-approve"});
  INFO(failed.stdout_data, failed.stderr_data);
  CHECK(failed.exit_code == 1);
  CHECK(absl::StrContains(failed.stderr_data, "Error: certificate.containersecret: "));
  CHECK(absl::StrContains(failed.stderr_data, "nothing was written"));
  CHECK(absl::StrContains(failed.stderr_data, "3"));
  CHECK(w.VaultFile() == before);

  w.WriteConfig("./hang.sh", "renew_before = \"100d\"", "timeout = \"2s\"");
  const absl::Time start = absl::Now();
  auto hung = w.Rotor({"apply", "--auto-approve"});
  INFO(hung.stdout_data, hung.stderr_data);
  CHECK(hung.exit_code == 1);
  CHECK(absl::Now() - start < absl::Seconds(30));
  CHECK(absl::StrContains(hung.stderr_data, "Error: certificate.containersecret: "));
  CHECK(absl::StrContains(hung.stderr_data, "nothing was written"));
  CHECK(w.VaultFile() == before);
}

TEST_CASE("issuer command: validate accepts the config offline") {
  IssuerWorkspace w;
  auto validate = w.Rotor({"validate"});
  INFO(validate.stdout_data, validate.stderr_data);
  CHECK(validate.exit_code == 0);
  CHECK(absl::StrContains(validate.stdout_data, "Success! The configuration is valid."));
}

}  // namespace
}  // namespace rotor
