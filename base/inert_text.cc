#include "base/inert_text.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace rotor {
namespace {

// The escape for the control character at text[i] (1 or 2 bytes long, in
// *length), or "" when there is none there.
std::string EscapeAt(absl::string_view text, size_t i, bool newlines, size_t* length) {
  const unsigned char c = static_cast<unsigned char>(text[i]);
  *length = 1;
  if (c < 0x20 || c == 0x7f) {
    switch (c) {
      case '\n':
        return newlines ? "" : "\\n";
      case '\0':
        return "\\0";
      case '\t':
        return "\\t";
      case '\r':
        return "\\r";
      case 0x1b:
        return "\\e";
      default:
        return absl::StrFormat("\\x%02x", c);
    }
  }
  // C1 controls: U+0080..U+009F are C2 80..C2 9F in UTF-8.
  if (c == 0xc2 && i + 1 < text.size()) {
    const unsigned char next = static_cast<unsigned char>(text[i + 1]);
    if (next >= 0x80 && next <= 0x9f) {
      *length = 2;
      return absl::StrFormat("\\u%04x", next);
    }
  }
  return "";
}

}  // namespace

std::string ShowInert(absl::string_view text, size_t max_bytes, bool newlines) {
  constexpr absl::string_view kCut = "...";
  std::string out;
  out.reserve(std::min(text.size(), max_bytes) + 8);
  for (size_t i = 0; i < text.size();) {
    size_t length = 1;
    std::string escaped = EscapeAt(text, i, newlines, &length);
    if (escaped.empty()) {
      // One whole UTF-8 character (or one stray byte).
      const unsigned char c = static_cast<unsigned char>(text[i]);
      length = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
      if (i + length > text.size()) length = 1;
      escaped.assign(text.data() + i, length);
    }
    if (out.size() + escaped.size() > max_bytes) {
      // Make room for the cut mark, at a character boundary.
      const size_t keep = max_bytes > kCut.size() ? max_bytes - kCut.size() : 0;
      if (out.size() > keep) {
        size_t end = keep;
        while (end > 0 && (static_cast<unsigned char>(out[end]) & 0xc0) == 0x80) --end;
        out.resize(end);
      }
      absl::StrAppend(&out, kCut);
      return out;
    }
    out += escaped;
    i += length;
  }
  return out;
}

bool HasControlCharacters(absl::string_view text, bool newlines) {
  for (size_t i = 0; i < text.size(); ++i) {
    size_t length = 1;
    if (!EscapeAt(text, i, newlines, &length).empty()) return true;
  }
  return false;
}

}  // namespace rotor
