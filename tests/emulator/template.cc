#include "tests/emulator/template.h"

#include <cstdint>
#include <set>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "base/digest.h"
#include "tests/emulator/json_internal.h"
#include "tests/emulator/util.h"

namespace rotor::emulator {
namespace {

using Doc = rapidjson::Document;
using Opt = std::optional<Doc>;

Doc Copy(const rapidjson::Value& v) {
  Doc d;
  d.CopyFrom(v, d.GetAllocator());
  return d;
}
Doc StringDoc(absl::string_view s) {
  Doc d;
  d.SetString(s.data(), static_cast<rapidjson::SizeType>(s.size()), d.GetAllocator());
  return d;
}
Doc IntDoc(int64_t i) {
  Doc d;
  d.SetInt64(i);
  return d;
}
Doc BoolDoc(bool b) {
  Doc d;
  d.SetBool(b);
  return d;
}
Opt ParseDoc(absl::string_view text) {
  Doc d;
  d.Parse(text.data(), text.size());
  if (d.HasParseError()) return std::nullopt;
  return d;
}
std::string Str(const rapidjson::Value& v) {
  return std::string(v.GetString(), v.GetStringLength());
}
void AddMember(Doc& obj, absl::string_view name, const rapidjson::Value& value) {
  rapidjson::Value n(name.data(), static_cast<rapidjson::SizeType>(name.size()),
                     obj.GetAllocator());
  rapidjson::Value v(value, obj.GetAllocator());
  obj.AddMember(n, v, obj.GetAllocator());
}
void AddString(Doc& obj, absl::string_view name, absl::string_view value) {
  AddMember(obj, name, StringDoc(value));
}
// Replaces or adds a member.
void SetMember(Doc& obj, const char* name, const rapidjson::Value& value) {
  auto it = obj.FindMember(name);
  if (it != obj.MemberEnd()) {
    it->value.CopyFrom(value, obj.GetAllocator());
  } else {
    AddMember(obj, name, value);
  }
}

bool IsExpressionText(absl::string_view s) {
  return absl::StartsWith(s, "[") && !absl::StartsWith(s, "[[") && absl::EndsWith(s, "]");
}

bool IsSecure(absl::string_view type) {
  return absl::EqualsIgnoreCase(type, "securestring") ||
         absl::EqualsIgnoreCase(type, "secureobject");
}

// --- the expression language ---------------------------------------------

struct Node {
  enum Kind { kString, kNumber, kCall, kMember, kIndex } kind = kString;
  std::string text;  // string value, function name, member name
  int64_t number = 0;
  std::vector<Node> args;  // call arguments; kMember: {object}; kIndex: {object, index}
};

class Parser {
 public:
  explicit Parser(absl::string_view text) : s_(text) {}

  std::optional<Node> ParseAll() {
    std::optional<Node> n = Expression();
    Skip();
    if (!n || i_ != s_.size()) return std::nullopt;
    return n;
  }

