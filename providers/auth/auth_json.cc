// The auth module's JSON codec (RapidJSON stays in this file): the stamp's
// /metadata/endpoints, token responses, and the JWT assertion's JSON parts.
#include <openssl/crypto.h>

#include <algorithm>
#include <cmath>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "providers/auth/client_certificate.h"
#include "providers/auth/cloud.h"
#include "providers/auth/token.h"
#include "rapidjson/document.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"

namespace rotor::auth {
namespace {

std::string Str(const rapidjson::Value& object, const char* name) {
  if (!object.IsObject()) return "";
  auto it = object.FindMember(name);
  if (it == object.MemberEnd() || !it->value.IsString()) return "";
  return std::string(it->value.GetString(), it->value.GetStringLength());
}

// A number given as a JSON number or a string of digits (AAD v1 and IMDS
// send strings, v2 numbers). nullopt when absent or not a number.
std::optional<double> Number(const rapidjson::Value& object, const char* name) {
  auto it = object.FindMember(name);
  if (it == object.MemberEnd()) return std::nullopt;
  if (it->value.IsNumber()) return it->value.GetDouble();
  if (it->value.IsString()) {
    double v = 0;
    absl::string_view text(it->value.GetString(), it->value.GetStringLength());
    if (absl::SimpleAtod(absl::StripAsciiWhitespace(text), &v) && std::isfinite(v)) return v;
  }
  return std::nullopt;
}

}  // namespace

absl::StatusOr<MetadataEndpoints> ParseMetadataEndpoints(absl::string_view json) {
  rapidjson::Document doc;
  // Iterative: the default parser recurses once per nesting level (a
  // deeply nested answer overflowed the stack).
  doc.Parse<rapidjson::kParseIterativeFlag>(json.data(), json.size());
  if (doc.HasParseError() || !doc.IsObject()) {
    return absl::InvalidArgumentError("the metadata endpoints answer is not a JSON object");
  }
  MetadataEndpoints m;
  m.graph_endpoint = Str(doc, "graphEndpoint");
  m.gallery_endpoint = Str(doc, "galleryEndpoint");
  m.portal_endpoint = Str(doc, "portalEndpoint");
  auto auth = doc.FindMember("authentication");
  if (auth == doc.MemberEnd() || !auth->value.IsObject()) {
    return absl::InvalidArgumentError(
        "the metadata endpoints answer has no \"authentication\" object");
  }
  m.login_endpoint = Str(auth->value, "loginEndpoint");
  if (m.login_endpoint.empty()) {
    return absl::InvalidArgumentError(
        "the metadata endpoints answer has no authentication.loginEndpoint");
  }
  auto audiences = auth->value.FindMember("audiences");
  if (audiences != auth->value.MemberEnd() && audiences->value.IsArray()) {
    for (const auto& a : audiences->value.GetArray()) {
      if (a.IsString()) m.audiences.emplace_back(a.GetString(), a.GetStringLength());
    }
  }
  return m;
}

absl::StatusOr<AccessToken> ParseTokenResponse(absl::string_view body, absl::Time now) {
  // Parsed in place in a buffer wiped afterwards, so no copy of the token
  // outlives this function except the Secret.
  std::string buffer(body);
  struct Wipe {
    std::string& s;
    ~Wipe() { OPENSSL_cleanse(s.data(), s.size()); }
  } wipe{buffer};
  rapidjson::Document doc;
  doc.ParseInsitu<rapidjson::kParseIterativeFlag>(buffer.data());
  if (doc.HasParseError() || !doc.IsObject()) {
    return absl::InvalidArgumentError("the token response is not a JSON object");
  }
  auto token = doc.FindMember("access_token");
  if (token == doc.MemberEnd() || !token->value.IsString() || token->value.GetStringLength() == 0) {
    return absl::InvalidArgumentError("the token response has no access_token");
  }
  std::string type = Str(doc, "token_type");
  if (!type.empty() && !absl::EqualsIgnoreCase(type, "Bearer")) {
    return absl::InvalidArgumentError(
        absl::StrCat("the token response has token_type \"", type, "\", not Bearer"));
  }
  AccessToken result;
  result.token = Secret(std::string(token->value.GetString(), token->value.GetStringLength()));
  if (auto in = Number(doc, "expires_in"); in.has_value() && *in >= 0) {
    result.expires_on =
        now + absl::Seconds(std::min(*in, absl::ToDoubleSeconds(kMaxTokenLifetime)));
  } else if (auto on = Number(doc, "expires_on"); on.has_value() && *on > 0) {
    // Compared as a double first: a huge expires_on does not fit an int64.
    const double latest = absl::ToDoubleSeconds((now + kMaxTokenLifetime) - absl::UnixEpoch());
    result.expires_on =
        *on >= latest ? now + kMaxTokenLifetime : absl::FromUnixSeconds(static_cast<int64_t>(*on));
  } else {
    result.expires_on = now + kDefaultTokenLifetime;
  }
  return result;
}

std::string JwtHeaderJson(absl::string_view x5t) {
  rapidjson::StringBuffer b;
  rapidjson::Writer<rapidjson::StringBuffer> w(b);
  w.StartObject();
  w.Key("alg");
  w.String("RS256");
  w.Key("typ");
  w.String("JWT");
  w.Key("x5t");
  w.String(x5t.data(), static_cast<rapidjson::SizeType>(x5t.size()));
  w.EndObject();
  return std::string(b.GetString(), b.GetSize());
}

std::string JwtClaimsJson(absl::string_view audience, absl::string_view client_id,
                          absl::string_view jti, absl::Time now, absl::Time expires) {
  rapidjson::StringBuffer b;
  rapidjson::Writer<rapidjson::StringBuffer> w(b);
  auto str = [&](const char* key, absl::string_view value) {
    w.Key(key);
    w.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
  };
  w.StartObject();
  str("aud", audience);
  str("iss", client_id);
  str("sub", client_id);
  str("jti", jti);
  w.Key("nbf");
  w.Int64(absl::ToUnixSeconds(now));
  w.Key("iat");
  w.Int64(absl::ToUnixSeconds(now));
  w.Key("exp");
  w.Int64(absl::ToUnixSeconds(expires));
  w.EndObject();
  return std::string(b.GetString(), b.GetSize());
}

}  // namespace rotor::auth
