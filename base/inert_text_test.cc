#include "base/inert_text.h"

#include <doctest/doctest.h>

#include <string>

namespace rotor {
namespace {

TEST_CASE("ShowInert escapes control characters and keeps the rest") {
  CHECK(ShowInert("plain text, ünïcode") == "plain text, ünïcode");
  CHECK(ShowInert("\x1b]0;pwned\x07") == "\\e]0;pwned\\x07");
  CHECK(ShowInert("\x1b[2J\x1b[H") == "\\e[2J\\e[H");
  CHECK(ShowInert(std::string("a\0b", 3)) == "a\\0b");
  CHECK(ShowInert("tab\there\r\n") == "tab\\there\\r\\n");
  CHECK(ShowInert("line\nnext", std::string::npos, /*newlines=*/true) == "line\nnext");
  CHECK(ShowInert("del\x7f") == "del\\x7f");
  // C1 controls (U+009B is a one-character CSI on some terminals).
  CHECK(ShowInert("x\xc2\x9b"
                  "2J") == "x\\u009b2J");
  CHECK(HasControlCharacters("\x1b"));
  CHECK_FALSE(HasControlCharacters("fine"));
  CHECK_FALSE(HasControlCharacters("a\nb", /*newlines=*/true));
}

TEST_CASE("ShowInert escapes every byte that is not well-formed UTF-8") {
  // A lead byte must not carry a control character past the check inside
  // what looks like its sequence (found by the keyvault_codec fuzzer).
  CHECK(ShowInert("{\xf9\x9d\x02}") == "{\\xf9\\x9d\\x02}");
  CHECK(HasControlCharacters("\xf9\x9d\x02"));
  CHECK(ShowInert("stray \x9b") == "stray \\x9b");        // C1 as a lone byte
  CHECK(ShowInert("cut \xe2\x82") == "cut \\xe2\\x82");   // sequence cut short
  CHECK(ShowInert("\xc0\xaf") == "\\xc0\\xaf");           // overlong "/"
  CHECK(ShowInert("\xed\xa0\x80") == "\\xed\\xa0\\x80");  // a surrogate
  CHECK(ShowInert("\xe2\x82\xac \xf0\x9f\x94\x91") == "\xe2\x82\xac \xf0\x9f\x94\x91");  // kept
  CHECK_FALSE(HasControlCharacters("\xe2\x82\xac"));
}

TEST_CASE("ShowInert cuts long text at a character boundary") {
  CHECK(ShowInert(std::string(100, 'a'), 10) == "aaaaaaa...");
  CHECK(ShowInert("abc", 10) == "abc");
  CHECK(ShowInert("0123456789", 10) == "0123456789");
  CHECK(ShowInert("01234567890", 10) == "0123456...");
  // "é" is two bytes: never cut in half.
  const std::string cut = ShowInert("aaaaaaéééééé", 10);
  CHECK(cut.size() <= 10);
  CHECK(cut == "aaaaaa...");
  CHECK(ShowInert(std::string(50'000'000, '\x1b'), 1000).size() <= 1000);
}

}  // namespace
}  // namespace rotor
