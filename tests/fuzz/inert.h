// What every fuzz target checks of the text rotor would print from a
// hostile input: bounded, and inert (no control character but newlines, see
// base/inert_text.h). A violation traps, which libFuzzer reports as a crash.
#ifndef ROTOR_TESTS_FUZZ_INERT_H_
#define ROTOR_TESTS_FUZZ_INERT_H_

#include <cstddef>
#include <cstdio>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "base/inert_text.h"

namespace rotor::fuzz {

inline void ExpectInert(absl::string_view text, size_t max_bytes) {
  const bool too_long = text.size() > max_bytes;
  if (!too_long && !HasControlCharacters(text, /*newlines=*/true)) return;
  // Say which rule broke, and show the text escaped, before the trap.
  std::fprintf(stderr, "ExpectInert: %s (%zu bytes, limit %zu): %s\n",
               too_long ? "too long" : "control character", text.size(), max_bytes,
               ShowInert(text, 2048, /*newlines=*/false).c_str());
  __builtin_trap();
}

template <typename T>
void ExpectInertError(const absl::StatusOr<T>& result, size_t max_bytes = 4096) {
  if (!result.ok()) ExpectInert(result.status().message(), max_bytes);
}

}  // namespace rotor::fuzz

#endif  // ROTOR_TESTS_FUZZ_INERT_H_
