// The auth module's JSON codec (RapidJSON stays in this file): the stamp's
// /metadata/endpoints, token responses, and the JWT assertion's JSON parts.
#include <openssl/crypto.h>

#include <algorithm>
#include <cmath>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "base/inert_text.h"
#include "base/json_fields.h"
#include "base/status_macros.h"
#include "providers/auth/client_certificate.h"
#include "providers/auth/cloud.h"
#include "providers/auth/token.h"
#include "rapidjson/document.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"

namespace rotor::auth {
namespace {

using Object = JsonObject<rapidjson::Value>;

// A number given as a JSON number or a string of digits (AAD v1 and IMDS
// send strings, v2 numbers). nullopt when absent; another type, or a string
// that is not a number, is recorded as wrong.
std::optional<double> Number(const Object& object, const char* name) {
  const rapidjson::Value* v = object.Get(name);
  if (v == nullptr) return std::nullopt;
  if (v->IsString()) {
    double d = 0;
    absl::string_view text(v->GetString(), v->GetStringLength());
    if (absl::SimpleAtod(absl::StripAsciiWhitespace(text), &d) && std::isfinite(d)) return d;
    object.errors()->Wrong(object.PathOf(name), "a string that is not a number", "a number");
    return std::nullopt;
  }
  return object.Number(name);
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
  JsonFieldErrors errors;
  const Object o(&doc, "", &errors);
  MetadataEndpoints m;
  m.graph_endpoint = o.String("graphEndpoint");
  m.gallery_endpoint = o.String("galleryEndpoint");
  m.portal_endpoint = o.String("portalEndpoint");
  const Object auth = o.Object("authentication");
  m.login_endpoint = auth.String("loginEndpoint");
  if (const rapidjson::Value* audiences = auth.Array("audiences")) {
    size_t index = 0;
    for (const auto& a : audiences->GetArray()) {
      const std::string path = JsonItemPath(auth.PathOf("audiences"), index++);
      if (a.IsString()) {
        m.audiences.emplace_back(a.GetString(), a.GetStringLength());
      } else {
        errors.Wrong(path, JsonTypeName(a), "a string");
      }
    }
  }
  RETURN_IF_ERROR(errors.status());
  if (!auth.present()) {
    return absl::InvalidArgumentError(
        "the metadata endpoints answer has no \"authentication\" object");
  }
  if (m.login_endpoint.empty()) {
    return absl::InvalidArgumentError(
        "the metadata endpoints answer has no authentication.loginEndpoint");
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
  JsonFieldErrors errors;
  const Object o(&doc, "", &errors);
  const rapidjson::Value* token = o.Typed("access_token", &rapidjson::Value::IsString, "a string");
  const std::string type = o.String("token_type");
  const std::optional<double> expires_in = Number(o, "expires_in");
  const std::optional<double> expires_on = Number(o, "expires_on");
  RETURN_IF_ERROR(errors.status());
  if (token == nullptr || token->GetStringLength() == 0) {
    return absl::InvalidArgumentError("the token response has no access_token");
  }
  if (!type.empty() && !absl::EqualsIgnoreCase(type, "Bearer")) {
    return absl::InvalidArgumentError(absl::StrCat("the token response has token_type \"",
                                                   ShowInert(type, 40), "\", not Bearer"));
  }
  AccessToken result;
  result.token = Secret(std::string(token->GetString(), token->GetStringLength()));
  if (expires_in.has_value() && *expires_in >= 0) {
    result.expires_on =
        now + absl::Seconds(std::min(*expires_in, absl::ToDoubleSeconds(kMaxTokenLifetime)));
  } else if (expires_on.has_value() && *expires_on > 0) {
    // Compared as a double first: a huge expires_on does not fit an int64.
    const double latest = absl::ToDoubleSeconds((now + kMaxTokenLifetime) - absl::UnixEpoch());
    result.expires_on = *expires_on >= latest
                            ? now + kMaxTokenLifetime
                            : absl::FromUnixSeconds(static_cast<int64_t>(*expires_on));
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
