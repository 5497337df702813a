// rotor_bench: the real `rotor plan` and `rotor apply` against rotor-emulator
// with injected latency, for N = 10, 100, 1000 and 5000 registry users, at
// --parallelism 1 and at the default; then with Key Vault's published
// limits enforced (plan of 5000, apply of 1000 new versions, with and
// without Retry-After), and with the same kind of limits over 1-s windows
// (100 transactions and 30 writes per second: a stamp may throttle on a
// shorter window than Key Vault's 10 s; plan and apply of 1000); then the
// in-process micro benchmark. Prints a table, checks the targets of issue
// 7 and writes everything as JSON.
//
//   rotor_bench [--out bench.json] [--sizes 10,100,1000,5000] [--latency 20ms]
//               [--latency-serial-5000 20ms] [--no-throttled] [--throttled-only]
//               [--build-dir DIR] [--work-dir DIR]
//
// Each N gets its own workspace (bench/bench_workspace.h): a vault seeded
// with N users and the certificate, a registry deployment, rotor.toml. The
// rows of one N run in order on it: plan at 1, plan at the default, apply at
// 1 (N new versions and one redeploy), apply at the default (N more).
//
// Per row: wall time of the rotor process, requests the emulator answered
// (/_emulator/stats, every endpoint: tokens, metadata, Key Vault, ARM),
// requests/s, the peak RSS of rotor (wait4), and the ideal time
// ceil(requests / parallelism) x latency. Throttled rows also show the
// time the limits allow: Key Vault reads at 400/s (4000 per 10 s) plus
// secret writes at 30/s (300 per 10 s), or the 1-s rows' 100/s and 30/s.
//
// Exit status: 0 when every target holds, 1 otherwise, 2 on a set-up error.
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "base/files.h"
#include "base/json_text.h"
#include "bench/bench_workspace.h"
#include "tests/support/testing.h"

namespace rotor::bench {
namespace {

constexpr int kDefaultParallelism = 16;  // rotor's default (--parallelism)

// A throttled configuration of the emulator (Key Vault transactions, and
// secret writes, per sliding window).
struct Limits {
  std::string label;     // "limits" / "1-s limits"
  std::string all;       // --throttle
  std::string writes;    // --write-throttle
  double read_rate = 0;  // requests/s the limits allow
  double write_rate = 0;
};
// Key Vault's published limits, and the same rates over a 1-s window.
const Limits kKeyVaultLimits = {"limits", "4000/10s", "300/10s", 400, 30};
const Limits kOneSecondLimits = {"1-s limits", "100/1s", "30/1s", 100, 30};

struct Row {
  std::string command;  // "plan" / "apply"
  int users = 0;
  int parallelism = 0;
  std::string throttle;  // "", "limits", "limits, no Retry-After"
  double latency_ms = 0;
  RunResult run;
  EmulatorCounts counts;
  int64_t writes = 0;  // secret versions the vault wrote (its stats)
  double ideal = 0;    // ceil(requests / parallelism) x latency
  double limit = 0;    // throttled rows: reads / read rate + writes / write rate

  double RequestsPerSecond() const { return run.seconds > 0 ? counts.requests / run.seconds : 0; }
  double ThrottledShare() const {
    return counts.requests > 0 ? static_cast<double>(counts.throttled) / counts.requests : 0;
  }
};

struct Target {
  std::string name;
  std::string measured;
  std::string wanted;
  bool pass = false;
};

struct Options {
  std::string out = "bench.json";
  std::vector<int> sizes = {10, 100, 1000, 5000};
  absl::Duration latency = absl::Milliseconds(20);
  absl::Duration latency_serial_5000 = absl::Milliseconds(20);
  bool throttled = true;
  // Only the rows under Key Vault's limits (to tune the rate controller
  // without the 10-minute run).
  bool throttled_only = false;
  std::string build_dir;
  std::string work_dir;
};

std::string Ms(absl::Duration d) { return absl::StrCat(absl::ToInt64Milliseconds(d), "ms"); }

void Fail(const std::string& message) {
  std::fprintf(stderr, "rotor_bench: %s\n", message.c_str());
  std::exit(2);
}

template <typename T>
T OrDie(absl::StatusOr<T> v, const std::string& what) {
  if (!v.ok()) Fail(absl::StrCat(what, ": ", v.status().message()));
  return *std::move(v);
}
void OrDie(const absl::Status& s, const std::string& what) {
  if (!s.ok()) Fail(absl::StrCat(what, ": ", s.message()));
}

class Bench {
 public:
  explicit Bench(Options options) : options_(std::move(options)) {}