 private:
  void Skip() {
    while (i_ < s_.size() && absl::ascii_isspace(static_cast<unsigned char>(s_[i_]))) ++i_;
  }
  bool Eat(char c) {
    Skip();
    if (i_ < s_.size() && s_[i_] == c) {
      ++i_;
      return true;
    }
    return false;
  }
  std::string Identifier() {
    Skip();
    size_t start = i_;
    while (i_ < s_.size() && (absl::ascii_isalnum(static_cast<unsigned char>(s_[i_])) ||
                              s_[i_] == '_' || (s_[i_] == '.' && i_ > start))) {
      ++i_;
    }
    return std::string(s_.substr(start, i_ - start));
  }
  std::optional<Node> Primary() {
    Skip();
    if (i_ >= s_.size()) return std::nullopt;
    const char c = s_[i_];
    if (c == '\'') {
      ++i_;
      Node n;
      n.kind = Node::kString;
      for (;;) {
        if (i_ >= s_.size()) return std::nullopt;
        if (s_[i_] == '\'') {
          if (i_ + 1 < s_.size() && s_[i_ + 1] == '\'') {
            n.text.push_back('\'');
            i_ += 2;
            continue;
          }
          ++i_;
          break;
        }
        n.text.push_back(s_[i_++]);
      }
      return n;
    }
    if (absl::ascii_isdigit(static_cast<unsigned char>(c)) || c == '-') {
      size_t start = i_++;
      while (i_ < s_.size() && absl::ascii_isdigit(static_cast<unsigned char>(s_[i_]))) ++i_;
      Node n;
      n.kind = Node::kNumber;
      if (!absl::SimpleAtoi(s_.substr(start, i_ - start), &n.number)) return std::nullopt;
      return n;
    }
    if (absl::ascii_isalpha(static_cast<unsigned char>(c)) || c == '_') {
      // A function name never ends in '.'; "a.b(" is a namespaced
      // user function, which the emulator does not evaluate anyway.
      Node n;
      n.kind = Node::kCall;
      n.text = Identifier();
      if (!Eat('(')) return std::nullopt;
      if (!Eat(')')) {
        for (;;) {
          std::optional<Node> arg = Expression();
          if (!arg) return std::nullopt;
          n.args.push_back(*std::move(arg));
          if (Eat(')')) break;
          if (!Eat(',')) return std::nullopt;
        }
      }
      return n;
    }
    return std::nullopt;
  }
  std::optional<Node> Expression() {
    std::optional<Node> n = Primary();
    if (!n) return std::nullopt;
    for (;;) {
      Skip();
      if (i_ < s_.size() && s_[i_] == '.') {
        ++i_;
        // Identifier() takes "a.b" at once: split it into accesses.
        std::string name = Identifier();
        if (name.empty()) return std::nullopt;
        for (absl::string_view part : absl::StrSplit(name, '.')) {
          if (part.empty()) return std::nullopt;
          Node m;
          m.kind = Node::kMember;
          m.text = std::string(part);
          m.args.push_back(*std::move(n));
          n = std::move(m);
        }
        continue;
      }
      if (i_ < s_.size() && s_[i_] == '[') {
        ++i_;
        std::optional<Node> index = Expression();
        if (!index || !Eat(']')) return std::nullopt;
        Node m;
        m.kind = Node::kIndex;
        m.args.push_back(*std::move(n));
        m.args.push_back(*std::move(index));
        n = std::move(m);
        continue;
      }
      return n;
    }
  }

  absl::string_view s_;
  size_t i_ = 0;
};

// ARM's string() of a value: strings as they are, True/False, numbers,
// other values as compact JSON.
std::string ToArmString(const rapidjson::Value& v) {
  if (v.IsString()) return Str(v);
  if (v.IsBool()) return v.GetBool() ? "True" : "False";
  if (v.IsInt64()) return absl::StrCat(v.GetInt64());
  return json::ToText(v);
}

std::string Base32Hash(absl::string_view text, size_t n) {
  static constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz234567";
  const std::string hex = Sha256Hex(text);
  std::string out;
  for (size_t i = 0; i + 1 < hex.size() && out.size() < n; i += 2) {
    int byte = 0;
    (void)absl::SimpleHexAtoi(hex.substr(i, 2), &byte);
    out.push_back(kAlphabet[byte % 32]);
  }
  return out;
}

}  // namespace

std::string ResourceIdOf(absl::string_view subscription, absl::string_view resource_group,
                         absl::string_view type, absl::string_view name) {
  std::vector<std::string> types = absl::StrSplit(type, '/');
  std::vector<std::string> names = absl::StrSplit(name, '/');
  if (types.size() < 2 || names.size() != types.size() - 1) return "";
  std::string id = absl::StrCat("/subscriptions/", subscription, "/resourceGroups/", resource_group,
                                "/providers/", types[0]);
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i].empty()) return "";
    absl::StrAppend(&id, "/", types[i + 1], "/", names[i]);
  }
  return id;
}

std::string ArmTypeName(absl::string_view declared) {
  static const std::map<std::string, std::string> kTypes = {
      {"string", "String"}, {"securestring", "SecureString"}, {"int", "Int"},    {"bool", "Bool"},
      {"object", "Object"}, {"secureobject", "SecureObject"}, {"array", "Array"}};
  auto it = kTypes.find(absl::AsciiStrToLower(declared));
  return it == kTypes.end() ? std::string(declared) : it->second;
}

struct Template::Impl {
  Doc tpl;
  TemplateScope scope;
  std::vector<TemplateResource> resources;
  std::vector<const rapidjson::Value*> declarations;  // parallel to resources

