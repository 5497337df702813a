#include "cli/fleet.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "base/digest.h"
#include "cli/console.h"
#include "engine/config/config.h"
#include "rapidjson/ostreamwrapper.h"
#include "rapidjson/prettywriter.h"

namespace rotor::cli {
namespace {

namespace fs = std::filesystem;

std::string StemOf(const std::string& path) {
  std::string name = fs::path(path).filename().string();
  absl::string_view stem = name;
  absl::ConsumeSuffix(&stem, ".toml");
  return std::string(stem);
}

// Every *.toml in `folder`, sorted by name.
absl::StatusOr<std::vector<std::string>> TomlFilesIn(const std::string& folder) {
  std::vector<std::string> names;
  std::error_code ec;
  for (fs::directory_iterator it(folder, ec), end; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (absl::StartsWith(name, ".") || !absl::EndsWith(name, ".toml")) continue;
    std::error_code type_ec;
    if (!fs::is_regular_file(it->path(), type_ec)) continue;  // follows symlinks
    names.push_back(name);
  }
  if (ec) {
    return absl::InvalidArgumentError(
        absl::StrCat("-c ", folder, ": cannot list the folder: ", ec.message()));
  }
  if (names.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("-c ", folder, ": the folder holds no *.toml configuration"));
  }
  std::sort(names.begin(), names.end());
  std::string prefix(absl::StripSuffix(folder, "/"));
  std::vector<std::string> out;
  for (const auto& name : names) out.push_back(absl::StrCat(prefix, "/", name));
  return out;
}

std::string Canonical(const std::string& path) {
  std::error_code ec;
  fs::path p = fs::weakly_canonical(fs::absolute(path, ec), ec);
  return ec ? path : p.string();
}

struct RegistryResult {
  int exit_code = 0;
  std::string out;
  std::string err;
  bool done = false;
};

// The lines of a registry's stderr that carry its error: "Error: X" -> X;
// all of it when no line has the prefix.
std::string ErrorMessage(const std::string& err) {
  std::vector<std::string> errors;
  for (absl::string_view line : absl::StrSplit(err, '\n')) {
    if (absl::ConsumePrefix(&line, "Error: ")) errors.emplace_back(line);
  }
  if (errors.empty()) return std::string(absl::StripAsciiWhitespace(err));
  return absl::StrJoin(errors, "\n");
}

// "user.admin", "certificate.containersecret", "deployment.registry": an
// address of the plan (engine/model/plan.h, Change::address).
bool IsResourceAddress(absl::string_view target) {
  const size_t dot = target.find('.');
  if (dot == absl::string_view::npos || dot + 1 == target.size()) return false;
  const absl::string_view kind = target.substr(0, dot);
  for (absl::string_view k :
       {"user", "stale_user", "certificate", "stale_certificate", "deployment"}) {
    if (kind == k) return true;
  }
  return false;
}

const char* Plural(size_t n, const char* one, const char* many) { return n == 1 ? one : many; }

}  // namespace

absl::StatusOr<Shard> ParseShard(absl::string_view text) {
  const std::string usage = absl::StrCat(
      "--shard ", text,
      ": expected K/N, shard K (from 1) of N, with 1 <= K <= N <= 10000, as in --shard 2/4");
  std::vector<absl::string_view> parts = absl::StrSplit(text, '/');
  Shard shard;
  if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &shard.index) ||
      !absl::SimpleAtoi(parts[1], &shard.count) || parts[0].empty() || parts[1].empty() ||
      parts[0][0] == '+' || parts[1][0] == '+') {
    return absl::InvalidArgumentError(usage);
  }
  if (shard.count < 1 || shard.count > 10000 || shard.index < 1 || shard.index > shard.count) {
    return absl::InvalidArgumentError(usage);
  }
  return shard;
}

bool InShard(absl::string_view path, const Shard& shard) {
  if (shard.count == 0) return true;
  const std::string name = fs::path(std::string(path)).filename().string();
  uint64_t n = 0;
  const std::string digest = Sha256Hex(name);
  for (char c : digest.substr(0, 15)) n = n * 16 + (c <= '9' ? c - '0' : c - 'a' + 10);
  return n % static_cast<uint64_t>(shard.count) == static_cast<uint64_t>(shard.index - 1);
}

