#include "providers/local/certificate_files.h"

#include <doctest/doctest.h>
#include <sys/stat.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "certs/keyvault_secret.h"
#include "certs/pfx.h"
#include "certs/testing/make_certs.h"
#include "providers/local/local_vault.h"
#include "tests/support/testing.h"

namespace rotor::local {
namespace {

struct Fixture {
  testing::TempDir dir;
  std::unique_ptr<LocalVault> vault;
  certs::testing::TestPki pki;
  Fixture() {
    LocalVaultOptions options;
    options.state_dir = dir.Path("state");
    options.name = "newregkv";
    options.resource_group = "rg";
    vault = *LocalVault::Open(options);
  }
  // Stores a PFX for `cn` as the registry template expects; returns
  // {versioned url, thumbprint}.
  std::pair<std::string, std::string> Store(const std::string& cn) {
    certs::testing::CertOptions o;
    o.common_name = cn;
    o.dns_names = {cn};
    auto leaf = pki.IssueLeaf(o);
    std::string pfx = leaf.ToPfx("pfx-password");
    SetSecretRequest request;
    request.value = *certs::EncodeCertificateSecret(pfx, Secret("pfx-password"));
    request.content_type = certs::kCertificateContentType;
    auto written = vault->SetSecret("containersecret", request);
    REQUIRE(written.ok());
    auto opened = certs::Pfx::Open(pfx, Secret("pfx-password"), "test");
    REQUIRE(opened.ok());
    return {written->id, opened->Thumbprint()};
  }
};

TEST_CASE("the certificate files are named after the thumbprint, key private") {
  Fixture f;
  auto [url, thumbprint] = f.Store("registry.local");
  std::string out = f.dir.Path("registry");
  auto written = WriteCertificateFiles(*f.vault, url, thumbprint, out);
  REQUIRE(written.ok());
  CHECK(*written == thumbprint);
  std::string crt = f.dir.Read(absl::StrCat("registry/", thumbprint, ".crt"));
  CHECK(absl::StartsWith(crt, "-----BEGIN CERTIFICATE-----"));
  CHECK(*certs::ThumbprintOfPem(crt, "crt") == thumbprint);
  std::string prv_path = f.dir.Path(absl::StrCat("registry/", thumbprint, ".prv"));
  CHECK(absl::StartsWith(testing::ReadFileOrDie(prv_path), "-----BEGIN PRIVATE KEY-----"));
  struct stat st;
  REQUIRE(::stat(prv_path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
}

TEST_CASE("a thumbprint that does not match the PFX at the URL fails, writing nothing") {
  Fixture f;
  auto [old_url, old_thumbprint] = f.Store("old.registry.local");
  auto [new_url, new_thumbprint] = f.Store("new.registry.local");
  auto mismatch = WriteCertificateFiles(*f.vault, old_url, new_thumbprint, f.dir.Path("registry"));
  REQUIRE_FALSE(mismatch.ok());
  CHECK(mismatch.status().message() ==
        absl::StrCat("CertificateThumbprintMismatch: pfxThumbprint is ", new_thumbprint,
                     " but the PFX at ", old_url, " has thumbprint ", old_thumbprint,
                     "; the VM would find no ", new_thumbprint, ".crt/.prv"));
  struct stat st;
  CHECK(::stat(f.dir.Path("registry").c_str(), &st) != 0);
}

TEST_CASE("the URL must be a versioned secret URL of this vault") {
  Fixture f;
  auto [url, thumbprint] = f.Store("registry.local");
  auto unversioned =
      WriteCertificateFiles(*f.vault, "https://newregkv.vault.rotor.local/secrets/containersecret",
                            thumbprint, f.dir.Path("registry"));
  CHECK(unversioned.status().message() ==
        "KeyVaultSecretUrlInvalid: https://newregkv.vault.rotor.local/secrets/containersecret has "
        "no version; the VM needs a versioned secret URL");
  auto foreign = WriteCertificateFiles(*f.vault, "https://other.vault.azure.net/secrets/x/1",
                                       thumbprint, f.dir.Path("registry"));
  CHECK(absl::StartsWith(foreign.status().message(), "KeyVaultSecretUrlInvalid: "));
}

}  // namespace
}  // namespace rotor::local
