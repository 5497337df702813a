#include "tests/reliability/journal_checker.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "base/files.h"
#include "rapidjson/document.h"

namespace rotor::reliability {
namespace {

std::string Lower(absl::string_view s) { return absl::AsciiStrToLower(s); }

std::string Str(const rapidjson::Value& v, const char* key) {
  auto it = v.FindMember(key);
  return it != v.MemberEnd() && it->value.IsString()
             ? std::string(it->value.GetString(), it->value.GetStringLength())
             : std::string();
}

bool IsPfxContentType(absl::string_view content_type) {
  return content_type == "pfx" || content_type == "application/x-pkcs12";
}

struct VersionState {
  std::string id;
  bool enabled = true;
};

struct SecretState {
  std::vector<VersionState> versions;
  bool deleted = false;
  bool certificate = false;
  int64_t landed_seq = -1;  // arrival of the write that last made it enabled

  bool Enabled() const { return !deleted && !versions.empty() && versions.back().enabled; }
};

// "https://vault.host:port/secrets/NAME/VERSION" -> (lower NAME, VERSION).
std::optional<std::pair<std::string, std::string>> SplitSecretUrl(absl::string_view url) {
  size_t at = Lower(url).find("/secrets/");
  if (at == std::string::npos) return std::nullopt;
  std::vector<std::string> parts = absl::StrSplit(url.substr(at + 9), absl::MaxSplits('/', 1));
  if (parts.size() != 2 || parts[0].empty() || parts[1].empty() ||
      absl::StrContains(parts[1], '/')) {
    return std::nullopt;
  }
  return std::make_pair(Lower(parts[0]), parts[1]);
}

}  // namespace

bool JournalEntry::IsDeploymentPut() const {
  if (method != "PUT" || surface != "arm" || deployment.empty()) return false;
  std::vector<absl::string_view> seg = absl::StrSplit(path, '/', absl::SkipEmpty());
  return seg.size() == 8 && absl::EqualsIgnoreCase(seg[6], "deployments");
}

absl::StatusOr<std::vector<JournalEntry>> ParseJournal(absl::string_view text) {
  std::vector<JournalEntry> out;
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_number;
    if (absl::StripAsciiWhitespace(line).empty()) continue;
    rapidjson::Document doc;
    doc.Parse<rapidjson::kParseIterativeFlag>(line.data(), line.size());
    if (doc.HasParseError() || !doc.IsObject()) {
      return absl::InvalidArgumentError(
          absl::StrCat("journal line ", line_number, " is not a JSON object: ", line));
    }
    JournalEntry e;
    e.line = line_number;
    if (auto it = doc.FindMember("seq"); it != doc.MemberEnd() && it->value.IsInt64()) {
      e.seq = it->value.GetInt64();
    }
    if (auto it = doc.FindMember("status"); it != doc.MemberEnd() && it->value.IsInt()) {
      e.status = it->value.GetInt();
    }
    if (auto it = doc.FindMember("enabled"); it != doc.MemberEnd() && it->value.IsBool()) {
      e.enabled = it->value.GetBool();
    }
    if (auto it = doc.FindMember("running"); it != doc.MemberEnd() && it->value.IsArray()) {
      for (const auto& r : it->value.GetArray()) {
        if (r.IsString()) e.running.push_back(r.GetString());
      }
    }
    e.method = Str(doc, "method");
    e.path = Str(doc, "path");
    e.fault = Str(doc, "fault");
    e.client = Str(doc, "client");
    e.surface = Str(doc, "surface");
    e.vault = Str(doc, "vault");
    e.op = Str(doc, "op");
    e.secret = Str(doc, "secret");
    e.version = Str(doc, "version");
    e.content_type = Str(doc, "content_type");
    e.thumbprint = Str(doc, "thumbprint");
    e.resource_group = Str(doc, "resource_group");
    e.deployment = Str(doc, "deployment");
    e.pfx_secret_url = Str(doc, "pfx_secret_url");
    e.pfx_thumbprint = Str(doc, "pfx_thumbprint");
    out.push_back(std::move(e));
  }
  return out;
}

std::string Violation::ToString() const {
  return absl::StrCat(invariant, " (journal line ", line, ", seq ", seq, "): ", detail);
}

std::string CheckResult::Describe() const {
  std::string out;
  for (const auto& v : violations) absl::StrAppend(&out, v.ToString(), "\n");
  return out;
}