  mutable std::map<std::string, std::optional<std::string>> variable_cache;
  mutable std::set<std::string> variables_in_progress;
  mutable std::set<std::string> parameters_in_progress;
  mutable std::set<size_t> references_in_progress;

  const rapidjson::Value* Section(const char* name) const { return json::MemberCi(tpl, name); }

  // --- values ---

  // A template JSON value with its expressions evaluated. `partial`: members
  // and elements that cannot be evaluated are left out instead of failing
  // the whole value.
  Opt Value(const rapidjson::Value& v, bool partial) const {
    if (v.IsString()) return String(absl::string_view(v.GetString(), v.GetStringLength()));
    if (v.IsObject()) {
      Doc out;
      out.SetObject();
      for (const auto& m : v.GetObject()) {
        Opt mv = Value(m.value, partial);
        if (!mv) {
          if (partial) continue;
          return std::nullopt;
        }
        AddMember(out, absl::string_view(m.name.GetString(), m.name.GetStringLength()), *mv);
      }
      return out;
    }
    if (v.IsArray()) {
      Doc out;
      out.SetArray();
      for (const auto& e : v.GetArray()) {
        Opt ev = Value(e, partial);
        if (!ev) {
          if (partial) continue;
          return std::nullopt;
        }
        rapidjson::Value copy(*ev, out.GetAllocator());
        out.PushBack(copy, out.GetAllocator());
      }
      return out;
    }
    return Copy(v);
  }

  Opt String(absl::string_view s) const {
    if (!IsExpressionText(s)) {
      if (absl::StartsWith(s, "[[")) s.remove_prefix(1);
      return StringDoc(s);
    }
    std::optional<Node> node = Parser(s.substr(1, s.size() - 2)).ParseAll();
    if (!node) return std::nullopt;
    return Eval(*node);
  }

  Opt Parameter(const std::string& name) const {
    const std::string key = absl::AsciiStrToLower(name);
    const rapidjson::Value* params = Section("parameters");
    const rapidjson::Value* decl = params != nullptr ? json::MemberCi(*params, key) : nullptr;
    if (auto it = scope.parameters.find(key); it != scope.parameters.end()) {
      return ParseDoc(it->second);
    }
    if (decl == nullptr) return std::nullopt;
    const rapidjson::Value* type = json::MemberCi(*decl, "type");
    if (type != nullptr && type->IsString() && IsSecure(Str(*type))) return std::nullopt;
    const rapidjson::Value* def = json::MemberCi(*decl, "defaultValue");
    if (def == nullptr || parameters_in_progress.count(key) > 0) return std::nullopt;
    parameters_in_progress.insert(key);
    Opt v = Value(*def, false);
    parameters_in_progress.erase(key);
    return v;
  }

  Opt Variable(const std::string& name) const {
    const std::string key = absl::AsciiStrToLower(name);
    if (auto it = variable_cache.find(key); it != variable_cache.end()) {
      if (!it->second) return std::nullopt;
      return ParseDoc(*it->second);
    }
    const rapidjson::Value* vars = Section("variables");
    const rapidjson::Value* decl = vars != nullptr ? json::MemberCi(*vars, key) : nullptr;
    if (decl == nullptr || variables_in_progress.count(key) > 0) return std::nullopt;
    variables_in_progress.insert(key);
    Opt v = Value(*decl, false);
    variables_in_progress.erase(key);
    variable_cache[key] = v ? std::optional<std::string>(json::ToText(*v)) : std::nullopt;
    return v;
  }

  std::optional<size_t> FindResource(absl::string_view id_or_name) const {
    for (size_t i = 0; i < resources.size(); ++i) {
      const TemplateResource& r = resources[i];
      if (r.name.empty()) continue;
      if (absl::EqualsIgnoreCase(r.id, id_or_name) ||
          absl::EqualsIgnoreCase(absl::StrCat(r.type, "/", r.name), id_or_name) ||
          absl::EqualsIgnoreCase(r.name, id_or_name)) {
        return i;
      }
    }
    return std::nullopt;
  }

