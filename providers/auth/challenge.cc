#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "providers/auth/cloud.h"
#include "providers/auth/token.h"

namespace rotor::auth {

std::string BearerChallenge::Audience() const {
  if (!scope.empty()) {
    // A scope list may hold several; the first is the resource's.
    absl::string_view s = scope;
    s = s.substr(0, s.find(' '));
    absl::ConsumeSuffix(&s, "/.default");
    return std::string(s);
  }
  return resource;
}

std::optional<BearerChallenge> ParseBearerChallenge(absl::string_view header) {
  absl::string_view rest = absl::StripAsciiWhitespace(header);
  if (rest.size() < 6 || !absl::StartsWithIgnoreCase(rest, "Bearer") ||
      (rest.size() > 6 && !absl::ascii_isspace(static_cast<unsigned char>(rest[6])))) {
    return std::nullopt;
  }
  rest.remove_prefix(6);
  BearerChallenge c;
  // key=value pairs; values quoted ("...", no escapes in practice) or bare;
  // separators: commas and/or whitespace.
  while (true) {
    while (!rest.empty() &&
           (rest.front() == ',' || absl::ascii_isspace(static_cast<unsigned char>(rest.front())))) {
      rest.remove_prefix(1);
    }
    if (rest.empty()) break;
    size_t eq = rest.find('=');
    if (eq == absl::string_view::npos) break;
    std::string key = absl::AsciiStrToLower(absl::StripAsciiWhitespace(rest.substr(0, eq)));
    rest.remove_prefix(eq + 1);
    while (!rest.empty() && absl::ascii_isspace(static_cast<unsigned char>(rest.front()))) {
      rest.remove_prefix(1);
    }
    std::string value;
    if (!rest.empty() && rest.front() == '"') {
      rest.remove_prefix(1);
      while (!rest.empty() && rest.front() != '"') {
        if (rest.front() == '\\' && rest.size() > 1) rest.remove_prefix(1);
        value.push_back(rest.front());
        rest.remove_prefix(1);
      }
      if (!rest.empty()) rest.remove_prefix(1);  // closing quote
    } else {
      size_t end = 0;
      while (end < rest.size() && rest[end] != ',' &&
             !absl::ascii_isspace(static_cast<unsigned char>(rest[end]))) {
        ++end;
      }
      value = std::string(rest.substr(0, end));
      rest.remove_prefix(end);
    }
    if (key == "authorization" || key == "authorization_uri") {
      c.authorization = value;
    } else if (key == "resource" || key == "resource_id") {
      c.resource = value;
    } else if (key == "scope") {
      c.scope = value;
    }
  }
  if (!c.authorization.empty()) {
    auto parts = SplitUrl(c.authorization);
    if (parts.ok()) {
      absl::string_view path = parts->path;
      absl::ConsumePrefix(&path, "/");
      c.tenant = std::string(path.substr(0, path.find('/')));
    }
  }
  return c;
}

std::string ScopeForAudience(absl::string_view audience) {
  while (absl::EndsWith(audience, "/")) audience.remove_suffix(1);
  return absl::StrCat(audience, "/.default");
}

}  // namespace rotor::auth
