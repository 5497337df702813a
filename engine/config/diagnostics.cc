#include "engine/config/diagnostics.h"

#include <algorithm>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "engine/config/config_schema.h"

namespace rotor::config_internal {
namespace {

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

  // "    12 | nmae = ..." and "       |   ^".
  std::string Excerpt(Position at) const {
    std::string line = at.line >= 1 && at.line <= static_cast<int>(lines_.size())
                           ? lines_[at.line - 1]
                           : std::string();
    MaskSecretAssignments(&line);
    std::string pad;
    const size_t offset = ByteOffset(line, at.column);
    for (size_t i = 0; i < offset; ++i) {
      if ((static_cast<unsigned char>(line[i]) & 0xC0) == 0x80) continue;
      pad += line[i] == '\t' ? '\t' : ' ';
    }
    return absl::StrFormat("%5d | %s\n      | %s^", at.line, line, pad);
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
  std::vector<std::string> parts;
  std::vector<const Diagnostic*> shown;
  for (const Diagnostic& d : diagnostics) {
    bool duplicate = false;
    for (const Diagnostic* s : shown) {
      duplicate |= s->position.line == d.position.line && s->position.column == d.position.column &&
                   s->message == d.message;
    }
    if (duplicate) continue;
    shown.push_back(&d);
    parts.push_back(absl::StrCat(path, ":", d.position.line, ":", d.position.column,
                                 ": error: ", d.message, "\n", source.Excerpt(d.position)));
  }
  return absl::InvalidArgumentError(absl::StrCat(path, ": ", parts.size(),
                                                 parts.size() == 1 ? " error" : " errors", "\n",
                                                 absl::StrJoin(parts, "\n")));
}

}  // namespace rotor::config_internal
