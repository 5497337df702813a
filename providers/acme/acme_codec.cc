#include "providers/acme/acme_codec.h"

#include <algorithm>
#include <initializer_list>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/inert_text.h"
#include "base/json_fields.h"
#include "base/json_text.h"
#include "providers/acme/jws.h"
#include "rapidjson/document.h"

namespace rotor::acme {
namespace {

using Object = JsonObject<rapidjson::Value>;

// How much of a server's text a message shows.
constexpr size_t kMaxShownUrl = 300;
constexpr size_t kMaxShownField = 200;
constexpr size_t kMaxShownDetail = 1000;
constexpr size_t kMaxShownSubproblems = 10;

absl::Status Refused(absl::string_view url, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("ACME answer of ", ShowUrl(url), ": ", why));
}

// One answer, parsed without recursion (RapidJSON's default parser recurses
// once per nesting level), with the first field error of its readers.
class Answer {
 public:
  Answer(absl::string_view url, absl::string_view body) : url_(url) {
    if (body.size() > kMaxAcmeAnswerBytes) {
      status_ = Refused(url, absl::StrCat("larger than ", kMaxAcmeAnswerBytes, " bytes"));
      return;
    }
    doc_.Parse<rapidjson::kParseIterativeFlag>(body.data(), body.size());
    if (doc_.HasParseError()) {
      status_ = Refused(url, "not JSON");
    } else if (!doc_.IsObject()) {
      status_ = Refused(url, absl::StrCat(JsonTypeName(doc_), ", not an object"));
    }
  }
  bool ok() const { return status_.ok(); }
  const absl::Status& status() const { return status_; }
  Object root() { return Object(&doc_, "", &errors_); }

  // The first problem: a field error, else the first required field that
  // is missing, else a `status` outside `statuses` (when given).
  absl::Status Check(std::initializer_list<std::pair<const char*, bool>> required,
                     const std::string* status = nullptr,
                     std::initializer_list<absl::string_view> statuses = {}) {
    if (!errors_.ok()) return Refused(url_, errors_.status().message());
    for (const auto& [name, present] : required) {
      if (!present) return Refused(url_, absl::StrCat("field \"", name, "\" is missing"));
    }
    if (status == nullptr ||
        std::find(statuses.begin(), statuses.end(), *status) != statuses.end()) {
      return absl::OkStatus();
    }
    return Refused(url_, absl::StrCat("field \"status\" is \"", ShowInert(*status, kMaxShownField),
                                      "\", not one of ", absl::StrJoin(statuses, ", ")));
  }
  JsonFieldErrors& errors() { return errors_; }
  absl::string_view url() const { return url_; }

 private:
  absl::string_view url_;
  rapidjson::Document doc_;
  JsonFieldErrors errors_;
  absl::Status status_;
};

// The strings of an array member; wrong-typed items recorded.
std::vector<std::string> Strings(const Object& o, const char* name) {
  std::vector<std::string> out;
  const rapidjson::Value* array = o.Array(name);
  if (array == nullptr) return out;
  size_t i = 0;
  for (const auto& item : array->GetArray()) {
    if (!item.IsString()) {
      o.errors()->Wrong(JsonItemPath(o.PathOf(name), i), JsonTypeName(item), "a string");
    } else {
      out.emplace_back(item.GetString(), item.GetStringLength());
    }
    ++i;
  }
  return out;
}

Problem ReadProblem(const Object& o, bool with_subproblems) {
  Problem p;
  p.type = o.String("type");
  p.detail = o.String("detail");
  if (std::optional<double> status = o.Number("status"); status.has_value()) {
    p.status = *status >= 0 && *status < 1000 ? static_cast<int>(*status) : 0;
  }
  const Object identifier = o.Object("identifier");
  p.identifier = identifier.String("value");
  if (!with_subproblems) return p;
  const rapidjson::Value* subproblems = o.Array("subproblems");
  if (subproblems == nullptr) return p;
  size_t i = 0;
  for (const auto& item : subproblems->GetArray()) {
    const Object sub(&item, JsonItemPath(o.PathOf("subproblems"), i++), o.errors());
    if (!sub.present()) {
      o.errors()->Wrong(sub.path(), JsonTypeName(item), "an object");
      continue;
    }
    p.subproblems.push_back(ReadProblem(sub, false));  // one level: RFC 8555 has no more
  }
  return p;
}

std::optional<Problem> OptionalProblem(const Object& o, const char* name) {
  const Object error = o.Object(name);
  if (!error.present()) return std::nullopt;
  return ReadProblem(error, true);
}

}  // namespace