  Opt Reference(absl::string_view id_or_name, bool full) const {
    std::optional<size_t> index = FindResource(id_or_name);
    if (!index || references_in_progress.count(*index) > 0) return std::nullopt;
    references_in_progress.insert(*index);
    const TemplateResource& r = resources[*index];
    const rapidjson::Value* declared = json::MemberCi(*declarations[*index], "properties");
    Doc props;
    if (declared != nullptr && declared->IsObject()) {
      Opt v = Value(*declared, true);
      if (v) props = *std::move(v);
    }
    if (!props.IsObject()) props.SetObject();
    references_in_progress.erase(*index);
    auto& a = props.GetAllocator();
    if (absl::EqualsIgnoreCase(r.type, "Microsoft.Network/publicIPAddresses")) {
      SetMember(props, "provisioningState", StringDoc("Succeeded"));
      SetMember(props, "resourceGuid", StringDoc(StableUuid(absl::AsciiStrToLower(r.id))));
      SetMember(props, "ipAddress", StringDoc("127.0.0.1"));
      SetMember(props, "publicIPAddressVersion", StringDoc("IPv4"));
      if (!props.HasMember("publicIPAllocationMethod")) {
        SetMember(props, "publicIPAllocationMethod", StringDoc("Dynamic"));
      }
      if (!props.HasMember("idleTimeoutInMinutes")) {
        SetMember(props, "idleTimeoutInMinutes", IntDoc(4));
      }
      auto dns = props.FindMember("dnsSettings");
      if (dns != props.MemberEnd() && dns->value.IsObject()) {
        auto label = dns->value.FindMember("domainNameLabel");
        if (label != dns->value.MemberEnd() && label->value.IsString() &&
            label->value.GetStringLength() > 0) {
          const std::string location = absl::AsciiStrToLower(
              absl::StrReplaceAll(r.location.empty() ? scope.location : r.location, {{" ", ""}}));
          const std::string fqdn = absl::StrCat(absl::AsciiStrToLower(Str(label->value)), ".",
                                                location, ".cloudapp.localhost");
          rapidjson::Value f(fqdn.c_str(), static_cast<rapidjson::SizeType>(fqdn.size()), a);
          auto existing = dns->value.FindMember("fqdn");
          if (existing != dns->value.MemberEnd()) {
            existing->value = f;
          } else {
            dns->value.AddMember("fqdn", f, a);
          }
        }
      }
    } else if (absl::EqualsIgnoreCase(r.type, "Microsoft.Compute/availabilitySets")) {
      if (!props.HasMember("platformUpdateDomainCount")) {
        SetMember(props, "platformUpdateDomainCount", IntDoc(5));
      }
      if (!props.HasMember("platformFaultDomainCount")) {
        SetMember(props, "platformFaultDomainCount", IntDoc(3));
      }
    }
    if (!full) return props;
    Doc out;
    out.SetObject();
    AddString(out, "id", r.id);
    AddString(out, "name", r.name);
    AddString(out, "type", r.type);
    AddString(out, "apiVersion", r.api_version);
    AddString(out, "location", r.location.empty() ? scope.location : r.location);
    AddMember(out, "properties", props);
    return out;
  }

  // --- expressions ---

  Opt Eval(const Node& n) const {
    switch (n.kind) {
      case Node::kString:
        return StringDoc(n.text);
      case Node::kNumber:
        return IntDoc(n.number);
      case Node::kMember: {
        Opt object = Eval(n.args[0]);
        if (!object || !object->IsObject()) return std::nullopt;
        const rapidjson::Value* m = json::MemberCi(*object, n.text);
        if (m == nullptr) return std::nullopt;
        return Copy(*m);
      }
      case Node::kIndex: {
        Opt object = Eval(n.args[0]);
        Opt index = Eval(n.args[1]);
        if (!object || !index) return std::nullopt;
        if (object->IsArray() && index->IsInt64()) {
          const int64_t i = index->GetInt64();
          if (i < 0 || i >= static_cast<int64_t>(object->Size())) return std::nullopt;
          return Copy((*object)[static_cast<rapidjson::SizeType>(i)]);
        }
        if (object->IsObject() && index->IsString()) {
          const rapidjson::Value* m = json::MemberCi(*object, Str(*index));
          if (m == nullptr) return std::nullopt;
          return Copy(*m);
        }
        return std::nullopt;
      }
      case Node::kCall:
        return Call(n);
    }
    return std::nullopt;
  }

