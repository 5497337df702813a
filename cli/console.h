// Console: where rotor's progress and log events go while a command runs,
// shared by every registry of a fleet (thread-safe).
//
//   --log-format text, standard error a terminal: a long wait (deployment
//       polling, throttled requests) shows one status line on stderr,
//       rewritten in place with '\r'; anything else written to stdout or
//       stderr first erases it (WrapStream).
//   --log-format text otherwise: plain lines, each starting with an RFC 3339
//       UTC timestamp.
//   --log-format json: one JSON object per line on stderr for every progress
//       and log event: {"time", "level", "event", "fields"}; text written to
//       stderr by commands ("Error: ...") becomes such events too.
//   --quiet: no progress at all, and only error log lines.
//
// Events carry names, states, durations and redacted URLs; never a secret
// value (callers never pass one).
#ifndef ROTOR_CLI_CONSOLE_H_
#define ROTOR_CLI_CONSOLE_H_

#include <iosfwd>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "base/clock.h"

namespace rotor::cli {

enum class LogFormat { kText, kJson };

// One field of an event: its name and its value as JSON text.
struct EventField {
  std::string name;
  std::string json;
};
EventField StringField(absl::string_view name, absl::string_view value);
EventField NumberField(absl::string_view name, double value);
EventField IntField(absl::string_view name, int64_t value);
EventField BoolField(absl::string_view name, bool value);

struct ConsoleOptions {
  std::ostream* err = nullptr;  // standard error
  bool err_is_tty = false;
  LogFormat format = LogFormat::kText;
  bool quiet = false;
  // The least severe log lines shown: "debug", "info", "warn" or "error"
  // (--quiet raises it to "error").
  std::string log_level = "warn";
  const Clock* clock = &RealClock::Get();
  // Width of the status line (COLUMNS); longer lines are cut.
  int columns = 80;
};

class Console {
 public:
  explicit Console(ConsoleOptions options);
  ~Console();
  Console(const Console&) = delete;
  Console& operator=(const Console&) = delete;

  bool json() const { return options_.format == LogFormat::kJson; }
  bool quiet() const { return options_.quiet; }
  // Text progress is a status line rewritten in place (not quiet, text,
  // stderr a terminal).
  bool status_line() const { return status_enabled_; }
  // Plain progress lines (text, not quiet, no terminal).
  bool plain_lines() const { return !json() && !quiet() && !status_enabled_; }

  // Progress of a long wait, for `scope` (a registry's label in a fleet,
  // "" for a single config). Status line: replaces this scope's part of
  // the line. JSON: an event at level info. Plain lines and quiet: nothing
  // (callers print plain lines where their other output goes, with
  // Timestamp()).
  void Progress(absl::string_view scope, absl::string_view event, absl::string_view text,
                std::vector<EventField> fields = {});
  // The wait of `scope` is over: its part of the status line goes.
  void EndProgress(absl::string_view scope);
  // A plain progress line on stderr: "TIMESTAMP scope: text" (text mode
  // without a terminal; a fleet's live progress).
  void Line(absl::string_view scope, absl::string_view text);
  // A discrete event (JSON only; ignored in text mode).
  void Event(absl::string_view level, absl::string_view scope, absl::string_view event,
             std::vector<EventField> fields);
  // A log line at `level` ("debug", "info", "warn", "error") when at least
  // the configured level. Text: "rotor: [level] scope: message".
  void Log(absl::string_view level, absl::string_view scope, absl::string_view message);
  bool LogEnabled(absl::string_view level) const;

  // "2026-11-25T19:35:00Z" for now.
  std::string Timestamp() const;

  // A stream over `target` that erases the status line before each write
  // (text), or turns each line written into an event on stderr (JSON:
  // "Error: X" -> level error, event "error"; other lines -> level info,
  // event "message"). `target` must outlive the stream.
  std::unique_ptr<std::ostream> WrapStream(std::ostream& target, bool to_events);

  // Erases the status line (before output that is not the console's).
  void ClearStatus();

 private:
  class ForwardingBuf;
  class EventLineBuf;

  void EraseLocked();
  void DrawLocked();
  void WriteEventLocked(absl::string_view level, absl::string_view scope, absl::string_view event,
                        const std::vector<EventField>& fields);

  ConsoleOptions options_;
  bool status_enabled_ = false;
  int min_rank_ = 2;
  std::mutex mu_;
  // Scope -> its current status text, drawn in scope order.
  std::map<std::string, std::string> status_;
  size_t drawn_ = 0;  // characters of the status line now on screen
};

}  // namespace rotor::cli

#endif  // ROTOR_CLI_CONSOLE_H_
