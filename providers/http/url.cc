#include "providers/http/url.h"

#include <array>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace rotor::http {
namespace {

bool IsUnreserved(unsigned char c) {
  return absl::ascii_isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

constexpr char kHex[] = "0123456789ABCDEF";

size_t EncodedSize(absl::string_view text) {
  size_t n = 0;
  for (unsigned char c : text) n += IsUnreserved(c) ? 1 : 3;
  return n;
}

void AppendEncoded(absl::string_view text, std::string& out) {
  for (unsigned char c : text) {
    if (IsUnreserved(c)) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
    }
  }
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string UrlEncode(absl::string_view text) {
  std::string out;
  out.reserve(EncodedSize(text));
  AppendEncoded(text, out);
  return out;
}

std::string UrlDecode(absl::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '%' && i + 2 < text.size()) {
      int hi = HexValue(text[i + 1]), lo = HexValue(text[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(plus_is_space && c == '+' ? ' ' : c);
  }
  return out;
}

Secret FormEncode(absl::Span<const FormField> fields) {
  size_t size = 0;
  for (const FormField& f : fields) {
    size += EncodedSize(f.name) + 1 + EncodedSize(f.value) + 1;
  }
  std::string out;
  out.reserve(size);
  for (const FormField& f : fields) {
    if (!out.empty()) out.push_back('&');
    AppendEncoded(f.name, out);
    out.push_back('=');
    AppendEncoded(f.value, out);
  }
  return Secret(std::move(out));
}

bool IsSensitiveName(absl::string_view raw_name) {
  std::string name = absl::AsciiStrToLower(UrlDecode(raw_name));
  static constexpr std::array<absl::string_view, 5> kExact = {"sig", "code", "$skiptoken", "key",
                                                              "pwd"};
  for (absl::string_view exact : kExact) {
    if (name == exact) return true;
  }
  static constexpr std::array<absl::string_view, 8> kParts = {
      "secret", "token", "signature", "password", "assertion", "credential", "auth", "cookie"};
  for (absl::string_view part : kParts) {
    if (absl::StrContains(name, part)) return true;
  }
  return false;
}

std::string RedactUrl(absl::string_view url) {
  // Drop the fragment.
  url = url.substr(0, url.find('#'));
  std::string out;
  out.reserve(url.size());
  // scheme://[userinfo@]authority
  size_t scheme_end = url.find("://");
  size_t authority_start = 0;
  if (scheme_end != absl::string_view::npos) {
    authority_start = scheme_end + 3;
    absl::StrAppend(&out, url.substr(0, authority_start));
    size_t authority_end = url.find_first_of("/?", authority_start);
    if (authority_end == absl::string_view::npos) authority_end = url.size();
    absl::string_view authority = url.substr(authority_start, authority_end - authority_start);
    size_t at = authority.rfind('@');
    if (at != absl::string_view::npos) authority.remove_prefix(at + 1);
    absl::StrAppend(&out, authority);
    url.remove_prefix(authority_end);
  }
  size_t query_start = url.find('?');
  absl::StrAppend(&out, url.substr(0, query_start));
  if (query_start == absl::string_view::npos) return out;
  out.push_back('?');
  bool first = true;
  for (absl::string_view param : absl::StrSplit(url.substr(query_start + 1), '&')) {
    if (!first) out.push_back('&');
    first = false;
    size_t eq = param.find('=');
    absl::string_view name = param.substr(0, eq);
    if (eq != absl::string_view::npos && IsSensitiveName(name)) {
      absl::StrAppend(&out, name);
      absl::StrAppend(&out, "=REDACTED");
    } else {
      absl::StrAppend(&out, param);
    }
  }
  return out;
}

}  // namespace rotor::http