  Opt Call(const Node& n) const {
    const std::string fn = absl::AsciiStrToLower(n.text);
    // Functions that evaluate their arguments lazily.
    if (fn == "if") {
      if (n.args.size() != 3) return std::nullopt;
      Opt c = Eval(n.args[0]);
      if (!c || !c->IsBool()) return std::nullopt;
      return Eval(n.args[c->GetBool() ? 1 : 2]);
    }
    std::vector<Doc> a;
    for (const Node& arg : n.args) {
      Opt v = Eval(arg);
      if (!v) return std::nullopt;
      a.push_back(*std::move(v));
    }
    auto all_strings = [&]() {
      for (const auto& v : a) {
        if (!v.IsString()) return false;
      }
      return true;
    };
    const size_t argc = a.size();
    if (fn == "parameters" && argc == 1 && a[0].IsString()) return Parameter(Str(a[0]));
    if (fn == "variables" && argc == 1 && a[0].IsString()) return Variable(Str(a[0]));
    if (fn == "concat") {
      if (argc > 0 && a[0].IsArray()) {
        Doc out;
        out.SetArray();
        for (const auto& v : a) {
          if (!v.IsArray()) return std::nullopt;
          for (const auto& e : v.GetArray()) {
            rapidjson::Value copy(e, out.GetAllocator());
            out.PushBack(copy, out.GetAllocator());
          }
        }
        return out;
      }
      std::string out;
      for (const auto& v : a) {
        if (v.IsArray() || v.IsObject()) return std::nullopt;
        out += ToArmString(v);
      }
      return StringDoc(out);
    }
    if (fn == "format" && argc >= 1 && a[0].IsString()) {
      std::string f = Str(a[0]);
      std::string out;
      for (size_t i = 0; i < f.size(); ++i) {
        if (f[i] == '{' && i + 1 < f.size() && f[i + 1] == '{') {
          out.push_back('{');
          ++i;
        } else if (f[i] == '}' && i + 1 < f.size() && f[i + 1] == '}') {
          out.push_back('}');
          ++i;
        } else if (f[i] == '{') {
          size_t close = f.find('}', i);
          if (close == std::string::npos) return std::nullopt;
          std::string spec = f.substr(i + 1, close - i - 1);
          spec = spec.substr(0, spec.find(':'));
          size_t k = 0;
          if (!absl::SimpleAtoi(spec, &k) || k + 1 >= argc) return std::nullopt;
          out += ToArmString(a[k + 1]);
          i = close;
        } else {
          out.push_back(f[i]);
        }
      }
      return StringDoc(out);
    }
    if (fn == "resourcegroup" && argc == 0) {
      Doc g;
      g.SetObject();
      AddString(g, "id",
                absl::StrCat("/subscriptions/", scope.subscription, "/resourceGroups/",
                             scope.resource_group));
      AddString(g, "name", scope.resource_group);
      AddString(g, "type", "Microsoft.Resources/resourceGroups");
      AddString(g, "location", scope.location);
      Doc props;
      props.SetObject();
      AddString(props, "provisioningState", "Succeeded");
      AddMember(g, "properties", props);
      return g;
    }
    if (fn == "subscription" && argc == 0) {
      Doc s;
      s.SetObject();
      AddString(s, "id", absl::StrCat("/subscriptions/", scope.subscription));
      AddString(s, "subscriptionId", scope.subscription);
      AddString(s, "tenantId", scope.tenant);
      AddString(s, "displayName", "rotor-emulator");
      return s;
    }
    if (fn == "deployment" && argc == 0) {
      Doc d;
      d.SetObject();
      AddString(d, "name", scope.deployment);
      return d;
    }
    if (fn == "resourceid" && argc >= 2 && all_strings()) {
      size_t t = 0;
      while (t < argc && !absl::StrContains(Str(a[t]), '/')) ++t;
      if (t >= argc || t > 2) return std::nullopt;
      std::string sub = scope.subscription, rg = scope.resource_group;
      if (t == 2) {
        sub = Str(a[0]);
        rg = Str(a[1]);
      } else if (t == 1) {
        rg = Str(a[0]);
      }
      std::vector<std::string> names;
      for (size_t i = t + 1; i < argc; ++i) names.push_back(Str(a[i]));
      std::string id = ResourceIdOf(sub, rg, Str(a[t]), absl::StrJoin(names, "/"));
      if (id.empty()) return std::nullopt;
      return StringDoc(id);
    }
    if (fn == "reference" && argc >= 1 && argc <= 3 && a[0].IsString()) {
      const bool full = argc == 3 && a[2].IsString() && absl::EqualsIgnoreCase(Str(a[2]), "Full");
      return Reference(Str(a[0]), full);
    }
    if ((fn == "tolower" || fn == "toupper") && argc == 1 && a[0].IsString()) {
      return StringDoc(fn == "tolower" ? absl::AsciiStrToLower(Str(a[0]))
                                       : absl::AsciiStrToUpper(Str(a[0])));
    }
    if (fn == "string" && argc == 1) return StringDoc(ToArmString(a[0]));
    if (fn == "int" && argc == 1) {
      if (a[0].IsInt64()) return IntDoc(a[0].GetInt64());
      int64_t i = 0;
      if (a[0].IsString() && absl::SimpleAtoi(Str(a[0]), &i)) return IntDoc(i);
      return std::nullopt;
    }
    if (fn == "bool" && argc == 1) {
      if (a[0].IsBool()) return BoolDoc(a[0].GetBool());
      if (a[0].IsString() && absl::EqualsIgnoreCase(Str(a[0]), "true")) return BoolDoc(true);
      if (a[0].IsString() && absl::EqualsIgnoreCase(Str(a[0]), "false")) return BoolDoc(false);
      return std::nullopt;
    }
    if (fn == "json" && argc == 1 && a[0].IsString()) return ParseDoc(Str(a[0]));
    if (fn == "true" && argc == 0) return BoolDoc(true);
    if (fn == "false" && argc == 0) return BoolDoc(false);
    if (fn == "equals" && argc == 2) return BoolDoc(a[0] == a[1]);
    if (fn == "not" && argc == 1 && a[0].IsBool()) return BoolDoc(!a[0].GetBool());
    if ((fn == "and" || fn == "or") && argc >= 2) {
      bool result = fn == "and";
      for (const auto& v : a) {
        if (!v.IsBool()) return std::nullopt;
        result = fn == "and" ? (result && v.GetBool()) : (result || v.GetBool());
      }
      return BoolDoc(result);
    }
    if (fn == "empty" && argc == 1) {
      const auto& v = a[0];
      return BoolDoc(v.IsNull() || (v.IsString() && v.GetStringLength() == 0) ||
                     (v.IsArray() && v.Empty()) || (v.IsObject() && v.ObjectEmpty()));
    }
    if (fn == "length" && argc == 1) {
      if (a[0].IsString()) return IntDoc(a[0].GetStringLength());
      if (a[0].IsArray()) return IntDoc(a[0].Size());
      if (a[0].IsObject()) return IntDoc(a[0].MemberCount());
      return std::nullopt;
    }
    if (fn == "contains" && argc == 2) {
      if (a[0].IsString() && a[1].IsString()) {
        return BoolDoc(absl::StrContains(Str(a[0]), Str(a[1])));
      }
      if (a[0].IsArray()) {
        for (const auto& e : a[0].GetArray()) {
          if (e == a[1]) return BoolDoc(true);
        }
        return BoolDoc(false);
      }
      if (a[0].IsObject() && a[1].IsString()) {
        return BoolDoc(json::MemberCi(a[0], Str(a[1])) != nullptr);
      }
      return std::nullopt;
    }
    if (fn == "replace" && argc == 3 && all_strings()) {
      return StringDoc(absl::StrReplaceAll(Str(a[0]), {{Str(a[1]), Str(a[2])}}));
    }
    if (fn == "split" && argc == 2 && a[0].IsString()) {
      std::vector<std::string> delimiters;
      if (a[1].IsString()) {
        delimiters.push_back(Str(a[1]));
      } else if (a[1].IsArray()) {
        for (const auto& d : a[1].GetArray()) {
          if (!d.IsString()) return std::nullopt;
          delimiters.push_back(Str(d));
        }
      } else {
        return std::nullopt;
      }
      Doc out;
      out.SetArray();
      std::string rest = Str(a[0]);
      for (;;) {
        size_t at = std::string::npos, len = 0;
        for (const auto& d : delimiters) {
          if (d.empty()) continue;
          size_t p = rest.find(d);
          if (p != std::string::npos && (at == std::string::npos || p < at)) {
            at = p;
            len = d.size();
          }
        }
        std::string part = at == std::string::npos ? rest : rest.substr(0, at);
        rapidjson::Value v(part.c_str(), static_cast<rapidjson::SizeType>(part.size()),
                           out.GetAllocator());
        out.PushBack(v, out.GetAllocator());
        if (at == std::string::npos) break;
        rest = rest.substr(at + len);
      }
      return out;
    }
    if (fn == "substring" && (argc == 2 || argc == 3) && a[0].IsString() && a[1].IsInt64()) {
      const std::string s = Str(a[0]);
      const int64_t start = a[1].GetInt64();
      int64_t len = static_cast<int64_t>(s.size()) - start;
      if (argc == 3) {
        if (!a[2].IsInt64()) return std::nullopt;
        len = a[2].GetInt64();
      }
      if (start < 0 || len < 0 || start + len > static_cast<int64_t>(s.size())) {
        return std::nullopt;
      }
      return StringDoc(s.substr(static_cast<size_t>(start), static_cast<size_t>(len)));
    }
    if (fn == "trim" && argc == 1 && a[0].IsString()) {
      return StringDoc(absl::StripAsciiWhitespace(Str(a[0])));
    }
    if ((fn == "startswith" || fn == "endswith") && argc == 2 && all_strings()) {
      return BoolDoc(fn == "startswith" ? absl::StartsWithIgnoreCase(Str(a[0]), Str(a[1]))
                                        : absl::EndsWithIgnoreCase(Str(a[0]), Str(a[1])));
    }
    if (fn == "createarray") {
      Doc out;
      out.SetArray();
      for (const auto& v : a) {
        rapidjson::Value copy(v, out.GetAllocator());
        out.PushBack(copy, out.GetAllocator());
      }
      return out;
    }
    if ((fn == "uniquestring" || fn == "guid") && argc >= 1 && all_strings()) {
      std::vector<std::string> parts;
      for (const auto& v : a) parts.push_back(Str(v));
      const std::string seed = absl::StrJoin(parts, "-");
      return StringDoc(fn == "guid" ? StableUuid(seed) : Base32Hash(seed, 13));
    }
    return std::nullopt;
  }

