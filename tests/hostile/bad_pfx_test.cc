// The PFX half of the catalogue: registry.pfx (made here at run time: no
// key is committed) broken in one way per case. `rotor apply
// --auto-approve` must exit 1 with the expected text (the readiness check
// that failed, in Azure Stack Hub's "Name: ERROR (detail)" form where one
// applies) and leave the local vault, deployments and registry files as
// they were.
#include <doctest/doctest.h>

#include <filesystem>
#include <functional>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "tests/hostile/workspace.h"

namespace rotor::hostile {
namespace {

using certs::testing::CertOptions;
using certs::testing::KeyType;
using certs::testing::PfxContents;
using certs::testing::PfxEncryption;

constexpr char kHost[] = "myreg.localhost";

struct BadPfx {
  std::string name;
  // Breaks the workspace (registry.pfx, pfx-password.txt or rotor.toml).
  std::function<void(LocalWorkspace&)> make;
  std::string expected;
};

std::string Leaf(LocalWorkspace& ws, CertOptions options, PfxContents contents = {},
                 PfxEncryption encryption = PfxEncryption::kAes256) {
  if (options.dns_names.empty()) options.dns_names = {kHost};
  return ws.pki().IssueLeaf(options).ToPfx(LocalWorkspace::kPfxPassword, encryption, contents);
}

std::vector<BadPfx> Cases() {
  return {
      {"empty file", [](LocalWorkspace& ws) { ws.Write("registry.pfx", ""); },
       "registry.pfx is not a PKCS#12 file"},
      {"text, not a PFX",
       [](LocalWorkspace& ws) { ws.Write("registry.pfx", "this is not a certificate\n"); },
       "registry.pfx is not a PKCS#12 file"},
      {"a PEM certificate, not a PFX",
       [](LocalWorkspace& ws) {
         ws.Write(
             "registry.pfx",
             ws.pki().IssueLeaf({.common_name = kHost, .dns_names = {kHost}}).CertificatePem());
       },
       "registry.pfx is not a PKCS#12 file"},
      {"truncated to half",
       [](LocalWorkspace& ws) {
         std::string pfx = Leaf(ws, {.common_name = kHost});
         ws.Write("registry.pfx", pfx.substr(0, pfx.size() / 2));
       },
       "registry.pfx is not a PKCS#12 file"},
      {"one byte of the MAC changed",
       [](LocalWorkspace& ws) {
         std::string pfx = Leaf(ws, {.common_name = kHost});
         pfx[pfx.size() - 40] ^= 0x5a;
         ws.Write("registry.pfx", pfx);
       },
       "Parse PFX: ERROR"},
      {"wrong password",
       [](LocalWorkspace& ws) { ws.Write("pfx-password.txt", "not-the-password\n"); },
       "wrong password for"},
      {"empty password file", [](LocalWorkspace& ws) { ws.Write("pfx-password.txt", ""); },
       "pfx-password.txt"},
      {"no private key",
       [](LocalWorkspace& ws) {
         ws.Write("registry.pfx", Leaf(ws, {.common_name = kHost}, {.no_key = true}));
       },
       "holds no private key"},
      {"a key that matches no certificate",
       [](LocalWorkspace& ws) {
         ws.Write("registry.pfx", Leaf(ws, {.common_name = kHost}, {.wrong_key = true}));
       },
       "matches none of its certificates"},
      {"expired",
       [](LocalWorkspace& ws) {
         ws.Write("registry.pfx", Leaf(ws, {.common_name = kHost,
                                            .valid_from = -absl::Hours(24 * 400),
                                            .valid_until = -absl::Hours(24)}));
       },
       "Expiry Date: ERROR"},
      {"not valid yet",
       [](LocalWorkspace& ws) {
         ws.Write("registry.pfx", Leaf(ws, {.common_name = kHost,
                                            .valid_from = absl::Hours(24 * 2),
                                            .valid_until = absl::Hours(24 * 400)}));
       },
       "Expiry Date: ERROR"},
      {"expires within min_valid_days",
       [](LocalWorkspace& ws) {
         ws.Write("registry.pfx",
                  Leaf(ws, {.common_name = kHost, .valid_until = absl::Hours(24 * 10)}));
       },
       "Expiry Date: ERROR"},
      {"host name not covered",
       [](LocalWorkspace& ws) {
         ws.Write("registry.pfx",
                  Leaf(ws, {.common_name = "other.localhost", .dns_names = {"other.localhost"}}));
       },
       "DNS Names: ERROR"},
      {"client authentication only",
       [](LocalWorkspace& ws) {
         ws.Write("registry.pfx", Leaf(ws, {.common_name = kHost, .server_auth = false}));
       },
       "Key Usage: ERROR"},
      {"SHA-1 signature",
       [](LocalWorkspace& ws) {
         ws.Write("registry.pfx", Leaf(ws, {.common_name = kHost, .sha1_signature = true}));
       },
       "Signature Algorithm: ERROR"},
      {"RSA 1024-bit key",
       [](LocalWorkspace& ws) {
         ws.Write("registry.pfx", Leaf(ws, {.common_name = kHost, .key_bits = 1024}));
       },
       "Key Size: ERROR"},
      {"EC P-224 key",
       [](LocalWorkspace& ws) {
         ws.Write("registry.pfx",
                  Leaf(ws, {.common_name = kHost, .key_type = KeyType::kEc, .key_bits = 224}));
       },
       "Key Size: ERROR"},
      {"an unrelated certificate inside",
       [](LocalWorkspace& ws) {
         ws.Write("registry.pfx", Leaf(ws, {.common_name = kHost}, {.extra_cert = true}));
       },
       "Other Certificates: ERROR"},
      {"missing file", [](LocalWorkspace& ws) { std::filesystem::remove(ws.Path("registry.pfx")); },
       "registry.pfx"},
      {"a folder, not a file",
       [](LocalWorkspace& ws) {
         std::filesystem::remove(ws.Path("registry.pfx"));
         std::filesystem::create_directories(ws.Path("registry.pfx"));
       },
       "registry.pfx"},
      {"larger than a Key Vault secret",
       [](LocalWorkspace& ws) {
         // A valid PFX padded with 30 KB of trailing bytes: DER stops at
         // its own length, so only the size can refuse it.
         ws.Write("registry.pfx", Leaf(ws, {.common_name = kHost}) + std::string(30000, '\0'));
       },
       "registry.pfx"},
  };
}

TEST_CASE("bad PFX files are refused with their message and change nothing") {
  LocalWorkspace ws;
  const std::vector<BadPfx> cases = Cases();
  for (const BadPfx& c : cases) {
    CAPTURE(c.name);
    c.make(ws);
    ProcessResult r = ws.Rotor({"apply", "--auto-approve"});
    const std::string output = r.stdout_data + r.stderr_data;
    CAPTURE(output);
    CHECK(r.exit_code == 1);
    CHECK_MESSAGE(absl::StrContains(output, c.expected), "expected: ", c.expected);
    CHECK_FALSE(absl::StrContains(output, LocalWorkspace::kPfxPassword));
    CHECK(DescribeDifference(ws.baseline(), ws.State()) == "");
    std::filesystem::remove_all(ws.Path("registry.pfx"));
    ws.Restore();
  }
}

}  // namespace
}  // namespace rotor::hostile
