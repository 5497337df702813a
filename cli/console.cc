#include "cli/console.h"

#include <cmath>
#include <ostream>
#include <streambuf>

#include "absl/algorithm/container.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"

namespace rotor::cli {
namespace {

using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

void WriteString(JsonWriter& w, absl::string_view text) {
  w.String(text.data(), static_cast<rapidjson::SizeType>(text.size()));
}

// The JSON text of the one value `write` writes.
template <typename Write>
std::string JsonText(Write write) {
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  write(w);
  return std::string(buffer.GetString(), buffer.GetSize());
}

int LevelRank(absl::string_view level) {
  if (level == "debug") return 0;
  if (level == "info") return 1;
  if (level == "error") return 3;
  return 2;  // warn
}

}  // namespace

EventField StringField(absl::string_view name, absl::string_view value) {
  return {std::string(name), JsonText([&](JsonWriter& w) { WriteString(w, value); })};
}
EventField NumberField(absl::string_view name, double value) {
  return {std::string(name), JsonText([&](JsonWriter& w) {
            if (!std::isfinite(value)) {
              w.Null();
              return;
            }
            // Always three decimals ("12.500"): Writer::Double writes the
            // shortest form, and SetMaxDecimalPlaces drops trailing zeros.
            const std::string number = absl::StrFormat("%.3f", value);
            w.RawValue(number.data(), number.size(), rapidjson::kNumberType);
          })};
}
EventField IntField(absl::string_view name, int64_t value) {
  return {std::string(name), JsonText([&](JsonWriter& w) { w.Int64(value); })};
}
EventField BoolField(absl::string_view name, bool value) {
  return {std::string(name), JsonText([&](JsonWriter& w) { w.Bool(value); })};
}

// Erases the status line, then passes every write on to `target`.
class Console::ForwardingBuf : public std::streambuf {
 public:
  ForwardingBuf(Console& console, std::ostream& target) : console_(console), target_(target) {}

 protected:
  int_type overflow(int_type ch) override {
    if (traits_type::eq_int_type(ch, traits_type::eof())) return traits_type::not_eof(ch);
    char c = traits_type::to_char_type(ch);
    return xsputn(&c, 1) == 1 ? ch : traits_type::eof();
  }
  std::streamsize xsputn(const char* s, std::streamsize n) override {
    std::lock_guard<std::mutex> lock(console_.mu_);
    console_.EraseLocked();
    target_.write(s, n);
    return target_.good() ? n : 0;
  }
  int sync() override {
    target_.flush();
    return target_.good() ? 0 : -1;
  }

 private:
  Console& console_;
  std::ostream& target_;
};

// Collects lines and turns each into an event.
class Console::EventLineBuf : public std::streambuf {
 public:
  explicit EventLineBuf(Console& console) : console_(console) {}
  ~EventLineBuf() override {
    if (!line_.empty()) Emit();
  }

 protected:
  int_type overflow(int_type ch) override {
    if (traits_type::eq_int_type(ch, traits_type::eof())) return traits_type::not_eof(ch);
    char c = traits_type::to_char_type(ch);
    xsputn(&c, 1);
    return ch;
  }
  std::streamsize xsputn(const char* s, std::streamsize n) override {
    for (std::streamsize i = 0; i < n; ++i) {
      if (s[i] == '\n') {
        Emit();
      } else {
        line_.push_back(s[i]);
      }
    }
    return n;
  }

 private:
  void Emit() {
    std::string line = std::move(line_);
    line_.clear();
    absl::string_view text = absl::StripTrailingAsciiWhitespace(line);
    if (text.empty()) return;
    std::lock_guard<std::mutex> lock(console_.mu_);
    if (absl::ConsumePrefix(&text, "Error: ")) {
      console_.WriteEventLocked("error", "", "error", {StringField("message", text)});
    } else {
      console_.WriteEventLocked("info", "", "message", {StringField("text", text)});
    }
  }

