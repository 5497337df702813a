#include "base/inert_text.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace rotor {
namespace {

// The length of the well-formed UTF-8 character that starts at text[i] (2 to
// 4 bytes), or 0 when none does there (ASCII, a stray continuation byte, a
// lead byte without its continuations, an overlong or surrogate form).
size_t Utf8SequenceAt(absl::string_view text, size_t i) {
  const unsigned char c = static_cast<unsigned char>(text[i]);
  size_t length = 0;
  unsigned char low = 0x80, high = 0xbf;  // bounds of the second byte
  if (c >= 0xc2 && c <= 0xdf) {
    length = 2;
  } else if (c >= 0xe0 && c <= 0xef) {
    length = 3;
    if (c == 0xe0) low = 0xa0;   // overlong
    if (c == 0xed) high = 0x9f;  // surrogates
  } else if (c >= 0xf0 && c <= 0xf4) {
    length = 4;
    if (c == 0xf0) low = 0x90;   // overlong
    if (c == 0xf4) high = 0x8f;  // past U+10FFFF
  } else {
    return 0;
  }
  if (i + length > text.size()) return 0;
  for (size_t k = 1; k < length; ++k) {
    const unsigned char next = static_cast<unsigned char>(text[i + k]);
    if (k == 1 ? (next < low || next > high) : (next & 0xc0) != 0x80) return 0;
  }
  return length;
}

// The escape for what starts at text[i], or "" when it is printable as it
// is; *length is how many bytes that is (one byte, or one whole UTF-8
// character). Escaped: C0 controls and DEL, C1 controls (U+0080..U+009F),
// and every byte that is not part of well-formed UTF-8, so that no byte
// reaches a terminal as something it could read as a control.
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
  if (c < 0x80) return "";
  const size_t sequence = Utf8SequenceAt(text, i);
  if (sequence == 0) return absl::StrFormat("\\x%02x", c);
  *length = sequence;
  // C1 controls: U+0080..U+009F are C2 80..C2 9F in UTF-8.
  const unsigned char next = static_cast<unsigned char>(text[i + 1]);
  if (c == 0xc2 && next <= 0x9f) return absl::StrFormat("\\u%04x", next);
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
    if (escaped.empty()) escaped.assign(text.data() + i, length);  // printable as it is
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
  for (size_t i = 0; i < text.size();) {
    size_t length = 1;
    if (!EscapeAt(text, i, newlines, &length).empty()) return true;
    i += length;
  }
  return false;
}

}  // namespace rotor
