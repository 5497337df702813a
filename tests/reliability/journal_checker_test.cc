// The invariant checker on hand-written journals: a clean apply passes, and
// each invariant is caught by a journal with one violating line.
#include "tests/reliability/journal_checker.h"

#include <doctest/doctest.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace rotor::reliability {
namespace {

constexpr char kArm[] =
    "/subscriptions/s/resourcegroups/rg/providers/Microsoft.Resources/"
    "deployments/";
constexpr char kUrl[] = "https://kv.vault.localhost:1/secrets/cert/";

std::string Kv(int seq, const std::string& method, const std::string& op, const std::string& secret,
               const std::string& extra, int status = 200,
               const std::string& client = "rotor/0.1.0") {
  return absl::StrCat(R"({"seq":)", seq, R"(,"time":"2025-01-01T00:00:00.000Z","ms":1,"method":")",
                      method, R"(","path":"/secrets/)", secret, R"(","status":)", status,
                      R"(,"fault":"","client":")", client,
                      R"(","surface":"kv","vault":"kv","op":")", op, R"(","secret":")", secret,
                      R"(")", extra, "}");
}

std::string Set(int seq, const std::string& secret, const std::string& version,
                const std::string& client = "rotor/0.1.0") {
  return Kv(seq, "PUT", "SetSecret", secret,
            absl::StrCat(R"(,"version":")", version,
                         R"(","content_type":"user credentials","enabled":true)"),
            200, client);
}

std::string SetPfx(int seq, const std::string& version, const std::string& thumbprint,
                   const std::string& client = "rotor/0.1.0") {
  return Kv(seq, "PUT", "SetSecret", "cert",
            absl::StrCat(R"(,"version":")", version, R"(","content_type":"pfx","enabled":true,)",
                         R"("thumbprint":")", thumbprint, R"(")"),
            200, client);
}

std::string Delete(int seq, const std::string& secret) {
  return Kv(seq, "DELETE", "DeleteSecret", secret, "");
}

std::string Disable(int seq, const std::string& secret, const std::string& version) {
  return Kv(seq, "PATCH", "UpdateSecret", secret,
            absl::StrCat(R"(,"version":")", version, R"(","enabled":false)"));
}

std::string Put(int seq, const std::string& name, const std::string& version,
                const std::string& thumbprint, const std::string& running = "") {
  return absl::StrCat(R"({"seq":)", seq, R"(,"time":"2025-01-01T00:00:01.000Z","ms":3,)",
                      R"("method":"PUT","path":")", kArm, name,
                      R"(","status":201,"fault":"","client":"rotor/0.1.0","surface":"arm",)",
                      R"("resource_group":"rg","deployment":")", name, R"(","running":[)",
                      running.empty() ? "" : absl::StrCat("\"", running, "\""),
                      R"(],"managed_by":"rotor","pfx_secret_url":")", kUrl, version,
                      R"(","pfx_thumbprint":")", thumbprint, R"("})");
}

// The seed (curl), as PowerShell leaves it: admin, ci and cert v1.
std::vector<std::string> Seed() {
  return {Set(1, "admin", "a1", "curl/7.88.1"), Set(2, "ci", "c1", "curl/7.88.1"),
          SetPfx(3, "v1", "AAAA", "curl/7.88.1")};
}

CheckResult Check(std::vector<std::string> lines,
                  std::vector<std::string> users = {"admin", "ops"}) {
  auto entries = ParseJournal(absl::StrJoin(lines, "\n"));
  REQUIRE(entries.ok());
  return CheckJournal(*entries, {.users = std::move(users)});
}

TEST_CASE(
    "journal checker: a clean rotation passes and the replay knows every "
    "version") {
  // ops replaces ci; a new certificate; the redeploy names the new version.
  auto lines = Seed();
  lines.push_back(Set(4, "ops", "o1"));
  lines.push_back(SetPfx(5, "v2", "BBBB"));
  lines.push_back(Delete(6, "ci"));
  lines.push_back(Put(7, "registry-1", "v2", "bbbb"));
  CheckResult r = Check(lines);
  CHECK_MESSAGE(r.violations.empty(), r.Describe());
  CHECK(r.vault.written["cert"] == std::vector<std::string>{"v1", "v2"});
  CHECK(r.vault.written["ops"] == std::vector<std::string>{"o1"});
  CHECK(r.vault.deleted == std::set<std::string>{"ci"});
  CHECK(r.vault.deployment_puts == 1);
  CHECK(r.vault.deployments_accepted == 1);
}

TEST_CASE("journal checker: a delete before the replacement user landed") {
  auto lines = Seed();
  lines.push_back(Delete(4, "ci"));  // ops is not written yet
  lines.push_back(Set(5, "ops", "o1"));
  CheckResult r = Check(lines);
  REQUIRE(r.violations.size() == 1);
  CHECK(r.violations[0].invariant == "users");
  CHECK(r.violations[0].line == 4);
  CHECK(r.violations[0].detail ==
        "DeleteSecret of ci arrived before declared user ops had an enabled "
        "secret");
}

