// Replays every recorded real exchange with Key Vault and ARM
// (tests/data/azure-reference/recorded-traffic/, see its README.md) against
// a fresh rotor-emulator per scenario and checks that each answer matches
// the recorded one structurally: the same status; the same JSON member
// names and value types at every level (values may differ; the elements of
// an array are checked against the shapes of all the recorded elements:
// every member they have must occur in one, every member all of them have
// is required); the same relevant headers (below).
//
// The requests are rewritten for the emulator: hosts (a vault per recorded
// vault host; management.azure.com -> the emulator's ARM), the versions and
// operation ids the emulator made instead of the recorded ones, the
// Location / Azure-AsyncOperation URLs it answered, and the nextLinks it
// gave (a recorded $skiptoken means nothing to it). Request bodies the C++
// recorder did not keep are rebuilt from the recorded answer. What the
// scenario's vault held before it started (secrets and deleted secrets seen
// in its lists but not made by the scenario) is created first, with the
// recorded content types, tags and attributes. Polls are replayed as the
// SDKs did: a recorded answer that differs from the previous one to the
// same request is polled for (Key Vault's replication delay, which the
// emulator replays with --replication-delay; ARM's long-running
// operations); the emulator must answer the first poll of such a run as the
// service did ("not yet"), and later ones of the run either way (how many
// polls saw "not yet" is the poller's pace against the replication). Key
// Vault KEYS exchanges (the only recordings of 409 on a
// deleted name) are replayed as their secrets analog.
//
// Where the emulator cannot know what the service did, the exchange is an
// explicit exception below, with the reason; an exception that is not
// needed any more fails the test.
#include <doctest/doctest.h>

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "rapidjson/document.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"
#include "tests/emulator/emulator_harness.h"
#include "tests/support/testing.h"

