// The URLs the emulator advertises for itself, all on one port.
//
//   ARM / metadata   https://management.localhost:PORT
//   login (AAD)      https://login.localhost:PORT/{tenant}
//   login (ADFS)     https://login.localhost:PORT/adfs
//   Key Vault        https://{vault}.vault.localhost:PORT
//   token audiences  Key Vault: https://vault.localhost:PORT (the challenge's
//                    resource; also accepted without the port)
//                    ARM: https://management.localhost:PORT/<app guid> (the
//                    metadata audience), or the ARM URL itself
#ifndef ROTOR_TESTS_EMULATOR_ENDPOINTS_H_
#define ROTOR_TESTS_EMULATOR_ENDPOINTS_H_

#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "tests/emulator/options.h"

namespace rotor::emulator {

struct Endpoints {
  int port = 0;
  std::string identity = "aad";
  std::string tenant = kDefaultTenant;

  bool adfs() const { return identity == "adfs"; }
  std::string Origin(absl::string_view host) const {
    return absl::StrCat("https://", host, ":", port);
  }
  std::string Arm() const { return Origin("management.localhost"); }
  std::string Login() const { return Origin("login.localhost"); }
  // The authority clients use: AAD {login}/{tenant}, ADFS {login}/adfs.
  std::string Authority() const {
    return adfs() ? absl::StrCat(Login(), "/adfs") : absl::StrCat(Login(), "/", tenant);
  }
  std::string Vault(absl::string_view name) const {
    return Origin(absl::StrCat(absl::AsciiStrToLower(name), ".vault.localhost"));
  }
  std::string VaultResource() const { return Origin("vault.localhost"); }
  std::string ArmAudience() const { return absl::StrCat(Arm(), "/", kArmAudienceAppId); }
  // The Key Vault resource the registry VM asks a token for: the metadata's
  // audiences[0] with "https://management." replaced by "https://vault."
  // (script.sh line 119). Every stamp accepts it.
  std::string VmVaultResource() const {
    return absl::StrCat(Origin("vault.localhost"), "/", kArmAudienceAppId);
  }

  // Audiences compared lower-cased without a trailing slash.
  static std::string NormalizeAudience(absl::string_view aud) {
    std::string a = absl::AsciiStrToLower(aud);
    while (!a.empty() && a.back() == '/') a.pop_back();
    return a;
  }
  std::vector<std::string> VaultAudiences() const {
    return {NormalizeAudience(VaultResource()), "https://vault.localhost",
            NormalizeAudience(VmVaultResource())};
  }
  std::vector<std::string> ArmAudiences() const {
    return {NormalizeAudience(ArmAudience()), NormalizeAudience(Arm()),
            NormalizeAudience(Origin("localhost")), NormalizeAudience(Origin("127.0.0.1"))};
  }
};

}  // namespace rotor::emulator

#endif  // ROTOR_TESTS_EMULATOR_ENDPOINTS_H_
