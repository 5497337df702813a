#include "tests/emulator/util.h"

#include <openssl/rand.h>

#include <cstdint>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "base/digest.h"
#include "providers/http/url.h"

namespace rotor::emulator {

std::string RandomHex(size_t bytes) {
  std::string raw(bytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), static_cast<int>(bytes)) != 1) {
    // RAND_bytes does not fail on a seeded Linux system; fall back anyway.
    for (auto& c : raw) c = static_cast<char>(std::rand());
  }
  return absl::BytesToHexString(raw);
}

std::string NewUuid() {
  unsigned char b[16];
  if (RAND_bytes(b, sizeof b) != 1) {
    for (auto& c : b) c = static_cast<unsigned char>(std::rand());
  }
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  std::string hex =
      absl::BytesToHexString(absl::string_view(reinterpret_cast<const char*>(b), sizeof b));
  return absl::StrCat(hex.substr(0, 8), "-", hex.substr(8, 4), "-", hex.substr(12, 4), "-",
                      hex.substr(16, 4), "-", hex.substr(20));
}

std::string StableUuid(absl::string_view seed) {
  std::string hex = Sha256Hex(seed);
  hex[12] = '4';  // version 4 layout
  return absl::StrCat(hex.substr(0, 8), "-", hex.substr(8, 4), "-", hex.substr(12, 4), "-",
                      hex.substr(16, 4), "-", hex.substr(20, 12));
}

std::map<std::string, std::string> ParseForm(absl::string_view body) {
  std::map<std::string, std::string> out;
  for (absl::string_view pair : absl::StrSplit(body, '&', absl::SkipEmpty())) {
    size_t eq = pair.find('=');
    std::string name = http::UrlDecode(pair.substr(0, eq), true);
    std::string value =
        eq == absl::string_view::npos ? std::string() : http::UrlDecode(pair.substr(eq + 1), true);
    out.emplace(std::move(name), std::move(value));
  }
  return out;
}

std::vector<std::string> PathSegments(absl::string_view path) {
  if (!path.empty() && path.front() == '/') path.remove_prefix(1);
  if (path.empty()) return {};
  return absl::StrSplit(path, '/');
}

std::string ArmTimestamp(absl::Time t) {
  // Seven fractional digits, as ARM writes them.
  absl::Time secs = absl::FromUnixSeconds(absl::ToUnixSeconds(t));
  int64_t ticks = absl::ToInt64Nanoseconds(t - secs) / 100;
  if (ticks < 0) ticks = 0;
  return absl::StrCat(absl::FormatTime("%Y-%m-%dT%H:%M:%S", secs, absl::UTCTimeZone()), ".",
                      absl::StrFormat("%07d", ticks), "Z");
}

std::string ArmDuration(absl::Duration d) {
  if (d < absl::ZeroDuration()) d = absl::ZeroDuration();
  int64_t ticks = absl::ToInt64Nanoseconds(d) / 100;
  int64_t hours = ticks / (3600LL * 10000000);
  ticks %= 3600LL * 10000000;
  int64_t minutes = ticks / (60LL * 10000000);
  ticks %= 60LL * 10000000;
  int64_t seconds = ticks / 10000000;
  int64_t frac = ticks % 10000000;
  std::string out = "PT";
  if (hours > 0) absl::StrAppend(&out, hours, "H");
  if (minutes > 0) absl::StrAppend(&out, minutes, "M");
  if (frac > 0) {
    std::string f = absl::StrFormat("%07d", frac);
    while (!f.empty() && f.back() == '0') f.pop_back();
    absl::StrAppend(&out, seconds, ".", f, "S");
  } else if (seconds > 0 || (hours == 0 && minutes == 0)) {
    absl::StrAppend(&out, seconds, "S");
  }
  return out;
}

std::string HttpDate(absl::Time t) {
  return absl::FormatTime("%a, %d %b %Y %H:%M:%S GMT", t, absl::UTCTimeZone());
}

std::string HostName(absl::string_view host_header) {
  std::string h = absl::AsciiStrToLower(host_header);
  if (!h.empty() && h.front() == '[') {
    size_t close = h.find(']');
    return close == std::string::npos ? h : h.substr(1, close - 1);
  }
  size_t colon = h.rfind(':');
  if (colon != std::string::npos && h.find(':') == colon) h = h.substr(0, colon);
  return h;
}

std::string ArmResourceKey(absl::string_view resource_group, absl::string_view name) {
  return absl::StrCat(absl::AsciiStrToLower(resource_group), "/", absl::AsciiStrToLower(name));
}

}  // namespace rotor::emulator