  int Run() {
    for (int n : options_.sizes) RunSize(n);
    RunMicro();
    CheckTargets();
    PrintTable();
    WriteJson();
    bool ok = true;
    for (const auto& t : targets_) ok = ok && t.pass;
    return ok ? 0 : 1;
  }

 private:
  // One command on the running emulator.
  Row Measure(BenchWorkspace& w, const std::string& command, int parallelism, int round,
              absl::Duration latency, const std::string& throttle,
              const Limits& limits = kKeyVaultLimits) {
    Row row;
    row.command = command;
    row.users = w.users();
    row.parallelism = parallelism;
    row.throttle = throttle;
    row.latency_ms = absl::ToDoubleMilliseconds(latency);
    std::vector<std::string> args = {command, "-c", w.ConfigPath()};
    if (command == "apply") args.push_back("--auto-approve");
    if (parallelism != kDefaultParallelism) {
      args.push_back("--parallelism");
      args.push_back(absl::StrCat(parallelism));
    }
    OrDie(w.ResetStats(), "resetting the stats");
    // The token counter is not reset: count from here.
    const int64_t tokens_before = OrDie(w.ReadStats(), "reading the stats").tokens;
    std::fprintf(stderr, "  %-5s N=%-5d parallelism %-3d %s ...", command.c_str(), row.users,
                 parallelism, throttle.c_str());
    row.run = OrDie(w.Rotor(args, round), absl::StrCat("rotor ", command));
    row.counts = OrDie(w.ReadStats(), "reading the stats");
    row.counts.tokens -= tokens_before;
    std::fprintf(stderr, " %.2f s, %lld requests, exit %d\n", row.run.seconds,
                 static_cast<long long>(row.counts.requests), row.run.exit_code);
    if (row.run.exit_code != 0) {
      std::fprintf(stderr, "rotor %s failed:\n%s\n", command.c_str(),
                   row.run.stderr_data.substr(0, 4000).c_str());
    }
    row.writes = row.counts.writes;
    row.ideal = std::ceil(static_cast<double>(row.counts.requests) / parallelism) *
                absl::ToDoubleSeconds(latency);
    // Requests Key Vault counts against its limits: all it answered but
    // the 429s (a write counts in both limits; the formula takes it once,
    // at the write rate, which dominates).
    const int64_t reads = row.counts.vault_requests - row.counts.throttled - row.writes;
    row.limit = reads / limits.read_rate + row.writes / limits.write_rate;
    rows_.push_back(row);
    return row;
  }

  void RunSize(int n) {
    const std::string dir = absl::StrCat(options_.work_dir, "/n", n);
    std::fprintf(stderr, "N = %d: seeding %s\n", n, dir.c_str());
    auto w = OrDie(BenchWorkspace::Create(dir, options_.build_dir, n), "seeding");
    absl::Duration serial_latency = n >= 5000 ? options_.latency_serial_5000 : options_.latency;
    int round = 0;
    if (!options_.throttled_only) RunUnthrottled(*w, serial_latency, round);

    auto throttled = [&](const std::string& command, const Limits& limits) {
      for (bool retry_after : {true, false}) {
        std::vector<std::string> flags = {"--latency", Ms(options_.latency), "--throttle",
                                          limits.all,  "--write-throttle",   limits.writes};
        if (!retry_after) flags.push_back("--throttle-no-retry-after");
        OrDie(w->StartEmulator(flags), "starting the emulator");
        if (command == "apply") ++round;
        Measure(*w, command, kDefaultParallelism, round, options_.latency,
                retry_after ? limits.label : absl::StrCat(limits.label, ", no Retry-After"),
                limits);
      }
    };
    // Key Vault's published limits: a plan of 5000, an apply of 1000.
    if (options_.throttled && (n == 5000 || n == 1000)) {
      throttled(n == 5000 ? "plan" : "apply", kKeyVaultLimits);
    }
    // The same rates over 1-s windows: a plan and an apply of 1000.
    if (options_.throttled && n == 1000) {
      throttled("plan", kOneSecondLimits);
      throttled("apply", kOneSecondLimits);
    }
    OrDie(w->StopEmulator(), "stopping the emulator");
  }