std::string ShowUrl(absl::string_view url) { return ShowInert(url, kMaxShownUrl); }

bool Problem::Is(absl::string_view name) const {
  return absl::StartsWith(type, kAcmeErrorPrefix) &&
         absl::string_view(type).substr(sizeof kAcmeErrorPrefix - 1) == name;
}

std::string Problem::Describe() const {
  std::string out = absl::StrCat(type.empty() ? "(no type)" : ShowInert(type, kMaxShownField), ": ",
                                 ShowInert(detail, kMaxShownDetail));
  for (size_t i = 0; i < subproblems.size() && i < kMaxShownSubproblems; ++i) {
    const Problem& sub = subproblems[i];
    absl::StrAppend(&out, "; ", ShowInert(sub.identifier, kMaxShownField), ": ",
                    ShowInert(sub.type, kMaxShownField), ": ",
                    ShowInert(sub.detail, kMaxShownDetail));
  }
  if (subproblems.size() > kMaxShownSubproblems) {
    absl::StrAppend(&out, "; and ", subproblems.size() - kMaxShownSubproblems, " more");
  }
  return out;
}

absl::StatusOr<Directory> ParseDirectory(absl::string_view url, absl::string_view body) {
  Answer a(url, body);
  if (!a.ok()) return a.status();
  const Object root = a.root();
  Directory d;
  d.new_nonce = root.String("newNonce");
  d.new_account = root.String("newAccount");
  d.new_order = root.String("newOrder");
  const Object meta = root.Object("meta");
  d.terms_of_service = meta.String("termsOfService");
  d.external_account_required = meta.Bool("externalAccountRequired").value_or(false);
  if (absl::Status s = a.Check({{"newNonce", !d.new_nonce.empty()},
                                {"newAccount", !d.new_account.empty()},
                                {"newOrder", !d.new_order.empty()}});
      !s.ok()) {
    return s;
  }
  return d;
}

absl::StatusOr<Account> ParseAccount(absl::string_view url, absl::string_view body) {
  Answer a(url, body);
  if (!a.ok()) return a.status();
  Account account;
  account.status = a.root().String("status");
  if (absl::Status s = a.Check({{"status", !account.status.empty()}}, &account.status,
                               {"valid", "deactivated", "revoked"});
      !s.ok()) {
    return s;
  }
  return account;
}

absl::StatusOr<Order> ParseOrder(absl::string_view url, absl::string_view body) {
  Answer a(url, body);
  if (!a.ok()) return a.status();
  const Object root = a.root();
  Order order;
  order.status = root.String("status");
  order.authorizations = Strings(root, "authorizations");
  order.finalize = root.String("finalize");
  order.certificate = root.String("certificate");
  order.error = OptionalProblem(root, "error");
  if (absl::Status s =
          a.Check({{"status", !order.status.empty()},
                   {"authorizations", root.Get("authorizations") != nullptr},
                   {"finalize", !order.finalize.empty()}},
                  &order.status, {"pending", "ready", "processing", "valid", "invalid"});
      !s.ok()) {
    return s;
  }
  if (order.authorizations.size() > kMaxOrderIdentifiers) {
    return Refused(url, absl::StrCat("field \"authorizations\" has ", order.authorizations.size(),
                                     " entries, more than ", kMaxOrderIdentifiers));
  }
  return order;
}

