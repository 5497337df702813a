#include "tests/emulator/vm_script.h"

#include <fnmatch.h>

#include <algorithm>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/digest.h"
#include "tests/emulator/json_internal.h"

namespace rotor::emulator {
namespace {

// What script.sh checks (line 139) and how much the VM lists (one page).
constexpr size_t kMaxValueLength = 255;
constexpr size_t kFirstPage = 25;

bool IsIfs(char c) { return c == ' ' || c == '\t' || c == '\n'; }

bool HasGlob(absl::string_view word) {
  return word.find_first_of("*?[") != absl::string_view::npos;
}

// The names `reference` refers to with NAME('x') inside an expression.
void CollectCalls(absl::string_view text, absl::string_view function, std::set<std::string>* out) {
  const std::string needle = absl::StrCat(function, "('");
  std::string lower = absl::AsciiStrToLower(text);
  size_t at = 0;
  while ((at = lower.find(needle, at)) != std::string::npos) {
    at += needle.size();
    size_t end = lower.find('\'', at);
    if (end == std::string::npos) break;
    out->insert(lower.substr(at, end - at));
    at = end;
  }
}

bool IsCustomScript(const rapidjson::Value& resource) {
  const rapidjson::Value* props = json::MemberCi(resource, "properties");
  if (props == nullptr || !props->IsObject()) return false;
  std::string type = json::StrMember(*props, "type").value_or("");
  return absl::EqualsIgnoreCase(type, "CustomScript") ||
         absl::EqualsIgnoreCase(type, "CustomScriptForLinux");
}

const rapidjson::Value* FindCustomScript(const rapidjson::Value& resources) {
  if (!resources.IsArray()) return nullptr;
  for (const auto& r : resources.GetArray()) {
    if (!r.IsObject()) continue;
    std::string type = absl::AsciiStrToLower(json::StrMember(r, "type").value_or(""));
    if (absl::EndsWith(type, "extensions") && IsCustomScript(r)) return &r;
    if (const rapidjson::Value* nested = json::MemberCi(r, "resources")) {
      if (const rapidjson::Value* found = FindCustomScript(*nested)) return found;
    }
  }
  return nullptr;
}

}  // namespace

const std::vector<std::string>& ScriptWorkingFolderFiles() {
  static const std::vector<std::string> kFiles = {"stderr", "stdout"};
  return kFiles;
}

std::vector<std::string> UnquotedWords(absl::string_view value,
                                       const std::vector<std::string>& files) {
  std::vector<std::string> words;
  size_t i = 0;
  while (i < value.size()) {
    while (i < value.size() && IsIfs(value[i])) ++i;
    size_t start = i;
    while (i < value.size() && !IsIfs(value[i])) ++i;
    if (i > start) words.emplace_back(value.substr(start, i - start));
  }
  std::vector<std::string> expanded;
  for (const std::string& word : words) {
    if (!HasGlob(word)) {
      expanded.push_back(word);
      continue;
    }
    std::vector<std::string> matches;
    for (const std::string& file : files) {
      if (::fnmatch(word.c_str(), file.c_str(), FNM_PERIOD) == 0) matches.push_back(file);
    }
    std::sort(matches.begin(), matches.end());
    if (matches.empty()) {
      expanded.push_back(word);
    } else {
      expanded.insert(expanded.end(), matches.begin(), matches.end());
    }
  }
  return expanded;
}

ScriptConfiguration ConfigureScript(absl::string_view template_json,
                                    const std::map<std::string, Secret>& parameters) {
  ScriptConfiguration out;
  rapidjson::Document tpl;
  tpl.Parse<rapidjson::kParseIterativeFlag>(template_json.data(), template_json.size());
  if (tpl.HasParseError() || !tpl.IsObject()) return out;
  const rapidjson::Value* resources = json::MemberCi(tpl, "resources");
  const rapidjson::Value* extension = resources != nullptr ? FindCustomScript(*resources) : nullptr;
  if (extension == nullptr) return out;
  out.present = true;
  out.name = json::StrMember(*extension, "name").value_or("");
  const rapidjson::Value* props = json::MemberCi(*extension, "properties");
  std::string configured;
  for (const char* key : {"settings", "protectedSettings", "forceUpdateTag"}) {
    const rapidjson::Value* v = json::MemberCi(*props, key);
    absl::StrAppend(&configured, key, "=", v != nullptr ? json::ToText(*v) : "null", "\n");
  }
  // Resolve what the configuration references: variables (whose
  // definitions may reference parameters and other variables), then
  // parameters' values.
  std::set<std::string> params, vars, seen_vars;
  CollectCalls(configured, "parameters", &params);
  CollectCalls(configured, "variables", &vars);
  const rapidjson::Value* variables = json::MemberCi(tpl, "variables");
  std::string resolved;
  while (!vars.empty()) {
    std::string v = *vars.begin();
    vars.erase(vars.begin());
    if (!seen_vars.insert(v).second) continue;
    const rapidjson::Value* def = variables != nullptr ? json::MemberCi(*variables, v) : nullptr;
    std::string text = def != nullptr ? json::ToText(*def) : "null";
    absl::StrAppend(&resolved, "variable ", v, "=", text, "\n");
    CollectCalls(text, "parameters", &params);
    CollectCalls(text, "variables", &vars);
  }
  for (const std::string& p : params) {
    auto it = parameters.find(p);
    absl::StrAppend(&resolved, "parameter ", p, "=",
                    it != parameters.end() ? Sha256Hex(it->second.Reveal()) : "(unset)", "\n");
  }
  out.fingerprint = Sha256Hex(absl::StrCat(configured, resolved));
  return out;
}

absl::StatusOr<ScriptRun> RunVaultSteps(Vault& vault) {
  ScriptRun run;
  // One list request: the first page, by name.
  auto listed = vault.ListSecrets();
  if (!listed.ok()) return listed.status();
  std::vector<SecretVersion> page = *std::move(listed);
  std::sort(page.begin(), page.end(), [](const SecretVersion& a, const SecretVersion& b) {
    return absl::AsciiStrToLower(a.name) < absl::AsciiStrToLower(b.name);
  });
  if (page.size() > kFirstPage) page.resize(kFirstPage);
  // `curl -f` on a disabled secret fails (403): jq reads nothing.
  auto value_of = [&](const SecretVersion& s) -> Secret {
    auto bundle = vault.GetSecret(s.name);
    return bundle.ok() ? std::move(bundle->value) : Secret();
  };
  const auto& files = ScriptWorkingFolderFiles();
  for (const SecretVersion& s : page) {
    Secret value = value_of(s);
    if (value.size() > kMaxValueLength) continue;
    std::vector<std::string> words = UnquotedWords(value.Reveal(), files);
    // htpasswd -Bb takes exactly FILE USER PASSWORD; any other count is a
    // usage error, and the script goes on without that line.
    if (words.size() == 1) run.logins.emplace_back(s.name, Secret(std::move(words[0])));
    for (auto& w : words) WipeString(w);
  }
  if (run.logins.empty()) {
    run.exit_code = 12;
    run.error = "no user credentials in the vault (ERR_MISSING_USER_CREDENTIALS)";
    return run;
  }
  // The login check: the first id listed, its value as docker login gets it.
  if (!page.empty()) {
    run.first_listed = page.front().name;
    Secret value = value_of(page.front());
    std::vector<std::string> words = UnquotedWords(value.Reveal(), files);
    for (const auto& [name, password] : run.logins) {
      if (name == run.first_listed && words.size() == 1 && password.Reveal() == words[0]) {
        run.login_check_passed = true;
      }
    }
    for (auto& w : words) WipeString(w);
  }
  if (!run.login_check_passed) {
    run.exit_code = 50;
    run.error =
        absl::StrCat("docker login as '", run.first_listed,
                     "', the first secret the vault lists, failed (ERR_REGISTRY_LOGIN_FAILED)");
  }
  return run;
}

}  // namespace rotor::emulator