  // Plan and apply at --parallelism 1 (at `serial_latency`) and at the
  // default, no limits. The emulator restarts only when the latency changes.
  void RunUnthrottled(BenchWorkspace& w, absl::Duration serial_latency, int& round) {
    std::optional<absl::Duration> running;
    auto measure = [&](const std::string& command, int parallelism, int row_round) {
      const absl::Duration latency = parallelism == 1 ? serial_latency : options_.latency;
      if (running != latency) {
        OrDie(w.StartEmulator({"--latency", Ms(latency)}), "starting the emulator");
        running = latency;
      }
      Measure(w, command, parallelism, row_round, latency, "");
    };
    // Plans (round 0: the vault holds these passwords, so the plan only
    // redeploys nothing and reads everything).
    measure("plan", 1, round);
    measure("plan", kDefaultParallelism, round);
    // Applies: each round is N new passwords.
    measure("apply", 1, ++round);
    measure("apply", kDefaultParallelism, ++round);
  }

  void RunMicro() {
    const std::string binary = absl::StrCat(options_.build_dir, "/bench/rotor_plan_micro_bench");
    if (!PathExists(binary)) {
      std::fprintf(stderr, "no %s: micro benchmark skipped\n", binary.c_str());
      return;
    }
    std::fprintf(stderr, "micro benchmark: diff + render of 100,000 secrets ...\n");
    auto run = OrDie(RunMeasured({binary, "--json"}, {}, options_.work_dir), "micro benchmark");
    micro_json_ = std::string(absl::StripAsciiWhitespace(run.stdout_data));
    micro_rss_kib_ = run.max_rss_kib;
    // "diff_and_render_seconds": X
    auto at = micro_json_.find("\"diff_and_render_seconds\": ");
    if (at != std::string::npos) {
      micro_seconds_ =
          std::atof(micro_json_.c_str() + at + std::strlen("\"diff_and_render_seconds\": "));
    }
    std::fprintf(stderr, "  %s\n", micro_json_.c_str());
  }

  const Row* Find(const std::string& command, int n, int parallelism,
                  const std::string& throttle = "") const {
    for (const auto& r : rows_) {
      if (r.command == command && r.users == n && r.parallelism == parallelism &&
          r.throttle == throttle) {
        return &r;
      }
    }
    return nullptr;
  }

  void CheckTargets() {
    // Requests per plan: one list pass and one read per declared secret.
    for (const auto& r : rows_) {
      if (r.command != "plan" || r.run.exit_code != 0) continue;
      const int64_t secrets = r.users + 1;  // users and the certificate
      const int64_t pages = (secrets + 24) / 25;
      auto op = [&](const char* name) {
        auto it = r.counts.operations.find(name);
        return it == r.counts.operations.end() ? int64_t{0} : it->second;
      };
      // Every request the vault answered but 429s (each a retry of one of
      // these) and the one unauthenticated first request that learns Key
      // Vault's audience from its 401 challenge (it is whichever request
      // goes first: the list, a read or the deleted-secret list). What is
      // left must be the list's pages, a read per declared secret and one
      // page of the (empty) deleted-secret list; nothing per secret else.
      const int64_t answered = r.counts.vault_requests - r.counts.throttled - r.counts.unauthorized;
      const int64_t lists = op("GetSecrets");
      const int64_t reads = op("GetSecret");
      const int64_t other = r.counts.vault_requests - lists - reads;
      const bool pass = answered == pages + secrets + 1 && r.counts.unauthorized <= 1 &&
                        op("GetSecretVersions") == 0;
      targets_.push_back(
          {absl::StrFormat("requests per plan, N=%d, parallelism %d%s", r.users, r.parallelism,
                           r.throttle.empty() ? "" : absl::StrCat(", ", r.throttle)),
           absl::StrFormat("%d = %d list + %d reads + %d other - %d 401 - %d 429", answered, lists,
                           reads, other, r.counts.unauthorized, r.counts.throttled),
           absl::StrFormat("%d = %d pages + %d reads + 1 deleted list", pages + secrets + 1, pages,
                           secrets),
           pass});
    }
    if (const Row* fast = Find("plan", 1000, kDefaultParallelism)) {
      const double ratio = fast->run.seconds / fast->ideal;
      targets_.push_back(
          {"plan N=1000: time / ideal at the default parallelism",
           absl::StrFormat("%.2fx (%.2f s / %.2f s)", ratio, fast->run.seconds, fast->ideal),
           "<= 1.30x", fast->run.exit_code == 0 && ratio <= 1.3});
      if (const Row* slow = Find("plan", 1000, 1)) {
        const double speedup = slow->run.seconds / fast->run.seconds;
        targets_.push_back({"plan N=1000: speed-up over --parallelism 1",
                            absl::StrFormat("%.1fx", speedup), ">= 10x",
                            slow->run.exit_code == 0 && speedup >= 10});
      }
    }
    for (const auto& r : rows_) {
      if (r.throttle.empty()) continue;
      const double ratio = r.run.seconds / r.limit;
      const bool ok = r.run.exit_code == 0 && r.counts.server_errors == 0;
      targets_.push_back(
          {absl::StrFormat("%s N=%d, %s: no failed request", r.command, r.users, r.throttle),
           absl::StrFormat("exit %d, %d 5xx", r.run.exit_code, r.counts.server_errors),
           "exit 0, 0 5xx", ok});
      targets_.push_back(
          {absl::StrFormat("%s N=%d, %s: time / limits' time", r.command, r.users, r.throttle),
           absl::StrFormat("%.2fx (%.1f s / %.1f s)", ratio, r.run.seconds, r.limit), "<= 1.15x",
           ok && ratio <= 1.15});
      targets_.push_back({absl::StrFormat("%s N=%d, %s: 429 share", r.command, r.users, r.throttle),
                          absl::StrFormat("%.2f%% (%d of %d)", 100 * r.ThrottledShare(),
                                          r.counts.throttled, r.counts.requests),
                          "<= 5%", r.ThrottledShare() <= 0.05});
    }
    for (const auto& r : rows_) {
      if (r.users != 5000 || !r.throttle.empty()) continue;
      const double mib = r.run.max_rss_kib / 1024.0;
      targets_.push_back(
          {absl::StrFormat("peak RSS, %s N=5000, parallelism %d", r.command, r.parallelism),
           absl::StrFormat("%.1f MiB", mib), "< 64 MiB", mib < 64});
    }
    if (!micro_json_.empty()) {
      targets_.push_back({"diff + render of 100,000 secrets (in-process)",
                          absl::StrFormat("%.3f s", micro_seconds_), "< 1 s",
                          micro_seconds_ > 0 && micro_seconds_ < 1});
    }
  }