absl::StatusOr<FleetSelection> SelectConfigs(const std::vector<std::string>& configs,
                                             const std::vector<std::string>& targets,
                                             const Shard& shard) {
  FleetSelection selection;
  std::vector<std::string> named = configs;
  if (named.empty()) named.push_back("rotor.toml");
  selection.fleet = named.size() > 1;
  std::set<std::string> seen;
  for (const auto& arg : named) {
    std::error_code ec;
    std::vector<std::string> files;
    if (fs::is_directory(arg, ec)) {
      selection.fleet = true;
      auto found = TomlFilesIn(arg);
      if (!found.ok()) return found.status();
      files = *std::move(found);
    } else {
      files.push_back(arg);
    }
    for (auto& file : files) {
      if (!seen.insert(Canonical(file)).second) continue;  // named twice
      FleetMember m;
      m.stem = StemOf(file);
      m.config = std::move(file);
      selection.members.push_back(std::move(m));
    }
  }
  // Vault names, for headers and --target (a file that does not load keeps
  // "": the command reports why).
  if (selection.fleet || !targets.empty()) {
    for (auto& m : selection.members) {
      auto config = LoadConfig(m.config);
      if (config.ok()) m.vault = config->vault.name;
    }
  }
  if (!targets.empty()) {
    std::vector<FleetMember> kept;
    std::set<std::string> matched;
    for (auto& m : selection.members) {
      for (const auto& t : targets) {
        if (absl::EqualsIgnoreCase(t, m.vault) || absl::EqualsIgnoreCase(t, m.stem)) {
          matched.insert(absl::AsciiStrToLower(t));
          kept.push_back(m);
          break;
        }
      }
    }
    std::vector<std::string> unmatched;
    for (const auto& t : targets) {
      if (matched.count(absl::AsciiStrToLower(t)) == 0) unmatched.push_back(t);
    }
    if (!unmatched.empty()) {
      // Terraform's -target takes a resource address; rotor's picks
      // registries, and --replace picks what a plan rewrites.
      for (const auto& t : unmatched) {
        if (!IsResourceAddress(t)) continue;
        return absl::InvalidArgumentError(absl::StrCat(
            "--target ", t,
            ": --target picks registries (by vault name or configuration file stem), not "
            "resources; to force a change to ",
            t, ", run rotor plan --replace ", t));
      }
      std::vector<std::string> known;
      for (const auto& m : selection.members) {
        known.push_back(m.vault.empty() || absl::EqualsIgnoreCase(m.vault, m.stem)
                            ? m.stem
                            : absl::StrCat(m.vault, " (", m.stem, ")"));
      }
      return absl::InvalidArgumentError(absl::StrCat(
          "--target ", absl::StrJoin(unmatched, ", "),
          ": no configuration has that vault name or file stem; the configurations are: ",
          absl::StrJoin(known, ", ")));
    }
    selection.members = std::move(kept);
  }
  if (shard.count > 0) {
    selection.before_shard = selection.members.size();
    std::vector<FleetMember> kept;
    for (auto& m : selection.members) {
      if (InShard(m.config, shard)) kept.push_back(std::move(m));
    }
    selection.members = std::move(kept);
  }
  return selection;
}

