// [certificate] with an issuer ([certificate.acme], [certificate.issuer])
// instead of a PFX: every new key loads, the exactly-one rule and the
// key pairs are refused with file:line:col, and bad values say what is
// expected.
#include <doctest/doctest.h>

#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "engine/config/config.h"
#include "engine/config/desired.h"

namespace rotor {
namespace {

constexpr char kHead[] = R"([cloud]
kind = "local"
[vault]
name = "newregkv"
)";

std::string ErrorOf(const std::string& body) {
  absl::StatusOr<Config> config = ParseConfig(absl::StrCat(kHead, body), "rotor.toml");
  if (config.ok()) return "(loaded without errors)";
  CHECK(config.status().code() == absl::StatusCode::kInvalidArgument);
  return std::string(config.status().message());
}

// The keys [certificate.acme] requires.
constexpr char kAcme[] = R"([certificate.acme]
directory = "https://acme.localhost/dir"
email = "ops@example.com"
dns_zone = "localhost"
dns_resource_group = "dnsrg"
)";

Config LoadOrDie(const std::string& body) {
  absl::StatusOr<Config> config =
      ParseConfig(absl::StrCat(kHead, body), "/srv/registry/rotor.toml");
  REQUIRE_MESSAGE(config.ok(), config.status().ToString());
  return std::move(*config);
}

TEST_CASE("certificate issuer config: [certificate.issuer] with every key") {
  Config config = LoadOrDie(R"([certificate]
secret_name = "containersecret"
dns_names = ["myreg.localhost", "registry.localhost"]
key = "rsa-3072"
renew_before = "30d"
reuse_key = true
[certificate.issuer]
command = ["bin/issue", "--profile", "registry"]
timeout = "2m"
)");
  REQUIRE(config.certificate.has_value());
  const CertificateConfig& cert = *config.certificate;
  CHECK(cert.HasIssuer());
  CHECK(cert.pfx.empty());
  REQUIRE(cert.issuer.has_value());
  // A relative program path is relative to the config file, as a value
  // source's command.
  CHECK(cert.issuer->command ==
        std::vector<std::string>{"/srv/registry/bin/issue", "--profile", "registry"});
  CHECK(cert.issuer->timeout == absl::Minutes(2));
  CHECK(cert.dns_names == std::vector<std::string>{"myreg.localhost", "registry.localhost"});
  CHECK(cert.key == "rsa-3072");
  REQUIRE(cert.renew_before.before.has_value());
  CHECK(*cert.renew_before.before == absl::Hours(24 * 30));
  CHECK(cert.renew_before.text == "30d");
  CHECK(cert.reuse_key);
}

TEST_CASE("certificate issuer config: defaults - rsa-2048, a third, 30 s, a new key") {
  Config config = LoadOrDie(R"([certificate]
secret_name = "containersecret"
[certificate.issuer]
command = ["issue"]
)");
  const CertificateConfig& cert = *config.certificate;
  CHECK(cert.issuer->command == std::vector<std::string>{"issue"});  // looked up in PATH
  CHECK(cert.issuer->timeout == absl::Seconds(30));
  CHECK(cert.key == "rsa-2048");
  CHECK_FALSE(cert.renew_before.before.has_value());
  CHECK(cert.renew_before.percent == 0);
  CHECK_FALSE(cert.reuse_key);
  CHECK(cert.dns_names.empty());

  Config share = LoadOrDie(R"([certificate]
secret_name = "containersecret"
renew_before = "33%"
[certificate.issuer]
command = ["issue"]
timeout = "2s"
)");
  CHECK(share.certificate->renew_before.percent == 33);
  CHECK(share.certificate->renew_before.text == "33%");
  CHECK(share.certificate->issuer->timeout == absl::Seconds(2));
}

TEST_CASE("certificate issuer config: [certificate.acme] with External Account Binding") {
  Config config = LoadOrDie(R"([certificate]
secret_name = "containersecret"
key = "ec-p256"
[certificate.acme]
directory = "https://acme.localhost:14000/dir"
email = "ops@example.com"
dns_zone = "localhost"
dns_resource_group = "dnsrg"
eab_key_id = "kid-1"
eab_hmac_key = { env = "ACME_EAB_HMAC_KEY" }
ca_bundle = "certs/pebble.pem"
)");
  const CertificateConfig& cert = *config.certificate;
  REQUIRE(cert.acme.has_value());
  CHECK(cert.acme->directory == "https://acme.localhost:14000/dir");
  CHECK(cert.acme->email == "ops@example.com");
  CHECK(cert.acme->dns_zone == "localhost");
  CHECK(cert.acme->dns_resource_group == "dnsrg");
  CHECK(cert.acme->eab_key_id == "kid-1");
  REQUIRE(cert.acme->eab_hmac_key.has_value());
  CHECK(cert.acme->eab_hmac_key->Describe() == "env ACME_EAB_HMAC_KEY");
  CHECK(cert.acme->ca_bundle == "/srv/registry/certs/pebble.pem");
  CHECK(cert.key == "ec-p256");
}