  void PrintTable() const {
    std::printf(
        "\n| command | N | parallelism | Key Vault limits | latency | wall time | requests | "
        "requests/s | 429s | ideal | time/ideal | limits' time | time/limits | peak RSS |\n"
        "|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for (const auto& r : rows_) {
      std::printf(
          "| %s | %d | %d | %s | %.0f ms | %.2f s | %lld | %.0f | %lld | %.2f s | %.2fx | %s | %s "
          "| %.1f MiB |%s\n",
          r.command.c_str(), r.users, r.parallelism, r.throttle.empty() ? "-" : r.throttle.c_str(),
          r.latency_ms, r.run.seconds, static_cast<long long>(r.counts.requests),
          r.RequestsPerSecond(), static_cast<long long>(r.counts.throttled), r.ideal,
          r.run.seconds / r.ideal,
          r.throttle.empty() ? "-" : absl::StrFormat("%.1f s", r.limit).c_str(),
          r.throttle.empty() ? "-" : absl::StrFormat("%.2fx", r.run.seconds / r.limit).c_str(),
          r.run.max_rss_kib / 1024.0, r.run.exit_code == 0 ? "" : " FAILED");
    }
    if (!micro_json_.empty()) {
      std::printf(
          "\nMicro benchmark (in-process, no network): diff + render of 100,000 secrets: "
          "%.3f s (peak RSS %.1f MiB)\n",
          micro_seconds_, micro_rss_kib_ / 1024.0);
    }
    std::printf("\n| target | measured | wanted | |\n|---|---|---|---|\n");
    for (const auto& t : targets_) {
      std::printf("| %s | %s | %s | %s |\n", t.name.c_str(), t.measured.c_str(), t.wanted.c_str(),
                  t.pass ? "PASS" : "MISS");
    }
  }