int RunSelection(const FleetSelection& selection, const CommonOptions& common, Io& io,
                 FleetSummary summary, bool user_exit_codes, const RegistryCommand& command) {
  if (!selection.fleet && selection.members.size() == 1) {
    CommonOptions options = common;
    options.config = selection.members[0].config;
    return command(options, io);
  }

  const size_t n = selection.members.size();
  std::vector<RegistryResult> results(n);
  std::mutex mu;
  std::condition_variable cv;
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (size_t i = next++; i < n; i = next++) {
      const FleetMember& m = selection.members[i];
      std::ostringstream out, err;
      std::istringstream in;
      Io registry_io{
          out,      err,           in,         io.out_is_tty, /*in_is_tty=*/false, io.env,
          io.clock, io.err_is_tty, io.console, m.Label()};
      CommonOptions options = common;
      options.config = m.config;
      int code = kExitError;
      try {
        code = command(options, registry_io);
      } catch (const std::exception& e) {
        err << "Error: " << e.what() << "\n";
      }
      std::lock_guard<std::mutex> lock(mu);
      results[i].exit_code = code;
      results[i].out = out.str();
      results[i].err = err.str();
      results[i].done = true;
      cv.notify_all();
    }
  };
  const size_t workers = std::min<size_t>(n, kFleetWorkers);
  std::vector<std::thread> threads;
  for (size_t t = 0; t < workers; ++t) threads.emplace_back(worker);

  // Print each registry as soon as it and those before it are done.
  Console* console = io.console;
  // --json: one array, each registry's element written as soon as it is done.
  rapidjson::OStreamWrapper json_out(io.out);
  rapidjson::PrettyWriter<rapidjson::OStreamWrapper> json(json_out);
  json.SetIndent(' ', 2);
  if (common.json) json.StartArray();
  for (size_t i = 0; i < n; ++i) {
    RegistryResult r;
    {
      std::unique_lock<std::mutex> lock(mu);
      cv.wait(lock, [&] { return results[i].done; });
      r = results[i];
    }
    const FleetMember& m = selection.members[i];
    if (common.json) {
      const std::string result(absl::StripAsciiWhitespace(r.out));
      json.StartObject();
      json.Key("config");
      json.String(m.config);
      json.Key("vault");
      if (m.vault.empty()) {
        json.Null();
      } else {
        json.String(m.vault);
      }
      json.Key("exit_code");
      json.Int(r.exit_code);
      json.Key("result");
      if (result.empty()) {
        json.Null();
      } else {
        json.RawValue(result.data(), result.size(), rapidjson::kObjectType);  // the command's JSON
      }
      if (r.exit_code == kExitError) {
        json.Key("error");
        json.String(ErrorMessage(r.err));
      }
      json.EndObject();
    } else {
      io.out << (i == 0 ? "" : "\n") << "=== " << m.Label() << " (" << m.config << ") ===\n"
             << r.out;
      if (!r.out.empty() && r.out.back() != '\n') io.out << "\n";
    }
    io.out.flush();
    // The registry's stderr, each line marked with the registry.
    for (absl::string_view line : absl::StrSplit(r.err, '\n', absl::SkipEmpty())) {
      if (console != nullptr && console->json()) {
        if (absl::ConsumePrefix(&line, "Error: ")) {
          console->Event("error", m.Label(), "error", {StringField("message", line)});
        } else {
          console->Event("info", m.Label(), "message", {StringField("text", line)});
        }
      } else {
        io.err << m.Label() << ": " << line << "\n";
      }
    }
    io.err.flush();
  }
  for (auto& t : threads) t.join();
  if (common.json) {
    json.EndArray();
    io.out << "\n";
  }

  size_t failed = 0, two = 0, zero = 0;
  std::vector<std::string> failed_names;
  for (size_t i = 0; i < n; ++i) {
    if (results[i].exit_code == kExitChanges) {
      ++two;
    } else if (results[i].exit_code == kExitOk) {
      ++zero;
    } else {
      ++failed;
      failed_names.push_back(selection.members[i].Label());
    }
  }
  if (!common.json) {
    io.out << "\nFleet: " << n << Plural(n, " registry: ", " registries: ");
    switch (summary) {
      case FleetSummary::kPlan:
        io.out << two << " with changes, " << zero << " without changes, ";
        break;
      case FleetSummary::kDrift:
        io.out << two << " drifted, " << zero << " without drift, ";
        break;
      case FleetSummary::kPlain:
        io.out << zero + two << " succeeded, ";
        break;
    }
    io.out << failed << " failed";
    if (failed > 0) io.out << " (" << absl::StrJoin(failed_names, ", ") << ")";
    io.out << ".\n";
    io.out.flush();
  }
  if (failed > 0) return kExitError;
  if (two > 0 && user_exit_codes) return kExitChanges;
  return kExitOk;
}

}  // namespace rotor::cli