  Console& console_;
  std::string line_;
};

Console::Console(ConsoleOptions options) : options_(std::move(options)) {
  status_enabled_ = options_.format == LogFormat::kText && !options_.quiet && options_.err_is_tty &&
                    options_.err != nullptr;
  min_rank_ =
      options_.quiet ? std::max(3, LevelRank(options_.log_level)) : LevelRank(options_.log_level);
  if (options_.columns < 20) options_.columns = 80;
}

Console::~Console() { ClearStatus(); }

bool Console::LogEnabled(absl::string_view level) const {
  return options_.err != nullptr && LevelRank(level) >= min_rank_;
}

std::string Console::Timestamp() const {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", options_.clock->Now(), absl::UTCTimeZone());
}

void Console::EraseLocked() {
  if (drawn_ == 0) return;
  *options_.err << '\r' << std::string(drawn_, ' ') << '\r';
  options_.err->flush();
  drawn_ = 0;
}

void Console::DrawLocked() {
  std::vector<std::string> parts;
  for (const auto& [scope, text] : status_) {
    parts.push_back(scope.empty() ? text : absl::StrCat(scope, ": ", text));
  }
  std::string line = absl::StrJoin(parts, " | ");
  const size_t width = static_cast<size_t>(options_.columns - 1);
  if (line.size() > width) line = absl::StrCat(line.substr(0, width - 3), "...");
  size_t previous = drawn_;
  *options_.err << '\r' << line;
  if (previous > line.size()) {
    *options_.err << std::string(previous - line.size(), ' ') << '\r' << line;
  }
  options_.err->flush();
  drawn_ = line.size();
}

void Console::WriteEventLocked(absl::string_view level, absl::string_view scope,
                               absl::string_view event, const std::vector<EventField>& fields) {
  rapidjson::StringBuffer line;
  JsonWriter w(line);
  w.StartObject();
  w.Key("time");
  WriteString(w,
              absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", options_.clock->Now(), absl::UTCTimeZone()));
  w.Key("level");
  WriteString(w, level);
  w.Key("event");
  WriteString(w, event);
  w.Key("fields");
  w.StartObject();
  if (!scope.empty()) {
    w.Key("registry");
    WriteString(w, scope);
  }
  for (const auto& f : fields) {
    w.Key(f.name.data(), static_cast<rapidjson::SizeType>(f.name.size()));
    // Already JSON text; the type is not checked for a member's value.
    w.RawValue(f.json.data(), f.json.size(), rapidjson::kObjectType);
  }
  w.EndObject();
  w.EndObject();
  line.Put('\n');
  options_.err->write(line.GetString(), static_cast<std::streamsize>(line.GetSize()));
  options_.err->flush();
}

void Console::Progress(absl::string_view scope, absl::string_view event, absl::string_view text,
                       std::vector<EventField> fields) {
  if (options_.err == nullptr || options_.quiet) return;
  std::lock_guard<std::mutex> lock(mu_);
  if (json()) {
    if (!absl::c_any_of(fields, [](const EventField& f) { return f.name == "text"; })) {
      fields.push_back(StringField("text", text));
    }
    WriteEventLocked("info", scope, event, fields);
    return;
  }
  if (!status_enabled_) return;
  status_[std::string(scope)] = std::string(text);
  DrawLocked();
}

void Console::EndProgress(absl::string_view scope) {
  if (!status_enabled_) return;
  std::lock_guard<std::mutex> lock(mu_);
  if (status_.erase(std::string(scope)) == 0) return;
  if (status_.empty()) {
    EraseLocked();
  } else {
    DrawLocked();
  }
}

void Console::Line(absl::string_view scope, absl::string_view text) {
  if (options_.err == nullptr || options_.quiet || json()) return;
  std::lock_guard<std::mutex> lock(mu_);
  EraseLocked();
  *options_.err << Timestamp() << " " << (scope.empty() ? "" : absl::StrCat(scope, ": ")) << text
                << "\n";
  options_.err->flush();
  if (!status_.empty()) DrawLocked();
}

void Console::Event(absl::string_view level, absl::string_view scope, absl::string_view event,
                    std::vector<EventField> fields) {
  if (options_.err == nullptr || !json()) return;
  if (options_.quiet && level != "error") return;
  std::lock_guard<std::mutex> lock(mu_);
  WriteEventLocked(level, scope, event, fields);
}

void Console::Log(absl::string_view level, absl::string_view scope, absl::string_view message) {
  if (!LogEnabled(level)) return;
  std::lock_guard<std::mutex> lock(mu_);
  if (json()) {
    WriteEventLocked(level, scope, "log", {StringField("message", message)});
    return;
  }
  EraseLocked();
  *options_.err << "rotor: [" << level << "] " << (scope.empty() ? "" : absl::StrCat(scope, ": "))
                << message << "\n";
  options_.err->flush();
  if (!status_.empty()) DrawLocked();
}

void Console::ClearStatus() {
  if (!status_enabled_) return;
  std::lock_guard<std::mutex> lock(mu_);
  EraseLocked();
}

std::unique_ptr<std::ostream> Console::WrapStream(std::ostream& target, bool to_events) {
  struct Owned : std::ostream {
    explicit Owned(std::unique_ptr<std::streambuf> b) : std::ostream(b.get()), buf(std::move(b)) {}
    ~Owned() override { flush(); }
    std::unique_ptr<std::streambuf> buf;
  };
  std::unique_ptr<std::streambuf> buf;
  if (to_events) {
    buf = std::make_unique<EventLineBuf>(*this);
  } else {
    buf = std::make_unique<ForwardingBuf>(*this, target);
  }
  return std::make_unique<Owned>(std::move(buf));
}

}  // namespace rotor::cli
