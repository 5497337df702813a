#include "providers/local/local_vault.h"

#include <doctest/doctest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <filesystem>
#include <string>

#include "absl/strings/match.h"
#include "base/clock.h"
#include "base/files.h"
#include "tests/support/testing.h"

namespace rotor::local {
namespace {

absl::Time T0() { return absl::FromUnixSeconds(1700000000); }

SetSecretRequest Req(const std::string& value, const std::string& content_type = "") {
  SetSecretRequest r;
  r.value = Secret(value);
  r.content_type = content_type;
  r.tags = {{kManagedByTag, kManagedByValue}};
  return r;
}

LocalVaultOptions Options(const testing::TempDir& dir, const Clock& clock) {
  LocalVaultOptions o;
  o.state_dir = dir.Path("state");
  o.name = "newregkv";
  o.resource_group = "newregreg";
  o.clock = &clock;
  return o;
}

int Mode(const std::string& path) {
  struct stat st;
  REQUIRE(::stat(path.c_str(), &st) == 0);
  return st.st_mode & 0777;
}

std::vector<std::string> Entries(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    out.push_back(e.path().filename().string());
  }
  return out;
}

TEST_CASE("LocalVault: info, store path and modes") {
  testing::TempDir dir;
  FakeClock clock(T0());
  auto vault = LocalVault::Open(Options(dir, clock));
  REQUIRE(vault.ok());
  const VaultInfo& info = (*vault)->info();
  CHECK(info.name == "newregkv");
  CHECK(info.base_url == "https://newregkv.vault.rotor.local");
  CHECK(info.resource_id ==
        "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/"
        "newregreg/"
        "providers/Microsoft.KeyVault/vaults/newregkv");
  CHECK((*vault)->path() == dir.Path("state/vaults/newregkv.json"));
  CHECK(PathExists((*vault)->path()));
  CHECK(Mode((*vault)->path()) == 0600);
  CHECK(Mode(dir.Path("state/vaults")) == 0700);
  CHECK(Mode(dir.Path("state")) == 0700);

  auto v = (*vault)->SetSecret("admin", Req("pw"));
  REQUIRE(v.ok());
  CHECK(v->id == "https://newregkv.vault.rotor.local/secrets/admin/" + v->version);
  CHECK(Mode((*vault)->path()) == 0600);
}

TEST_CASE("LocalVault: every mutation is persisted, reopening gives the same vault") {
  testing::TempDir dir;
  FakeClock clock(T0());
  std::string admin_v1, admin_v2;
  {
    auto vault = LocalVault::Open(Options(dir, clock));
    REQUIRE(vault.ok());
    admin_v1 = (*vault)->SetSecret("admin", Req("first-password", kUserContentType))->version;
    clock.Advance(absl::Seconds(30));
    admin_v2 = (*vault)->SetSecret("Admin", Req("second-password", kUserContentType))->version;
    REQUIRE((*vault)->SetVersionEnabled("admin", admin_v1, false).ok());
    REQUIRE((*vault)->SetSecret("ci", Req("ci-password")).ok());
    REQUIRE((*vault)->DeleteSecret("ci").ok());
    REQUIRE((*vault)->SetSecret("old", Req("x")).ok());
    REQUIRE((*vault)->DeleteSecret("old").ok());
    REQUIRE((*vault)->PurgeDeletedSecret("old").ok());
  }
  const std::string text = dir.Read("state/vaults/newregkv.json");
  CHECK(absl::StrContains(text, "\"format_version\": 1"));
  CHECK(absl::StrContains(text, "second-password"));  // the file is the vault
  CHECK_FALSE(absl::StrContains(text, "\"old\""));

  auto reopened = LocalVault::Open(Options(dir, clock));
  REQUIRE(reopened.ok());
  auto list = (*reopened)->ListSecrets();
  REQUIRE(list.ok());
  REQUIRE(list->size() == 1);
  CHECK((*list)[0].name == "admin");
  CHECK((*list)[0].version == admin_v2);
  CHECK((*list)[0].created == T0() + absl::Seconds(30));
  CHECK((*list)[0].ManagedByRotor());
  auto versions = (*reopened)->ListSecretVersions("admin");
  REQUIRE(versions->size() == 2);
  auto old = (*reopened)->GetSecret("admin", admin_v1);
  CHECK(VaultErrorCode(old.status()) == kSecretDisabled);
  CHECK((*reopened)->GetSecret("admin")->value.Reveal() == "second-password");
  auto deleted = (*reopened)->ListDeletedSecrets();
  REQUIRE(deleted.ok());
  REQUIRE(deleted->size() == 1);
  CHECK(deleted->front().latest.name == "ci");
  CHECK(VaultErrorCode((*reopened)->SetSecret("ci", Req("x")).status()) ==
        kObjectIsDeletedButRecoverable);
  REQUIRE((*reopened)->RecoverDeletedSecret("ci").ok());
  CHECK((*reopened)->GetSecret("ci")->value.Reveal() == "ci-password");
  CHECK(*(*reopened)->generation() == 9);
}

TEST_CASE("LocalVault: atomic writes leave no temporary files") {
  testing::TempDir dir;
  FakeClock clock(T0());
  auto vault = LocalVault::Open(Options(dir, clock));
  REQUIRE(vault.ok());
  for (int i = 0; i < 20; ++i) {
    REQUIRE((*vault)->SetSecret("user" + std::to_string(i % 3), Req("pw")).ok());
  }
  CHECK(Entries(dir.Path("state/vaults")) == std::vector<std::string>{"newregkv.json"});
}

TEST_CASE("LocalVault: failed operations do not touch the file") {
  testing::TempDir dir;
  FakeClock clock(T0());
  auto vault = LocalVault::Open(Options(dir, clock));
  REQUIRE(vault.ok());
  REQUIRE((*vault)->SetSecret("a", Req("x")).ok());
  const std::string before = dir.Read("state/vaults/newregkv.json");
  CHECK_FALSE((*vault)->SetSecret("bad_name", Req("x")).ok());
  CHECK_FALSE((*vault)->DeleteSecret("missing").ok());
  CHECK(dir.Read("state/vaults/newregkv.json") == before);
}

TEST_CASE("LocalVault: a write error undoes the mutation in memory") {
  testing::TempDir dir;
  FakeClock clock(T0());
  auto vault = LocalVault::Open(Options(dir, clock));
  REQUIRE(vault.ok());
  REQUIRE((*vault)->SetSecret("a", Req("x")).ok());
  const std::string before = dir.Read("state/vaults/newregkv.json");
  // A file-size limit below the next store's size makes the write fail
  // (EFBIG), for root too.
  struct rlimit saved;
  REQUIRE(::getrlimit(RLIMIT_FSIZE, &saved) == 0);
  auto old_handler = ::signal(SIGXFSZ, SIG_IGN);
  struct rlimit small = saved;
  small.rlim_cur = before.size();
  REQUIRE(::setrlimit(RLIMIT_FSIZE, &small) == 0);
  auto failed = (*vault)->SetSecret("b", Req("y"));
  REQUIRE(::setrlimit(RLIMIT_FSIZE, &saved) == 0);
  ::signal(SIGXFSZ, old_handler);
  CHECK_FALSE(failed.ok());
  CHECK((*vault)->GetSecret("b").status().code() == absl::StatusCode::kNotFound);
  CHECK((*vault)->ListSecrets()->size() == 1);
  CHECK(dir.Read("state/vaults/newregkv.json") == before);
  CHECK(Entries(dir.Path("state/vaults")) == std::vector<std::string>{"newregkv.json"});
  // And the vault keeps working afterwards.
  CHECK((*vault)->SetSecret("b", Req("y")).ok());
  CHECK((*vault)->ListSecrets()->size() == 2);
}

TEST_CASE("LocalVault: two instances over one folder see each other's writes") {
  testing::TempDir dir;
  FakeClock clock(T0());
  auto first = LocalVault::Open(Options(dir, clock));
  auto second = LocalVault::Open(Options(dir, clock));
  REQUIRE(first.ok());
  REQUIRE(second.ok());
  REQUIRE((*first)->SetSecret("a", Req("1")).ok());
  CHECK((*second)->GetSecret("a")->value.Reveal() == "1");
  REQUIRE((*second)->SetSecret("b", Req("2")).ok());
  CHECK((*first)->ListSecrets()->size() == 2);
  CHECK((*first)->GetSecret("b")->value.Reveal() == "2");
}

TEST_CASE("LocalVault: options and errors") {
  testing::TempDir dir;
  FakeClock clock(T0());
  auto options = Options(dir, clock);
  options.name = "bad/name";
  CHECK(LocalVault::Open(options).status().code() == absl::StatusCode::kInvalidArgument);
  options.name = "NewRegKV";
  options.subscription_id = "11111111-2222-3333-4444-555555555555";
  options.model.soft_delete = false;
  auto vault = LocalVault::Open(options);
  REQUIRE(vault.ok());
  CHECK((*vault)->path() == dir.Path("state/vaults/newregkv.json"));
  CHECK((*vault)->info().base_url == "https://newregkv.vault.rotor.local");
  CHECK(absl::StartsWith((*vault)->info().resource_id,
                         "/subscriptions/11111111-2222-3333-4444-555555555555/"));
  auto v = (*vault)->SetSecret("s", Req("x"));
  REQUIRE(v.ok());
  CHECK(v->recovery_level == "Purgeable");
  REQUIRE((*vault)->DeleteSecret("s").ok());
  CHECK((*vault)->ListDeletedSecrets()->empty());

  // A corrupt store is reported, with the path, and never overwritten.
  testing::TempDir other;
  other.Write("state/vaults/newregkv.json", "{\"format_version\": 1, \"secrets\": 3}");
  auto corrupt = LocalVault::Open(Options(other, clock));
  CHECK(corrupt.status().code() == absl::StatusCode::kDataLoss);
  CHECK(absl::StrContains(corrupt.status().message(), "newregkv.json"));
}

}  // namespace
}  // namespace rotor::local