namespace rotor::emulator::testing {
namespace {

std::string RecordedDir() {
  return rotor::testing::SourceDir() + "/tests/data/azure-reference/recorded-traffic";
}

std::string ToText(const rapidjson::Value& v) {
  rapidjson::StringBuffer b;
  rapidjson::Writer<rapidjson::StringBuffer> w(b);
  v.Accept(w);
  return std::string(b.GetString(), b.GetSize());
}

std::string Str(const rapidjson::Value& v, const char* name) {
  if (!v.IsObject()) return "";
  auto it = v.FindMember(name);
  return it != v.MemberEnd() && it->value.IsString() ? it->value.GetString() : "";
}

// --- exceptions ---------------------------------------------------------------

// What is not compared for one recorded exchange, and why.
struct Exception {
  const char* file;  // relative to recorded-traffic/
  int index;         // the exchange's "index"
  const char* aspect;
  // "skip": not replayed (the request cannot be made); "body": status and
  // headers compared, not the body; "nextLink": everything compared but
  // whether the page has a nextLink.
  const char* reason;
};

constexpr char kKeysNotEmulated[] =
    "a Key Vault KEYS exchange (the only recording of 409 on a deleted name): replayed as its "
    "secrets analog, whose bundle is a secret, not a key";
constexpr char kPageBoundaries[] =
    "page boundaries are the service's: this vault's partitions answered a first page of 5 with "
    "a nextLink and then empty pages with nextLinks; the emulator fills its pages and ends the "
    "list when it is exhausted, so it has no page to follow";

constexpr char kDeletedPageBoundary[] =
    "page boundaries are the service's: its first page of deleted secrets held one of the two "
    "just deleted, with a nextLink to the rest (not followed by the recording); the emulator "
    "answers both on one page without a nextLink";

const std::vector<Exception>& Exceptions() {
  static const std::vector<Exception> kExceptions = {
      {"keyvault-secrets/cpp-7.2-keys-409-being-deleted.json", 0, "body", kKeysNotEmulated},
      {"keyvault-secrets/cpp-7.2-keys-409-being-deleted.json", 1, "body", kKeysNotEmulated},
      {"keyvault-secrets/cpp-7.2-keys-409-deleted-but-recoverable.json", 0, "body",
       kKeysNotEmulated},
      {"keyvault-secrets/cpp-7.2-keys-409-deleted-but-recoverable.json", 1, "body",
       kKeysNotEmulated},
      {"keyvault-secrets/cpp-7.2-keys-409-deleted-but-recoverable.json", 3, "body",
       kKeysNotEmulated},
      {"keyvault-secrets/cpp-7.2-list-and-list-deleted-b.json", 9, "nextLink",
       kDeletedPageBoundary},
      {"keyvault-secrets/py-2016-10-01-list-paging.json", 11, "nextLink", kPageBoundaries},
      {"keyvault-secrets/py-2016-10-01-list-paging.json", 12, "skip", kPageBoundaries},
      {"keyvault-secrets/py-2016-10-01-list-paging.json", 13, "skip", kPageBoundaries},
      {"keyvault-secrets/py-2016-10-01-list-paging.json", 14, "skip", kPageBoundaries},
  };
  return kExceptions;
}

// --- structural comparison ---------------------------------------------------

const char* TypeName(const rapidjson::Value& v) {
  if (v.IsNull()) return "null";
  if (v.IsBool()) return "bool";
  if (v.IsNumber()) return "number";
  if (v.IsString()) return "string";
  if (v.IsArray()) return "array";
  return "object";
}

// `got` against the shapes of `recorded` (one value, or every element of
// recorded arrays at this place).
void Conform(const std::vector<const rapidjson::Value*>& recorded, const rapidjson::Value& got,
             const std::string& path, std::vector<std::string>* diffs) {
  std::set<std::string> types;
  for (const auto* r : recorded) types.insert(TypeName(*r));
  if (types.count(TypeName(got)) == 0) {
    diffs->push_back(absl::StrCat(path, ": ", TypeName(got), " where the service answered ",
                                  absl::StrJoin(types, "/")));
    return;
  }
  if (got.IsObject()) {
    std::vector<const rapidjson::Value*> objects;
    for (const auto* r : recorded) {
      if (r->IsObject()) objects.push_back(r);
    }
    std::set<std::string> any, all;
    bool first = true;
    for (const auto* o : objects) {
      std::set<std::string> names;
      for (const auto& m : o->GetObject()) names.insert(m.name.GetString());
      any.insert(names.begin(), names.end());
      if (first) {
        all = names;
      } else {
        std::set<std::string> both;
        for (const auto& n : all) {
          if (names.count(n) > 0) both.insert(n);
        }
        all = both;
      }
      first = false;
    }
    for (const auto& m : got.GetObject()) {
      const std::string name = m.name.GetString();
      if (any.count(name) == 0) {
        diffs->push_back(absl::StrCat(path, ": member \"", name, "\" the service does not send"));
        continue;
      }
      std::vector<const rapidjson::Value*> values;
      for (const auto* o : objects) {
        auto it = o->FindMember(name.c_str());
        if (it != o->MemberEnd()) values.push_back(&it->value);
      }
      Conform(values, m.value, absl::StrCat(path, "/", name), diffs);
    }
    for (const auto& name : all) {
      if (!got.HasMember(name.c_str())) {
        diffs->push_back(absl::StrCat(path, ": member \"", name, "\" missing"));
      }
    }
    return;
  }
  if (got.IsArray()) {
    std::vector<const rapidjson::Value*> elements;
    bool all_nonempty = true;
    for (const auto* r : recorded) {
      if (!r->IsArray()) continue;
      all_nonempty = all_nonempty && !r->Empty();
      for (const auto& e : r->GetArray()) elements.push_back(&e);
    }
    if (got.Empty() && all_nonempty) {
      diffs->push_back(absl::StrCat(path, ": empty where the service answered elements"));
    }
    if (!got.Empty() && elements.empty()) {
      diffs->push_back(absl::StrCat(path, ": elements where the service answered none"));
      return;
    }
    for (rapidjson::SizeType i = 0; i < got.Size(); ++i) {
      Conform(elements, got[i], absl::StrCat(path, "[", i, "]"), diffs);
    }
  }
}

// "Bearer a=\"x\", b=\"y\"" -> {"a", "b"} (and the scheme).
std::set<std::string> ChallengeParts(const std::string& header) {
  std::set<std::string> parts;
  absl::string_view rest = absl::StripAsciiWhitespace(header);
  const size_t space = rest.find(' ');
  parts.insert(absl::AsciiStrToLower(rest.substr(0, space)));
  if (space == absl::string_view::npos) return parts;
  for (absl::string_view p : absl::StrSplit(rest.substr(space + 1), ',', absl::SkipEmpty())) {
    p = absl::StripAsciiWhitespace(p);
    parts.insert(absl::AsciiStrToLower(p.substr(0, p.find('='))));
  }
  return parts;
}

// The literal segments of an ARM operation URL and its query names:
// "/subscriptions/*/operationresults/*?api-version".
std::string UrlShape(const std::string& url) {
  absl::string_view u = url;
  if (absl::ConsumePrefix(&u, "https://")) u = u.substr(std::min(u.find('/'), u.size()));
  const size_t q = u.find('?');
  absl::string_view path = u.substr(0, q);
  static const std::set<std::string> kWords = {
      "subscriptions", "resourcegroups", "providers",         "microsoft.resources",
      "deployments",   "operations",     "operationstatuses", "operationresults"};
  std::vector<std::string> shape;
  for (absl::string_view seg : absl::StrSplit(path, '/', absl::SkipEmpty())) {
    shape.push_back(kWords.count(absl::AsciiStrToLower(seg)) > 0 ? absl::AsciiStrToLower(seg)
                                                                 : "*");
  }
  std::vector<std::string> names;
  if (q != absl::string_view::npos) {
    for (absl::string_view kv : absl::StrSplit(u.substr(q + 1), '&', absl::SkipEmpty())) {
      names.push_back(absl::AsciiStrToLower(kv.substr(0, kv.find('='))));
    }
  }
  return absl::StrCat("/", absl::StrJoin(shape, "/"), "?", absl::StrJoin(names, "&"));
}

void CompareHeaders(const rapidjson::Value& recorded, const HttpResult& got,
                    std::vector<std::string>* diffs) {
  // Present in the recorded answer -> present in the emulator's.
  static const std::vector<std::string> kRequired = {
      "content-type",
      "www-authenticate",
      "location",
      "azure-asyncoperation",
      "retry-after",
      "cache-control",
      "pragma",
      "expires",
      "x-content-type-options",
      "strict-transport-security",
      "x-ms-keyvault-service-version",
      "x-ms-keyvault-region",
      "x-ms-keyvault-network-info",
      "x-ms-request-id",
      "x-ms-client-request-id",
      "x-ms-failure-cause",
      "x-ms-ratelimit-remaining-subscription-writes",
      "x-ms-ratelimit-remaining-subscription-deletes",
  };
  // Absent from the recorded answer -> absent from the emulator's.
  static const std::vector<std::string> kForbidden = {
      "content-type", "www-authenticate", "location", "azure-asyncoperation", "retry-after"};
  auto has = [&](const std::string& name) { return recorded.HasMember(name.c_str()); };
  for (const auto& name : kRequired) {
    if (has(name) && got.Header(name).empty()) {
      diffs->push_back(absl::StrCat("header ", name, " missing"));
    }
  }
  for (const auto& name : kForbidden) {
    if (!has(name) && !got.Header(name).empty()) {
      diffs->push_back(absl::StrCat("header ", name, " the service does not send"));
    }
  }
  if (has("content-type") && !got.Header("content-type").empty() &&
      absl::AsciiStrToLower(Str(recorded, "content-type")) !=
          absl::AsciiStrToLower(got.Header("content-type"))) {
    diffs->push_back(absl::StrCat("content-type ", got.Header("content-type"),
                                  " where the service answered ", Str(recorded, "content-type")));
  }
  if (has("www-authenticate") && ChallengeParts(Str(recorded, "www-authenticate")) !=
                                     ChallengeParts(got.Header("www-authenticate"))) {
    diffs->push_back(absl::StrCat("www-authenticate ", got.Header("www-authenticate"),
                                  " where the service answered ",
                                  Str(recorded, "www-authenticate")));
  }
  for (const char* name : {"location", "azure-asyncoperation"}) {
    if (has(name) && !got.Header(name).empty() &&
        UrlShape(Str(recorded, name)) != UrlShape(got.Header(name))) {
      diffs->push_back(absl::StrCat(name, " ", got.Header(name), " where the service answered ",
                                    Str(recorded, name)));
    }
  }
}

// --- replay ------------------------------------------------------------------

// One recorded exchange, with what the replay needs.
struct Exchange {
  int index = 0;
  std::string kind, host, method, uri;
  const rapidjson::Value* request = nullptr;
  const rapidjson::Value* response = nullptr;
  int status = 0;
};

// The secret (or key) name of a Key Vault path ("/secrets/NAME/...").
std::string NameOf(const std::string& path) {
  std::vector<std::string> seg = absl::StrSplit(absl::string_view(path).substr(1), '/');
  return seg.size() >= 2 ? seg[1] : "";
}

// A vault name for a recorded host ("REDACTED.vault.azure.net" ->
// "redacted", "fakevault.local" -> "fakevault").
std::string VaultOf(const std::string& host) {
  std::string v = absl::AsciiStrToLower(host.substr(0, host.find('.')));
  for (char& c : v) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-') c = '-';
  }
  return v;
}

class Replay {
 public:
  Replay(std::string file, const rapidjson::Document& doc) : file_(std::move(file)) {
    for (const auto& e : doc["exchanges"].GetArray()) {
      Exchange x;
      x.index = e["index"].GetInt();
      x.kind = e["kind"].GetString();
      x.host = e["host"].GetString();
      x.request = &e["request"];
      x.response = &e["response"];
      x.method = (*x.request)["method"].GetString();
      x.uri = (*x.request)["uri"].GetString();
      x.status = (*x.response)["status"].GetInt();
      exchanges_.push_back(x);
    }
    arm_ = std::string(doc["service"].GetString()) == "arm-deployments";
  }

