// The JSON codec of the config loader: RapidJSON and valijson stay in this
// file (see CONTRIBUTING, "One corner per library").
#include "engine/config_schema.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <regex>
#include <set>
#include <sstream>

// RapidJSON before valijson, on purpose: every file must see the same
// RAPIDJSON_ASSERT (RapidJSON is templates; two definitions would break the
// one-definition rule), so valijson's adapter may not install its throwing
// one, and says so in a #warning at each build.
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <valijson/adapters/rapidjson_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validation_results.hpp>
#include <valijson/validator.hpp>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "engine/did_you_mean.h"
#include "engine/toml_text.h"

namespace rotor::config_internal {
namespace {

// ---------------------------------------------------------------------------
// The compiled-in schema, parsed once.

struct LoadedSchema {
  rapidjson::Document document;
  valijson::Schema schema;
  std::string error;  // non-empty when the schema could not be loaded
  std::vector<std::string> secret_key_names;
};

const rapidjson::Value* Member(const rapidjson::Value& object,
                               const char* name) {
  if (!object.IsObject()) return nullptr;
  auto it = object.FindMember(name);
  return it == object.MemberEnd() ? nullptr : &it->value;
}

// Follows "$ref": "#/definitions/NAME" (the only form the schema uses).
const rapidjson::Value* Resolve(const rapidjson::Value& root,
                                const rapidjson::Value* node) {
  for (int depth = 0; node != nullptr && depth < 16; ++depth) {
    const rapidjson::Value* ref = Member(*node, "$ref");
    if (ref == nullptr || !ref->IsString()) return node;
    absl::string_view target(ref->GetString(), ref->GetStringLength());
    if (!absl::ConsumePrefix(&target, "#/definitions/")) return nullptr;
    const rapidjson::Value* definitions = Member(root, "definitions");
    if (definitions == nullptr) return nullptr;
    auto it = definitions->FindMember(rapidjson::Value(
        target.data(), static_cast<rapidjson::SizeType>(target.size())));
    node = it == definitions->MemberEnd() ? nullptr : &it->value;
  }
  return node;
}

bool IsWriteOnly(const rapidjson::Value& root, const rapidjson::Value* node) {
  for (const rapidjson::Value* n : {node, Resolve(root, node)}) {
    if (n == nullptr) continue;
    const rapidjson::Value* w = Member(*n, "writeOnly");
    if (w != nullptr && w->IsBool() && w->GetBool()) return true;
  }
  return false;
}

void CollectSecretKeys(const rapidjson::Value& root,
                       const rapidjson::Value& node,
                       std::set<std::string>* names, int depth) {
  if (depth > 32 || !node.IsObject()) return;
  if (const rapidjson::Value* props = Member(node, "properties");
      props && props->IsObject()) {
    for (auto it = props->MemberBegin(); it != props->MemberEnd(); ++it) {
      if (IsWriteOnly(root, &it->value)) names->insert(it->name.GetString());
      CollectSecretKeys(root, it->value, names, depth + 1);
    }
  }
  if (const rapidjson::Value* items = Member(node, "items");
      items && items->IsObject()) {
    CollectSecretKeys(root, *items, names, depth + 1);
  }
}

const LoadedSchema& Schema() {
  static const LoadedSchema* const loaded = [] {
    auto* s = new LoadedSchema;
    s->document.Parse(kConfigSchemaJson);
    if (s->document.HasParseError() || !s->document.IsObject()) {
      s->error = absl::StrCat(
          "the compiled-in config schema is not valid JSON (offset ",
          s->document.GetErrorOffset(), ")");
      return s;
    }
    try {
      valijson::SchemaParser parser(valijson::SchemaParser::kDraft7);
      parser.populateSchema(valijson::adapters::RapidJsonAdapter(s->document),
                            s->schema);
    } catch (const std::exception& e) {
      s->error = absl::StrCat(
          "the compiled-in config schema cannot be loaded: ", e.what());
      return s;
    }
    std::set<std::string> names;
    CollectSecretKeys(s->document, s->document, &names, 0);
    s->secret_key_names.assign(names.begin(), names.end());
    return s;
  }();
  return *loaded;
}

// ---------------------------------------------------------------------------
// TOML -> JSON.

std::string TemporalText(const toml::node& node) {
  std::ostringstream out;
  if (auto* d = node.as_date()) out << d->get();
  if (auto* t = node.as_time()) out << t->get();
  if (auto* dt = node.as_date_time()) out << dt->get();
  return out.str();
}

// NaN and infinities become null (only TomlToJsonText refuses them).
void ToJson(const toml::node& node, rapidjson::Value* out,
            rapidjson::Document::AllocatorType& alloc) {
  switch (node.type()) {
    case toml::node_type::table: {
      out->SetObject();
      for (auto&& [key, child] : *node.as_table()) {
        rapidjson::Value name(
            key.str().data(),
            static_cast<rapidjson::SizeType>(key.str().size()), alloc);
        rapidjson::Value value;
        ToJson(child, &value, alloc);
        out->AddMember(name, value, alloc);
      }
      break;
    }
    case toml::node_type::array: {
      out->SetArray();
      for (const toml::node& child : *node.as_array()) {
        rapidjson::Value value;
        ToJson(child, &value, alloc);
        out->PushBack(value, alloc);
      }
      break;
    }
    case toml::node_type::string: {
      const std::string& s = node.as_string()->get();
      out->SetString(s.data(), static_cast<rapidjson::SizeType>(s.size()),
                     alloc);
      break;
    }
    case toml::node_type::integer:
      out->SetInt64(node.as_integer()->get());
      break;
    case toml::node_type::floating_point: {
      double d = node.as_floating_point()->get();
      if (std::isfinite(d)) {
        out->SetDouble(d);
      } else {
        out->SetNull();
      }
      break;
    }
    case toml::node_type::boolean:
      out->SetBool(node.as_boolean()->get());
      break;
    case toml::node_type::date:
    case toml::node_type::time:
    case toml::node_type::date_time: {
      std::string s = TemporalText(node);
      out->SetString(s.data(), static_cast<rapidjson::SizeType>(s.size()),
                     alloc);
      break;
    }
    default:
      out->SetNull();
  }
}

bool HasNonFinite(const toml::node& node) {
  if (auto* f = node.as_floating_point()) return !std::isfinite(f->get());
  if (auto* t = node.as_table()) {
    for (auto&& [k, v] : *t) {
      if (HasNonFinite(v)) return true;
    }
  }
  if (auto* a = node.as_array()) {
    for (const toml::node& v : *a) {
      if (HasNonFinite(v)) return true;
    }
  }
  return false;
}

// ---------------------------------------------------------------------------
// Paths.

bool IsValidNameForPath(absl::string_view name) {
  if (name.empty() || name.size() > 127) return false;
  for (char c : name) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-')
      return false;
  }
  return true;
}


Position FromSource(const toml::source_position& p) {
  return Position{static_cast<int>(p.line), static_cast<int>(p.column)};
}

KeyPath Parent(const KeyPath& path) {
  return KeyPath(path.begin(), path.end() - 1);
}

// Walks the JSON document along valijson's context ("<root>", "[cloud]",
// "[kind]", "[0]") and returns the equivalent key path.
bool ContextToPath(const rapidjson::Value& document,
                   const std::vector<std::string>& context, KeyPath* path) {
  const rapidjson::Value* node = &document;
  for (const std::string& raw : context) {
    if (raw == "<root>") continue;
    absl::string_view segment = raw;
    if (!absl::ConsumePrefix(&segment, "[") ||
        !absl::ConsumeSuffix(&segment, "]")) {
      return false;
    }
    if (node->IsArray()) {
      size_t index = 0;
      if (!absl::SimpleAtoi(segment, &index) || index >= node->Size())
        return false;
      path->push_back(index);
      node = &(*node)[static_cast<rapidjson::SizeType>(index)];
    } else if (node->IsObject()) {
      auto it = node->FindMember(rapidjson::Value(
          segment.data(), static_cast<rapidjson::SizeType>(segment.size())));
      if (it == node->MemberEnd()) return false;
      path->push_back(std::string(segment));
      node = &it->value;
    } else {
      return false;
    }
  }
  return true;
}

// ---------------------------------------------------------------------------
// Explaining a failure at one node.

struct SchemaNode {
  const rapidjson::Value* raw = nullptr;       // as written (siblings of $ref)
  const rapidjson::Value* resolved = nullptr;  // after $ref
};

SchemaNode SchemaAt(const rapidjson::Value& root, const KeyPath& path) {
  SchemaNode node{&root, &root};
  for (const PathSegment& segment : path) {
    const rapidjson::Value* s = node.resolved;
    if (s == nullptr) return {};
    const rapidjson::Value* next = nullptr;
    if (const std::string* key = std::get_if<std::string>(&segment)) {
      if (const rapidjson::Value* props = Member(*s, "properties")) {
        next = Member(*props, key->c_str());
      }
      if (next == nullptr) {
        const rapidjson::Value* additional = Member(*s, "additionalProperties");
        if (additional != nullptr && additional->IsObject()) next = additional;
      }
    } else {
      size_t index = std::get<size_t>(segment);
      const rapidjson::Value* items = Member(*s, "items");
      if (items != nullptr && items->IsObject()) {
        next = items;
      } else if (items != nullptr && items->IsArray() &&
                 index < items->Size()) {
        next = &(*items)[static_cast<rapidjson::SizeType>(index)];
      } else {
        const rapidjson::Value* additional = Member(*s, "additionalItems");
        if (additional != nullptr && additional->IsObject()) next = additional;
      }
    }
    if (next == nullptr) return {};
    node = SchemaNode{next, Resolve(root, next)};
  }
  return node;
}

const rapidjson::Value* Keyword(const SchemaNode& node, const char* name) {
  if (node.resolved != nullptr) {
    if (const rapidjson::Value* v = Member(*node.resolved, name)) return v;
  }
  return nullptr;
}

// Annotations may sit beside a "$ref" (draft 7 ignores them for validation,
// editors show them): the raw node wins.
const rapidjson::Value* Annotation(const SchemaNode& node, const char* name) {
  if (node.raw != nullptr) {
    if (const rapidjson::Value* v = Member(*node.raw, name)) return v;
  }
  return Keyword(node, name);
}


// A user's value in a message: quoted, cut at 60 characters.
std::string ShowValue(absl::string_view s) {
  if (s.size() > 60) return absl::StrCat(TomlQuote(s.substr(0, 57)), "...");
  return TomlQuote(s);
}

// A JSON example from the schema written as TOML.
std::string ExampleAsToml(const rapidjson::Value& v) {
  if (v.IsString())
    return TomlQuote(absl::string_view(v.GetString(), v.GetStringLength()));
  if (v.IsBool()) return v.GetBool() ? "true" : "false";
  if (v.IsInt64()) return absl::StrCat(v.GetInt64());
  if (v.IsNumber()) return absl::StrCat(v.GetDouble());
  if (v.IsArray()) {
    std::vector<std::string> items;
    for (const auto& item : v.GetArray()) items.push_back(ExampleAsToml(item));
    return absl::StrCat("[", absl::StrJoin(items, ", "), "]");
  }
  if (v.IsObject()) {
    std::vector<std::string> items;
    for (auto it = v.MemberBegin(); it != v.MemberEnd(); ++it) {
      items.push_back(
          absl::StrCat(it->name.GetString(), " = ", ExampleAsToml(it->value)));
    }
    return absl::StrCat("{ ", absl::StrJoin(items, ", "), " }");
  }
  return "";
}

size_t CodePoints(absl::string_view s) {
  size_t n = 0;
  for (char c : s) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
  }
  return n;
}

