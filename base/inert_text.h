// Text from outside (a config, a file name, a program's stderr, a server's
// message) made safe to print: control characters shown escaped, so that a
// terminal escape in a hostile input cannot retitle or clear the user's
// terminal and a NUL cannot hide the end of a name, and cut to a length so
// that one huge input cannot flood the output.
#ifndef ROTOR_BASE_INERT_TEXT_H_
#define ROTOR_BASE_INERT_TEXT_H_

#include <cstddef>
#include <string>

#include "absl/strings/string_view.h"

namespace rotor {

// `text` with every C0 control character, DEL, C1 control (U+0080 to
// U+009F) and byte that is not part of well-formed UTF-8 escaped: "\0", "\t",
// "\n", "\r", "\e" for ESC, "\uNNNN" for a C1 control, "\xNN" otherwise; a backslash is kept as it
// is. Longer than `max_bytes` (of the result): cut at a character boundary and ended with
// "...". Keep `newlines` to let "\n" through (multi-line messages).
std::string ShowInert(absl::string_view text, size_t max_bytes = static_cast<size_t>(-1),
                      bool newlines = false);

// Whether `text` holds anything ShowInert would escape.
bool HasControlCharacters(absl::string_view text, bool newlines = false);

}  // namespace rotor

#endif  // ROTOR_BASE_INERT_TEXT_H_
