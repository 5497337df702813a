#include "providers/issuer_command/command_issuer.h"

#include <doctest/doctest.h>
#include <signal.h>
#include <sys/stat.h>

#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "base/files.h"
#include "certs/issuance.h"
#include "certs/testing/openssl_ca.h"
#include "tests/support/testing.h"

namespace rotor::issuer_command {
namespace {

constexpr char kDescribe[] = "[certificate.issuer] command";

// A scratch folder with a CA, a key and its CSR, and issuer scripts.
class IssuerWorkspace {
 public:
  IssuerWorkspace() : ca_(dir_.path()) {
    auto key = certs::GeneratePrivateKey(certs::KeyType::kEcP256);
    REQUIRE(key.ok());
    key_ = *std::move(key);
    auto csr = certs::MakeCsr(key_, {"registry.local"});
    REQUIRE(csr.ok());
    csr_ = *csr;
  }

  const std::string& csr() const { return csr_; }
  const certs::testing::OpenSslCa& ca() const { return ca_; }
  const rotor::testing::TempDir& dir() const { return dir_; }

  // An executable bash script with `body`; returns its path.
  std::string Script(const std::string& name, const std::string& body) const {
    const std::string path =
        dir_.Write(name, absl::StrCat("#!/usr/bin/env bash\nset -euo pipefail\n", body, "\n"));
    REQUIRE(::chmod(path.c_str(), 0755) == 0);
    return path;
  }

  absl::StatusOr<std::string> Issue(const std::string& script,
                                    absl::Duration timeout = absl::Seconds(30)) const {
    CommandIssuer issuer(
        CommandIssuerOptions{.command = {script}, .timeout = timeout, .describe = kDescribe});
    return issuer.Issue(IssueRequest{
        .secret_name = "containersecret", .dns_names = {"registry.local"}, .csr_pem = csr_});
  }

  // The error of an Issue that must fail; it holds nothing of the key.
  std::string ErrorOf(const absl::StatusOr<std::string>& issued) const {
    REQUIRE_FALSE(issued.ok());
    const std::string message(issued.status().message());
    CHECK_MESSAGE(!certs::testing::ShowsKeyMaterial(message, key_.Reveal()), message);
    CHECK(message.find(absl::StrCat(kDescribe, " (", dir_.path())) != std::string::npos);
    return message;
  }

