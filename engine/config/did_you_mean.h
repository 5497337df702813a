// "Did you mean ...?" suggestions for misspelt keys and enum values.
#ifndef ROTOR_ENGINE_CONFIG_DID_YOU_MEAN_H_
#define ROTOR_ENGINE_CONFIG_DID_YOU_MEAN_H_

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace rotor {

// Optimal-string-alignment distance (Levenshtein plus adjacent
// transpositions, so "nmae" -> "name" is 1), comparing ASCII letters
// case-insensitively.
size_t EditDistance(absl::string_view a, absl::string_view b);

// The candidate closest to `word`, when it is close enough to be a likely
// typo: at most max(1, len/3) edits, or `word` is a prefix/suffix of it
// ("resource" -> "resource_group") or the other way round. Ties go to the
// first candidate. nullopt when nothing is close.
std::optional<std::string> DidYouMean(absl::string_view word,
                                      const std::vector<std::string>& candidates);

}  // namespace rotor

#endif  // ROTOR_ENGINE_CONFIG_DID_YOU_MEAN_H_
