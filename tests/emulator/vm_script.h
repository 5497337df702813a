// The registry VM's CustomScript extension, replayed as the gallery
// template's script.sh behaves (docs/DESIGN.md, "The registry VM"), written
// here independently of rotor's own rules so that a wrong fact in one does
// not hide in the other:
//
//  - When it runs: the extension runs its command again only when its
//    configuration changes (settings, protectedSettings, forceUpdateTag).
//    ScriptConfiguration() fingerprints that configuration as a deployment
//    sets it: the raw JSON of those properties plus the value of every
//    parameter and variable they reference.
//  - Unquoted values: `htpasswd -Bb .htpasswd ${NAME} ${VALUE}` and
//    `docker login ... -p ${VALUE}` see the value after bash's word
//    splitting (space, tab, newline) and pathname expansion ('*', '?', '['
//    against the files in the script's working folder, which holds the
//    extension's `stderr` and `stdout`).
//  - Logins: the first page of the vault (25, by name) is read; every secret
//    whose value has at most 255 characters becomes a line when it reaches
//    htpasswd as exactly one word. A disabled secret reads as empty.
//  - The login check: the first secret listed must log in with its value;
//    otherwise the script exits 50 and the deployment fails.
#ifndef ROTOR_TESTS_EMULATOR_VM_SCRIPT_H_
#define ROTOR_TESTS_EMULATOR_VM_SCRIPT_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "base/secret.h"
#include "engine/model/vault.h"

namespace rotor::emulator {

// The files in the CustomScript extension's working folder when the script
// runs (what a glob in a value can match).
const std::vector<std::string>& ScriptWorkingFolderFiles();

// bash's word splitting and pathname expansion of an unquoted ${VALUE}
// (default IFS; a pattern that matches nothing stays as written; a leading
// '.' must be matched explicitly).
std::vector<std::string> UnquotedWords(absl::string_view value,
                                       const std::vector<std::string>& files);

// The CustomScript extension a template deploys, as configured by one
// deployment.
struct ScriptConfiguration {
  bool present = false;  // the template has a CustomScript extension
  std::string name;      // its resource name as written ("[concat(...)]/cse")
  std::string fingerprint;
};
// `parameters`: every parameter value (JSON text) by lower-cased name,
// template defaults included. Malformed templates give present = false.
ScriptConfiguration ConfigureScript(absl::string_view template_json,
                                    const std::map<std::string, Secret>& parameters);

// One run of the script's vault steps.
struct ScriptRun {
  // name -> the password htpasswd received, in file order.
  std::vector<std::pair<std::string, Secret>> logins;
  // The first secret listed, and whether it logs in with its value.
  std::string first_listed;
  bool login_check_passed = false;
  // 0 when the steps succeed, else the script's exit code: 12 (no user
  // credentials), 50 (the login check failed).
  int exit_code = 0;
  std::string error;  // why, for the deployment's error message
};
absl::StatusOr<ScriptRun> RunVaultSteps(Vault& vault);

}  // namespace rotor::emulator

#endif  // ROTOR_TESTS_EMULATOR_VM_SCRIPT_H_