 private:
  rotor::testing::TempDir dir_;
  certs::testing::OpenSslCa ca_;
  Secret key_;
  std::string csr_;
};

// Gone, or a zombie waiting for init to reap it.
bool Dead(pid_t pid) {
  if (::kill(pid, 0) != 0) return true;
  auto stat = ReadFile(absl::StrCat("/proc/", pid, "/stat"));
  if (!stat.ok()) return true;
  const size_t paren = stat->rfind(')');
  return paren != std::string::npos && stat->substr(paren + 2, 1) == "Z";
}

TEST_CASE("an issuer script signing the CSR with openssl x509 -req issues the chain") {
  IssuerWorkspace ws;
  const std::string script = ws.Script(
      "issue.sh", absl::StrCat("tee '", ws.dir().Path("seen.csr"), "' | ", ws.ca().SignCommand()));
  auto issued = ws.Issue(script);
  REQUIRE_MESSAGE(issued.ok(), issued.status().ToString());
  CHECK(ws.dir().Read("seen.csr") == ws.csr());
  auto chain = certs::ParsePemChain(*issued, "the issued chain");
  REQUIRE(chain.ok());
  REQUIRE(chain->size() == 2);
  CHECK((*chain)[1] == ws.ca().CertificatePem());
  CHECK(certs::LeafMatchesCsr(ws.csr(), *chain, "the issued chain").ok());
}

TEST_CASE("a failing issuer's exit status and the inert tail of its stderr are reported") {
  IssuerWorkspace ws;
  const std::string refused = ws.ErrorOf(ws.Issue(ws.Script(
      "refuse.sh",
      "cat >/dev/null; echo 'contacting the CA' >&2; "
      "printf 'CA refused: template \\033[31mWebServer\\033[0m not allowed\\n' >&2; exit 3")));
  CHECK(refused.find(") exited with status 3 issuing containersecret; its standard error ends: "
                     "contacting the CA\\nCA refused: template \\e[31mWebServer\\e[0m not "
                     "allowed") != std::string::npos);

  // A flood on stderr shows only its end.
  const std::string noisy = ws.ErrorOf(
      ws.Issue(ws.Script("noisy.sh",
                         "cat >/dev/null; for i in $(seq 5000); do echo \"noise $i\" >&2; done; "
                         "echo 'the last word' >&2; exit 1")));
  CHECK(noisy.size() < 1000);
  CHECK(noisy.find("the last word") != std::string::npos);
  CHECK(noisy.find("noise 1\\n") == std::string::npos);

  const std::string silent = ws.ErrorOf(ws.Issue(ws.Script("silent.sh", "exit 2")));
  CHECK(silent.find("exited with status 2 issuing containersecret and printed nothing on "
                    "standard error") != std::string::npos);
}

TEST_CASE("a hanging issuer is ended with its whole process group at the timeout") {
  IssuerWorkspace ws;
  const std::string pid_file = ws.dir().Path("child.pid");
  const std::string script = ws.Script(
      "hang.sh", absl::StrCat("sleep 60 & echo $! > '", pid_file, "'; echo started >&2; wait"));
  const absl::Time start = absl::Now();
  const std::string message = ws.ErrorOf(ws.Issue(script, absl::Milliseconds(1500)));
  CHECK(absl::Now() - start < absl::Seconds(5));
  CHECK(message.find(") timed out after 1.5s issuing containersecret; it and what it started "
                     "were ended") != std::string::npos);
  pid_t child = 0;
  REQUIRE(absl::SimpleAtoi(absl::StripAsciiWhitespace(ws.dir().Read("child.pid")), &child));
  bool dead = false;
  for (int i = 0; i < 200 && !(dead = Dead(child)); ++i) absl::SleepFor(absl::Milliseconds(10));
  CHECK_MESSAGE(dead, "the background sleep ", child, " outlived the issuer");
}

TEST_CASE("an issuer's output that is not a chain for the CSR is refused") {
  IssuerWorkspace ws;
  SUBCASE("garbage") {
    const std::string message = ws.ErrorOf(ws.Issue(
        ws.Script("garbage.sh", "cat >/dev/null; printf 'Request 42 pending\\033[2J\\n'")));
    CHECK(message.find("the output of [certificate.issuer] command (") == 0);
    CHECK(message.find(") holds \"Request 42 pending\\e[2J\" at line 1 where a PEM certificate "
                       "was expected") != std::string::npos);
  }
  SUBCASE("nothing") {
    const std::string message = ws.ErrorOf(ws.Issue(ws.Script("nothing.sh", "cat >/dev/null")));
    CHECK(message.find(") holds no certificate") != std::string::npos);
  }
  SUBCASE("a chain for another key") {
    auto other_key = certs::GeneratePrivateKey(certs::KeyType::kEcP256);
    REQUIRE(other_key.ok());
    auto other_csr = certs::MakeCsr(*other_key, {"registry.local"});
    REQUIRE(other_csr.ok());
    const std::string other_path = ws.dir().Write("other.csr", *other_csr);
    const std::string message = ws.ErrorOf(
        ws.Issue(ws.Script("other.sh", absl::StrCat("cat >/dev/null; exec < '", other_path, "'; ",
                                                    ws.ca().SignCommand()))));
    CHECK_MESSAGE(
        message.find("is for another key than the certificate request's") != std::string::npos,
        message);
    CHECK_FALSE(certs::testing::ShowsKeyMaterial(message, other_key->Reveal()));
  }
  SUBCASE("more than 1 MiB") {
    const absl::Time start = absl::Now();
    const std::string message =
        ws.ErrorOf(ws.Issue(ws.Script("flood.sh", "cat >/dev/null; yes PEM")));
    CHECK(absl::Now() - start < absl::Seconds(10));
    CHECK(message.find(") printed more than 1 MiB, more than a certificate chain takes; it was "
                       "ended") != std::string::npos);
  }
  SUBCASE("a program that cannot be started") {
    CommandIssuer issuer(CommandIssuerOptions{.command = {ws.dir().Path("missing.sh")},
                                              .timeout = absl::Seconds(5),
                                              .describe = kDescribe});
    const std::string message = ws.ErrorOf(issuer.Issue(IssueRequest{
        .secret_name = "containersecret", .dns_names = {"registry.local"}, .csr_pem = ws.csr()}));
    CHECK(message.find(") could not be started: ") != std::string::npos);
  }
}

}  // namespace
}  // namespace rotor::issuer_command