std::vector<std::string> StringList(const rapidjson::Value* v) {
  std::vector<std::string> out;
  if (v == nullptr) return out;
  if (v->IsString()) out.push_back(v->GetString());
  if (v->IsArray()) {
    for (const auto& item : v->GetArray()) {
      if (item.IsString()) out.push_back(item.GetString());
    }
  }
  return out;
}

std::vector<std::string> PropertyNames(const SchemaNode& node) {
  std::vector<std::string> names;
  if (const rapidjson::Value* props = Keyword(node, "properties");
      props && props->IsObject()) {
    for (auto it = props->MemberBegin(); it != props->MemberEnd(); ++it) {
      names.push_back(it->name.GetString());
    }
  }
  return names;
}

bool IsObjectSchema(const rapidjson::Value& root, const rapidjson::Value* raw) {
  const rapidjson::Value* s = Resolve(root, raw);
  if (s == nullptr) return false;
  std::vector<std::string> types = StringList(Member(*s, "type"));
  return types.size() == 1 && types[0] == "object";
}

// "a, b or c".
std::string JoinOr(const std::vector<std::string>& items) {
  if (items.size() <= 1) return absl::StrJoin(items, "");
  return absl::StrCat(absl::StrJoin(items.begin(), items.end() - 1, ", "),
                      " or ", items.back());
}