TEST_CASE("certificate issuer config: the desired state names the issuer and reads no PFX") {
  Config config = LoadOrDie(R"([certificate]
secret_name = "containersecret"
renew_before = "50%"
reuse_key = true
[certificate.issuer]
command = ["/usr/local/bin/issue"]
[registry]
url = "https://myreg.localhost:8443/v2/"
)");
  absl::StatusOr<DesiredCertificate> cert =
      BuildDesiredCertificate(*config.certificate, FakeEnvironment{}, absl::Now());
  REQUIRE(cert.ok());
  REQUIRE(cert->issuance.has_value());
  CHECK(cert->issuance->kind == "command");
  CHECK(cert->issuance->describe == "command [\"/usr/local/bin/issue\"]");
  CHECK(cert->issuance->renew_before_percent == 50);
  CHECK(cert->issuance->reuse_key);
  CHECK(cert->pfx_path.empty());
  CHECK(cert->thumbprint.empty());
  // The names default to [registry] url's host.
  absl::StatusOr<DesiredState> desired = BuildDesired(config, FakeEnvironment{}, absl::Now());
  REQUIRE_MESSAGE(desired.ok(), desired.status().ToString());
  CHECK(desired->certificate->issuance->dns_names == std::vector<std::string>{"myreg.localhost"});

  Config acme = LoadOrDie(absl::StrCat(R"([certificate]
secret_name = "containersecret"
dns_names = ["a.localhost"]
)",
                                       kAcme, R"([registry]
url = "https://myreg.localhost"
)"));
  absl::StatusOr<DesiredState> from_acme = BuildDesired(acme, FakeEnvironment{}, absl::Now());
  REQUIRE(from_acme.ok());
  CHECK(from_acme->certificate->issuance->kind == "acme");
  CHECK(from_acme->certificate->issuance->describe == "ACME https://acme.localhost/dir");
  CHECK(from_acme->certificate->issuance->dns_names == std::vector<std::string>{"a.localhost"});
  // validate has nothing to open offline.
  absl::StatusOr<OfflineValidation> offline = ValidateOffline(acme, FakeEnvironment{}, absl::Now());
  REQUIRE(offline.ok());
  CHECK_FALSE(offline->certificate.has_value());
}

