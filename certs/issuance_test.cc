#include "certs/issuance.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "base/process.h"
#include "certs/checks.h"
#include "certs/keyvault_secret.h"
#include "certs/pfx.h"
#include "certs/testing/make_certs.h"
#include "certs/testing/openssl_ca.h"
#include "tests/support/testing.h"

namespace rotor::certs {
namespace {

using testing::OpenSslCa;

constexpr char kSource[] = "the test CA's answer";

// The base64 lines of a PEM key: none may show in any message.
std::vector<std::string> KeyBodyLines(const Secret& key_pem) {
  std::vector<std::string> lines;
  for (absl::string_view line : absl::StrSplit(key_pem.Reveal(), '\n')) {
    if (!line.empty() && line.find("-----") == absl::string_view::npos) {
      lines.emplace_back(line);
    }
  }
  REQUIRE(lines.size() >= 2);
  return lines;
}

void CheckHoldsNoKey(absl::string_view message, const Secret& key_pem) {
  CHECK_MESSAGE(!testing::ShowsKeyMaterial(message, key_pem.Reveal()), message);
}

std::string ErrorOf(const absl::Status& status) {
  REQUIRE_FALSE(status.ok());
  return std::string(status.message());
}

// What `openssl pkcs12 -info` (OpenSSL 3, default provider only) says.
std::string OpenSslPkcs12Info(const rotor::testing::TempDir& dir, const Secret& pfx,
                              const Secret& password) {
  const std::string path = dir.Write("built.pfx", std::string(pfx.Reveal()));
  ProcessOptions options;
  options.env["ROTOR_TEST_PFX_PASSWORD"] = std::string(password.Reveal());
  auto run = RunProcess({"openssl", "pkcs12", "-info", "-noout", "-in", path, "-passin",
                         "env:ROTOR_TEST_PFX_PASSWORD"},
                        options);
  REQUIRE(run.ok());
  REQUIRE_MESSAGE(run->exit_code == 0, run->stderr_data);
  return run->stdout_data + run->stderr_data;
}

TEST_CASE("KeyTypeName and ParseKeyType name the three key types") {
  for (KeyType type : {KeyType::kRsa2048, KeyType::kRsa3072, KeyType::kEcP256}) {
    KeyType parsed = KeyType::kRsa2048;
    REQUIRE(ParseKeyType(KeyTypeName(type), &parsed));
    CHECK(parsed == type);
  }
  CHECK(KeyTypeName(KeyType::kEcP256) == "ec-p256");
  KeyType parsed;
  CHECK_FALSE(ParseKeyType("rsa-4096", &parsed));
}

TEST_CASE("each key type: key, CSR, a CA's chain, PFX that opens and passes the checks") {
  rotor::testing::TempDir dir;
  const OpenSslCa ca(dir.path());
  const Secret password("pässword-1234");  // UTF-8, as the Key Vault envelope needs
  for (KeyType type : {KeyType::kRsa2048, KeyType::kRsa3072, KeyType::kEcP256}) {
    CAPTURE(KeyTypeName(type));
    auto key = GeneratePrivateKey(type);
    REQUIRE(key.ok());
    CHECK(key->Reveal().find("-----BEGIN PRIVATE KEY-----") == 0);
    auto key_type = KeyTypeOf(*key);
    REQUIRE(key_type.ok());
    CHECK(*key_type == type);

    auto csr = MakeCsr(*key, {"registry.local", "*.registry.local"});
    REQUIRE_MESSAGE(csr.ok(), csr.status().ToString());
    // openssl checks the request's signature and shows its contents.
    auto shown = RunProcess({"openssl", "req", "-verify", "-noout", "-text"},
                            ProcessOptions{.stdin_data = *csr, .env = {}, .working_dir = {}});
    REQUIRE(shown.ok());
    CHECK_MESSAGE(shown->exit_code == 0, shown->stderr_data);
    CHECK(shown->stdout_data.find("CN = registry.local") != std::string::npos);
    CHECK(shown->stdout_data.find("DNS:registry.local, DNS:*.registry.local") != std::string::npos);
    CHECK(absl::AsciiStrToLower(shown->stdout_data).find("sha256") != std::string::npos);

    auto chain = ParsePemChain(ca.Sign(*csr), kSource);
    REQUIRE_MESSAGE(chain.ok(), chain.status().ToString());
    REQUIRE(chain->size() == 2);
    CHECK(LeafMatchesCsr(*csr, *chain, kSource).ok());

    auto pfx_der = BuildPfx(*key, *chain, password, kSource);
    REQUIRE_MESSAGE(pfx_der.ok(), pfx_der.status().ToString());
    auto pfx = Pfx::Open(pfx_der->Reveal(), password, "the built PFX");
    REQUIRE_MESSAGE(pfx.ok(), pfx.status().ToString());
    const std::vector<CheckResult> checks =
        CheckCertificate(*pfx, {.min_valid_days = 30,
                                .dns_name = "registry.local",
                                .ca_bundle_path = ca.certificate_path(),
                                .now = absl::Now()});
    CHECK_MESSAGE(WorstLevel(checks) == CheckLevel::kOk, FormatChecks(checks));
    CHECK(pfx->Info(absl::Now()).chain_length == 2);

    // The encryption every PFX reader takes, without OpenSSL's legacy provider.
    const std::string info = OpenSslPkcs12Info(dir, *pfx_der, password);
    CHECK_MESSAGE(
        info.find("Shrouded Keybag: pbeWithSHA1And3-KeyTripleDES-CBC") != std::string::npos, info);
    CHECK_MESSAGE(
        info.find("PKCS7 Encrypted data: pbeWithSHA1And3-KeyTripleDES-CBC") != std::string::npos,
        info);
    CHECK_MESSAGE(info.find("MAC: sha1") != std::string::npos, info);

    // Through the Key Vault envelope and back, as the VM's agent reads it.
    auto value = EncodeCertificateSecret(pfx_der->Reveal(), password);
    REQUIRE_MESSAGE(value.ok(), value.status().ToString());
    auto decoded = DecodeCertificateSecret(*value, kCertificateContentType);
    REQUIRE(decoded.ok());
    CHECK(decoded->pfx_der.Reveal() == pfx_der->Reveal());
    auto reopened = Pfx::Open(decoded->pfx_der.Reveal(), decoded->password, "the secret's PFX");
    REQUIRE(reopened.ok());
    CHECK(reopened->Thumbprint() == pfx->Thumbprint());

    auto reused = PrivateKeyOfPfx(pfx_der->Reveal(), password);
    REQUIRE(reused.ok());
    CHECK(reused->Reveal() == key->Reveal());
  }
}

TEST_CASE("a chain for another key is refused, naming the leaf and no key material") {
  rotor::testing::TempDir dir;
  const OpenSslCa ca(dir.path());
  auto key = GeneratePrivateKey(KeyType::kEcP256);
  auto other = GeneratePrivateKey(KeyType::kEcP256);
  REQUIRE(key.ok());
  REQUIRE(other.ok());
  auto other_csr = MakeCsr(*other, {"registry.local"});
  auto csr = MakeCsr(*key, {"registry.local"});
  REQUIRE(other_csr.ok());
  REQUIRE(csr.ok());
  auto chain = ParsePemChain(ca.Sign(*other_csr), kSource);
  REQUIRE(chain.ok());

  const std::string built = ErrorOf(BuildPfx(*key, *chain, Secret("pw"), kSource).status());
  CHECK(built.find(
            "the leaf certificate of the test CA's answer, CN=registry.local (thumbprint ") == 0);
  CHECK(built.find("is not for rotor's private key") != std::string::npos);
  const std::string matched = ErrorOf(LeafMatchesCsr(*csr, *chain, kSource));
  CHECK(matched.find("is for another key than the certificate request's") != std::string::npos);
  // The leak check itself finds a key's text.
  REQUIRE(testing::ShowsKeyMaterial(key->Reveal(), key->Reveal()));
  REQUIRE(testing::ShowsKeyMaterial(absl::StrCat("x", KeyBodyLines(*key)[1].substr(3, 17), "y"),
                                    key->Reveal()));
  for (const std::string& message : {built, matched}) {
    CheckHoldsNoKey(message, *key);
    CheckHoldsNoKey(message, *other);
  }
}

TEST_CASE("ParsePemChain refuses what is not a bounded chain of certificates") {
  rotor::testing::TempDir dir;
  const OpenSslCa ca(dir.path());
  auto key = GeneratePrivateKey(KeyType::kEcP256);
  REQUIRE(key.ok());
  auto csr = MakeCsr(*key, {"registry.local"});
  REQUIRE(csr.ok());
  const std::string chain = ca.Sign(*csr);
  const std::string ca_pem = ca.CertificatePem();

  SUBCASE("a chain with CRLF line ends and blank lines between is read, leaf first") {
    std::string crlf;
    for (char c : "\n\n" + chain + "\n") {
      if (c == '\n') crlf += '\r';
      crlf += c;
    }
    auto parsed = ParsePemChain(crlf, kSource);
    REQUIRE_MESSAGE(parsed.ok(), parsed.status().ToString());
    REQUIRE(parsed->size() == 2);
    CHECK((*parsed)[1] == ca_pem);
  }
  SUBCASE("empty") {
    CHECK(ErrorOf(ParsePemChain(" \n\t", kSource).status()) ==
          "the test CA's answer holds no certificate");
  }
  SUBCASE("over 1 MiB") {
    std::string big = chain + std::string(kMaxChainPemBytes, '\n');
    CHECK(ErrorOf(ParsePemChain(big, kSource).status()).find("more than the 1 MiB") !=
          std::string::npos);
  }
  SUBCASE("more than kMaxChainCertificates") {
    std::string many;
    for (int i = 0; i <= kMaxChainCertificates; ++i) many += ca_pem;
    CHECK(ErrorOf(ParsePemChain(many, kSource).status()) ==
          "the test CA's answer holds more than 10 certificates; a chain is leaf first, then its "
          "issuers");
  }
  SUBCASE("garbage before, between and after, shown inert") {
    CHECK(ErrorOf(ParsePemChain("Issued!\x1b]0;pwned\x07\n" + chain, kSource).status()) ==
          "the test CA's answer holds \"Issued!\\e]0;pwned\\x07\" at line 1 where a PEM "
          "certificate was expected");
    const std::string between =
        ErrorOf(ParsePemChain(ca_pem + "done\n" + ca_pem, kSource).status());
    CHECK(between.find("\"done\" at line ") != std::string::npos);
    const std::string after =
        ErrorOf(ParsePemChain(chain + std::string(5000, '#'), kSource).status());
    CHECK(after.size() < 200);
    CHECK(after.find("\"####") != std::string::npos);
    CHECK(after.find(std::string(30, '#')) == std::string::npos);
  }
  SUBCASE("a private key, with or without its PEM lines, is refused without showing it") {
    const std::string with_key = chain + std::string(key->Reveal());
    const std::string message = ErrorOf(ParsePemChain(with_key, kSource).status());
    CHECK(message.find("the test CA's answer holds a private key (\"PRIVATE KEY\") at line ") == 0);
    CheckHoldsNoKey(message, *key);
    const std::string bare = ErrorOf(ParsePemChain(KeyBodyLines(*key)[0], kSource).status());
    CHECK(bare.find("base64 text outside a PEM block at line 1") != std::string::npos);
    CheckHoldsNoKey(bare, *key);
  }
  SUBCASE("other PEM blocks, a missing END line, a damaged certificate") {
    CHECK(ErrorOf(ParsePemChain(*csr, kSource).status()) ==
          "the test CA's answer holds a PEM block (\"CERTIFICATE REQUEST\") at line 1; only "
          "CERTIFICATE blocks are expected");
    CHECK(ErrorOf(ParsePemChain(ca_pem.substr(0, ca_pem.size() - 30), kSource).status()) ==
          "the certificate at line 1 of the test CA's answer has no END CERTIFICATE line");
    std::string damaged = ca_pem;
    damaged[100] = damaged[100] == 'A' ? 'B' : 'A';
    damaged[101] = '*';
    CHECK(ErrorOf(ParsePemChain(chain + damaged, kSource).status())
              .find("the certificate at line ") == 0);
  }
}

TEST_CASE("MakeCsr refuses bad DNS names, naming the entry") {
  auto key = GeneratePrivateKey(KeyType::kEcP256);
  REQUIRE(key.ok());
  CHECK(ErrorOf(MakeCsr(*key, {}).status()) == "a certificate request needs at least one DNS name");
  CHECK(ErrorOf(MakeCsr(*key, std::vector<std::string>(101, "a.example")).status()) ==
        "a certificate request may carry at most 100 DNS names, not 101");
  CHECK(ErrorOf(MakeCsr(*key, {"a.example", ""}).status()) == "DNS name 2 is empty");
  CHECK(ErrorOf(MakeCsr(*key, {"a.example", std::string(254, 'a')}).status())
            .find("is 254 characters long; a DNS name has at most 253") != std::string::npos);
  CHECK(ErrorOf(MakeCsr(*key, {"bad\x1b[2Jname"}).status()) ==
        "DNS name 1 (\"bad\\e[2Jname\") holds a space, a control or a non-ASCII character "
        "(write an international name in its xn-- form)");
  CHECK_FALSE(MakeCsr(*key, {"b\xc3\xa4r.example"}).ok());
  CHECK_FALSE(MakeCsr(*key, {"a example"}).ok());

  // 100 names of 253 characters fit; a first name longer than a CN's 64
  // characters leaves the subject empty.
  const std::string long_name = std::string(60, 'a') + "." + std::string(60, 'b') + ".example";
  auto csr = MakeCsr(*key, {long_name, "short.example"});
  REQUIRE(csr.ok());
  auto shown = RunProcess({"openssl", "req", "-verify", "-noout", "-text"},
                          ProcessOptions{.stdin_data = *csr, .env = {}, .working_dir = {}});
  REQUIRE(shown.ok());
  CHECK(shown->exit_code == 0);
  CHECK(shown->stdout_data.find("CN =") == std::string::npos);
  CHECK(shown->stdout_data.find("DNS:" + long_name) != std::string::npos);
}

TEST_CASE("KeyTypeOf refuses other keys and unreadable text without quoting it") {
  testing::TestPki pki;
  const testing::TestCert p384 = pki.SelfSigned(
      {.common_name = "p384.example", .key_type = testing::KeyType::kEc, .key_bits = 384});
  const Secret p384_key(p384.KeyPem());
  const std::string message = ErrorOf(KeyTypeOf(p384_key).status());
  CHECK(message ==
        "the private key is EC P-384 (384 bits); rotor issues certificates for rsa-2048, "
        "rsa-3072 or ec-p256 keys");

  const Secret damaged_key(
      absl::StrCat(p384_key.Reveal().substr(0, 40), "*", p384_key.Reveal().substr(41)));
  const std::string unreadable = ErrorOf(KeyTypeOf(damaged_key).status());
  CHECK(unreadable.find("cannot read the private key") == 0);
  CheckHoldsNoKey(unreadable, p384_key);
  CheckHoldsNoKey(ErrorOf(MakeCsr(damaged_key, {"a.example"}).status()), p384_key);
}

}  // namespace
}  // namespace rotor::certs