class Explainer {
 public:
  Explainer(const toml::table& root, const rapidjson::Value& schema,
            std::vector<Diagnostic>* out)
      : root_(root), schema_(schema), out_(out) {}

  // Adds diagnostics for what is wrong at `path` itself (not below it);
  // returns how many.
  int Explain(const KeyPath& path) {
    const toml::node* node = NodeAt(root_, path);
    SchemaNode schema = SchemaAt(schema_, path);
    if (node == nullptr || schema.resolved == nullptr) return 0;
    path_ = path;
    prefix_ =
        path.empty() ? "" : absl::StrCat(FormatKeyPath(root_, path), ": ");
    secret_ = IsWriteOnly(schema_, schema.raw);
    added_ = 0;

    if (!CheckType(*node, schema)) return added_;
    if (const toml::table* table = node->as_table()) {
      CheckObject(*table, schema);
    } else if (const toml::array* array = node->as_array()) {
      CheckArray(*array, schema);
    } else if (const toml::value<std::string>* s = node->as_string()) {
      CheckString(s->get(), schema);
    } else if (const toml::value<int64_t>* i = node->as_integer()) {
      CheckNumber(static_cast<double>(i->get()), absl::StrCat(i->get()),
                  schema);
    } else if (const toml::value<double>* d = node->as_floating_point()) {
      CheckNumber(d->get(), absl::StrCat(d->get()), schema);
    } else if (node->is_date() || node->is_time() || node->is_date_time()) {
      CheckString(TemporalText(*node), schema);
    }
    return added_;
  }