  // --- resources ---

  void AddResources(const rapidjson::Value& list, const std::string& parent_type,
                    const std::string& parent_name, bool parent_known) {
    if (!list.IsArray()) return;
    for (const auto& r : list.GetArray()) {
      if (!r.IsObject() || json::MemberCi(r, "copy") != nullptr) continue;
      if (const rapidjson::Value* c = json::MemberCi(r, "condition"); c != nullptr) {
        Opt cond = Value(*c, false);
        if (cond && cond->IsBool() && !cond->GetBool()) continue;
      }
      const rapidjson::Value* type = json::MemberCi(r, "type");
      if (type == nullptr || !type->IsString()) continue;
      TemplateResource res;
      res.type = Str(*type);
      if (!parent_type.empty() && !absl::StrContains(res.type, '/')) {
        res.type = absl::StrCat(parent_type, "/", res.type);
      }
      bool known = parent_known;
      if (const rapidjson::Value* name = json::MemberCi(r, "name"); name != nullptr) {
        Opt n = Value(*name, false);
        if (n && n->IsString() && known) {
          res.name = Str(*n);
          if (!parent_name.empty() && !absl::StrContains(res.name, '/')) {
            res.name = absl::StrCat(parent_name, "/", res.name);
          }
        } else {
          known = false;
        }
      }
      if (!res.name.empty()) {
        res.id = ResourceIdOf(scope.subscription, scope.resource_group, res.type, res.name);
        if (res.id.empty()) res.name.clear();
      }
      if (const rapidjson::Value* v = json::MemberCi(r, "apiVersion");
          v != nullptr && v->IsString()) {
        res.api_version = Str(*v);
      }
      if (const rapidjson::Value* loc = json::MemberCi(r, "location"); loc != nullptr) {
        Opt l = Value(*loc, false);
        if (l && l->IsString()) res.location = Str(*l);
      }
      resources.push_back(res);
      declarations.push_back(&r);
      if (const rapidjson::Value* children = json::MemberCi(r, "resources"); children != nullptr) {
        AddResources(*children, res.type, res.name, known && !res.name.empty());
      }
    }
  }

