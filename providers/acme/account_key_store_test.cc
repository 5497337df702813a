#include "providers/acme/account_key_store.h"

#include <string>

#include "absl/strings/match.h"
#include "base/clock.h"
#include "doctest/doctest.h"
#include "engine/model/registry_vm.h"
#include "engine/model/secret_kind.h"
#include "providers/acme/jws.h"
#include "providers/local/local_vault.h"
#include "tests/fakes/fake_vault.h"
#include "tests/support/testing.h"

namespace rotor::acme {
namespace {

Secret FreshKeyPem() {
  auto key = AccountKey::Generate();
  REQUIRE(key.ok());
  auto pem = key->Pem();
  REQUIRE(pem.ok());
  return *std::move(pem);
}

// What every Vault implementation must show after a Save.
void CheckSavedAndLoaded(Vault& vault) {
  VaultAccountKeyStore store(vault, "https://ca.test/directory");
  auto none = store.Load();
  REQUIRE(none.ok());
  CHECK_FALSE(none->has_value());

  const Secret pem = FreshKeyPem();
  REQUIRE(store.Save(pem).ok());
  auto stored = vault.GetSecret(kAcmeAccountSecretName);
  REQUIRE(stored.ok());
  // Never short enough for the registry VM to make a login of it.
  CHECK(stored->value.size() > kMaxLoginSecretLength);
  CHECK(stored->meta.content_type == kAcmeAccountContentType);
  CHECK(stored->meta.tags == RotorTags(kRoleAcmeAccount));
  CHECK(absl::StartsWith(stored->value.Reveal(),
                         R"({"kind":"rotor-acme-account","directory":"https://ca.test/directory",)"
                         R"("key":"-----BEGIN PRIVATE KEY-----\n)"));

  auto loaded = store.Load();
  REQUIRE(loaded.ok());
  REQUIRE(loaded->has_value());
  CHECK((*loaded)->Equals(pem));
  CHECK(AccountKey::FromPem(**loaded).ok());
}

TEST_CASE("the account key is kept in the vault as a long envelope, and read back") {
  FakeClock clock(absl::FromUnixSeconds(1800000000));
  fakes::FakeVault fake(clock);
  CheckSavedAndLoaded(fake);

  rotor::testing::TempDir dir;
  local::LocalVaultOptions options;
  options.state_dir = dir.Path("state");
  options.name = "kv";
  options.resource_group = "rg";
  auto local = local::LocalVault::Open(options);
  REQUIRE(local.ok());
  CheckSavedAndLoaded(**local);
}

TEST_CASE("a secret that is not the envelope is an error that does not quote it") {
  FakeClock clock(absl::FromUnixSeconds(1800000000));
  fakes::FakeVault vault(clock);
  VaultAccountKeyStore store(vault, "https://ca.test/directory");
  for (const char* value : {"hunter2-not-json", R"({"kind":"other","key":"hunter2-key"})",
                            R"({"kind":"rotor-acme-account","key":7})"}) {
    CAPTURE(value);
    SetSecretRequest write;
    write.value = Secret(value);
    REQUIRE(vault.SetSecret(kAcmeAccountSecretName, write).ok());
    auto loaded = store.Load();
    REQUIRE_FALSE(loaded.ok());
    CHECK(absl::StrContains(loaded.status().message(), kAcmeAccountSecretName));
    CHECK_FALSE(absl::StrContains(loaded.status().message(), "hunter2"));
  }
  // A vault that cannot be read is not "no key" (a second account would
  // be made over the first).
  vault.FailCall(std::string("get ") + kAcmeAccountSecretName,
                 absl::PermissionDeniedError("Forbidden"));
  auto denied = store.Load();
  CHECK(denied.status().code() == absl::StatusCode::kPermissionDenied);
  CHECK(absl::StrContains(denied.status().message(), "reading the ACME account key"));
}

TEST_CASE("an envelope short enough to become a login is never written") {
  FakeClock clock(absl::FromUnixSeconds(1800000000));
  fakes::FakeVault vault(clock);
  VaultAccountKeyStore store(vault, "");
  const absl::Status refused = store.Save(Secret("short-key-that-is-no-key"));
  CHECK(refused.code() == absl::StatusCode::kFailedPrecondition);
  CHECK_FALSE(absl::StrContains(refused.message(), "short-key"));
  CHECK(vault.CountCalls("set ") == 0);
  // The envelope and its reader agree, and keep the key intact.
  const Secret pem = FreshKeyPem();
  auto envelope = AccountEnvelope("https://ca.test/d\"q", pem);
  REQUIRE(envelope.ok());
  auto key = KeyOfAccountEnvelope(*envelope);
  REQUIRE(key.ok());
  CHECK(key->Equals(pem));
}

}  // namespace
}  // namespace rotor::acme