 private:
  void Add(Position position, std::string message) {
    out_->push_back(Diagnostic{position, std::move(message)});
    ++added_;
  }

  std::string KeyName() const {
    for (auto it = path_.rbegin(); it != path_.rend(); ++it) {
      if (const std::string* key = std::get_if<std::string>(&*it)) return *key;
    }
    return "";
  }

  // From the schema's `errorMessage` annotation (as ajv-errors spells it):
  // why a keyword's limit is what it is.
  static std::string Reason(const SchemaNode& schema, const char* keyword) {
    const rapidjson::Value* messages = Annotation(schema, "errorMessage");
    if (messages == nullptr) return "";
    const rapidjson::Value* why = Member(*messages, keyword);
    return why != nullptr && why->IsString()
               ? absl::StrCat(" (", why->GetString(), ")")
               : "";
  }

  std::string ExampleHint(const SchemaNode& schema,
                          absl::string_view key) const {
    const rapidjson::Value* examples = Annotation(schema, "examples");
    if (examples == nullptr || !examples->IsArray() || examples->Empty())
      return "";
    return absl::StrCat("; for example ", key, " = ",
                        ExampleAsToml((*examples)[0]));
  }

  static std::string TypeName(absl::string_view type) {
    if (type == "string") return "a string";
    if (type == "integer") return "an integer";
    if (type == "number") return "a number";
    if (type == "boolean") return "a boolean (true or false)";
    if (type == "object") return "a table";
    if (type == "array") return "an array";
    return std::string(type);
  }

  static bool TypeMatches(const toml::node& node, absl::string_view type) {
    if (type == "string") {
      return node.is_string() || node.is_date() || node.is_time() ||
             node.is_date_time();
    }
    if (type == "integer") return node.is_integer();
    if (type == "number") return node.is_integer() || node.is_floating_point();
    if (type == "boolean") return node.is_boolean();
    if (type == "object") return node.is_table();
    if (type == "array") return node.is_array();
    return false;
  }