  void Run() {
    std::vector<std::string> args = {"--deploy-duration", "1s", "--replication-delay", "1s"};
    std::set<std::string> vaults;
    for (const auto& x : exchanges_) {
      if (!arm_) vaults.insert(VaultOf(x.host));
      if (arm_) {
        std::vector<std::string> seg = absl::StrSplit(x.uri.substr(0, x.uri.find('?')), '/');
        if (seg.size() > 4 && absl::AsciiStrToLower(seg[3]) == "resourcegroups")
          rgs_.insert(seg[4]);
      }
    }
    for (const auto& v : vaults) args.insert(args.end(), {"--vault", v});
    for (const auto& g : rgs_) args.insert(args.end(), {"--resource-group", g});
    emu_.emplace(args);
    if (arm_) {
      token_ = emu_->ArmToken();
    } else {
      token_ = emu_->VaultToken();
      Seed();
    }
    for (size_t i = 0; i < exchanges_.size(); ++i) Play(i);
    for (const Exception& e : Exceptions()) {
      if (file_ == e.file && used_.count(e.index) == 0) {
        FAIL_CHECK("exception no longer needed: " << e.file << " #" << e.index);
      }
    }
    MESSAGE(file_ << ": " << compared_ << " exchanges compared, " << used_.size() << " exceptions");
  }

