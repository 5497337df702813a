// The executor with an issuer: a real in-process issuer signs the CSR apply
// sends with a test CA (the openssl command), so the key, the CSR, the
// chain, the checks and the PFX are all real OpenSSL. The written version
// must decode to a PFX with the issued chain, the deployment must pass its
// thumbprint, the next plan must be empty; and an issuer that fails, or
// answers with a certificate for another key, writes nothing.
#include <doctest/doctest.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/json_text.h"
#include "base/process.h"
#include "certs/keyvault_secret.h"
#include "certs/pfx.h"
#include "certs/testing/make_certs.h"
#include "engine/apply/apply.h"
#include "engine/diff/diff.h"
#include "engine/model/value_set.h"
#include "engine/refresh/refresh.h"
#include "engine/render/render.h"
#include "tests/fakes/fake_deployments.h"
#include "tests/fakes/fake_vault.h"
#include "tests/support/testing.h"

namespace rotor {
namespace {

constexpr char kTemplate[] = R"({"parameters": {
  "pfxKeyVaultResourceId": {"type": "string"}, "pfxKeyVaultSecretUrl": {"type": "string"},
  "pfxThumbprint": {"type": "string"}}, "resources": []})";
constexpr char kHost[] = "myreg.localhost";
constexpr char kIssuerName[] = "command [\"test-ca\"]";

// Signs each CSR with a test root, as `openssl x509 -req` does for an
// operator's CA; or fails, or answers with a certificate for another key.
class TestCaIssuer : public CertificateIssuer {
 public:
  enum class Mode { kSign, kFail, kOtherKey };

  explicit TestCaIssuer(absl::Time now) : pki_(now) {
    ca_ = dir_.Write("ca.pem", pki_.root().CertificatePem());
    ca_key_ = dir_.Write("ca.key", pki_.root().KeyPem());
    ext_ = dir_.Write("ext.cnf",
                      "keyUsage = critical, digitalSignature, keyEncipherment\n"
                      "extendedKeyUsage = serverAuth\n");
  }

  absl::StatusOr<std::string> Issue(const IssueRequest& request) override {
    requests.push_back(request);
    if (mode == Mode::kFail) return absl::UnavailableError("the test CA is down");
    if (mode == Mode::kOtherKey) {
      return pki_.IssueLeaf({.common_name = kHost, .dns_names = {kHost}}).CertificatePem() +
             pki_.root().CertificatePem();
    }
    const std::string csr = dir_.Write("request.csr", request.csr_pem);
    ProcessOptions options;
    options.timeout = absl::Seconds(30);
    auto signed_cert =
        RunProcess({"openssl", "x509", "-req", "-in", csr, "-CA", ca_, "-CAkey", ca_key_,
                    "-set_serial", absl::StrCat(1000 + requests.size()), "-days", "90", "-sha256",
                    "-copy_extensions", "copy", "-extfile", ext_},
                   options);
    if (!signed_cert.ok()) return signed_cert.status();
    if (signed_cert->exit_code != 0) {
      return absl::InternalError(absl::StrCat("openssl x509 -req: ", signed_cert->stderr_data));
    }
    return signed_cert->stdout_data + pki_.root().CertificatePem();
  }

  // The test CA's certificate: a CA bundle the chain leads to.
  const std::string& ca_path() const { return ca_; }

  Mode mode = Mode::kSign;
  std::vector<IssueRequest> requests;

 private:
  testing::TempDir dir_;
  certs::testing::TestPki pki_;
  std::string ca_, ca_key_, ext_;
};

class NullObserver : public ApplyObserver {};

struct Env {
  // openssl signs with the real time (notBefore = the moment it signs): the
  // checks run a minute after it.
  FakeClock clock{absl::Now() + absl::Minutes(1)};
  fakes::FakeVault vault{clock};
  fakes::FakeDeployments deployments{clock, {"rg"}};
  TestCaIssuer issuer{clock.Now()};
  DesiredState desired;