  bool CheckType(const toml::node& node, const SchemaNode& schema) {
    std::vector<std::string> types = StringList(Keyword(schema, "type"));
    if (types.empty()) return true;
    for (const std::string& type : types) {
      if (TypeMatches(node, type)) return true;
    }
    const std::string key = KeyName();
    std::vector<std::string> names;
    bool array_of_tables = false;
    for (const std::string& type : types) {
      if (type == "array" &&
          IsObjectSchema(schema_, Keyword(schema, "items"))) {
        array_of_tables = true;
        names.push_back(absl::StrCat("an array of tables ([[", key, "]])"));
      } else if (type == "object" && types.size() > 1) {
        names.push_back("an inline table");
      } else {
        names.push_back(TypeName(type));
      }
    }
    std::string hint;
    const toml::value<std::string>* s = node.as_string();
    const bool wants_number =
        std::find_if(types.begin(), types.end(), [](const std::string& t) {
          return t == "integer" || t == "number";
        }) != types.end();
    const bool wants_bool =
        std::find(types.begin(), types.end(), "boolean") != types.end();
    const bool wants_string =
        std::find(types.begin(), types.end(), "string") != types.end();
    int64_t unused_int;
    if (s != nullptr && !secret_ &&
        ((wants_number && absl::SimpleAtoi(s->get(), &unused_int)) ||
         (wants_bool && (s->get() == "true" || s->get() == "false")))) {
      hint = "; remove the quotes";
    } else if (wants_string && types.size() == 1 &&
               (node.is_integer() || node.is_floating_point() ||
                node.is_boolean())) {
      hint = "; put the value in quotes";
    } else if (array_of_tables && node.is_table()) {
      hint = absl::StrCat("; write [[", key, "]] for each entry");
    } else if (!path_.empty()) {
      hint = ExampleHint(schema, key);
    }
    Add(ValuePosition(root_, path_),
        absl::StrCat(prefix_, "expected ", absl::StrJoin(names, " or "),
                     ", found ", DescribeTomlType(node), hint));
    return false;
  }

  void CheckString(const std::string& value, const SchemaNode& schema) {
    const Position at = ValuePosition(root_, path_);
    if (const rapidjson::Value* e = Keyword(schema, "enum");
        e && e->IsArray()) {
      std::vector<std::string> allowed = StringList(e);
      if (std::find(allowed.begin(), allowed.end(), value) == allowed.end()) {
        std::vector<std::string> quoted;
        for (const std::string& a : allowed) quoted.push_back(TomlQuote(a));
        std::optional<std::string> guess = DidYouMean(value, allowed);
        Add(at,
            absl::StrCat(
                prefix_, "unknown value", secret_ ? "" : " " + ShowValue(value),
                guess ? absl::StrCat("; did you mean ", TomlQuote(*guess), "?")
                      : absl::StrCat("; expected one of ",
                                     absl::StrJoin(quoted, ", "))));
        return;
      }
    }
    const size_t length = CodePoints(value);
    const rapidjson::Value* min_length = Keyword(schema, "minLength");
    if (min_length != nullptr && min_length->IsUint() &&
        length < min_length->GetUint()) {
      if (length == 0) {
        Add(at, absl::StrCat(prefix_, "must not be empty",
                             ExampleHint(schema, KeyName())));
      } else {
        Add(at,
            absl::StrCat(prefix_, secret_ ? "" : ShowValue(value) + " ",
                         "is too short: ", length, " characters, at least ",
                         min_length->GetUint(), Reason(schema, "minLength")));
      }
      return;
    }
    const rapidjson::Value* max_length = Keyword(schema, "maxLength");
    if (max_length != nullptr && max_length->IsUint() &&
        length > max_length->GetUint()) {
      Add(at,
          absl::StrCat(prefix_, "too long: ", length, " characters, at most ",
                       max_length->GetUint(), Reason(schema, "maxLength")));
      return;
    }
    if (const rapidjson::Value* pattern = Keyword(schema, "pattern");
        pattern && pattern->IsString()) {
      bool matches = true;
      try {
        matches = std::regex_search(
            value, std::regex(pattern->GetString(), std::regex::ECMAScript));
      } catch (const std::regex_error&) {
      }
      if (!matches) {
        const rapidjson::Value* why = Annotation(schema, "patternErrorMessage");
        Add(at, absl::StrCat(
                    prefix_, "invalid value",
                    secret_ ? "" : " " + ShowValue(value), ": ",
                    why && why->IsString()
                        ? std::string(why->GetString())
                        : absl::StrCat("must match ", pattern->GetString())));
      }
    }
  }

