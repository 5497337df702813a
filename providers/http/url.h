// URL and form helpers for the HTTP layer and the layers above it (auth
// builds token requests with FormEncode; everything that logs or reports a
// URL passes it through RedactUrl first).
#ifndef ROTOR_PROVIDERS_HTTP_URL_H_
#define ROTOR_PROVIDERS_HTTP_URL_H_

#include <string>
#include <utility>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "base/secret.h"

namespace rotor::http {

// Percent-encodes every byte except the RFC 3986 unreserved characters
// (A-Z a-z 0-9 - . _ ~). Suitable for a query value, a path segment and a
// form field (spaces become %20, which form decoders accept).
std::string UrlEncode(absl::string_view text);

// Decodes %XX escapes; with `plus_is_space` (query strings, forms) also '+'.
// Malformed escapes are kept literally.
std::string UrlDecode(absl::string_view text, bool plus_is_space = true);

// One field of an application/x-www-form-urlencoded body. The value is a
// view: pass `secret.Reveal()` for a client secret.
struct FormField {
  absl::string_view name;
  absl::string_view value;
};

// `name=value&name=value` with both sides UrlEncode'd. The result is a Secret
// because form bodies carry credentials (client_secret, client_assertion);
// it is sized up front so no partial copy is left in freed memory.
Secret FormEncode(absl::Span<const FormField> fields);

// True for a query-parameter or header name that carries a credential:
// client_secret, client_assertion, sig, code, $skiptoken, password, and any
// name containing "secret", "token", "signature", "password", "assertion",
// "credential" or "auth" (case-insensitive, after %-decoding).
bool IsSensitiveName(absl::string_view name);

// The URL as it may appear in logs and error messages: user info and the
// fragment are dropped and the value of every sensitive query parameter
// (IsSensitiveName) becomes REDACTED. Anything else is kept as written.
//   https://u:p@h/x?api-version=7.4&client_secret=s3cr3t
//     -> https://h/x?api-version=7.4&client_secret=REDACTED
std::string RedactUrl(absl::string_view url);

}  // namespace rotor::http

#endif  // ROTOR_PROVIDERS_HTTP_URL_H_