  Env() {
    SetSecretRequest admin;
    admin.value = Secret("admin-password-123");
    admin.content_type = kUserContentType;
    admin.tags = RotorTags(kRoleUser);
    REQUIRE(vault.model().Set("admin", admin).ok());
    DeploymentRequest first;
    first.name = "registry";
    first.template_json = kTemplate;
    first.parameters["pfxKeyVaultResourceId"] = Secret(JsonQuote(vault.info().resource_id));
    first.parameters["pfxKeyVaultSecretUrl"] = Secret(JsonQuote(""));
    first.parameters["pfxThumbprint"] = Secret(JsonQuote(""));
    REQUIRE(deployments.Seed("rg", first).ok());
    clock.Advance(absl::Minutes(1));  // rotor's deployments come after it

    desired.config_path = "rotor.toml";
    DesiredUser& user = desired.users.emplace_back();
    user.name = "admin";
    user.password = Secret("admin-password-123");
    user.source = "env ADMIN_PASSWORD";
    DesiredCertificate& cert = desired.certificate.emplace();
    cert.secret_name = "containersecret";
    cert.content_type = certs::kCertificateContentType;
    DesiredIssuance& issuance = cert.issuance.emplace();
    issuance.kind = "command";
    issuance.describe = kIssuerName;
    issuance.dns_names = {kHost};
    issuance.key_type = "ec-p256";
    issuance.ca_bundle = issuer.ca_path();  // the "CA Trust" check runs
    issuance.min_valid_days = 30;
    desired.deployment.emplace();
    desired.deployment->resource_group = "rg";
    desired.deployment->name = "latest";
  }

  ActualState RefreshOrDie(const RefreshHint* hint = nullptr) {
    auto actual = Refresh(desired, vault, &deployments, hint);
    REQUIRE_MESSAGE(actual.ok(), actual.status().ToString());
    return *std::move(actual);
  }
  Plan PlanOrDie(const ActualState& actual, PlanOptions options = {}) {
    auto plan = ComputePlan(desired, actual, clock.Now(), options);
    REQUIRE_MESSAGE(plan.ok(), plan.status().ToString());
    return *std::move(plan);
  }
  absl::StatusOr<ApplyOutputs> Apply(const Plan& plan, CertificateIssuer* with) {
    NullObserver observer;
    ApplyOptions options;
    options.clock = &clock;
    options.issuer = with;
    MapValueSet values;
    values.Set("user.admin", Secret("admin-password-123"));
    auto outputs = ApplyPlan(plan, values, vault, &deployments, options, observer);
    clock.Advance(absl::Minutes(1));
    return outputs;
  }
};

// The PFX in the secret's latest version.
certs::Pfx CurrentPfx(Env& env) {
  auto bundle = env.vault.model().Get("containersecret");
  REQUIRE_MESSAGE(bundle.ok(), bundle.status().ToString());
  auto decoded = certs::DecodeCertificateSecret(bundle->value, bundle->meta.content_type);
  REQUIRE_MESSAGE(decoded.ok(), decoded.status().ToString());
  auto pfx = certs::Pfx::Open(decoded->pfx_der.Reveal(), decoded->password, "the secret");
  REQUIRE_MESSAGE(pfx.ok(), pfx.status().ToString());
  return *std::move(pfx);
}