  void ResolveDependencies() {
    for (size_t i = 0; i < resources.size(); ++i) {
      const rapidjson::Value* deps = json::MemberCi(*declarations[i], "dependsOn");
      if (deps == nullptr || !deps->IsArray()) continue;
      for (const auto& d : deps->GetArray()) {
        Opt v = Value(d, false);
        if (!v || !v->IsString()) continue;
        std::optional<size_t> target = FindResource(Str(*v));
        if (target && !resources[*target].id.empty()) {
          resources[i].depends_on.push_back(resources[*target].id);
        }
      }
    }
  }
};

Template::Template(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Template::~Template() = default;

std::unique_ptr<Template> Template::Parse(absl::string_view template_json, TemplateScope scope) {
  auto impl = std::make_unique<Impl>();
  impl->tpl.Parse(template_json.data(), template_json.size());
  if (impl->tpl.HasParseError() || !impl->tpl.IsObject()) return nullptr;
  impl->scope = std::move(scope);
  if (const rapidjson::Value* res = impl->Section("resources"); res != nullptr) {
    impl->AddResources(*res, "", "", true);
  }
  impl->ResolveDependencies();
  return std::unique_ptr<Template>(new Template(std::move(impl)));
}

const std::vector<TemplateResource>& Template::Resources() const { return impl_->resources; }

std::vector<TemplateOutput> Template::Outputs() const {
  std::vector<TemplateOutput> out;
  const rapidjson::Value* outputs = impl_->Section("outputs");
  if (outputs == nullptr || !outputs->IsObject()) return out;
  for (const auto& o : outputs->GetObject()) {
    const rapidjson::Value* type = json::MemberCi(o.value, "type");
    const rapidjson::Value* value = json::MemberCi(o.value, "value");
    if (type == nullptr || !type->IsString() || value == nullptr ||
        json::MemberCi(o.value, "copy") != nullptr) {
      continue;
    }
    if (IsSecure(Str(*type))) continue;
    if (const rapidjson::Value* c = json::MemberCi(o.value, "condition"); c != nullptr) {
      Opt cond = impl_->Value(*c, false);
      if (!cond || !cond->IsBool() || !cond->GetBool()) continue;
    }
    Opt v = impl_->Value(*value, false);
    if (!v) continue;
    out.push_back(TemplateOutput{o.name.GetString(), ArmTypeName(Str(*type)), json::ToText(*v)});
  }
  return out;
}

std::optional<std::string> Template::Reference(absl::string_view id_or_name, bool full) const {
  Opt v = impl_->Reference(id_or_name, full);
  if (!v) return std::nullopt;
  return json::ToText(*v);
}

std::optional<std::string> Template::Evaluate(absl::string_view text) const {
  Opt v = impl_->String(text);
  if (!v) return std::nullopt;
  return json::ToText(*v);
}

std::optional<std::string> Template::EvaluatedResource(size_t index) const {
  if (index >= impl_->resources.size()) return std::nullopt;
  const TemplateResource& r = impl_->resources[index];
  if (r.id.empty()) return std::nullopt;
  Doc out;
  out.SetObject();
  AddString(out, "apiVersion", r.api_version);
  AddString(out, "id", r.id);
  AddString(out, "name", r.name);
  AddString(out, "type", r.type);
  if (!r.location.empty()) AddString(out, "location", r.location);
  for (const auto& m : impl_->declarations[index]->GetObject()) {
    const std::string key = absl::AsciiStrToLower(m.name.GetString());
    if (key == "apiversion" || key == "name" || key == "type" || key == "location" ||
        key == "dependson" || key == "condition" || key == "copy" || key == "resources" ||
        key == "comments") {
      continue;
    }
    Opt v = impl_->Value(m.value, true);
    if (v) AddMember(out, m.name.GetString(), *v);
  }
  return json::ToText(out);
}

}  // namespace rotor::emulator
