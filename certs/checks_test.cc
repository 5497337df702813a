#include "certs/checks.h"

#include <doctest/doctest.h>

#include <map>
#include <string>

#include "absl/strings/str_cat.h"
#include "certs/pfx.h"
#include "certs/testing/make_certs.h"
#include "tests/support/testing.h"

namespace rotor::certs {
namespace {

using testing::CertOptions;
using testing::KeyType;
using testing::PfxContents;
using testing::PfxEncryption;
using testing::TestCert;
using testing::TestNow;
using testing::TestPki;

constexpr char kSource[] = "certs/registry.pfx";

const TestPki& Pki() {
  static const TestPki pki;
  return pki;
}

CertOptions Registry() {
  return {.common_name = "registry.local",
          .organization = "Contoso",
          .dns_names = {"registry.local", "*.registry.local"}};
}

const TestCert& Leaf() {
  static const TestCert leaf = Pki().IssueLeaf(Registry());
  return leaf;
}

CheckOptions At(absl::Time now = TestNow()) {
  CheckOptions options;
  options.now = now;
  return options;
}

std::vector<CheckResult> Run(const TestCert& cert, const CheckOptions& options,
                             const PfxContents& contents = {}) {
  return CheckPfx(cert.ToPfx("pw", PfxEncryption::kAes256, contents), Secret("pw"), kSource,
                  options);
}

// The formatted line of the check called `name`, or "(no <name>)".
std::string Line(const std::vector<CheckResult>& results, const std::string& name) {
  for (const CheckResult& r : results) {
    if (r.name == name) return FormatCheck(r);
  }
  return absl::StrCat("(no ", name, ")");
}

TEST_CASE("A good certificate passes every check") {
  CheckOptions options = At();
  options.dns_name = "registry.local";
  const std::vector<CheckResult> results = Run(Leaf(), options);
  CHECK(FormatChecks(results) ==
        "Parse PFX: OK (certs/registry.pfx: 2 certificates and a private key)\n"
        "Private Key: OK (RSA 2048-bit key matches CN=registry.local, "
        "O=Contoso)\n"
        "Expiry Date: OK (valid until 2026-06-01 00:00:00 UTC (365 days left))\n"
        "Signature Algorithm: OK (sha256WithRSAEncryption)\n"
        "Key Size: OK (RSA 2048 bits)\n"
        "Key Usage: OK (digitalSignature, keyEncipherment; serverAuth)\n"
        "Cert Chain: OK (CN=registry.local, O=Contoso -> CN=Rotor Test Root CA)\n"
        "Chain Order: OK (leaf first, then each issuer)\n"
        "Other Certificates: OK (none)\n"
        "DNS Names: OK (registry.local)\n"
        "Issuer: OK (issued by CN=Rotor Test Root CA)\n");
  CHECK(WorstLevel(results) == CheckLevel::kOk);
}

TEST_CASE("Parse PFX and Private Key report open failures") {
  const std::string pfx = Leaf().ToPfx("pw");
  CHECK(FormatChecks(CheckPfx(pfx, Secret("nope"), kSource, At())) ==
        "Parse PFX: ERROR (wrong password for certs/registry.pfx)\n");
  CHECK(FormatChecks(CheckPfx("junk", Secret("pw"), kSource, At())) ==
        "Parse PFX: ERROR (certs/registry.pfx is not a PKCS#12 file)\n");
  CHECK(FormatChecks(Run(Leaf(), At(), {.no_key = true})) ==
        "Parse PFX: OK\n"
        "Private Key: ERROR (certs/registry.pfx holds no private key)\n");
  const std::vector<CheckResult> mismatch =
      Run(Leaf(), At(), {.include_chain = false, .wrong_key = true});
  CHECK(FormatChecks(mismatch) ==
        "Parse PFX: OK\n"
        "Private Key: ERROR (the private key in certs/registry.pfx matches "
        "none of its certificates (CN=registry.local, O=Contoso))\n");
  CHECK(WorstLevel(mismatch) == CheckLevel::kError);

  auto opened = Pfx::Open(pfx, Secret("nope"), kSource);
  REQUIRE_FALSE(opened.ok());
  const std::vector<CheckResult> failure = CheckOpenFailure(opened.status());
  REQUIRE(failure.size() == 1);
  CHECK(failure[0].name == "Parse PFX");
  CHECK(failure[0].level == CheckLevel::kError);
  CHECK(CheckOpenFailure(absl::OkStatus()).empty());
  // A status from elsewhere (no payload) is a parse failure.
  CHECK(FormatChecks(CheckOpenFailure(absl::NotFoundError("read x.pfx: gone"))) ==
        "Parse PFX: ERROR (read x.pfx: gone)\n");
}

TEST_CASE("Expiry Date: not yet valid, expired, too few days left") {
  const TestCert future =
      Pki().IssueLeaf({.dns_names = {"registry.local"}, .valid_from = absl::Hours(48)});
  CHECK(Line(Run(future, At()), "Expiry Date") ==
        "Expiry Date: ERROR (not valid before 2025-06-03 00:00:00 UTC)");

  const TestCert expired = Pki().IssueLeaf({.dns_names = {"registry.local"},
                                            .valid_from = -absl::Hours(24 * 400),
                                            .valid_until = -absl::Hours(24)});
  CHECK(Line(Run(expired, At()), "Expiry Date") ==
        "Expiry Date: ERROR (expired on 2025-05-31 00:00:00 UTC)");

  const TestCert soon =
      Pki().IssueLeaf({.dns_names = {"registry.local"}, .valid_until = absl::Hours(24 * 10)});
  const std::string pfx = soon.ToPfx("pw");
  CHECK(Line(CheckPfx(pfx, Secret("pw"), kSource, At()), "Expiry Date") ==
        "Expiry Date: ERROR (expires on 2025-06-11 00:00:00 UTC, 10 days from "
        "now: fewer than min_valid_days (30))");
  CheckOptions lenient = At();
  lenient.min_valid_days = 10;
  CHECK(Line(CheckPfx(pfx, Secret("pw"), kSource, lenient), "Expiry Date") ==
        "Expiry Date: OK (valid until 2025-06-11 00:00:00 UTC (10 days left))");
  // The same certificate, judged a day later (a FakeClock moving on).
  lenient.now += absl::Hours(24);
  CHECK(Line(CheckPfx(pfx, Secret("pw"), kSource, lenient), "Expiry Date") ==
        "Expiry Date: ERROR (expires on 2025-06-11 00:00:00 UTC, 9 days from "
        "now: fewer than min_valid_days (10))");
}

TEST_CASE("Signature Algorithm: SHA-1 is an error") {
  const TestCert sha1 = Pki().IssueLeaf(
      {.common_name = "old.local", .dns_names = {"old.local"}, .sha1_signature = true});
  CHECK(Line(Run(sha1, At()), "Signature Algorithm") ==
        "Signature Algorithm: ERROR (CN=old.local is signed with "
        "sha1WithRSAEncryption: reissue with SHA-256 or stronger)");
  const TestCert self_sha1 = Pki().SelfSigned({.common_name = "self.local",
                                               .dns_names = {"self.local"},
                                               .key_type = KeyType::kEc,
                                               .key_bits = 256,
                                               .sha1_signature = true});
  CHECK(Line(Run(self_sha1, At()), "Signature Algorithm") ==
        "Signature Algorithm: ERROR (CN=self.local is signed with "
        "ecdsa-with-SHA1: reissue with SHA-256 or stronger)");
}

TEST_CASE("Key Size: RSA 2048 or more, EC P-256 or larger") {
  const TestCert small = Pki().IssueLeaf({.dns_names = {"registry.local"}, .key_bits = 1024});
  CHECK(Line(Run(small, At()), "Key Size") ==
        "Key Size: ERROR (RSA 1024 bits: at least 2048 bits needed)");
  const TestCert p224 =
      Pki().IssueLeaf({.dns_names = {"registry.local"}, .key_type = KeyType::kEc, .key_bits = 224});
  CHECK(Line(Run(p224, At()), "Key Size") ==
        "Key Size: ERROR (EC P-224: use P-256, P-384 or P-521)");
  const TestCert p256 =
      Pki().IssueLeaf({.dns_names = {"registry.local"}, .key_type = KeyType::kEc, .key_bits = 256});
  CHECK(Line(Run(p256, At()), "Key Size") == "Key Size: OK (EC P-256)");
  CHECK(Line(Run(p256, At()), "Key Usage") == "Key Usage: OK (digitalSignature; serverAuth)");
  const TestCert p384 =
      Pki().IssueLeaf({.dns_names = {"registry.local"}, .key_type = KeyType::kEc, .key_bits = 384});
  CHECK(Line(Run(p384, At()), "Key Size") == "Key Size: OK (EC P-384)");
}

TEST_CASE("Key Usage: serverAuth required, missing extensions warned about") {
  const TestCert client = Pki().IssueLeaf({.dns_names = {"registry.local"}, .server_auth = false});
  const std::vector<CheckResult> results = Run(client, At());
  CHECK(Line(results, "Key Usage") == "Key Usage: ERROR (extendedKeyUsage lacks serverAuth)");
  CHECK(WorstLevel(results) == CheckLevel::kError);

  const TestCert bare =
      Pki().IssueLeaf({.dns_names = {"registry.local"}, .usage_extensions = false});
  const std::vector<CheckResult> bare_results = Run(bare, At());
  CHECK(Line(bare_results, "Key Usage") ==
        "Key Usage: WARNING (no keyUsage extension (any use allowed); expected "
        "digitalSignature, keyEncipherment; no extendedKeyUsage extension (any "
        "use allowed); expected serverAuth)");
  CHECK(WorstLevel(bare_results) == CheckLevel::kWarning);
}

TEST_CASE("Cert Chain, Chain Order and Other Certificates") {
  const TestCert intermediate = Pki().IssueIntermediate("Rotor Test Issuing CA");
  const TestCert leaf = Pki().IssueLeaf(Registry(), intermediate);

  const std::vector<CheckResult> full = Run(leaf, At());
  CHECK(Line(full, "Cert Chain") ==
        "Cert Chain: OK (CN=registry.local, O=Contoso -> CN=Rotor Test Issuing "
        "CA -> CN=Rotor Test Root CA)");
  CHECK(Line(full, "Chain Order") == "Chain Order: OK (leaf first, then each issuer)");
  CHECK(Line(full, "Other Certificates") == "Other Certificates: OK (none)");

  const std::vector<CheckResult> bare = Run(leaf, At(), {.include_chain = false});
  CHECK(Line(bare, "Cert Chain") ==
        "Cert Chain: WARNING (CN=registry.local, O=Contoso: the issuer CN=Rotor "
        "Test Issuing CA is not in the PFX; clients must already have it (a "
        "root they trust))");
  CHECK(WorstLevel(bare) == CheckLevel::kWarning);

  CHECK(Line(Run(leaf, At(), {.chain_out_of_order = true}), "Chain Order") ==
        "Chain Order: WARNING (the PFX lists the leaf and its issuers as "
        "certificates 3, 2, 1; some tools expect leaf first, then each issuer)");

  const std::vector<CheckResult> extra = Run(leaf, At(), {.extra_cert = true});
  CHECK(Line(extra, "Other Certificates") ==
        "Other Certificates: ERROR (not in the leaf's chain: CN=Unrelated Test "
        "Certificate; export the PFX with only the leaf and its chain)");
  CHECK(Line(extra, "Cert Chain") ==
        "Cert Chain: OK (CN=registry.local, O=Contoso -> CN=Rotor Test Issuing "
        "CA -> CN=Rotor Test Root CA)");
}

TEST_CASE("DNS Names: SAN matching with TLS wildcard rules") {
  const std::string pfx = Leaf().ToPfx("pw");
  auto dns = [&](const std::string& name) {
    CheckOptions options = At();
    options.dns_name = name;
    return Line(CheckPfx(pfx, Secret("pw"), kSource, options), "DNS Names");
  };
  CHECK(dns("registry.local") == "DNS Names: OK (registry.local)");
  CHECK(dns("REGISTRY.local") == "DNS Names: OK (REGISTRY.local matches registry.local)");
  CHECK(dns("myreg.registry.local") ==
        "DNS Names: OK (myreg.registry.local matches *.registry.local)");
  CHECK(dns("a.b.registry.local") ==
        "DNS Names: ERROR (a.b.registry.local is not covered by the "
        "certificate's DNS names (registry.local, *.registry.local))");
  CHECK(dns("other.local") ==
        "DNS Names: ERROR (other.local is not covered by the certificate's DNS "
        "names (registry.local, *.registry.local))");
  CHECK(dns("127.0.0.1") ==
        "DNS Names: ERROR (127.0.0.1 is not covered by the certificate's DNS "
        "names (registry.local, *.registry.local))");
  CHECK(dns("") == "DNS Names: OK (registry.local, *.registry.local)");

  // Only the CN, no subjectAltName: Go (docker) clients refuse it.
  const TestCert cn_only = Pki().IssueLeaf({.common_name = "registry.local"});
  CHECK(Line(Run(cn_only, At()), "DNS Names") ==
        "DNS Names: ERROR (no subjectAltName DNS entry; TLS clients ignore the "
        "CN)");
  CheckOptions options = At();
  options.dns_name = "registry.local";
  CHECK(Line(Run(cn_only, options), "DNS Names") ==
        "DNS Names: ERROR (registry.local is not covered by the certificate's "
        "DNS names (none))");
}

TEST_CASE("CA Trust: verifies the chain to the given bundle") {
  rotor::testing::TempDir dir;
  const std::string bundle = dir.Write("ca.pem", Pki().root().CertificatePem());
  const TestPki other_pki(TestNow(), "Other Root CA");
  const std::string other = dir.Write("other.pem", other_pki.root().CertificatePem());
  const TestCert intermediate = Pki().IssueIntermediate("Rotor Test Issuing CA");
  const TestCert leaf = Pki().IssueLeaf(Registry(), intermediate);

  CheckOptions options = At();
  options.ca_bundle_path = bundle;
  CHECK(Line(Run(leaf, options), "CA Trust") ==
        "CA Trust: OK (verifies to CN=Rotor Test Root CA in " + bundle + ")");
  // The root in the PFX proves nothing: trust comes from the bundle.
  CHECK(Line(Run(leaf, options, {.chain_out_of_order = true}), "CA Trust") ==
        "CA Trust: OK (verifies to CN=Rotor Test Root CA in " + bundle + ")");
  CHECK(Line(Run(leaf, options, {.include_chain = false}), "CA Trust") ==
        "CA Trust: ERROR (does not verify against " + bundle +
            ": unable to get local issuer certificate (at CN=registry.local, "
            "O=Contoso, depth 0))");

  options.ca_bundle_path = other;
  CHECK(Line(Run(leaf, options), "CA Trust") ==
        "CA Trust: ERROR (does not verify against " + other +
            ": self-signed certificate in certificate chain (at CN=Rotor Test "
            "Root CA, depth 2))");

  options.ca_bundle_path = bundle;
  options.now = TestNow() + absl::Hours(24 * 400);
  CHECK(Line(Run(leaf, options), "CA Trust") ==
        "CA Trust: ERROR (does not verify against " + bundle +
            ": certificate has expired (at CN=registry.local, O=Contoso, depth "
            "0))");

  options = At();
  options.ca_bundle_path = dir.Path("missing.pem");
  const std::string missing = Line(Run(leaf, options), "CA Trust");
  CHECK(missing.rfind("CA Trust: ERROR (cannot read the CA bundle: ", 0) == 0);
  CHECK(missing.find(dir.Path("missing.pem")) != std::string::npos);
  options.ca_bundle_path = dir.Write("empty.pem", "no certificates here\n");
  CHECK(Line(Run(leaf, options), "CA Trust") ==
        "CA Trust: ERROR (no PEM certificate in " + dir.Path("empty.pem") + ")");

  // Without a bundle the check is not made.
  CHECK(Line(Run(leaf, At()), "CA Trust") == "(no CA Trust)");
}

TEST_CASE("Issuer: a self-signed leaf is a warning") {
  const TestCert self =
      Pki().SelfSigned({.common_name = "registry.local", .dns_names = {"registry.local"}});
  const std::vector<CheckResult> results = Run(self, At());
  CHECK(Line(results, "Issuer") ==
        "Issuer: WARNING (self-signed: clients must trust this certificate "
        "explicitly)");
  CHECK(Line(results, "Cert Chain") == "Cert Chain: OK (self-signed leaf, no chain)");
  CHECK(WorstLevel(results) == CheckLevel::kWarning);

  rotor::testing::TempDir dir;
  CheckOptions options = At();
  options.ca_bundle_path = dir.Write("self.pem", self.CertificatePem());
  CHECK(Line(Run(self, options), "CA Trust") ==
        "CA Trust: OK (verifies to CN=registry.local in " + options.ca_bundle_path + ")");
}

TEST_CASE("FormatCheck renders one line per result") {
  CHECK(FormatCheck({"Parse PFX", CheckLevel::kOk, ""}) == "Parse PFX: OK");
  CHECK(FormatCheck({"Key Size", CheckLevel::kWarning, "x"}) == "Key Size: WARNING (x)");
  CHECK(FormatCheck({"Key Size", CheckLevel::kError, "y"}) == "Key Size: ERROR (y)");
  CHECK(FormatChecks({}) == "");
  CHECK(WorstLevel({}) == CheckLevel::kOk);
}

}  // namespace
}  // namespace rotor::certs