 private:
  const Exception* ExceptionFor(int index) {
    for (const Exception& e : Exceptions()) {
      if (file_ == e.file && e.index == index) return &e;
    }
    return nullptr;
  }

  std::string VaultUrl(const Exchange& x, const std::string& path_and_query) const {
    return emu_->Url(absl::StrCat(VaultOf(x.host), ".vault.localhost"), path_and_query);
  }

  HttpResult Send(const std::string& method, const std::string& url,
                  const std::optional<std::string>& body, bool authorize,
                  const std::string& client_request_id = "") {
    std::vector<std::string> headers;
    if (authorize) headers.push_back("Authorization: Bearer " + token_);
    if (body.has_value()) headers.push_back("Content-Type: application/json");
    if (!client_request_id.empty()) {
      headers.push_back("x-ms-client-request-id: " + client_request_id);
    }
    return emu_->Request(method, url, body, headers);
  }

  // What the scenario's vault held before it started: secrets and deleted
  // secrets in its lists that the scenario did not make.
  void Seed() {
    std::set<std::string> made;
    for (const auto& x : exchanges_) {
      if ((x.method == "PUT" && absl::StartsWith(x.uri, "/secrets/")) ||
          absl::StartsWith(x.uri, "/keys/")) {
        made.insert(absl::AsciiStrToLower(NameOf(x.uri.substr(0, x.uri.find('?')))));
      }
    }
    std::map<std::string, std::pair<const Exchange*, const rapidjson::Value*>> live, deleted;
    for (const auto& x : exchanges_) {
      if (x.kind != "list_secrets" && x.kind != "list_deleted") continue;
      const rapidjson::Value& body = (*x.response)["body"];
      if (!body.IsObject() || !body.HasMember("value")) continue;
      for (const auto& item : body["value"].GetArray()) {
        const std::string id = Str(item, "id");
        const std::string name = NameOf(id.substr(id.find("/secrets/")));
        if (name.empty() || made.count(absl::AsciiStrToLower(name)) > 0) continue;
        (x.kind == "list_secrets" ? live : deleted)[name] = {&x, &item};
      }
    }
    int deletes = 0;
    for (auto* group : {&live, &deleted}) {
      // Plain references, not structured bindings: clang 14 cannot capture
      // those in the lambdas doctest's REQUIRE_MESSAGE expands to.
      for (const auto& entry : *group) {
        const std::string& name = entry.first;
        const auto& where = entry.second;
        const rapidjson::Value& item = *where.second;
        if (item.HasMember("managed") && item["managed"].IsBool() && item["managed"].GetBool()) {
          // A certificate's secret: only a certificate makes one.
          continue;
        }
        std::string body = SetBodyFrom(item, "seeded");
        const std::string api = (*where.first).uri.substr((*where.first).uri.find("api-version="));
        HttpResult r = Send(
            "PUT", VaultUrl(*where.first, absl::StrCat("/secrets/", name, "?", api)), body, true);
        REQUIRE_MESSAGE(r.status == 200, name << ": " << r.body);
        if (group == &deleted) {
          r = Send("DELETE", VaultUrl(*where.first, absl::StrCat("/secrets/", name, "?", api)),
                   std::nullopt, true);
          REQUIRE_MESSAGE(r.status == 200, name << ": " << r.body);
          ++deletes;
        }
      }
    }
    // Deleted secrets are listed once their deletion replicated.
    if (deletes > 0) absl::SleepFor(absl::Milliseconds(1200));
  }

