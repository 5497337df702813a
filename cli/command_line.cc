#include "cli/command_line.h"

#include <sys/ioctl.h>

#include <CLI/CLI.hpp>
#include <memory>
#include <ostream>

#include "absl/strings/numbers.h"
#include "cli/console.h"
#include "cli/metrics.h"

namespace rotor::cli {
namespace {

int Fail(Io& io, absl::string_view message) {
  io.err << "Error: " << message << "\n";
  return kExitError;
}

// The console for a command's options, and the Io the command runs with:
// stdout and stderr wrapped so a status line is erased before other output
// (text on a terminal), or stderr's lines turned into events (JSON).
class ConsoleScope {
 public:
  ConsoleScope(const CommonOptions& options, Io& io) : console_(MakeOptions(options, io)) {
    std::ostream* out = &io.out;
    std::ostream* err = &io.err;
    if (console_.json()) {
      err_ = console_.WrapStream(io.err, /*to_events=*/true);
      err = err_.get();
    } else if (console_.status_line()) {
      out_ = console_.WrapStream(io.out, /*to_events=*/false);
      err_ = console_.WrapStream(io.err, /*to_events=*/false);
      out = out_.get();
      err = err_.get();
    }
    io_ = std::make_unique<Io>(Io{*out, *err, io.in, io.out_is_tty, io.in_is_tty, io.env, io.clock,
                                  io.err_is_tty, &console_, ""});
  }
  ~ConsoleScope() {
    io_.reset();
    out_.reset();
    err_.reset();
  }
  Io& io() { return *io_; }

 private:
  static ConsoleOptions MakeOptions(const CommonOptions& options, const Io& io) {
    ConsoleOptions c;
    c.err = &io.err;
    c.err_is_tty = io.err_is_tty;
    c.format = options.log_format == "json" ? LogFormat::kJson : LogFormat::kText;
    c.quiet = options.quiet;
    c.log_level = options.log_level;
    c.clock = &io.clock;
    int columns = 0;
    struct winsize size {};
    if (auto env = io.env.Get("COLUMNS"); env.has_value() && absl::SimpleAtoi(*env, &columns)) {
      c.columns = columns;
    } else if (io.err_is_tty && ::ioctl(2, TIOCGWINSZ, &size) == 0 && size.ws_col > 0) {
      c.columns = size.ws_col;
    }
    return c;
  }

  Console console_;
  std::unique_ptr<std::ostream> out_;
  std::unique_ptr<std::ostream> err_;
  std::unique_ptr<Io> io_;
};

}  // namespace

// Options every command has that shape its output and logs.
void AddOutputOptions(CLI::App* command, CommonOptions* options) {
  command->add_flag("--no-color", options->no_color,
                    "No colours (also when NO_COLOR is set or the output is not a terminal)");
  command
      ->add_option("--log-level", options->log_level,
                   "The least severe log lines printed on stderr: error, warn, info or debug "
                   "(debug shows each request, bodies redacted)")
      ->check(CLI::IsMember({"debug", "info", "warn", "error"}))
      ->capture_default_str();
  command
      ->add_option("--log-format", options->log_format,
                   "Progress and log lines on stderr: text (a progress line on a terminal, "
                   "timestamped lines otherwise) or json (one JSON object per line)")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  command->add_flag("--quiet", options->quiet,
                    "Only errors and the final summary: no plan details, progress, warnings or "
                    "informational log lines");
}

void AddCommonOptions(CLI::App* command, CommonOptions* options) {
  command
      ->add_option("-c,--config", options->configs,
                   "The configuration file (default rotor.toml); repeat it, or name a folder "
                   "(every *.toml in it), for a fleet")
      ->type_name("CONFIG")
      ->allow_extra_args(false);
  command
      ->add_option("--target", options->targets,
                   "Only the registry whose vault name or configuration file stem is NAME "
                   "(repeatable)")
      ->type_name("NAME")
      ->allow_extra_args(false);
  command
      ->add_option("--shard", options->shard,
                   "Only the configurations in shard K of N (by file name), so N jobs split a "
                   "fleet with no coordination")
      ->type_name("K/N");
  command->add_flag("--json", options->json, "Machine-readable JSON output");
  command
      ->add_option("--parallelism", options->parallelism,
                   "Azure: HTTP requests in flight at once, per registry")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  AddOutputOptions(command, options);
}

void AddMetricsOption(CLI::App* command, CommonOptions* options, const char* command_name) {
  options->metrics_command = command_name;
  command
      ->add_option("--metrics-file", options->metrics_file,
                   "Write what the run found as Prometheus metrics to FILE (atomically), for "
                   "node_exporter's textfile collector")
      ->type_name("FILE");
}

int WithConsole(const CommonOptions& options, Io& io, const std::function<int(Io&)>& body) {
  ConsoleScope scope(options, io);
  return body(scope.io());
}

// Runs `command` on the configurations `common` selects (fleet.h).
int RunOnConfigs(const CommonOptions& common, Io& io, FleetSummary summary, bool user_exit_codes,
                 const std::function<absl::Status(const FleetSelection&)>& check,
                 const RegistryCommand& command) {
  Shard shard;
  if (!common.shard.empty()) {
    auto parsed = ParseShard(common.shard);
    if (!parsed.ok()) return Fail(io, parsed.status().message());
    shard = *parsed;
  }
  if (!common.metrics_file.empty()) {
    if (absl::Status s = CheckMetricsFile(common.metrics_file); !s.ok()) {
      return Fail(io, s.message());
    }
  }
  auto selection = SelectConfigs(common.configs, common.targets, shard);
  if (!selection.ok()) return Fail(io, selection.status().message());
  if (check) {
    if (absl::Status s = check(*selection); !s.ok()) return Fail(io, s.message());
  }
  MetricsRecorder recorder(common.metrics_command);
  int code = kExitOk;
  if (selection->members.empty()) {
    // Another job's shards hold them all: nothing to do here.
    io.err << "--shard " << common.shard << ": none of the " << selection->before_shard
           << (selection->before_shard == 1 ? " configuration falls" : " configurations fall")
           << " in this shard; nothing to do.\n";
    if (common.json) io.out << "[]\n";
  } else if (common.metrics_file.empty()) {
    code = RunSelection(*selection, common, io, summary, user_exit_codes, command);
  } else {
    CommonOptions with_metrics = common;
    with_metrics.metrics = &recorder;
    code = RunSelection(*selection, with_metrics, io, summary, user_exit_codes,
                        [&](const CommonOptions& options, Io& registry_io) {
                          const int exit_code = command(options, registry_io);
                          recorder.RecordExit(options.config, exit_code, io.clock.Now());
                          return exit_code;
                        });
  }
  if (!common.metrics_file.empty()) {
    if (absl::Status s = WriteMetricsFile(common.metrics_file, recorder.Render()); !s.ok()) {
      return Fail(io, s.message());
    }
  }
  return code;
}

}  // namespace rotor::cli