  void WriteJson() const {
    std::string j = "{\n  \"rows\": [\n";
    for (size_t i = 0; i < rows_.size(); ++i) {
      const Row& r = rows_[i];
      std::string ops;
      for (const auto& [k, v] : r.counts.operations) {
        absl::StrAppend(&ops, ops.empty() ? "" : ", ", JsonQuote(k), ": ", v);
      }
      absl::StrAppend(
          &j, "    {\"command\": ", JsonQuote(r.command), ", \"users\": ", r.users,
          ", \"parallelism\": ", r.parallelism, ", \"throttle\": ", JsonQuote(r.throttle),
          ", \"latency_ms\": ", r.latency_ms,
          absl::StrFormat(", \"wall_seconds\": %.3f", r.run.seconds),
          ", \"exit_code\": ", r.run.exit_code, ", \"requests\": ", r.counts.requests,
          ", \"vault_requests\": ", r.counts.vault_requests,
          ", \"arm_requests\": ", r.counts.arm_requests, ", \"tokens\": ", r.counts.tokens,
          ", \"throttled\": ", r.counts.throttled, ", \"unauthorized\": ", r.counts.unauthorized,
          ", \"server_errors\": ", r.counts.server_errors,
          absl::StrFormat(", \"requests_per_second\": %.1f", r.RequestsPerSecond()),
          absl::StrFormat(", \"ideal_seconds\": %.3f", r.ideal),
          absl::StrFormat(", \"limits_seconds\": %.3f", r.throttle.empty() ? 0.0 : r.limit),
          ", \"writes\": ", r.writes, ", \"peak_rss_kib\": ", r.run.max_rss_kib,
          ", \"vault_operations\": {", ops, "}}", i + 1 < rows_.size() ? ",\n" : "\n");
    }
    absl::StrAppend(&j, "  ],\n  \"micro\": ", micro_json_.empty() ? "null" : micro_json_,
                    ",\n  \"targets\": [\n");
    for (size_t i = 0; i < targets_.size(); ++i) {
      const Target& t = targets_[i];
      absl::StrAppend(
          &j, "    {\"name\": ", JsonQuote(t.name), ", \"measured\": ", JsonQuote(t.measured),
          ", \"wanted\": ", JsonQuote(t.wanted), ", \"pass\": ", t.pass ? "true" : "false", "}",
          i + 1 < targets_.size() ? ",\n" : "\n");
    }
    absl::StrAppend(&j, "  ]\n}\n");
    OrDie(WriteFileAtomic(options_.out, j, 0644), absl::StrCat("writing ", options_.out));
    std::printf("\nWrote %s\n", options_.out.c_str());
  }

  Options options_;
  std::vector<Row> rows_;
  std::vector<Target> targets_;
  std::string micro_json_;
  double micro_seconds_ = 0;
  int64_t micro_rss_kib_ = 0;
};

absl::Duration ParseDurationOrDie(const char* text) {
  absl::Duration d;
  if (!absl::ParseDuration(text, &d)) Fail(absl::StrCat("not a duration: ", text));
  return d;
}

int Main(int argc, char** argv) {
  Options options;
  options.build_dir = testing::BuildDir();
  bool keep = false;
  for (int i = 1; i < argc; ++i) {
    auto next = [&]() -> const char* {
      if (i + 1 >= argc) Fail(absl::StrCat(argv[i], " needs a value"));
      return argv[++i];
    };
    if (!std::strcmp(argv[i], "--out")) {
      options.out = next();
    } else if (!std::strcmp(argv[i], "--sizes")) {
      options.sizes.clear();
      for (absl::string_view s : absl::StrSplit(next(), ',')) {
        int n = 0;
        if (!absl::SimpleAtoi(s, &n) || n < 1) Fail(absl::StrCat("bad size ", s));
        options.sizes.push_back(n);
      }
    } else if (!std::strcmp(argv[i], "--latency")) {
      options.latency = options.latency_serial_5000 = ParseDurationOrDie(next());
    } else if (!std::strcmp(argv[i], "--latency-serial-5000")) {
      options.latency_serial_5000 = ParseDurationOrDie(next());
    } else if (!std::strcmp(argv[i], "--no-throttled")) {
      options.throttled = false;
    } else if (!std::strcmp(argv[i], "--throttled-only")) {
      options.throttled_only = true;
    } else if (!std::strcmp(argv[i], "--build-dir")) {
      options.build_dir = next();
    } else if (!std::strcmp(argv[i], "--work-dir")) {
      options.work_dir = next();
      keep = true;
    } else {
      std::fprintf(
          stderr,
          "usage: %s [--out FILE] [--sizes 10,100,1000,5000] [--latency 20ms] "
          "[--latency-serial-5000 20ms] [--no-throttled] [--throttled-only] [--build-dir DIR] "
          "[--work-dir DIR]\n",
          argv[0]);
      return 2;
    }
  }
  std::unique_ptr<testing::TempDir> temp;
  if (options.work_dir.empty()) {
    temp = std::make_unique<testing::TempDir>();
    options.work_dir = temp->path();
  }
  (void)keep;
  std::fprintf(stderr, "rotor_bench: binaries in %s, workspaces in %s\n", options.build_dir.c_str(),
               options.work_dir.c_str());
  return Bench(std::move(options)).Run();
}

}  // namespace
}  // namespace rotor::bench

int main(int argc, char** argv) { return rotor::bench::Main(argc, argv); }