TEST_CASE(
    "apply issues the certificate: the PFX holds the new chain, the deployment its thumbprint") {
  Env env;
  ActualState actual = env.RefreshOrDie();
  Plan plan = env.PlanOrDie(actual);
  REQUIRE(plan.changes.size() == 2);
  REQUIRE(plan.changes[0].write->issue.has_value());

  auto outputs = env.Apply(plan, &env.issuer);
  REQUIRE_MESSAGE(outputs.ok(), outputs.status().ToString());
  REQUIRE(env.issuer.requests.size() == 1);
  CHECK(env.issuer.requests[0].secret_name == "containersecret");
  CHECK(env.issuer.requests[0].dns_names == std::vector<std::string>{kHost});
  CHECK(absl::StartsWith(env.issuer.requests[0].csr_pem, "-----BEGIN CERTIFICATE REQUEST-----"));

  certs::Pfx pfx = CurrentPfx(env);
  const certs::CertificateInfo info = pfx.Info(env.clock.Now());
  CHECK(info.dns_names == std::vector<std::string>{kHost});
  CHECK(info.issuer == "CN=Rotor Test Root CA");
  CHECK(info.key_type == "EC");
  CHECK(pfx.ChainPem().size() == 1);  // the root, after the leaf
  CHECK(outputs->pfx_thumbprint == info.thumbprint);
  // The version carries rotor's tags, as any certificate it writes.
  auto bundle = env.vault.model().Get("containersecret");
  CHECK(bundle->meta.content_type == "pfx");
  CHECK(bundle->meta.tags.at(kRoleTag) == kRoleCertificate);
  // The redeploy passed the issued certificate.
  auto started = env.deployments.started();
  REQUIRE(started.size() == 1);
  CHECK(started[0].parameters.at("pfxThumbprint") == JsonQuote(info.thumbprint));
  CHECK(started[0].parameters.at("pfxKeyVaultSecretUrl") == JsonQuote(bundle->meta.id));

  // Converged: the refresh after the apply, and the next plan, see no change.
  const RefreshHint hint = HintAfterApply(env.desired, actual, *outputs);
  ActualState after = env.RefreshOrDie(&hint);
  Plan next = env.PlanOrDie(after);
  CHECK_MESSAGE(!next.HasChanges(), RenderPlanText(next, TextStyle{}));

  // --replace with reuse_key: a new certificate for the same key.
  env.desired.certificate->issuance->reuse_key = true;
  const Secret old_key = pfx.PrivateKeyPem();
  PlanOptions replace;
  replace.replace = {"certificate.containersecret"};
  Plan renew = env.PlanOrDie(after, replace);
  REQUIRE(renew.changes[0].write->issue->reuse_key);
  auto renewed = env.Apply(renew, &env.issuer);
  REQUIRE_MESSAGE(renewed.ok(), renewed.status().ToString());
  certs::Pfx again = CurrentPfx(env);
  CHECK(again.Thumbprint() != info.thumbprint);
  CHECK(again.PrivateKeyPem().Equals(old_key));
  CHECK(renewed->pfx_thumbprint == again.Thumbprint());
}

TEST_CASE("an issuer that fails, or answers for another key, writes nothing") {
  for (TestCaIssuer::Mode mode : {TestCaIssuer::Mode::kFail, TestCaIssuer::Mode::kOtherKey}) {
    Env env;
    env.issuer.mode = mode;
    ActualState actual = env.RefreshOrDie();
    Plan plan = env.PlanOrDie(actual);
    const int versions_before = static_cast<int>(env.vault.model().List().size());
    auto outputs = env.Apply(plan, &env.issuer);
    REQUIRE_FALSE(outputs.ok());
    const std::string message(outputs.status().message());
    CAPTURE(message);
    CHECK(absl::StartsWith(message, "certificate.containersecret: "));
    if (mode == TestCaIssuer::Mode::kFail) {
      CHECK(absl::StrContains(message, "the test CA is down"));
      CHECK(absl::StrContains(message, "nothing was written"));
    }
    CHECK(env.vault.CountCalls("set ") == 0);
    CHECK_FALSE(env.vault.model().Get("containersecret").ok());
    CHECK(static_cast<int>(env.vault.model().List().size()) == versions_before);
    CHECK(env.deployments.started().empty());
  }
}

TEST_CASE("a plan that issues a certificate is refused without an issuer, writing nothing") {
  Env env;
  ActualState actual = env.RefreshOrDie();
  Plan plan = env.PlanOrDie(actual);
  auto outputs = env.Apply(plan, nullptr);
  REQUIRE_FALSE(outputs.ok());
  CHECK(outputs.status().message() ==
        absl::StrCat("certificate.containersecret: the plan issues the certificate in secret "
                     "containersecret from ",
                     kIssuerName, ", but apply was given no issuer"));
  CHECK(env.vault.CountCalls("set ") == 0);
  CHECK(env.deployments.started().empty());
}

}  // namespace
}  // namespace rotor