  // A SetSecret / UpdateSecret body carrying what a recorded bundle shows.
  static std::string SetBodyFrom(const rapidjson::Value& bundle, const std::string& value) {
    rapidjson::Document body;
    body.SetObject();
    auto& a = body.GetAllocator();
    if (!value.empty()) body.AddMember("value", rapidjson::Value(value.c_str(), a), a);
    if (bundle.HasMember("contentType")) {
      body.AddMember("contentType", rapidjson::Value(bundle["contentType"], a), a);
    }
    if (bundle.HasMember("tags")) body.AddMember("tags", rapidjson::Value(bundle["tags"], a), a);
    if (bundle.HasMember("attributes") && bundle["attributes"].IsObject()) {
      rapidjson::Value attrs(rapidjson::kObjectType);
      for (const char* k : {"enabled", "nbf", "exp"}) {
        auto it = bundle["attributes"].FindMember(k);
        if (it != bundle["attributes"].MemberEnd()) {
          attrs.AddMember(rapidjson::StringRef(k), rapidjson::Value(it->value, a), a);
        }
      }
      body.AddMember("attributes", attrs, a);
    }
    return ToText(body);
  }

  // Recorded path segments (versions, operation ids) -> the emulator's.
  void Learn(const rapidjson::Value& recorded, const rapidjson::Value& got) {
    if (recorded.IsObject() && got.IsObject()) {
      for (const auto& m : recorded.GetObject()) {
        auto it = got.FindMember(m.name);
        if (it == got.MemberEnd()) continue;
        const std::string key = m.name.GetString();
        if ((key == "id" || key == "operationId") && m.value.IsString() && it->value.IsString()) {
          std::vector<std::string> a = absl::StrSplit(m.value.GetString(), '/');
          std::vector<std::string> b = absl::StrSplit(it->value.GetString(), '/');
          if (a.size() == b.size()) {
            for (size_t i = 0; i < a.size(); ++i) {
              if (a[i] != b[i] && a[i].size() >= 16 && segments_.count(a[i]) == 0) {
                segments_[a[i]] = b[i];
              }
            }
          }
        } else {
          Learn(m.value, it->value);
        }
      }
    } else if (recorded.IsArray() && got.IsArray() && recorded.Size() == got.Size()) {
      for (rapidjson::SizeType i = 0; i < recorded.Size(); ++i) Learn(recorded[i], got[i]);
    }
  }

