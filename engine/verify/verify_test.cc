#include "engine/verify/verify.h"

#include <doctest/doctest.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "certs/pfx.h"
#include "certs/testing/make_certs.h"
#include "engine/diff/diff.h"

namespace rotor {
namespace {

Deployment WithLabel(const std::string& value_json) {
  Deployment d;
  d.name = "registry";
  d.parameters["pipDomainNameLabel"] = {"String", value_json};
  d.parameters["pfxThumbprint"] = {"String", "\"AB\""};
  return d;
}

TEST_CASE("the registry's URL from the deployment's DNS label and the stamp's ARM endpoint") {
  // azure-stack-dns: <label>.<region>.cloudapp.<external domain>.
  auto asdk = RegistryUrlFromDeployment("https://management.local.azurestack.external",
                                        WithLabel("\"myreg\""));
  REQUIRE(asdk.ok());
  CHECK(*asdk == "https://myreg.local.cloudapp.azurestack.external");
  auto integrated = RegistryUrlFromDeployment("https://Management.East.Cloud.Fabrikam.com:443/",
                                              WithLabel("\"MyReg\""));
  REQUIRE(integrated.ok());
  CHECK(*integrated == "https://myreg.east.cloudapp.cloud.fabrikam.com");

  Deployment lower;
  lower.name = "registry-2";
  lower.parameters["pipdomainnamelabel"] = {"String", "\"reg\""};
  CHECK(*RegistryUrlFromDeployment("https://management.local.azurestack.external", lower) ==
        "https://reg.local.cloudapp.azurestack.external");
}

TEST_CASE("no DNS label or an endpoint that names no region: the reason") {
  Deployment none;
  none.name = "registry";
  auto missing = RegistryUrlFromDeployment("https://management.local.azurestack.external", none);
  CHECK(missing.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(missing.status().message() ==
        "deployment registry has no pipDomainNameLabel parameter (the registry template's public "
        "IP DNS label) to derive the registry's name from");
  CHECK_FALSE(
      RegistryUrlFromDeployment("https://management.local.azurestack.external", WithLabel("42"))
          .ok());
  auto loopback =
      RegistryUrlFromDeployment("https://management.localhost:8443", WithLabel("\"myreg\""));
  CHECK(
      loopback.status().message() ==
      "the ARM endpoint's host management.localhost is not management.<region>.<external domain>, "
      "so the registry's name (myreg.<region>.cloudapp.<external domain>) cannot be derived");
  CHECK_FALSE(
      RegistryUrlFromDeployment("https://arm.local.azurestack.external", WithLabel("\"myreg\""))
          .ok());
}

// A registry that serves `pem` and lets nobody in.
class FakeProbe : public RegistryProbe {
 public:
  explicit FakeProbe(std::string pem) : pem_(std::move(pem)) {}
  const std::string& url() const override { return url_; }
  absl::StatusOr<std::string> ServedCertificatePem() override { return pem_; }
  absl::StatusOr<int> Login(absl::string_view, const Secret&) override { return 401; }

 private:
  std::string url_ = "https://myreg.local.cloudapp.azurestack.external";
  std::string pem_;
};

TEST_CASE("the certificate check compares thumbprints and reports both expiries") {
  certs::testing::TestPki pki;
  auto served = pki.IssueLeaf({.common_name = "myreg"});
  auto declared = pki.IssueLeaf({.common_name = "myreg", .valid_until = absl::Hours(24 * 90)});
  const std::string served_thumbprint = *certs::ThumbprintOfPem(served.CertificatePem(), "s");
  const std::string declared_thumbprint = *certs::ThumbprintOfPem(declared.CertificatePem(), "d");
  const absl::Time served_until = *certs::NotAfterOfPem(served.CertificatePem(), "s");
  const absl::Time declared_until = *certs::NotAfterOfPem(declared.CertificatePem(), "d");
  FakeProbe probe(served.CertificatePem());

  VerifyInput stale;
  stale.certificate = ExpectedCertificate{declared_thumbprint, declared_until};
  VerifyReport report = RunVerify(stale, probe, pki.now());
  REQUIRE(report.checks.size() == 1);
  CHECK_FALSE(report.ok());
  CHECK(report.checks[0].detail ==
        absl::StrCat("serves ", served_thumbprint, ", but the declared certificate is ",
                     declared_thumbprint,
                     " (a redeploy has not happened yet?); served valid until ",
                     FormatPlanTime(served_until), ", declared valid until ",
                     FormatPlanTime(declared_until)));
  std::string json = RenderVerifyJson(report);
  CHECK(absl::StrContains(json, absl::StrCat("\"thumbprint\": \"", served_thumbprint)));
  CHECK(absl::StrContains(json, absl::StrCat("\"thumbprint\": \"", declared_thumbprint)));

  VerifyInput same;
  same.certificate = ExpectedCertificate{served_thumbprint, served_until};
  CHECK(RunVerify(same, probe, pki.now()).ok());
  // The same certificate, once expired, fails.
  VerifyReport later = RunVerify(same, probe, served_until + absl::Seconds(1));
  CHECK_FALSE(later.ok());
  CHECK(later.checks[0].detail == absl::StrCat("serves ", served_thumbprint, ", which expired at ",
                                               FormatPlanTime(served_until)));
}

TEST_CASE("login checks carry the user and both statuses, in text and JSON") {
  certs::testing::TestPki pki;
  FakeProbe probe(pki.IssueLeaf({}).CertificatePem());
  VerifyInput input;
  input.accepted.emplace_back("admin", Secret("pw-a"));
  input.rejected.emplace_back("old", Secret("pw-o"));
  VerifyReport report = RunVerify(input, probe, pki.now());
  REQUIRE(report.checks.size() == 2);
  CHECK_FALSE(report.checks[0].ok);
  CHECK(report.checks[0].detail == "GET /v2/ -> 401 (expected 200)");
  CHECK(report.checks[1].ok);
  std::string text = RenderVerifyText(report);
  CHECK(absl::StrContains(text, "Registry: https://myreg.local.cloudapp.azurestack.external\n"));
  CHECK(absl::StrContains(text, "user admin    FAILED  GET /v2/ -> 401 (expected 200)\n"));
  CHECK(absl::StrContains(text, "1 of 2 checks failed."));
  std::string json = RenderVerifyJson(report);
  CHECK(absl::StrContains(
      json, "\"user\": \"admin\",\n      \"expected_status\": 200,\n      \"status\": 401"));
  CHECK_FALSE(absl::StrContains(json, "pw-a"));
}

}  // namespace
}  // namespace rotor
