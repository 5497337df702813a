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

  Config acme = LoadOrDie(R"([certificate]
secret_name = "containersecret"
dns_names = ["a.localhost"]
[certificate.acme]
directory = "https://acme.localhost/dir"
email = "ops@example.com"
dns_zone = "localhost"
dns_resource_group = "dnsrg"
[registry]
url = "https://myreg.localhost"
)");
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
)") == "TODO");
}

TEST_CASE("certificate issuer config error: pfx and an issuer") {
  CHECK(ErrorOf(R"([certificate]
secret_name = "containersecret"
pfx = "registry.pfx"
password = { env = "PFX_PASSWORD" }
[certificate.issuer]
command = ["issue"]
)") == "TODO");
}

TEST_CASE("certificate issuer config error: acme and issuer") {
  CHECK(ErrorOf(R"([certificate]
secret_name = "containersecret"
[certificate.issuer]
command = ["issue"]
[certificate.acme]
directory = "https://acme.localhost/dir"
email = "ops@example.com"
dns_zone = "localhost"
dns_resource_group = "dnsrg"
)") == "TODO");
}

TEST_CASE("certificate issuer config error: pfx without password, password with an issuer") {
  CHECK(ErrorOf(R"([certificate]
secret_name = "containersecret"
pfx = "registry.pfx"
)") == "TODO");
  CHECK(ErrorOf(R"([certificate]
secret_name = "containersecret"
password = { env = "PFX_PASSWORD" }
[certificate.issuer]
command = ["issue"]
)") == "TODO");
}

TEST_CASE("certificate issuer config error: issuer keys with a pfx") {
  CHECK(ErrorOf(R"([certificate]
secret_name = "containersecret"
pfx = "registry.pfx"
password = { env = "PFX_PASSWORD" }
renew_before = "30d"
)") == "TODO");
}

TEST_CASE("certificate issuer config error: bad renew_before") {
  for (const char* bad : {"150%", "0%", "30 days", "30s", "-1d", "33.3%"}) {
    CAPTURE(bad);
    CHECK(ErrorOf(absl::StrCat(R"([certificate]
secret_name = "containersecret"
renew_before = ")",
                               bad, R"("
[certificate.issuer]
command = ["issue"]
)")) == "TODO");
  }
}

TEST_CASE("certificate issuer config error: bad key") {
  CHECK(ErrorOf(R"([certificate]
secret_name = "containersecret"
key = "rsa-1024"
[certificate.issuer]
command = ["issue"]
)") == "TODO");
}

TEST_CASE("certificate issuer config error: bad timeout, empty command, bad dns_names") {
  CHECK(ErrorOf(R"([certificate]
secret_name = "containersecret"
dns_names = ["https://myreg.localhost"]
[certificate.issuer]
command = []
timeout = "30"
)") == "TODO");
}

TEST_CASE("certificate issuer config error: the eab pair goes together") {
  CHECK(ErrorOf(R"([certificate]
secret_name = "containersecret"
[certificate.acme]
directory = "https://acme.localhost/dir"
email = "ops@example.com"
dns_zone = "localhost"
dns_resource_group = "dnsrg"
eab_key_id = "kid-1"
)") == "TODO");
  CHECK(ErrorOf(R"([certificate]
secret_name = "containersecret"
[certificate.acme]
directory = "https://acme.localhost/dir"
email = "ops@example.com"
dns_zone = "localhost"
dns_resource_group = "dnsrg"
eab_hmac_key = { env = "ACME_EAB_HMAC_KEY" }
)") == "TODO");
}

TEST_CASE("certificate issuer config error: acme needs its keys, an https directory") {
  CHECK(ErrorOf(R"([certificate]
secret_name = "containersecret"
[certificate.acme]
directory = "http://acme.localhost/dir"
)") == "TODO");
}

}  // namespace
}  // namespace rotor