  // The emulator's URL for a recorded request; "" when there is none.
  std::string UrlFor(const Exchange& x) {
    if (auto it = urls_.find(x.uri); it != urls_.end()) return it->second;
    std::string uri = x.uri;
    const size_t q = uri.find('?');
    std::string path = uri.substr(0, q);
    const std::string query = q == std::string::npos ? "" : uri.substr(q);
    if (!arm_) {
      // The KEYS analog.
      std::vector<std::string> seg = absl::StrSplit(path.substr(1), '/');
      if (seg[0] == "keys") {
        path = absl::StrCat("/secrets/", seg[1]);
      } else if (seg[0] == "deletedkeys") {
        path = absl::StrCat("/deletedsecrets/", seg[1]);
      }
    }
    std::vector<std::string> seg = absl::StrSplit(path, '/');
    for (auto& s : seg) {
      if (auto it = segments_.find(s); it != segments_.end()) s = it->second;
    }
    path = absl::StrJoin(seg, "/");
    if (absl::StrContains(query, "$skiptoken=")) {
      auto it = next_links_.find(absl::AsciiStrToLower(path));
      return it == next_links_.end() ? "" : it->second;
    }
    return arm_ ? emu_->ArmUrl(path + query) : VaultUrl(x, path + query);
  }

  std::optional<std::string> BodyFor(const Exchange& x) const {
    const rapidjson::Value& req = *x.request;
    const std::string encoding = req["body_encoding"].GetString();
    if (encoding == "json") return ToText(req["body"]);
    if (encoding == "empty") return std::string();
    if (encoding == "not_recorded") {
      const rapidjson::Value& answer = (*x.response)["body"];
      if (absl::StartsWith(x.uri, "/keys/") && x.method == "POST") {
        return std::string(R"({"value":"keys-analog"})");
      }
      if (x.method == "PUT") return SetBodyFrom(answer, Str(answer, "value"));
      if (x.method == "PATCH") return SetBodyFrom(answer, "");
      return std::nullopt;
    }
    const auto& headers = req["headers"];
    if (headers.HasMember("content-length") &&
        std::string(headers["content-length"].GetString()) == "0") {
      return std::string();
    }
    return std::nullopt;
  }