absl::StatusOr<Authorization> ParseAuthorization(absl::string_view url, absl::string_view body) {
  Answer a(url, body);
  if (!a.ok()) return a.status();
  const Object root = a.root();
  Authorization authz;
  const Object identifier = root.Object("identifier");
  authz.identifier_type = identifier.String("type");
  authz.identifier = identifier.String("value");
  authz.status = root.String("status");
  authz.wildcard = root.Bool("wildcard").value_or(false);
  const rapidjson::Value* challenges = root.Array("challenges");
  if (challenges != nullptr) {
    size_t i = 0;
    for (const auto& item : challenges->GetArray()) {
      const Object c(&item, JsonItemPath("challenges", i++), &a.errors());
      if (!c.present()) {
        a.errors().Wrong(c.path(), JsonTypeName(item), "an object");
        continue;
      }
      Challenge challenge;
      challenge.type = c.String("type");
      challenge.url = c.String("url");
      challenge.token = c.String("token");
      challenge.status = c.String("status");
      challenge.error = OptionalProblem(c, "error");
      if (challenge.type.empty() || challenge.url.empty() || challenge.status.empty()) {
        return Refused(url, absl::StrCat("field \"", c.path(),
                                         "\" lacks one of \"type\", \"url\", \"status\""));
      }
      authz.challenges.push_back(std::move(challenge));
    }
  }
  if (absl::Status s = a.Check(
          {{"identifier.type", !authz.identifier_type.empty()},
           {"identifier.value", !authz.identifier.empty()},
           {"status", !authz.status.empty()},
           {"challenges", challenges != nullptr}},
          &authz.status, {"pending", "valid", "invalid", "deactivated", "expired", "revoked"});
      !s.ok()) {
    return s;
  }
  return authz;
}

absl::StatusOr<Challenge> ParseChallenge(absl::string_view url, absl::string_view body) {
  Answer a(url, body);
  if (!a.ok()) return a.status();
  const Object root = a.root();
  Challenge c;
  c.type = root.String("type");
  c.url = root.String("url");
  c.token = root.String("token");
  c.status = root.String("status");
  c.error = OptionalProblem(root, "error");
  if (absl::Status s = a.Check({{"type", !c.type.empty()}, {"status", !c.status.empty()}},
                               &c.status, {"pending", "processing", "valid", "invalid"});
      !s.ok()) {
    return s;
  }
  return c;
}

absl::StatusOr<Problem> ParseProblem(absl::string_view url, absl::string_view body) {
  Answer a(url, body);
  if (!a.ok()) return a.status();
  Problem p = ReadProblem(a.root(), true);
  if (absl::Status s = a.Check({{"type", !p.type.empty()}}); !s.ok()) return s;
  return p;
}

std::string NewAccountPayload(absl::string_view email, absl::string_view eab_jws) {
  std::string out = R"({"termsOfServiceAgreed":true)";
  if (!email.empty()) {
    absl::StrAppend(&out, R"(,"contact":[)", JsonQuote(absl::StrCat("mailto:", email)), "]");
  }
  if (!eab_jws.empty()) absl::StrAppend(&out, R"(,"externalAccountBinding":)", eab_jws);
  out += "}";
  return out;
}

std::string NewOrderPayload(const std::vector<std::string>& dns_names) {
  std::vector<std::string> identifiers;
  identifiers.reserve(dns_names.size());
  for (const auto& name : dns_names) {
    identifiers.push_back(absl::StrCat(R"({"type":"dns","value":)", JsonQuote(name), "}"));
  }
  return absl::StrCat(R"({"identifiers":[)", absl::StrJoin(identifiers, ","), "]}");
}

std::string FinalizePayload(absl::string_view csr_der) {
  return absl::StrCat(R"({"csr":")", Base64Url(csr_der), R"("})");
}

}  // namespace rotor::acme
