#include "engine/config/did_you_mean.h"

#include <algorithm>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"

namespace rotor {

size_t EditDistance(absl::string_view a, absl::string_view b) {
  const size_t n = a.size(), m = b.size();
  // Three rows: i-2, i-1, i.
  std::vector<size_t> prev2(m + 1), prev(m + 1), cur(m + 1);
  for (size_t j = 0; j <= m; ++j) prev[j] = j;
  for (size_t i = 1; i <= n; ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= m; ++j) {
      const bool same = absl::ascii_tolower(static_cast<unsigned char>(a[i - 1])) ==
                        absl::ascii_tolower(static_cast<unsigned char>(b[j - 1]));
      size_t best = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (same ? 0 : 1)});
      if (i > 1 && j > 1 &&
          absl::ascii_tolower(static_cast<unsigned char>(a[i - 1])) ==
              absl::ascii_tolower(static_cast<unsigned char>(b[j - 2])) &&
          absl::ascii_tolower(static_cast<unsigned char>(a[i - 2])) ==
              absl::ascii_tolower(static_cast<unsigned char>(b[j - 1]))) {
        best = std::min(best, prev2[j - 2] + 1);
      }
      cur[j] = best;
    }
    prev2.swap(prev);
    prev.swap(cur);
  }
  return prev[m];
}

std::optional<std::string> DidYouMean(absl::string_view word,
                                      const std::vector<std::string>& candidates) {
  if (word.empty()) return std::nullopt;
  const size_t limit = std::max<size_t>(1, word.size() / 3);
  std::optional<std::string> best;
  size_t best_distance = limit + 1;
  for (const std::string& candidate : candidates) {
    size_t d = EditDistance(word, candidate);
    if (d < best_distance) {
      best_distance = d;
      best = candidate;
    }
  }
  if (best) return best;
  // A truncated or over-long key: "resource" for "resource_group".
  if (word.size() >= 3) {
    for (const std::string& candidate : candidates) {
      if (absl::StartsWithIgnoreCase(candidate, word) ||
          absl::StartsWithIgnoreCase(word, candidate)) {
        if (candidate.size() >= 3) return candidate;
      }
    }
  }
  return std::nullopt;
}

}  // namespace rotor
