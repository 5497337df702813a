#include "tests/emulator/tokens.h"

#include <openssl/crypto.h>

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "base/files.h"
#include "base/status_macros.h"
#include "providers/http/url.h"
#include "tests/emulator/json_internal.h"
#include "tests/emulator/util.h"

namespace rotor::emulator {
namespace {

constexpr char kAssertionType[] = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

// AAD's error body (v1 and v2 share it); ADFS answers {"error",
// "error_description"} only.
HttpResponse OAuthError(TokenFlavor flavor, int status, absl::string_view error, int code,
                        absl::string_view description, absl::Time now) {
  rapidjson::StringBuffer b;
  json::Writer w(b);
  w.StartObject();
  json::KeyStr(w, "error", error);
  const std::string trace = NewUuid(), correlation = NewUuid();
  if (flavor == TokenFlavor::kAdfs) {
    json::KeyStr(w, "error_description", absl::StrCat("MSIS", code, ": ", description));
  } else {
    json::KeyStr(w, "error_description",
                 absl::StrCat("AADSTS", code, ": ", description, " Trace ID: ", trace,
                              " Correlation ID: ", correlation, " Timestamp: ",
                              absl::FormatTime("%Y-%m-%d %H:%M:%SZ", now, absl::UTCTimeZone())));
    json::Key(w, "error_codes");
    w.StartArray();
    w.Int(code);
    w.EndArray();
    json::KeyStr(w, "timestamp", absl::FormatTime("%Y-%m-%d %H:%M:%SZ", now, absl::UTCTimeZone()));
    json::KeyStr(w, "trace_id", trace);
    json::KeyStr(w, "correlation_id", correlation);
  }
  w.EndObject();
  HttpResponse r;
  r.Json(status, json::Text(b));
  r.SetHeader("Cache-Control", "no-store, no-cache");
  r.SetHeader("Pragma", "no-cache");
  return r;
}

bool Contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

}  // namespace

TokenService::TokenService(const Endpoints& endpoints, const Clock& clock)
    : endpoints_(endpoints), clock_(clock) {}

absl::StatusOr<std::unique_ptr<TokenService>> TokenService::Create(
    const Endpoints& endpoints, const std::string& signing_key_path,
    std::vector<ClientSecretOption> clients, const std::vector<ClientCertOption>& certs,
    absl::Duration lifetime, const Clock& clock) {
  std::unique_ptr<TokenService> service(new TokenService(endpoints, clock));
  service->lifetime_ = lifetime;
  ASSIGN_OR_RETURN(service->signer_, JwtSigner::FromPemFile(signing_key_path));
  for (auto& c : clients)
    service->secrets_[absl::AsciiStrToLower(c.client_id)] = std::move(c.secret);
  for (const auto& c : certs) {
    ASSIGN_OR_RETURN(std::string pem, ReadFile(c.pem_path));
    ASSIGN_OR_RETURN(auto cert, ClientCertificate::FromPem(pem, c.pem_path));
    service->certs_[absl::AsciiStrToLower(c.client_id)].push_back(std::move(cert));
  }
  return service;
}

std::string TokenService::JwksJson() const {
  return absl::StrCat("{\"keys\":[", signer_->PublicJwkJson(), "]}");
}

absl::Status TokenService::CheckClientSecret(absl::string_view client_id,
                                             const Secret& secret) const {
  if (open_registration()) return absl::OkStatus();
  auto it = secrets_.find(absl::AsciiStrToLower(client_id));
  if (it == secrets_.end()) {
    if (certs_.count(absl::AsciiStrToLower(client_id)) == 0) {
      return absl::UnauthenticatedError(absl::StrCat("AADSTS700016: Application with identifier '",
                                                     client_id,
                                                     "' was not found in the directory."));
    }
  } else if (it->second.Equals(secret)) {
    return absl::OkStatus();
  }
  return absl::UnauthenticatedError(absl::StrCat(
      "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the "
      "request is the client secret value, not the client secret ID, for a secret added to "
      "app '",
      client_id, "'."));
}

absl::Status TokenService::CheckVmSignIn(absl::string_view client_id, const Secret& secret) const {
  const std::string resource = Endpoints::NormalizeAudience(endpoints_.VmVaultResource());
  if (!Contains(endpoints_.VaultAudiences(), resource)) {
    return absl::InvalidArgumentError(absl::StrCat("AADSTS500011: The resource principal named ",
                                                   resource, " was not found in the tenant."));
  }
  return CheckClientSecret(client_id, secret);
}

absl::Status TokenService::CheckAssertion(const HttpRequest& request, const std::string& client_id,
                                          const std::string& assertion,
                                          std::string* client_out) const {
  ASSIGN_OR_RETURN(JwtParts jwt, SplitJwt(assertion));
  rapidjson::Document header, payload;
  header.Parse(jwt.header_json.data(), jwt.header_json.size());
  payload.Parse(jwt.payload_json.data(), jwt.payload_json.size());
  if (header.HasParseError() || payload.HasParseError() || !header.IsObject() ||
      !payload.IsObject()) {
    return absl::InvalidArgumentError("AADSTS50027: JWT token is invalid or malformed.");
  }
  const std::string alg = json::StrMember(header, "alg").value_or("");
  const auto iss = json::StrMember(payload, "iss");
  const auto sub = json::StrMember(payload, "sub");
  std::string client = client_id.empty() ? iss.value_or("") : client_id;
  if (client.empty() || !iss || !sub ||
      absl::AsciiStrToLower(*iss) != absl::AsciiStrToLower(client) ||
      absl::AsciiStrToLower(*sub) != absl::AsciiStrToLower(client)) {
    return absl::InvalidArgumentError(
        "AADSTS700023: Client assertion audience/issuer claims are invalid: iss and sub must "
        "both be the client id.");
  }
  *client_out = client;

  // aud: the token endpoint's URL (any of the emulator's names for itself).
  std::vector<std::string> auds;
  if (const auto* a = json::Member(payload, "aud"); a != nullptr) {
    if (a->IsString()) auds.push_back(a->GetString());
    if (a->IsArray()) {
      for (const auto& x : a->GetArray()) {
        if (x.IsString()) auds.push_back(x.GetString());
      }
    }
  }
  auto strip = [](std::string s) {
    s = absl::AsciiStrToLower(s);
    while (!s.empty() && s.back() == '/') s.pop_back();
    return s;
  };
  const std::string path = strip(request.path);
  bool aud_ok = false;
  for (const auto& aud : auds) {
    const std::string stripped = strip(aud);
    absl::string_view a = stripped;
    if (!absl::ConsumePrefix(&a, "https://")) continue;
    size_t slash = a.find('/');
    std::string authority(a.substr(0, slash));
    std::string a_path(slash == absl::string_view::npos ? "" : a.substr(slash));
    for (const char* host :
         {"login.localhost", "localhost", "127.0.0.1", "management.localhost", "[::1]"}) {
      if (authority == absl::StrCat(host, ":", endpoints_.port) && a_path == path) aud_ok = true;
    }
  }
  if (!aud_ok) {
    return absl::InvalidArgumentError(absl::StrCat(
        "AADSTS50012: Client assertion audience claim does not match the token endpoint "
        "https://",
        request.host, request.path, "."));
  }

  const absl::Time now = clock_.Now();
  int64_t exp = 0, nbf = 0;
  const auto* exp_v = json::Member(payload, "exp");
  if (exp_v == nullptr || !exp_v->IsNumber()) {
    return absl::InvalidArgumentError("AADSTS700024: Client assertion has no exp claim.");
  }
  exp = static_cast<int64_t>(exp_v->GetDouble());
  if (const auto* nbf_v = json::Member(payload, "nbf"); nbf_v != nullptr && nbf_v->IsNumber()) {
    nbf = static_cast<int64_t>(nbf_v->GetDouble());
  }
  const int64_t now_s = absl::ToUnixSeconds(now);
  if (exp <= now_s || nbf > now_s + 300) {
    return absl::InvalidArgumentError(
        "AADSTS700024: Client assertion is not within its valid time range.");
  }

  // Signature: against the client's registered certificates, by thumbprint.
  const std::string x5t = json::StrMember(header, "x5t").value_or("");
  const std::string x5t256 = json::StrMember(header, "x5t#S256").value_or("");
  auto it = certs_.find(absl::AsciiStrToLower(client));
  if (it == certs_.end()) {
    if (open_registration()) return absl::OkStatus();
    if (secrets_.count(absl::AsciiStrToLower(client)) == 0) {
      return absl::NotFoundError(absl::StrCat("AADSTS700016: Application with identifier '", client,
                                              "' was not found in the directory."));
    }
    return absl::UnauthenticatedError(absl::StrCat(
        "AADSTS700027: The certificate with identifier used to sign the client assertion is "
        "not registered on application '",
        client, "'."));
  }
  for (const auto& cert : it->second) {
    if ((!x5t.empty() && x5t == cert->x5t()) || (!x5t256.empty() && x5t256 == cert->x5t_s256())) {
      absl::Status verified = cert->Verify(alg, jwt.signing_input, jwt.signature);
      if (!verified.ok()) {
        return absl::UnauthenticatedError(
            absl::StrCat("AADSTS700027: Client assertion failed signature validation (",
                         verified.message(), ")."));
      }
      return absl::OkStatus();
    }
  }
  return absl::UnauthenticatedError(absl::StrCat(
      "AADSTS700027: The certificate with identifier used to sign the client assertion is not "
      "registered on application '",
      client, "' (x5t \"", x5t.empty() ? x5t256 : x5t, "\")."));
}

HttpResponse TokenService::IssueToken(const HttpRequest& request, TokenFlavor flavor,
                                      absl::string_view tenant) {
  const absl::Time now = clock_.Now();
  auto refuse = [&](int status, absl::string_view error, int code, absl::string_view text) {
    ++refused_;
    return OAuthError(flavor, status, error, code, text, now);
  };
  if (request.method != "POST") {
    return refuse(405, "invalid_request", 900561, "The endpoint only accepts POST requests.");
  }
  std::map<std::string, std::string> form = ParseForm(request.body);
  struct WipeForm {
    std::map<std::string, std::string>& f;
    ~WipeForm() {
      for (auto& [k, v] : f) OPENSSL_cleanse(v.data(), v.size());
    }
  } wipe{form};
  auto field = [&](const char* name) {
    auto it = form.find(name);
    return it == form.end() ? std::string() : it->second;
  };

  const std::string grant = field("grant_type");
  if (grant.empty()) {
    return refuse(400, "invalid_request", 900144,
                  "The request body must contain the following parameter: 'grant_type'.");
  }
  if (grant != "client_credentials") {
    return refuse(400, "unsupported_grant_type", 70003,
                  absl::StrCat("The app requested an unsupported grant type '", grant,
                               "'. The emulator supports client_credentials only."));
  }

  // The audience asked for.
  std::string audience;
  if (flavor == TokenFlavor::kAadV2) {
    const std::string scope = field("scope");
    for (absl::string_view s : absl::StrSplit(scope, ' ', absl::SkipEmpty())) {
      if (absl::EndsWith(s, "/.default")) {
        audience = std::string(s.substr(0, s.size() - 9));
      }
    }
    if (audience.empty()) {
      return refuse(400, "invalid_scope", 1002012,
                    absl::StrCat("The provided value for scope '", scope,
                                 "' is not valid. Client credential flows must have a scope "
                                 "value with /.default suffixed to the resource identifier "
                                 "(application ID URI)."));
    }
  } else {
    audience = field("resource");
    if (audience.empty()) {
      return refuse(400, "invalid_request", 900144,
                    "The request body must contain the following parameter: 'resource'.");
    }
  }
  const std::string normalized = Endpoints::NormalizeAudience(audience);
  if (!Contains(endpoints_.VaultAudiences(), normalized) &&
      !Contains(endpoints_.ArmAudiences(), normalized)) {
    return refuse(400, "invalid_resource", 500011,
                  absl::StrCat("The resource principal named ", audience,
                               " was not found in the tenant. The emulator issues tokens for ",
                               endpoints_.VaultResource(), " (Key Vault) and ",
                               endpoints_.ArmAudience(), " (ARM)."));
  }

  // The client.
  std::string client_id = field("client_id");
  Secret secret(field("client_secret"));
  const std::string auth = request.Header("authorization");
  if (absl::StartsWithIgnoreCase(auth, "Basic ")) {
    std::string decoded;
    if (absl::Base64Unescape(absl::StripAsciiWhitespace(auth.substr(6)), &decoded)) {
      size_t colon = decoded.find(':');
      if (colon != std::string::npos) {
        client_id = http::UrlDecode(decoded.substr(0, colon), true);
        secret = Secret(http::UrlDecode(decoded.substr(colon + 1), true));
      }
      OPENSSL_cleanse(decoded.data(), decoded.size());
    }
  }
  const std::string assertion = field("client_assertion");
  if (!assertion.empty()) {
    if (field("client_assertion_type") != kAssertionType) {
      return refuse(400, "invalid_request", 50027,
                    absl::StrCat("client_assertion_type must be ", kAssertionType, "."));
    }
    std::string client;
    absl::Status checked = CheckAssertion(request, client_id, assertion, &client);
    if (!checked.ok()) {
      absl::string_view message = checked.message();
      int code = 0;
      size_t colon = message.find(':');
      if (absl::StartsWith(message, "AADSTS") && colon != absl::string_view::npos) {
        (void)absl::SimpleAtoi(message.substr(6, colon - 6), &code);
        message.remove_prefix(colon + 2);
      }
      const bool unknown = absl::IsNotFound(checked);
      return refuse(unknown ? 400 : 401, unknown ? "unauthorized_client" : "invalid_client", code,
                    message);
    }
    client_id = client;
  } else {
    if (client_id.empty()) {
      return refuse(400, "invalid_request", 900144,
                    "The request body must contain the following parameter: 'client_id'.");
    }
    if (secret.empty()) {
      return refuse(401, "invalid_client", 7000218,
                    "The request body must contain the following parameter: "
                    "'client_assertion' or 'client_secret'.");
    }
    absl::Status checked = CheckClientSecret(client_id, secret);
    if (!checked.ok()) {
      const bool unknown = absl::StartsWith(checked.message(), "AADSTS700016");
      absl::string_view message = checked.message();
      message.remove_prefix(message.find(':') + 2);
      return refuse(unknown ? 400 : 401, unknown ? "unauthorized_client" : "invalid_client",
                    unknown ? 700016 : 7000215, message);
    }
  }

  // The token.
  const int64_t iat = absl::ToUnixSeconds(now);
  const int64_t lifetime = std::max<int64_t>(1, absl::ToInt64Seconds(lifetime_));
  const int64_t exp = iat + lifetime;
  const std::string issuer = flavor == TokenFlavor::kAdfs
                                 ? absl::StrCat(endpoints_.Login(), "/adfs")
                                 : absl::StrCat("https://sts.localhost/", tenant, "/");
  rapidjson::StringBuffer hb;
  {
    json::Writer w(hb);
    w.StartObject();
    json::KeyStr(w, "typ", "JWT");
    json::KeyStr(w, "alg", "RS256");
    json::KeyStr(w, "x5t", signer_->key_id());
    json::KeyStr(w, "kid", signer_->key_id());
    w.EndObject();
  }
  rapidjson::StringBuffer pb;
  {
    json::Writer w(pb);
    w.StartObject();
    json::KeyStr(w, "aud", audience);
    json::KeyStr(w, "iss", issuer);
    json::Key(w, "iat");
    w.Int64(iat);
    json::Key(w, "nbf");
    w.Int64(iat);
    json::Key(w, "exp");
    w.Int64(exp);
    json::KeyStr(w, "appid", client_id);
    json::KeyStr(w, "azp", client_id);
    json::KeyStr(w, "oid", client_id);
    json::KeyStr(w, "sub", client_id);
    json::KeyStr(w, "tid", std::string(tenant));
    json::KeyStr(w, "ver", flavor == TokenFlavor::kAadV2 ? "2.0" : "1.0");
    json::KeyStr(w, "jti", NewUuid());
    w.EndObject();
  }
  auto token = signer_->Sign(json::Text(hb), json::Text(pb));
  if (!token.ok()) return refuse(500, "temporarily_unavailable", 90033, token.status().message());

  rapidjson::StringBuffer b;
  json::Writer w(b);
  w.StartObject();
  switch (flavor) {
    case TokenFlavor::kAadV1:
      // v1 writes its numbers as strings (documented example).
      json::KeyStr(w, "token_type", "Bearer");
      json::KeyStr(w, "expires_in", absl::StrCat(lifetime));
      json::KeyStr(w, "ext_expires_in", absl::StrCat(lifetime));
      json::KeyStr(w, "expires_on", absl::StrCat(exp));
      json::KeyStr(w, "not_before", absl::StrCat(iat));
      json::KeyStr(w, "resource", audience);
      json::KeyStr(w, "access_token", *token);
      break;
    case TokenFlavor::kAadV2:
      json::KeyStr(w, "token_type", "Bearer");
      json::Key(w, "expires_in");
      w.Int64(lifetime);
      json::Key(w, "ext_expires_in");
      w.Int64(lifetime);
      json::KeyStr(w, "access_token", *token);
      break;
    case TokenFlavor::kAdfs:
      json::KeyStr(w, "access_token", *token);
      json::KeyStr(w, "token_type", "bearer");
      json::Key(w, "expires_in");
      w.Int64(lifetime);
      break;
  }
  w.EndObject();
  ++issued_;
  HttpResponse r;
  r.Json(200, json::Text(b));
  r.SetHeader("Cache-Control", "no-store, no-cache");
  r.SetHeader("Pragma", "no-cache");
  return r;
}

TokenCheck TokenService::Validate(absl::string_view authorization,
                                  const std::vector<std::string>& audiences) const {
  TokenCheck check;
  absl::string_view auth = absl::StripAsciiWhitespace(authorization);
  if (auth.empty()) return check;  // kMissing
  if (!absl::StartsWithIgnoreCase(auth, "Bearer ")) {
    check.outcome = TokenCheck::kMalformed;
    return check;
  }
  absl::string_view token = absl::StripAsciiWhitespace(auth.substr(7));
  auto jwt = SplitJwt(token);
  if (!jwt.ok()) {
    check.outcome = TokenCheck::kMalformed;
    return check;
  }
  bool verified = false;
  {
    std::lock_guard<std::mutex> lock(verified_mu_);
    verified = verified_.count(std::string(token)) > 0;
  }
  if (!verified) {
    if (!signer_->Verify(jwt->signing_input, jwt->signature)) {
      check.outcome = TokenCheck::kBadSignature;
      return check;
    }
    constexpr size_t kMaxVerified = 1024;
    std::lock_guard<std::mutex> lock(verified_mu_);
    if (verified_.size() >= kMaxVerified) verified_.clear();
    verified_.insert(std::string(token));
  }
  rapidjson::Document payload;
  payload.Parse(jwt->payload_json.data(), jwt->payload_json.size());
  if (payload.HasParseError() || !payload.IsObject()) {
    check.outcome = TokenCheck::kMalformed;
    return check;
  }
  check.audience = json::StrMember(payload, "aud").value_or("");
  check.client_id = json::StrMember(payload, "appid").value_or("");
  const auto* exp = json::Member(payload, "exp");
  if (exp == nullptr || !exp->IsInt64()) {
    check.outcome = TokenCheck::kMalformed;
    return check;
  }
  check.expires = absl::FromUnixSeconds(exp->GetInt64());
  if (clock_.Now() >= check.expires) {
    check.outcome = TokenCheck::kExpired;
    return check;
  }
  if (!Contains(audiences, Endpoints::NormalizeAudience(check.audience))) {
    check.outcome = TokenCheck::kWrongAudience;
    return check;
  }
  check.outcome = TokenCheck::kOk;
  return check;
}

}  // namespace rotor::emulator