  void CheckNumber(double value, const std::string& text,
                   const SchemaNode& schema) {
    const rapidjson::Value* minimum = Keyword(schema, "minimum");
    const rapidjson::Value* maximum = Keyword(schema, "maximum");
    const bool low =
        minimum && minimum->IsNumber() && value < minimum->GetDouble();
    const bool high =
        maximum && maximum->IsNumber() && value > maximum->GetDouble();
    if (!low && !high) return;
    std::string range;
    if (minimum && maximum && minimum->IsNumber() && maximum->IsNumber()) {
      range = absl::StrCat("use a value from ", minimum->GetDouble(), " to ",
                           maximum->GetDouble());
    } else if (low) {
      range = absl::StrCat("use at least ", minimum->GetDouble());
    } else {
      range = absl::StrCat("use at most ", maximum->GetDouble());
    }
    Add(ValuePosition(root_, path_),
        absl::StrCat(prefix_, text, " is out of range",
                     Reason(schema, low ? "minimum" : "maximum"), "; ", range));
  }

  void CheckArray(const toml::array& array, const SchemaNode& schema) {
    const rapidjson::Value* min_items = Keyword(schema, "minItems");
    if (min_items != nullptr && min_items->IsUint() &&
        array.size() < min_items->GetUint()) {
      Add(ValuePosition(root_, path_),
          absl::StrCat(prefix_,
                       array.empty()
                           ? std::string("must not be empty")
                           : absl::StrCat("needs at least ",
                                          min_items->GetUint(), " items"),
                       ExampleHint(schema, KeyName())));
    }
  }

