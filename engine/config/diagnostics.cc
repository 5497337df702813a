#include "engine/config/diagnostics.h"

#include <algorithm>
#include <set>
#include <string>
#include <tuple>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "base/inert_text.h"
#include "engine/config/config_schema.h"

namespace rotor::config_internal {
namespace {

// An excerpt shows this many bytes of its line on each side of the column.
constexpr size_t kExcerptBytes = 80;
// A message is cut at this many bytes (a key name can be as long as the
// file).
constexpr size_t kMaxMessageBytes = 500;
// At most this many problems are shown; the summary line counts them all.
constexpr size_t kMaxShown = 50;

// ---------------------------------------------------------------------------
// Showing a source line without the secrets on it.

// Replaces the contents of the quoted string starting at `quote` (or, when
// unterminated, the rest of the line) with '*'.
void MaskQuoted(std::string* line, size_t quote) {
  const char q = (*line)[quote];
  size_t i = quote + 1;
  while (i < line->size() && (*line)[i] != q) {
    if (q == '"' && (*line)[i] == '\\' && i + 1 < line->size()) (*line)[i++] = '*';
    (*line)[i++] = '*';
  }
}

// Masks the literal after `name =` for every secret key name on the line.
void MaskSecretAssignments(std::string* line) {
  for (const std::string& name : SecretKeyNames()) {
    size_t from = 0;
    while ((from = line->find(name, from)) != std::string::npos) {
      size_t i = from + name.size();
      from = i;
      if (i < line->size() && ((*line)[i] == '"' || (*line)[i] == '\'')) ++i;  // "password" =
      while (i < line->size() && ((*line)[i] == ' ' || (*line)[i] == '\t')) ++i;
      if (i >= line->size() || (*line)[i] != '=') continue;
      ++i;
      while (i < line->size() && ((*line)[i] == ' ' || (*line)[i] == '\t')) ++i;
      if (i < line->size() && ((*line)[i] == '"' || (*line)[i] == '\'')) MaskQuoted(line, i);
    }
  }
}

// Byte offset of 1-based code-point column `column` in `line`.
size_t ByteOffset(absl::string_view line, int column) {
  size_t offset = 0;
  for (int c = 1; c < column && offset < line.size(); ++c) {
    ++offset;
    while (offset < line.size() && (static_cast<unsigned char>(line[offset]) & 0xC0) == 0x80) {
      ++offset;
    }
  }
  return offset;
}

class SourceText {
 public:
  explicit SourceText(absl::string_view text) {
    for (absl::string_view line : absl::StrSplit(text, '\n')) {
      lines_.push_back(std::string(absl::StripSuffix(line, "\r")));
    }
  }

  // Hides a secret literal spanning `region`.
  void Mask(const Region& region) {
    for (int n = region.begin.line; n <= region.end.line; ++n) {
      if (n < 1 || n > static_cast<int>(lines_.size())) continue;
      std::string& line = lines_[n - 1];
      size_t from = n == region.begin.line ? ByteOffset(line, region.begin.column) : 0;
      size_t to = n == region.end.line ? ByteOffset(line, region.end.column) : line.size();
      for (size_t i = from; i < to && i < line.size(); ++i) {
        if (line[i] != '"' && line[i] != '\'') line[i] = '*';
      }
    }
  }

  // "    12 | nmae = ..." and "       |   ^": the line's neighbourhood of
  // the column (kExcerptBytes on each side, "..." where it is cut), tabs as
  // spaces and control characters escaped (ShowInert), so a huge line or a
  // terminal escape in a comment is neither flooded nor acted on.
  std::string Excerpt(Position at) const {
    std::string line = at.line >= 1 && at.line <= static_cast<int>(lines_.size())
                           ? lines_[at.line - 1]
                           : std::string();
    MaskSecretAssignments(&line);
    const size_t offset = std::min(ByteOffset(line, at.column), line.size());
    size_t from = offset > kExcerptBytes ? offset - kExcerptBytes : 0;
    size_t to = std::min(line.size(), offset + kExcerptBytes);
    while (from > 0 && (static_cast<unsigned char>(line[from]) & 0xC0) == 0x80) --from;
    while (to < line.size() && (static_cast<unsigned char>(line[to]) & 0xC0) == 0x80) ++to;
    std::string before = line.substr(from, offset - from);
    std::string after = line.substr(offset, to - offset);
    for (std::string* part : {&before, &after}) {
      for (char& c : *part) {
        if (c == '\t') c = ' ';
      }
    }
    const std::string shown_before = absl::StrCat(from > 0 ? "..." : "", ShowInert(before));
    std::string pad;
    for (char c : shown_before) {
      if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) pad += ' ';
    }
    return absl::StrFormat("%5d | %s%s%s\n      | %s^", at.line, shown_before, ShowInert(after),
                           to < line.size() ? "..." : "", pad);
  }

 private:
  std::vector<std::string> lines_;
};

}  // namespace

absl::Status DiagnosticsError(absl::string_view path, absl::string_view text,
                              std::vector<Diagnostic> diagnostics,
                              const std::vector<Region>& secret_regions) {
  std::stable_sort(diagnostics.begin(), diagnostics.end(),
                   [](const Diagnostic& a, const Diagnostic& b) {
                     return std::pair(a.position.line, a.position.column) <
                            std::pair(b.position.line, b.position.column);
                   });
  SourceText source(text);
  for (const Region& region : secret_regions) source.Mask(region);
  const std::string shown_path = ShowInert(path, kMaxMessageBytes);
  std::vector<std::string> parts;
  std::set<std::tuple<int, int, std::string>> seen;
  size_t count = 0;
  for (const Diagnostic& d : diagnostics) {
    if (!seen.emplace(d.position.line, d.position.column, d.message).second) continue;
    if (++count > kMaxShown) continue;
    parts.push_back(absl::StrCat(shown_path, ":", d.position.line, ":", d.position.column,
                                 ": error: ", ShowInert(d.message, kMaxMessageBytes), "\n",
                                 source.Excerpt(d.position)));
  }
  if (count > kMaxShown) {
    parts.push_back(
        absl::StrCat("... and ", count - kMaxShown, " more (the first ", kMaxShown, " are shown)"));
  }
  return absl::InvalidArgumentError(absl::StrCat(shown_path, ": ", count,
                                                 count == 1 ? " error" : " errors", "\n",
                                                 absl::StrJoin(parts, "\n")));
}

}  // namespace rotor::config_internal