TEST_CASE("certificate issuer config error: no source") {
  CHECK(ErrorOf(R"([certificate]
secret_name = "containersecret"
)") == R"x(rotor.toml: 1 error
rotor.toml:5:1: error: certificate: needs exactly one source for the certificate: pfx (with password), [certificate.acme] or [certificate.issuer]
    5 | [certificate]
      | ^)x");
}

TEST_CASE("certificate issuer config error: pfx and an issuer") {
  CHECK(ErrorOf(R"([certificate]
secret_name = "containersecret"
pfx = "registry.pfx"
password = { env = "PFX_PASSWORD" }
[certificate.issuer]
command = ["issue"]
)") == R"x(rotor.toml: 1 error
rotor.toml:9:14: error: certificate.issuer: not with certificate.pfx: [certificate] takes exactly one of pfx (with password), [certificate.acme] and [certificate.issuer]; remove one
    9 | [certificate.issuer]
      |              ^)x");
}

TEST_CASE("certificate issuer config error: acme and issuer") {
  CHECK(ErrorOf(absl::StrCat(R"([certificate]
secret_name = "containersecret"
[certificate.issuer]
command = ["issue"]
)",
                             kAcme)) == R"x(rotor.toml: 1 error
rotor.toml:7:14: error: certificate.issuer: not with certificate.acme: [certificate] takes exactly one of pfx (with password), [certificate.acme] and [certificate.issuer]; remove one
    7 | [certificate.issuer]
      |              ^)x");
}

TEST_CASE("certificate issuer config error: pfx without password, password with an issuer") {
  CHECK(ErrorOf(R"([certificate]
secret_name = "containersecret"
pfx = "registry.pfx"
)") == R"x(rotor.toml: 1 error
rotor.toml:7:1: error: certificate.pfx: needs password (the PFX's password: { env = ... }, { file = ... } or { command = [...] })
    7 | pfx = "registry.pfx"
      | ^)x");
  CHECK(ErrorOf(R"([certificate]
secret_name = "containersecret"
password = { env = "PFX_PASSWORD" }
[certificate.issuer]
command = ["issue"]
)") == R"x(rotor.toml: 1 error
rotor.toml:7:1: error: certificate.password: only used with pfx (the PFX file's password); an issuer's PFX gets a generated password; remove it
    7 | password = { env = "PFX_PASSWORD" }
      | ^)x");
}

TEST_CASE("certificate issuer config error: issuer keys with a pfx") {
  CHECK(ErrorOf(R"([certificate]
secret_name = "containersecret"
pfx = "registry.pfx"
password = { env = "PFX_PASSWORD" }
renew_before = "30d"
)") == R"x(rotor.toml: 1 error
rotor.toml:9:1: error: certificate.renew_before: only used with [certificate.acme] or [certificate.issuer] (rotor renews only the certificates it has issued); remove it
    9 | renew_before = "30d"
      | ^)x");
}

TEST_CASE("certificate issuer config error: bad renew_before") {
  for (const char* bad : {"150%", "0%", "30 days", "30s", "-1d", "33.3%"}) {
    CAPTURE(bad);
    CHECK(
        ErrorOf(absl::StrCat(R"([certificate]
secret_name = "containersecret"
renew_before = ")",
                             bad, R"("
[certificate.issuer]
command = ["issue"]
)")) ==
        absl::StrCat(
            R"x(rotor.toml: 1 error
rotor.toml:7:16: error: certificate.renew_before: invalid value ")x",
            bad,
            R"x(": renew_before is a duration (a whole number followed by m, h, d or w, such as "30d") or a share of the lifetime from 1% to 99% (such as "33%")
    7 | renew_before = ")x",
            bad, R"x("
      |                ^)x"));
  }
}

TEST_CASE("certificate issuer config error: bad key") {
  CHECK(ErrorOf(R"([certificate]
secret_name = "containersecret"
key = "rsa-1024"
[certificate.issuer]
command = ["issue"]
)") == R"x(rotor.toml: 1 error
rotor.toml:7:7: error: certificate.key: unknown value "rsa-1024"; expected one of "rsa-2048", "rsa-3072", "ec-p256"
    7 | key = "rsa-1024"
      |       ^)x");
}

TEST_CASE("certificate issuer config error: bad timeout, empty command, bad dns_names") {
  CHECK(ErrorOf(R"([certificate]
secret_name = "containersecret"
dns_names = ["https://myreg.localhost"]
[certificate.issuer]
command = []
timeout = "30"
)") == R"x(rotor.toml: 3 errors
rotor.toml:7:14: error: certificate.dns_names[0]: invalid value "https://myreg.localhost": a DNS name such as "myreg.local.cloudapp.azurestack.external" (no scheme, no port)
    7 | dns_names = ["https://myreg.localhost"]
      |              ^
rotor.toml:9:11: error: certificate.issuer.command: must not be empty; for example command = ["/usr/local/bin/issue-cert", "--profile", "registry"]
    9 | command = []
      |           ^
rotor.toml:10:11: error: certificate.issuer.timeout: invalid value "30": a timeout is a whole number followed by s, m or h, such as "30s" or "2m"
   10 | timeout = "30"
      |           ^)x");
}

TEST_CASE("certificate issuer config error: the eab pair goes together") {
  CHECK(ErrorOf(absl::StrCat(R"([certificate]
secret_name = "containersecret"
)",
                             kAcme, R"(eab_key_id = "kid-1"
)")) == R"x(rotor.toml: 1 error
rotor.toml:12:1: error: certificate.acme.eab_key_id: External Account Binding needs both eab_key_id and eab_hmac_key; add eab_hmac_key or remove this one
   12 | eab_key_id = "kid-1"
      | ^)x");
  CHECK(ErrorOf(absl::StrCat(R"([certificate]
secret_name = "containersecret"
)",
                             kAcme, R"(eab_hmac_key = { env = "ACME_EAB_HMAC_KEY" }
)")) == R"x(rotor.toml: 1 error
rotor.toml:12:1: error: certificate.acme.eab_hmac_key: External Account Binding needs both eab_key_id and eab_hmac_key; add eab_key_id or remove this one
   12 | eab_hmac_key = { env = "ACME_EAB_HMAC_KEY" }
      | ^)x");
}

TEST_CASE("certificate issuer config error: acme needs its keys, an https directory") {
  CHECK(ErrorOf(R"([certificate]
secret_name = "containersecret"
[certificate.acme]
directory = "http://acme.localhost/dir"
)") == R"x(rotor.toml: 4 errors
rotor.toml:7:1: error: certificate.acme: missing required key "email"; for example email = "ops@example.com"
    7 | [certificate.acme]
      | ^
rotor.toml:7:1: error: certificate.acme: missing required key "dns_zone"; for example dns_zone = "local.cloudapp.azurestack.external"
    7 | [certificate.acme]
      | ^
rotor.toml:7:1: error: certificate.acme: missing required key "dns_resource_group"; for example dns_resource_group = "dnsrg"
    7 | [certificate.acme]
      | ^
rotor.toml:8:13: error: certificate.acme.directory: invalid value "http://acme.localhost/dir": an ACME directory is an https:// URL such as "https://acme-v02.api.letsencrypt.org/directory"
    8 | directory = "http://acme.localhost/dir"
      |             ^)x");
}

}  // namespace
}  // namespace rotor