  void CheckObject(const toml::table& table, const SchemaNode& schema) {
    const std::vector<std::string> allowed = PropertyNames(schema);
    const rapidjson::Value* props = Keyword(schema, "properties");
    // Unknown keys, each at its own position.
    const rapidjson::Value* additional =
        Keyword(schema, "additionalProperties");
    if (additional != nullptr && additional->IsBool() &&
        !additional->GetBool()) {
      for (auto&& [key, child] : table) {
        const std::string name(key.str());
        if (std::find(allowed.begin(), allowed.end(), name) != allowed.end())
          continue;
        KeyPath child_path = path_;
        child_path.push_back(name);
        const Position at = KeyPosition(root_, child_path);
        const std::string where = FormatKeyPath(root_, child_path);
        const bool is_table =
            child.is_table() && !child.as_table()->is_inline();
        const bool is_source =
            std::find(allowed.begin(), allowed.end(), "env") != allowed.end();
        if (is_source && name == "generate") {
          Add(at, absl::StrCat(
                      where, ": generate is only for [[user]] passwords; use ",
                      JoinOr(allowed)));
          continue;
        }
        std::optional<std::string> guess = DidYouMean(name, allowed);
        std::string fix;
        if (guess) {
          const rapidjson::Value* guess_schema =
              props ? Resolve(schema_, Member(*props, guess->c_str()))
                    : nullptr;
          const bool guess_is_table =
              props && IsObjectSchema(schema_, guess_schema);
          const bool guess_is_array_of_tables =
              guess_schema != nullptr &&
              StringList(Member(*guess_schema, "type")) ==
                  std::vector<std::string>{"array"} &&
              IsObjectSchema(schema_, Member(*guess_schema, "items"));
          if (guess_is_table && (is_table || path_.empty())) {
            fix = absl::StrCat("; did you mean [", *guess, "]?");
          } else if (guess_is_array_of_tables && path_.empty()) {
            fix = absl::StrCat("; did you mean [[", *guess, "]]?");
          } else {
            fix = absl::StrCat("; did you mean ", TomlQuote(*guess), "?");
          }
        } else if (allowed.empty()) {
          fix = "; this table takes no keys";
        } else {
          fix =
              absl::StrCat("; expected one of: ", absl::StrJoin(allowed, ", "));
        }
        Add(at,
            absl::StrCat(where, ": unknown ", is_table ? "table" : "key", fix));
      }
    }
    // Missing required keys, at the table's header (or its opening brace).
    for (const std::string& name : StringList(Keyword(schema, "required"))) {
      if (table.contains(name)) continue;
      const rapidjson::Value* child =
          props ? Member(*props, name.c_str()) : nullptr;
      const bool child_is_table = IsObjectSchema(schema_, child);
      std::string hint;
      KeyPath child_path = path_;
      child_path.push_back(name);
      if (child != nullptr && !child_is_table) {
        hint = ExampleHint(SchemaAt(schema_, child_path), name);
      } else if (child_is_table) {
        // "; add it with kind = \"azurestack\"": its own required keys.
        const SchemaNode table_schema = SchemaAt(schema_, child_path);
        std::vector<std::string> keys;
        for (const std::string& key :
             StringList(Keyword(table_schema, "required"))) {
          KeyPath key_path = child_path;
          key_path.push_back(key);
          const std::string example =
              ExampleHint(SchemaAt(schema_, key_path), key);
          absl::string_view rest = example;
          if (absl::ConsumePrefix(&rest, "; for example "))
            keys.push_back(std::string(rest));
        }
        if (!keys.empty())
          hint = absl::StrCat("; add it with ", absl::StrJoin(keys, ", "));
      }
      if (path_.empty()) {
        Add(Position{1, 1},
            absl::StrCat("missing required ",
                         child_is_table ? "table [" : "key \"", name,
                         child_is_table ? "]" : "\"", hint));
      } else {
        Add(ValuePosition(root_, path_),
            absl::StrCat(prefix_, "missing required key \"", name, "\"", hint));
      }
    }
    // Exactly-one-of tables (value sources).
    const rapidjson::Value* min_props = Keyword(schema, "minProperties");
    const rapidjson::Value* max_props = Keyword(schema, "maxProperties");
    const size_t min =
        min_props && min_props->IsUint() ? min_props->GetUint() : 0;
    const size_t max =
        max_props && max_props->IsUint() ? max_props->GetUint() : SIZE_MAX;
    if (table.size() < min || table.size() > max) {
      std::vector<std::string> present;
      for (auto&& [key, child] : table)
        present.push_back(std::string(key.str()));
      std::string what =
          min == 1 && max == 1
              ? absl::StrCat("set exactly one of ", JoinOr(allowed))
              : absl::StrCat("takes from ", min, " to ", max, " keys");
      Add(ValuePosition(root_, path_),
          absl::StrCat(
              prefix_, what,
              table.empty()
                  ? std::string(" (the table is empty)")
                  : absl::StrCat(" (found ", absl::StrJoin(present, " and "),
                                 ")")));
    }
  }

  const toml::table& root_;
  const rapidjson::Value& schema_;
  std::vector<Diagnostic>* out_;
  KeyPath path_;
  std::string prefix_;
  bool secret_ = false;
  int added_ = 0;
};

bool IsStrictPrefix(const KeyPath& prefix, const KeyPath& path) {
  return prefix.size() < path.size() &&
         std::equal(prefix.begin(), prefix.end(), path.begin());
}

}  // namespace

std::string FormatKeyPath(const toml::table& root, const KeyPath& path) {
  std::string out;
  const toml::node* node = &root;
  for (const PathSegment& segment : path) {
    if (const std::string* key = std::get_if<std::string>(&segment)) {
      if (!out.empty()) out += ".";
      out += IsTomlBareKey(*key) ? *key : TomlQuote(*key);
      node = node && node->is_table() ? node->as_table()->get(*key) : nullptr;
    } else {
      size_t index = std::get<size_t>(segment);
      const toml::node* element =
          node && node->is_array() ? node->as_array()->get(index) : nullptr;
      std::string label = absl::StrCat(index);
      if (element != nullptr && element->is_table()) {
        const toml::node* name = element->as_table()->get("name");
        if (name != nullptr && name->is_string() &&
            IsValidNameForPath(name->as_string()->get())) {
          label = name->as_string()->get();
        }
      }
      absl::StrAppend(&out, "[", label, "]");
      node = element;
    }
  }
  return out;
}