  void Play(size_t i) {
    const Exchange& x = exchanges_[i];
    CAPTURE(file_);
    CAPTURE(x.index);
    CAPTURE(x.kind);
    const Exception* exception = ExceptionFor(x.index);
    if (exception != nullptr) used_.insert(x.index);
    if (exception != nullptr && std::string(exception->aspect) == "skip") return;

    const std::string url = UrlFor(x);
    REQUIRE_MESSAGE(!url.empty(), "no URL for " << x.method << " " << x.uri
                                                << " (the emulator gave no page to follow)");
    std::string method = x.method;
    if (absl::StartsWith(x.uri, "/keys/") && method == "POST") method = "PUT";
    const bool authorize = x.kind != "challenge_401";
    const std::optional<std::string> body = BodyFor(x);
    const rapidjson::Value& recorded_headers = (*x.response)["headers"];
    const std::string client_request_id =
        recorded_headers.HasMember("x-ms-client-request-id") ? NewId() : "";

    // A recorded answer that differs from the previous answer to the same
    // request is the end of a poll: poll for it, as the SDK did.
    const bool poll = i > 0 && exchanges_[i - 1].method == x.method &&
                      exchanges_[i - 1].uri == x.uri && exchanges_[i - 1].status != x.status;
    HttpResult r;
    const absl::Time first_try = absl::Now();
    const absl::Time deadline = first_try + absl::Seconds(15);
    for (;;) {
      r = Send(method, url, body, authorize, client_request_id);
      REQUIRE_MESSAGE(r.curl_exit == 0, r.curl_error);
      bool again = false;
      if (poll && r.status != x.status) again = true;
      // A read the service answered at once that the emulator still
      // answers 404: the service had replicated a delete or recover by
      // then (the SDKs' pollers wait for it); wait out the replication
      // delay, after which a 404 is a real difference.
      if (!arm_ && x.method == "GET" && x.status == 200 && r.status == 404 &&
          absl::Now() < first_try + absl::Seconds(3)) {
        again = true;
      }
      if (x.kind == "arm_poll_location" && r.status == 202 && x.status != 202) again = true;
      if (x.kind == "arm_poll_async_operation") {
        const std::string status = JsonString(r.Json(), "status");
        again = status != "Succeeded" && status != "Failed" && status != "Canceled";
      }
      if (!again || absl::Now() > deadline) break;
      absl::SleepFor(absl::Milliseconds(100));
    }
    ++compared_;

    // A poll the service answered "not yet" again, after the emulator's
    // first "not yet" to the same request: how many polls see it is the
    // pace of the poller against the replication, so once the emulator
    // gives the run's final answer, it is compared with that one.
    const Exchange* expected = &x;
    if (i > 0 && exchanges_[i - 1].method == x.method && exchanges_[i - 1].uri == x.uri &&
        exchanges_[i - 1].status == x.status && r.status != x.status) {
      for (size_t j = i + 1; j < exchanges_.size(); ++j) {
        if (exchanges_[j].method != x.method || exchanges_[j].uri != x.uri) break;
        if (exchanges_[j].status != x.status) {
          if (exchanges_[j].status == r.status) expected = &exchanges_[j];
          break;
        }
      }
    }

    std::vector<std::string> diffs;
    if (r.status != expected->status) {
      diffs.push_back(
          absl::StrCat("status ", r.status, " where the service answered ", expected->status));
    }
    const rapidjson::Value& response = *expected->response;
    const std::string encoding = response["body_encoding"].GetString();
    const std::string aspect = exception != nullptr ? exception->aspect : "";
    const bool compare_body = aspect != "body";
    rapidjson::Document got;
    if (encoding == "json") {
      got.Parse(r.body.data(), r.body.size());
      if (got.HasParseError()) {
        diffs.push_back(absl::StrCat("body is not JSON: ", r.body.substr(0, 200)));
      } else {
        if (compare_body) Conform({&response["body"]}, got, "", &diffs);
        Learn(response["body"], got);
        // The nextLink the emulator gave for this collection.
        if (got.IsObject() && got.HasMember("nextLink")) {
          std::string path = x.uri.substr(0, x.uri.find('?'));
          std::vector<std::string> seg = absl::StrSplit(path, '/');
          for (auto& s : seg) {
            if (auto it = segments_.find(s); it != segments_.end()) s = it->second;
          }
          path = absl::AsciiStrToLower(absl::StrJoin(seg, "/"));
          if (got["nextLink"].IsString()) {
            next_links_[path] = got["nextLink"].GetString();
          } else {
            next_links_.erase(path);
          }
        }
      }
    } else if (!r.body.empty() && x.method != "HEAD") {
      diffs.push_back(
          absl::StrCat("a body where the service answered none: ", r.body.substr(0, 200)));
    }
    CompareHeaders((*expected->response)["headers"], r, &diffs);
    if (!client_request_id.empty() && r.Header("x-ms-client-request-id") != client_request_id) {
      diffs.push_back("x-ms-client-request-id is not echoed");
    }
    // Polling URLs: the recorded ones -> the emulator's.
    for (const char* name : {"location", "azure-asyncoperation"}) {
      const std::string recorded_url = Str(recorded_headers, name);
      if (recorded_url.empty() || r.Header(name).empty()) continue;
      absl::string_view u = recorded_url;
      if (absl::ConsumePrefix(&u, "https://")) u = u.substr(u.find('/'));
      urls_[std::string(u)] = r.Header(name);
    }
    if (aspect == "nextLink") {
      const size_t before = diffs.size();
      std::erase_if(diffs, [](const std::string& d) { return absl::StartsWith(d, "/nextLink:"); });
      if (diffs.size() == before) {
        FAIL_CHECK("exception no longer needed: " << file_ << " #" << x.index);
      }
    }
    if (aspect == "body" && diffs.empty() && encoding == "json" && !got.HasParseError()) {
      // Is the exception still needed?
      std::vector<std::string> body_diffs;
      Conform({&response["body"]}, got, "", &body_diffs);
      if (body_diffs.empty()) {
        FAIL_CHECK("exception no longer needed: " << file_ << " #" << x.index);
      }
    }
    if (!diffs.empty()) {
      FAIL_CHECK(x.method << " " << x.uri << " -> " << url << "\n  " << absl::StrJoin(diffs, "\n  ")
                          << "\n  emulator: " << r.body.substr(0, 600));
    }
  }

