// Small conversions between JSON text and C++ values, for the places that
// carry JSON as text (deployment parameters) without a JSON library in their
// headers.
#ifndef ROTOR_BASE_JSON_TEXT_H_
#define ROTOR_BASE_JSON_TEXT_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "base/secret.h"

namespace rotor {

// `"text"` with JSON escaping.
std::string JsonQuote(absl::string_view text);
// JsonQuote for a credential: the result is a Secret and the working buffer
// is wiped (JsonQuote's would be freed holding the value).
Secret JsonQuoteSecret(const Secret& text);
// The string a JSON text holds, or nullopt when it is not a JSON string.
std::optional<std::string> JsonStringValue(absl::string_view json);
// The JSON text re-serialised compactly (for comparing values), or nullopt
// when it does not parse.
std::optional<std::string> JsonCanonical(absl::string_view json);

// The names declared in an ARM template's "parameters" object.
absl::StatusOr<std::vector<std::string>> TemplateParameterNames(absl::string_view template_json);

}  // namespace rotor

#endif  // ROTOR_BASE_JSON_TEXT_H_