const toml::node* NodeAt(const toml::table& root, const KeyPath& path) {
  const toml::node* node = &root;
  for (const PathSegment& segment : path) {
    if (node == nullptr) return nullptr;
    if (const std::string* key = std::get_if<std::string>(&segment)) {
      node = node->is_table() ? node->as_table()->get(*key) : nullptr;
    } else {
      node = node->is_array() ? node->as_array()->get(std::get<size_t>(segment))
                              : nullptr;
    }
  }
  return node;
}

Position KeyPosition(const toml::table& root, const KeyPath& path) {
  if (path.empty()) return Position{1, 1};
  const toml::node* parent = NodeAt(root, Parent(path));
  if (const std::string* key = std::get_if<std::string>(&path.back())) {
    if (parent != nullptr && parent->is_table()) {
      auto it = parent->as_table()->find(*key);
      if (it != parent->as_table()->end() &&
          it->first.source().begin.line > 0) {
        return FromSource(it->first.source().begin);
      }
    }
  } else {
    const toml::node* node = NodeAt(root, path);
    if (node != nullptr && node->source().begin.line > 0)
      return FromSource(node->source().begin);
  }
  return ValuePosition(root, Parent(path));
}

Position ValuePosition(const toml::table& root, const KeyPath& path) {
  if (path.empty()) return Position{1, 1};
  const toml::node* node = NodeAt(root, path);
  if (node != nullptr && node->source().begin.line > 0)
    return FromSource(node->source().begin);
  return KeyPosition(root, path);
}

std::string DescribeTomlType(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a float";
    case toml::node_type::boolean:
      return "a boolean";
    case toml::node_type::date:
      return "a date";
    case toml::node_type::time:
      return "a time";
    case toml::node_type::date_time:
      return "a date-time";
    case toml::node_type::table:
      return node.as_table()->is_inline() ? "an inline table" : "a table";
    case toml::node_type::array: {
      const toml::array& a = *node.as_array();
      return !a.empty() && a.is_array_of_tables() ? "an array of tables"
                                                  : "an array";
    }
    default:
      return "nothing";
  }
}

absl::Status ValidateAgainstSchema(const toml::table& root,
                                   std::vector<Diagnostic>* out) {
  const LoadedSchema& loaded = Schema();
  if (!loaded.error.empty()) return absl::InternalError(loaded.error);

  rapidjson::Document document;
  ToJson(root, &document, document.GetAllocator());

  valijson::Validator validator;
  valijson::ValidationResults results;
  if (validator.validate(loaded.schema,
                         valijson::adapters::RapidJsonAdapter(document),
                         &results)) {
    return absl::OkStatus();
  }
  // Each failing node once, with valijson's first description as a fallback.
  std::map<KeyPath, std::string> failing;
  valijson::ValidationResults::Error error;
  while (results.popError(error)) {
    KeyPath path;
    if (!ContextToPath(document, error.context, &path)) continue;
    failing.emplace(std::move(path), error.description);
  }
  Explainer explainer(root, loaded.document, out);
  for (const auto& [path, description] : failing) {
    if (explainer.Explain(path) > 0) continue;
    // Nothing wrong here itself: valijson's "failed to validate property x"
    // for a child that has its own diagnostic.
    bool child_failed = false;
    for (const auto& [other, unused] : failing) {
      if (IsStrictPrefix(path, other)) {
        child_failed = true;
        break;
      }
    }
    if (child_failed) continue;
    out->push_back(Diagnostic{
        ValuePosition(root, path),
        absl::StrCat(
            path.empty() ? "" : absl::StrCat(FormatKeyPath(root, path), ": "),
            absl::AsciiStrToLower(absl::StripSuffix(description, ".")))});
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> TomlToJsonText(const toml::node& node) {
  if (HasNonFinite(node)) {
    return absl::InvalidArgumentError("JSON has no NaN or infinite numbers");
  }
  rapidjson::Document document;
  ToJson(node, &document, document.GetAllocator());
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  document.Accept(writer);
  return std::string(buffer.GetString(), buffer.GetSize());
}

const std::vector<std::string>& SecretKeyNames() {
  return Schema().secret_key_names;
}

}  // namespace rotor::config_internal
