#include "providers/http/url.h"

#include <doctest/doctest.h>

namespace rotor::http {
namespace {

TEST_CASE("UrlEncode keeps unreserved characters only") {
  CHECK(UrlEncode("abcXYZ019-._~") == "abcXYZ019-._~");
  CHECK(UrlEncode("a b+c/d?e=f&g%") == "a%20b%2Bc%2Fd%3Fe%3Df%26g%25");
  CHECK(UrlEncode("\xC3\xA9") == "%C3%A9");
  CHECK(UrlEncode("") == "");
}

TEST_CASE("UrlDecode") {
  CHECK(UrlDecode("a%20b+c") == "a b c");
  CHECK(UrlDecode("a+b", /*plus_is_space=*/false) == "a+b");
  CHECK(UrlDecode("api%2Dversion") == "api-version");
  CHECK(UrlDecode("100%") == "100%");
  CHECK(UrlDecode("%zz%4") == "%zz%4");
  CHECK(UrlDecode(UrlEncode("x y&z=\xff")) == "x y&z=\xff");
}

TEST_CASE("FormEncode builds a Secret body") {
  std::string secret = "p@ss w&rd=+/";
  Secret body = FormEncode({{"grant_type", "client_credentials"},
                            {"client_id", "abc"},
                            {"client_secret", secret},
                            {"resource", "https://vault.azure.net"}});
  CHECK(body.Reveal() ==
        "grant_type=client_credentials&client_id=abc&client_secret="
        "p%40ss%20w%26rd%3D%2B%2F&resource=https%3A%2F%2Fvault.azure.net");
  CHECK(FormEncode({}).empty());
}

TEST_CASE("IsSensitiveName") {
  for (const char* name :
       {"client_secret", "CLIENT_SECRET", "sig", "$skiptoken", "%24skiptoken", "access_token",
        "refresh_token", "client_assertion", "password", "Authorization", "Proxy-Authorization",
        "x-ms-signature", "code", "Cookie", "key"}) {
    CAPTURE(name);
    CHECK(IsSensitiveName(name));
  }
  for (const char* name : {"api-version", "maxresults", "resource", "se", "sv", "Content-Type",
                           "grant_type", "client_id"}) {
    CAPTURE(name);
    CHECK_FALSE(IsSensitiveName(name));
  }
}

TEST_CASE("RedactUrl") {
  CHECK(RedactUrl("https://kv.vault.localhost:8443/secrets/admin?api-version=7.4") ==
        "https://kv.vault.localhost:8443/secrets/admin?api-version=7.4");
  CHECK(RedactUrl("https://h/x?api-version=7.4&client_secret=s3cr3t") ==
        "https://h/x?api-version=7.4&client_secret=REDACTED");
  CHECK(RedactUrl("https://kv.vault.azure.net:443/secrets?api-version=7.2&"
                  "$skiptoken=eyJOZXh0TWFya2VyIjoi&maxresults=25") ==
        "https://kv.vault.azure.net:443/secrets?api-version=7.2&"
        "$skiptoken=REDACTED&maxresults=25");
  CHECK(RedactUrl("https://acct.blob.core.windows.net/t.json?sv=2020&se=x&"
                  "sig=AbC%2Bdef%3D") ==
        "https://acct.blob.core.windows.net/t.json?sv=2020&se=x&sig=REDACTED");
  CHECK(RedactUrl("https://user:pa55@host/p?a=1#frag") == "https://host/p?a=1");
  CHECK(RedactUrl("https://host?token=abc") == "https://host?token=REDACTED");
  CHECK(RedactUrl("https://host/p?flag&x=1") == "https://host/p?flag&x=1");
  CHECK(RedactUrl("https://host/p") == "https://host/p");
}

}  // namespace
}  // namespace rotor::http