CheckResult CheckJournal(const std::vector<JournalEntry>& entries,
                         const InvariantOptions& options) {
  CheckResult result;
  std::map<std::string, SecretState> secrets;  // by lower-cased name
  std::set<std::string> users, certificates;
  for (const auto& u : options.users) users.insert(Lower(u));
  for (const auto& c : options.certificate_secrets) certificates.insert(Lower(c));
  // (lower name, version) -> thumbprint of the PFX a SetSecret stored.
  std::map<std::pair<std::string, std::string>, std::string> thumbprints;

  for (const JournalEntry& e : entries) {
    auto violate = [&](const char* invariant, std::string detail) {
      result.violations.push_back({invariant, e.line, e.seq, std::move(detail)});
    };
    // The rules hold rotor to account; the test's own requests (curl) only
    // shape the state.
    const bool by_rotor = absl::StartsWith(e.client, "rotor/");
    // Scripted answers, drops and injected 500/503 were not carried out;
    // corrupted and slow answers were.
    const bool carried_out = e.Succeeded() && !absl::StrContains(e.fault, "scripted");
    const std::string name = Lower(e.secret);

    if (e.surface == "kv" && !name.empty()) {
      SecretState& s = secrets[name];
      const bool is_certificate = s.certificate || certificates.count(name) > 0;
      if (by_rotor && is_certificate) {
        if (e.op == "DeleteSecret" || e.op == "PurgeDeletedSecret") {
          violate("certificate", absl::StrCat(e.op, " of certificate secret ", e.secret,
                                              ": its versions may still be deployed"));
        }
        if (e.op == "UpdateSecret" && e.enabled == false) {
          violate("certificate", absl::StrCat("UpdateSecret disables ", e.secret, " version ",
                                              e.version.empty() ? "(latest)" : e.version));
        }
      }
      if (by_rotor && e.op == "DeleteSecret") {
        for (const std::string& user : users) {
          auto it = secrets.find(user);
          if (it == secrets.end() || !it->second.Enabled() || it->second.landed_seq > e.seq) {
            violate("users",
                    absl::StrCat("DeleteSecret of ", e.secret, " arrived before declared user ",
                                 user, " had an enabled secret"));
          }
        }
      }
      const bool was_enabled = s.Enabled();
      if (carried_out) {
        if (e.op == "SetSecret") {
          s.versions.push_back({e.version, e.enabled.value_or(true)});
          s.deleted = false;
          if (IsPfxContentType(e.content_type)) {
            s.certificate = true;
            if (!e.version.empty()) thumbprints[{name, e.version}] = e.thumbprint;
          }
          if (!e.version.empty()) result.vault.written[name].push_back(e.version);
        } else if (e.op == "UpdateSecret" && e.enabled.has_value()) {
          VersionState* target = nullptr;
          for (auto& v : s.versions) {
            if (!e.version.empty() && v.id == e.version) target = &v;
          }
          if (target == nullptr && (e.version.empty() || s.versions.empty())) {
            if (!s.versions.empty()) target = &s.versions.back();
          }
          if (target != nullptr) target->enabled = *e.enabled;
        } else if (e.op == "DeleteSecret") {
          s.deleted = true;
        } else if (e.op == "RecoverDeletedSecret") {
          s.deleted = false;
        } else if (e.op == "PurgeDeletedSecret") {
          const bool certificate = s.certificate;
          s = SecretState();
          s.certificate = certificate;
        }
      }
      if (s.Enabled() && !was_enabled) s.landed_seq = e.seq;
      if (by_rotor && users.count(name) > 0 && was_enabled && !s.Enabled()) {
        violate("users",
                absl::StrCat(e.op, " left declared user ", e.secret, " without an enabled secret"));
      }
    }

    if (e.IsDeploymentPut()) {
      ++result.vault.deployment_puts;
      if (e.status == 200 || e.status == 201) ++result.vault.deployments_accepted;
      if (!by_rotor) continue;
      if (!e.running.empty()) {
        violate("running", absl::StrCat("deployment PUT ", e.deployment, " arrived while ",
                                        absl::StrJoin(e.running, ", "), " ran in resource group ",
                                        e.resource_group));
      }
      if (e.pfx_secret_url.empty() && e.pfx_thumbprint.empty()) continue;
      auto url = SplitSecretUrl(e.pfx_secret_url);
      if (!url.has_value()) {
        violate("thumbprint",
                absl::StrCat("deployment PUT ", e.deployment, " passes no versioned secret URL (\"",
                             e.pfx_secret_url, "\")"));
        continue;
      }
      auto stored = thumbprints.find(*url);
      if (stored == thumbprints.end()) {
        violate("thumbprint",
                absl::StrCat("deployment PUT ", e.deployment, " names ", e.pfx_secret_url,
                             ", a version the journal never saw written with a PFX"));
      } else if (!absl::EqualsIgnoreCase(stored->second, e.pfx_thumbprint)) {
        violate("thumbprint",
                absl::StrCat("deployment PUT ", e.deployment, " passes thumbprint ",
                             e.pfx_thumbprint, " but the PFX at ", e.pfx_secret_url, " has ",
                             stored->second.empty() ? "none readable" : stored->second));
      }
    }
  }
  for (const auto& [name, s] : secrets) {
    if (s.deleted) result.vault.deleted.insert(name);
  }
  return result;
}

CheckResult CheckJournalFile(const std::string& path, const InvariantOptions& options) {
  auto text = ReadFile(path);
  if (!text.ok()) {
    CheckResult r;
    r.violations.push_back({"journal", 0, 0, std::string(text.status().message())});
    return r;
  }
  auto entries = ParseJournal(*text);
  if (!entries.ok()) {
    CheckResult r;
    r.violations.push_back({"journal", 0, 0, std::string(entries.status().message())});
    return r;
  }
  return CheckJournal(*entries, options);
}

}  // namespace rotor::reliability