  std::string NewId() { return absl::StrCat("00000000-0000-4000-8000-", 100000000000 + ++ids_); }

  std::string file_;
  bool arm_ = false;
  std::vector<Exchange> exchanges_;
  std::set<std::string> rgs_;
  std::optional<Emulator> emu_;
  std::string token_;
  std::map<std::string, std::string> segments_;    // recorded -> emulator
  std::map<std::string, std::string> urls_;        // recorded path?query -> emulator URL
  std::map<std::string, std::string> next_links_;  // lower-cased path -> nextLink
  std::set<int> used_;
  int compared_ = 0;
  int ids_ = 0;
};

void ReplayFiles(const std::string& prefix) {
  const std::string index_text = rotor::testing::ReadFileOrDie(RecordedDir() + "/index.json");
  rapidjson::Document index;
  index.Parse(index_text.c_str());
  REQUIRE(index.IsArray());
  int files = 0;
  for (const auto& row : index.GetArray()) {
    const std::string file = row["file"].GetString();
    const std::string base = file.substr(file.find('/') + 1);
    if (!absl::StartsWith(base, prefix)) continue;
    ++files;
    const std::string text = rotor::testing::ReadFileOrDie(RecordedDir() + "/" + file);
    rapidjson::Document doc;
    doc.Parse(text.c_str());
    REQUIRE_MESSAGE(doc.IsObject(), file);
    Replay(file, doc).Run();
  }
  CHECK(files > 0);
}

// Every file of the folder is in index.json, so the cases below replay all.
TEST_CASE("the recorded traffic index lists every recorded file") {
  const std::string index_text = rotor::testing::ReadFileOrDie(RecordedDir() + "/index.json");
  rapidjson::Document index;
  index.Parse(index_text.c_str());
  REQUIRE(index.IsArray());
  std::set<std::string> listed;
  for (const auto& row : index.GetArray()) listed.insert(row["file"].GetString());
  for (const char* dir : {"keyvault-secrets", "arm"}) {
    auto run = RunProcess({"ls", RecordedDir() + "/" + dir});
    REQUIRE(run.ok());
    for (absl::string_view name : absl::StrSplit(run->stdout_data, '\n', absl::SkipEmpty())) {
      CHECK_MESSAGE(listed.count(absl::StrCat(dir, "/", name)) == 1, name);
    }
  }
  // Each prefix below is replayed by one test case.
  for (const auto& file : listed) {
    const std::string base = file.substr(file.find('/') + 1);
    bool covered = false;
    for (const char* p : {"net-", "go-", "py-", "cpp-7.2-l", "cpp-7.2-k", "cpp-7.2-c", "cpp-7.2-r",
                          "cpp-7.2-t", "cpp-7.2-u", "cpp-7.3-", "arm-"}) {
      covered = covered || absl::StartsWith(base, p);
    }
    CHECK_MESSAGE(covered, file);
  }
}

TEST_CASE("recorded traffic - Key Vault, .NET SDK recordings") { ReplayFiles("net-"); }
TEST_CASE("recorded traffic - Key Vault, Go SDK recordings") { ReplayFiles("go-"); }
TEST_CASE("recorded traffic - Key Vault, Python SDK recordings") { ReplayFiles("py-"); }
TEST_CASE("recorded traffic - Key Vault, C++ SDK recordings, lists") { ReplayFiles("cpp-7.2-l"); }
TEST_CASE("recorded traffic - Key Vault, C++ SDK recordings, keys analogs") {
  ReplayFiles("cpp-7.2-k");
}
TEST_CASE("recorded traffic - Key Vault, C++ SDK recordings, the rest") {
  for (const char* p : {"cpp-7.2-c", "cpp-7.2-r", "cpp-7.2-t", "cpp-7.2-u", "cpp-7.3-"}) {
    ReplayFiles(p);
  }
}
TEST_CASE("recorded traffic - ARM deployment lifecycle") { ReplayFiles("arm-"); }

}  // namespace
}  // namespace rotor::emulator::testing
