#include "engine/config/toml_text.h"

#include <doctest/doctest.h>
#include <toml++/toml.h>

#include <string>

namespace rotor {
namespace {

// What toml++ reads back from `key = <TomlQuote(text)>`.
std::string RoundTrip(const std::string& text) {
  toml::table table = toml::parse("key = " + TomlQuote(text));
  return std::string(*table["key"].value<std::string>());
}

TEST_CASE("TomlQuote: escapes what a basic string cannot hold, and toml++ reads it back") {
  CHECK(TomlQuote("plain") == "\"plain\"");
  CHECK(TomlQuote("a\"b\\c") == "\"a\\\"b\\\\c\"");
  CHECK(TomlQuote(std::string("\n\t\r\x01\x7f", 5)) == "\"\\n\\t\\r\\u0001\\u007F\"");
  for (const std::string& text : {std::string("C:\\certs\\registry.pfx"), std::string("say \"hi\""),
                                  std::string("line\nbreak"), std::string("nul\0byte", 8),
                                  std::string("del\x7f"), std::string("caf\xc3\xa9")}) {
    CAPTURE(text);
    CHECK(RoundTrip(text) == text);
  }
}

TEST_CASE("IsTomlBareKey") {
  CHECK(IsTomlBareKey("client_secret"));
  CHECK(IsTomlBareKey("user-00001"));
  CHECK_FALSE(IsTomlBareKey(""));
  CHECK_FALSE(IsTomlBareKey("a.b"));
  CHECK_FALSE(IsTomlBareKey("with space"));
}

}  // namespace
}  // namespace rotor
