#include "engine/diff/vm_logins.h"

#include <algorithm>
#include <map>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "engine/model/registry_vm.h"
#include "engine/model/secret_kind.h"

namespace rotor::diff_internal {
namespace {

// What one secret of the vault will be for the VM after the apply.
struct Listed {
  std::string name;
  enum class What { kLogin, kCertificate, kDisabled, kBrokenLogin, kUnknown } what;
  std::string why;  // for kBrokenLogin / kUnknown
};

// The vault as the VM lists it now, by lower-cased name; `users`: the
// declared users by SecretKey.
std::map<std::string, Listed> ListedNow(const DesiredState& desired, const ActualState& actual,
                                        const std::map<std::string, const DesiredUser*>& users) {
  std::map<std::string, Listed> vault;  // lower-cased name
  for (const auto& [key, live] : actual.secrets) {
    Listed l{live.name, Listed::What::kUnknown, ""};
    const SecretKind kind = ClassifySecret(live);
    auto user = users.find(key);
    if (user != users.end() || kind == SecretKind::kUser) {
      l.what = live.enabled ? Listed::What::kLogin : Listed::What::kDisabled;
    } else if (kind == SecretKind::kCertificate || IsAcmeAccount(live)) {
      l.what = Listed::What::kCertificate;  // too long to be a login
    } else {
      const Secret* value = actual.FindValue(live.name);
      if (value != nullptr && value->size() > kMaxLoginSecretLength) {
        l.what = Listed::What::kCertificate;  // too long to be a login
      } else if (!live.enabled) {
        l.what = Listed::What::kDisabled;
      } else if (value != nullptr && !BreaksUnquoted(value->Reveal())) {
        l.what = Listed::What::kLogin;  // a login nobody declared (policy says keep)
      } else {
        l.why = "its value is not one word";
      }
    }
    if (user != users.end() && !user->second->generated && l.what == Listed::What::kLogin &&
        BreaksUnquoted(user->second->password.Reveal())) {
      l.what = Listed::What::kBrokenLogin;
    }
    vault[key] = l;
  }
  return vault;
}

}  // namespace

bool BreaksUnquoted(absl::string_view value) {
  return value.find_first_of(" \t\n*?[") != absl::string_view::npos;
}

VmLoginReport CheckVmLogins(const DesiredState& desired, const ActualState& actual,
                            const std::vector<Change>& changes) {
  VmLoginReport report;
  std::vector<const Change*> secret_changes;
  for (const auto& c : changes) {
    if (c.deployment.has_value()) {
      report.redeploy = true;
    } else {
      secret_changes.push_back(&c);
    }
  }
  const bool redeploy = report.redeploy;
  std::map<std::string, const DesiredUser*> users;
  for (const auto& u : desired.users) users[SecretKey(u.name)] = &u;
  std::map<std::string, const Change*> changed;
  for (const Change* c : secret_changes) changed[SecretKey(c->Name())] = c;

  // The values this plan writes: no whitespace or patterns, and not a
  // prefix of the old one bcrypt cannot tell apart.
  for (const auto& [key, user] : users) {
    if (user->generated) continue;
    auto c = changed.find(key);
    const bool written = c != changed.end() && c->second->write.has_value();
    if (!written && !redeploy) continue;
    const std::string where = absl::StrCat("user[", user->name, "].password (", user->source, ")");
    if (BreaksUnquoted(user->password.Reveal())) {
      report.errors.push_back(absl::StrCat(
          where,
          ": the password has whitespace or one of '*', '?', '['; the registry VM passes it to "
          "htpasswd unquoted, so the shell would split or expand it and this user would not log "
          "in: choose a password without them"));
    }
    if (user->password.size() > kBcryptPasswordBytes) {
      report.warnings.push_back({absl::StrCat("user.", user->name),
                                 absl::StrCat("the password is ", user->password.size(),
                                              " bytes; bcrypt (htpasswd -B) reads only the first ",
                                              kBcryptPasswordBytes)});
    }
    const Secret* old = actual.FindValue(user->name);
    if (written && old != nullptr && !old->Equals(user->password) &&
        old->size() >= kBcryptPasswordBytes && user->password.size() >= kBcryptPasswordBytes &&
        old->Reveal().substr(0, kBcryptPasswordBytes) ==
            user->password.Reveal().substr(0, kBcryptPasswordBytes)) {
      report.errors.push_back(absl::StrCat(
          where, ": the new password's first ", kBcryptPasswordBytes,
          " bytes are the old one's; bcrypt reads no more, so the old password would keep "
          "working: change it within its first ",
          kBcryptPasswordBytes, " bytes"));
    }
  }
  // The vault as the VM will list it after the apply, by name.
  std::map<std::string, Listed> vault = ListedNow(desired, actual, users);
  for (const Change* change : secret_changes) {
    const Change& c = *change;
    const std::string key = SecretKey(c.Name());
    if (c.action == Action::kDelete) {
      vault.erase(key);
      continue;
    }
    if (c.Kind() == "user") {
      Listed l{c.Name(), Listed::What::kLogin, ""};
      auto user = users.find(key);
      if (user != users.end() && !user->second->generated &&
          BreaksUnquoted(user->second->password.Reveal())) {
        l.what = Listed::What::kBrokenLogin;
      }
      vault[key] = l;
    } else if (c.Kind() == "certificate") {
      vault[key] = Listed{c.Name(), Listed::What::kCertificate, ""};
    }
  }

  // The login check: the first secret listed (only a redeploy runs it).
  if (redeploy && !vault.empty()) {
    const Listed& first = vault.begin()->second;
    std::string what;
    switch (first.what) {
      case Listed::What::kLogin:
        break;
      case Listed::What::kCertificate:
        what = "a certificate (its value is too long to be a login)";
        break;
      case Listed::What::kDisabled:
        what = "disabled (the VM reads its value as empty)";
        break;
      case Listed::What::kBrokenLogin:
        what = "a user whose password the VM's shell splits or expands";
        break;
      case Listed::What::kUnknown:
        what = "not a login";
        break;
    }
    if (!what.empty()) {
      report.errors.push_back(absl::StrCat(
          "secret ", first.name,
          " is the first secret the registry VM will list, and it logs in with it after every "
          "run of its script, but it is ",
          what,
          ": the redeploy would fail (VMExtensionProvisioningError, exit code 50). Rename it so a "
          "user sorts first (",
          first.what == Listed::What::kCertificate ? "[certificate] secret_name" : "its name",
          "), or delete it"));
    }
  }

  // Logins beyond the first page get none.
  std::vector<std::string> beyond;
  int index = 0;
  for (const auto& [key, l] : vault) {
    if (index++ >= kVmListedSecrets && l.what == Listed::What::kLogin) beyond.push_back(l.name);
  }
  if (!beyond.empty()) {
    std::vector<std::string> shown(beyond.begin(),
                                   beyond.begin() + std::min<size_t>(5, beyond.size()));
    report.warnings.push_back(
        {"vault", absl::StrCat(beyond.size(), beyond.size() == 1 ? " login falls" : " logins fall",
                               " beyond the first page of ", kVmListedSecrets,
                               " secrets the registry VM reads, so ",
                               beyond.size() == 1 ? "it gets" : "they get",
                               " no login: ", absl::StrJoin(shown, ", "),
                               beyond.size() > shown.size()
                                   ? absl::StrCat(" and ", beyond.size() - shown.size(), " more")
                                   : "")});
  }
  return report;
}

VmPage ReadVmPage(const DesiredState& desired, const ActualState& actual) {
  std::map<std::string, const DesiredUser*> users;
  for (const auto& u : desired.users) users[SecretKey(u.name)] = &u;
  VmPage page;
  for (const auto& [key, l] : ListedNow(desired, actual, users)) {
    // A broken login is still one the VM makes (and one that fails).
    const bool login = l.what == Listed::What::kLogin || l.what == Listed::What::kBrokenLogin;
    if (page.secrets++ < kVmListedSecrets) {
      if (login) ++page.first_page_logins;
    } else if (login) {
      ++page.logins_beyond;
    }
  }
  return page;
}

}  // namespace rotor::diff_internal
