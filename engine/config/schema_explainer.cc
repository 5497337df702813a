#include "engine/config/schema_explainer.h"

#include <algorithm>
#include <map>
#include <optional>
#include <regex>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "engine/config/did_you_mean.h"
#include "engine/config/schema_nodes.h"
#include "engine/config/toml_text.h"

namespace rotor::config_internal {
namespace {

// Whether `value` matches the schema's ECMAScript `pattern` (a search, as
// JSON Schema says). libstdc++'s default matcher backtracks by recursion,
// one frame per character; the polynomial one (a Thompson NFA) keeps its
// depth to the pattern's size whatever the input's length. Compiled
// patterns are kept per thread. A pattern that does not compile matches.
bool MatchesPattern(const std::string& value, const std::string& pattern) {
  thread_local std::map<std::string, std::optional<std::regex>> compiled;
  auto it = compiled.find(pattern);
  if (it == compiled.end()) {
    std::optional<std::regex> re;
    try {
      re.emplace(pattern, std::regex::ECMAScript | std::regex_constants::__polynomial);
    } catch (const std::regex_error&) {
    }
    it = compiled.emplace(pattern, std::move(re)).first;
  }
  if (!it->second.has_value()) return true;
  return std::regex_search(value, *it->second);
}

// A user's value in a message: quoted, cut at 60 characters.
std::string ShowValue(absl::string_view s) {
  if (s.size() > 60) return absl::StrCat(TomlQuote(s.substr(0, 57)), "...");
  return TomlQuote(s);
}

// A JSON example from the schema written as TOML.
std::string ExampleAsToml(const rapidjson::Value& v) {
  if (v.IsString()) return TomlQuote(absl::string_view(v.GetString(), v.GetStringLength()));
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
      items.push_back(absl::StrCat(it->name.GetString(), " = ", ExampleAsToml(it->value)));
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

// "a, b or c".
std::string JoinOr(const std::vector<std::string>& items) {
  if (items.size() <= 1) return absl::StrJoin(items, "");
  return absl::StrCat(absl::StrJoin(items.begin(), items.end() - 1, ", "), " or ", items.back());
}

class Explainer {
 public:
  Explainer(const toml::table& root, const rapidjson::Value& schema, std::vector<Diagnostic>* out)
      : root_(root), schema_(schema), out_(out) {}

  // Adds diagnostics for what is wrong at `path` itself (not below it);
  // returns how many.
  int Explain(const KeyPath& path) {
    const toml::node* node = NodeAt(root_, path);
    SchemaNode schema = SchemaAt(schema_, path);
    if (node == nullptr || schema.resolved == nullptr) return 0;
    path_ = path;
    prefix_ = path.empty() ? "" : absl::StrCat(FormatKeyPath(root_, path), ": ");
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
      CheckNumber(static_cast<double>(i->get()), absl::StrCat(i->get()), schema);
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
    return why != nullptr && why->IsString() ? absl::StrCat(" (", why->GetString(), ")") : "";
  }

  std::string ExampleHint(const SchemaNode& schema, absl::string_view key) const {
    const rapidjson::Value* examples = Annotation(schema, "examples");
    if (examples == nullptr || !examples->IsArray() || examples->Empty()) return "";
    return absl::StrCat("; for example ", key, " = ", ExampleAsToml((*examples)[0]));
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
      return node.is_string() || node.is_date() || node.is_time() || node.is_date_time();
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
      if (type == "array" && IsObjectSchema(schema_, Keyword(schema, "items"))) {
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
    const bool wants_number = std::find_if(types.begin(), types.end(), [](const std::string& t) {
                                return t == "integer" || t == "number";
                              }) != types.end();
    const bool wants_bool = std::find(types.begin(), types.end(), "boolean") != types.end();
    const bool wants_string = std::find(types.begin(), types.end(), "string") != types.end();
    int64_t unused_int;
    if (s != nullptr && !secret_ &&
        ((wants_number && absl::SimpleAtoi(s->get(), &unused_int)) ||
         (wants_bool && (s->get() == "true" || s->get() == "false")))) {
      hint = "; remove the quotes";
    } else if (wants_string && types.size() == 1 &&
               (node.is_integer() || node.is_floating_point() || node.is_boolean())) {
      hint = "; put the value in quotes";
    } else if (array_of_tables && node.is_table()) {
      hint = absl::StrCat("; write [[", key, "]] for each entry");
    } else if (!path_.empty()) {
      hint = ExampleHint(schema, key);
    }
    Add(ValuePosition(root_, path_),
        absl::StrCat(prefix_, "expected ", absl::StrJoin(names, " or "), ", found ",
                     DescribeTomlType(node), hint));
    return false;
  }

  void CheckString(const std::string& value, const SchemaNode& schema) {
    const Position at = ValuePosition(root_, path_);
    if (const rapidjson::Value* e = Keyword(schema, "enum"); e && e->IsArray()) {
      std::vector<std::string> allowed = StringList(e);
      if (std::find(allowed.begin(), allowed.end(), value) == allowed.end()) {
        std::vector<std::string> quoted;
        for (const std::string& a : allowed) quoted.push_back(TomlQuote(a));
        std::optional<std::string> guess = DidYouMean(value, allowed);
        Add(at,
            absl::StrCat(prefix_, "unknown value", secret_ ? "" : " " + ShowValue(value),
                         guess ? absl::StrCat("; did you mean ", TomlQuote(*guess), "?")
                               : absl::StrCat("; expected one of ", absl::StrJoin(quoted, ", "))));
        return;
      }
    }
    const size_t length = CodePoints(value);
    const rapidjson::Value* min_length = Keyword(schema, "minLength");
    if (min_length != nullptr && min_length->IsUint() && length < min_length->GetUint()) {
      if (length == 0) {
        Add(at, absl::StrCat(prefix_, "must not be empty", ExampleHint(schema, KeyName())));
      } else {
        Add(at, absl::StrCat(prefix_, secret_ ? "" : ShowValue(value) + " ",
                             "is too short: ", length, " characters, at least ",
                             min_length->GetUint(), Reason(schema, "minLength")));
      }
      return;
    }
    const rapidjson::Value* max_length = Keyword(schema, "maxLength");
    if (max_length != nullptr && max_length->IsUint() && length > max_length->GetUint()) {
      Add(at, absl::StrCat(prefix_, "too long: ", length, " characters, at most ",
                           max_length->GetUint(), Reason(schema, "maxLength")));
      return;
    }
    if (const rapidjson::Value* pattern = Keyword(schema, "pattern");
        pattern && pattern->IsString()) {
      if (!MatchesPattern(value, pattern->GetString())) {
        const rapidjson::Value* why = Annotation(schema, "patternErrorMessage");
        Add(at, absl::StrCat(prefix_, "invalid value", secret_ ? "" : " " + ShowValue(value), ": ",
                             why && why->IsString()
                                 ? std::string(why->GetString())
                                 : absl::StrCat("must match ", pattern->GetString())));
      }
    }
  }

  void CheckNumber(double value, const std::string& text, const SchemaNode& schema) {
    const rapidjson::Value* minimum = Keyword(schema, "minimum");
    const rapidjson::Value* maximum = Keyword(schema, "maximum");
    const bool low = minimum && minimum->IsNumber() && value < minimum->GetDouble();
    const bool high = maximum && maximum->IsNumber() && value > maximum->GetDouble();
    if (!low && !high) return;
    std::string range;
    if (minimum && maximum && minimum->IsNumber() && maximum->IsNumber()) {
      range = absl::StrCat("use a value from ", minimum->GetDouble(), " to ", maximum->GetDouble());
    } else if (low) {
      range = absl::StrCat("use at least ", minimum->GetDouble());
    } else {
      range = absl::StrCat("use at most ", maximum->GetDouble());
    }
    Add(ValuePosition(root_, path_),
        absl::StrCat(prefix_, text, " is out of range", Reason(schema, low ? "minimum" : "maximum"),
                     "; ", range));
  }

  void CheckArray(const toml::array& array, const SchemaNode& schema) {
    const rapidjson::Value* min_items = Keyword(schema, "minItems");
    if (min_items != nullptr && min_items->IsUint() && array.size() < min_items->GetUint()) {
      Add(ValuePosition(root_, path_),
          absl::StrCat(prefix_,
                       array.empty()
                           ? std::string("must not be empty")
                           : absl::StrCat("needs at least ", min_items->GetUint(), " items"),
                       ExampleHint(schema, KeyName())));
    }
  }

  void CheckObject(const toml::table& table, const SchemaNode& schema) {
    const std::vector<std::string> allowed = PropertyNames(schema);
    const rapidjson::Value* props = Keyword(schema, "properties");
    // Unknown keys, each at its own position.
    const rapidjson::Value* additional = Keyword(schema, "additionalProperties");
    if (additional != nullptr && additional->IsBool() && !additional->GetBool()) {
      for (auto&& [key, child] : table) {
        const std::string name(key.str());
        if (std::find(allowed.begin(), allowed.end(), name) != allowed.end()) continue;
        KeyPath child_path = path_;
        child_path.push_back(name);
        const Position at = KeyPosition(root_, child_path);
        const std::string where = FormatKeyPath(root_, child_path);
        const bool is_table = child.is_table() && !child.as_table()->is_inline();
        const bool is_source = std::find(allowed.begin(), allowed.end(), "env") != allowed.end();
        if (is_source && name == "generate") {
          Add(at, absl::StrCat(where, ": generate is only for [[user]] passwords; use ",
                               JoinOr(allowed)));
          continue;
        }
        std::optional<std::string> guess = DidYouMean(name, allowed);
        std::string fix;
        if (guess) {
          const rapidjson::Value* guess_schema =
              props ? Resolve(schema_, Member(*props, guess->c_str())) : nullptr;
          const bool guess_is_table = props && IsObjectSchema(schema_, guess_schema);
          const bool guess_is_array_of_tables =
              guess_schema != nullptr &&
              StringList(Member(*guess_schema, "type")) == std::vector<std::string>{"array"} &&
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
          fix = absl::StrCat("; expected one of: ", absl::StrJoin(allowed, ", "));
        }
        Add(at, absl::StrCat(where, ": unknown ", is_table ? "table" : "key", fix));
      }
    }
    // Missing required keys, at the table's header (or its opening brace).
    for (const std::string& name : StringList(Keyword(schema, "required"))) {
      if (table.contains(name)) continue;
      const rapidjson::Value* child = props ? Member(*props, name.c_str()) : nullptr;
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
        for (const std::string& key : StringList(Keyword(table_schema, "required"))) {
          KeyPath key_path = child_path;
          key_path.push_back(key);
          const std::string example = ExampleHint(SchemaAt(schema_, key_path), key);
          absl::string_view rest = example;
          if (absl::ConsumePrefix(&rest, "; for example ")) keys.push_back(std::string(rest));
        }
        if (!keys.empty()) hint = absl::StrCat("; add it with ", absl::StrJoin(keys, ", "));
      }
      if (path_.empty()) {
        Add(Position{1, 1}, absl::StrCat("missing required ", child_is_table ? "table [" : "key \"",
                                         name, child_is_table ? "]" : "\"", hint));
      } else {
        Add(ValuePosition(root_, path_),
            absl::StrCat(prefix_, "missing required key \"", name, "\"", hint));
      }
    }
    // Exactly-one-of tables (value sources).
    const rapidjson::Value* min_props = Keyword(schema, "minProperties");
    const rapidjson::Value* max_props = Keyword(schema, "maxProperties");
    const size_t min = min_props && min_props->IsUint() ? min_props->GetUint() : 0;
    const size_t max = max_props && max_props->IsUint() ? max_props->GetUint() : SIZE_MAX;
    if (table.size() < min || table.size() > max) {
      std::vector<std::string> present;
      for (auto&& [key, child] : table) present.push_back(std::string(key.str()));
      std::string what = min == 1 && max == 1
                             ? absl::StrCat("set exactly one of ", JoinOr(allowed))
                             : absl::StrCat("takes from ", min, " to ", max, " keys");
      Add(ValuePosition(root_, path_),
          absl::StrCat(prefix_, what,
                       table.empty()
                           ? std::string(" (the table is empty)")
                           : absl::StrCat(" (found ", absl::StrJoin(present, " and "), ")")));
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

}  // namespace

int ExplainSchemaFailure(const toml::table& root, const rapidjson::Value& schema,
                         const KeyPath& path, std::vector<Diagnostic>* out) {
  return Explainer(root, schema, out).Explain(path);
}

}  // namespace rotor::config_internal