TEST_CASE(
    "journal checker: a delete sent while the replacement was still in "
    "flight") {
  // ops' write arrived after the delete (seq 6 > 5) though it answered first.
  auto lines = Seed();
  lines.push_back(Set(6, "ops", "o1"));
  lines.push_back(Delete(5, "ci"));
  CheckResult r = Check(lines);
  REQUIRE(r.violations.size() == 1);
  CHECK(r.violations[0].invariant == "users");
}

TEST_CASE("journal checker: disabling a declared user's only version") {
  auto lines = Seed();
  lines.push_back(Set(4, "ops", "o1"));
  lines.push_back(Disable(5, "admin", "a1"));
  CheckResult r = Check(lines);
  REQUIRE(r.violations.size() == 1);
  CHECK(r.violations[0].invariant == "users");
  CHECK(r.violations[0].detail ==
        "UpdateSecret left declared user admin without an enabled secret");
  // Disabling an older version while a newer one is enabled is fine.
  auto ok = Seed();
  ok.push_back(Set(4, "ops", "o1"));
  ok.push_back(Set(5, "admin", "a2"));
  ok.push_back(Disable(6, "admin", "a1"));
  CheckResult fine = Check(ok);
  CHECK_MESSAGE(fine.violations.empty(), fine.Describe());
}

TEST_CASE("journal checker: deleting a declared user's secret") {
  auto lines = Seed();
  lines.push_back(Set(4, "ops", "o1"));
  lines.push_back(Delete(5, "admin"));
  CheckResult r = Check(lines);
  REQUIRE(r.violations.size() == 1);
  CHECK(r.violations[0].detail ==
        "DeleteSecret left declared user admin without an enabled secret");
}

TEST_CASE("journal checker: the previous certificate version deleted or disabled") {
  auto deleted = Seed();
  deleted.push_back(Set(4, "ops", "o1"));
  deleted.push_back(SetPfx(5, "v2", "BBBB"));
  deleted.push_back(Delete(6, "cert"));
  CheckResult r = Check(deleted);
  REQUIRE(r.violations.size() == 1);
  CHECK(r.violations[0].invariant == "certificate");
  CHECK(r.violations[0].line == 6);

  auto disabled = Seed();
  disabled.push_back(Set(4, "ops", "o1"));
  disabled.push_back(SetPfx(5, "v2", "BBBB"));
  disabled.push_back(Disable(6, "cert", "v1"));
  r = Check(disabled);
  REQUIRE(r.violations.size() == 1);
  CHECK(r.violations[0].invariant == "certificate");
  CHECK(r.violations[0].detail == "UpdateSecret disables cert version v1");
}

TEST_CASE(
    "journal checker: a redeploy whose thumbprint is not the PFX's at its "
    "URL") {
  auto lines = Seed();
  lines.push_back(Set(4, "ops", "o1"));
  lines.push_back(SetPfx(5, "v2", "BBBB"));
  lines.push_back(Put(6, "registry-1", "v2", "AAAA"));  // the old thumbprint
  CheckResult r = Check(lines);
  REQUIRE(r.violations.size() == 1);
  CHECK(r.violations[0].invariant == "thumbprint");
  CHECK(r.violations[0].detail ==
        absl::StrCat("deployment PUT registry-1 passes thumbprint AAAA but the PFX at ", kUrl,
                     "v2 has BBBB"));
  // A version nobody wrote.
  auto unknown = Seed();
  unknown.push_back(Set(4, "ops", "o1"));
  unknown.push_back(Put(5, "registry-1", "v9", "AAAA"));
  r = Check(unknown);
  REQUIRE(r.violations.size() == 1);
  CHECK(r.violations[0].invariant == "thumbprint");
}

TEST_CASE("journal checker: a redeploy on top of a running deployment") {
  auto lines = Seed();
  lines.push_back(Set(4, "ops", "o1"));
  lines.push_back(Put(5, "registry-1", "v1", "AAAA"));
  lines.push_back(Put(6, "registry-2", "v1", "AAAA", "registry-1"));
  CheckResult r = Check(lines);
  REQUIRE(r.violations.size() == 1);
  CHECK(r.violations[0].invariant == "running");
  CHECK(r.violations[0].line == 6);
  CHECK(r.vault.deployment_puts == 2);
}

TEST_CASE("journal checker: requests that were not carried out change nothing") {
  // A dropped delete of admin and a 503 on it: no user lost; a SetSecret
  // answered 500 wrote no version.
  auto lines = Seed();
  lines.push_back(Set(4, "ops", "o1"));
  lines.push_back(Kv(5, "DELETE", "DeleteSecret", "ci", "", 0));
  lines.push_back(Kv(6, "PUT", "SetSecret", "ops", R"(,"content_type":"user credentials")", 500));
  CheckResult r = Check(lines);
  CHECK_MESSAGE(r.violations.empty(), r.Describe());
  CHECK(r.vault.written["ops"] == std::vector<std::string>{"o1"});
  CHECK(r.vault.deleted.empty());
}

TEST_CASE("journal checker: a line that is not JSON is refused with its number") {
  auto entries = ParseJournal(absl::StrCat(Set(1, "a", "1"), "\n{\"seq\":2,"));
  REQUIRE_FALSE(entries.ok());
  CHECK(entries.status().message().find("journal line 2") != std::string::npos);
}

}  // namespace
}  // namespace rotor::reliability
