// The config's JSON Schema: loaded once from the compiled-in text, and
// applied to a config through its JSON form. RapidJSON and valijson stay in
// the engine/config/schema_* files (see CONTRIBUTING, "One corner per
// library").
#include "engine/config/config_schema.h"

#include <map>
#include <set>

// RapidJSON before valijson, on purpose: every file must see the same
// RAPIDJSON_ASSERT (RapidJSON is templates; two definitions would break the
// one-definition rule), so valijson's adapter may not install its throwing
// one, and says so in a #warning at each build.
#include <rapidjson/document.h>

#include <valijson/adapters/rapidjson_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validation_results.hpp>
#include <valijson/validator.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "engine/config/schema_explainer.h"
#include "engine/config/schema_nodes.h"
#include "engine/config/toml_to_json.h"

namespace rotor::config_internal {
namespace {

struct LoadedSchema {
  rapidjson::Document document;
  // The schema without its "pattern" keywords, for valijson: its `pattern`
  // check is std::regex, whose matcher recurses once per character and
  // overflowed the stack on a 50 KB vault name. Patterns are checked by
  // CheckPatterns below instead, after the length, with a matcher whose
  // depth does not grow with the input.
  rapidjson::Document without_patterns;
  valijson::Schema schema;
  std::string error;  // non-empty when the schema could not be loaded
  std::vector<std::string> secret_key_names;
};

// Removes every "pattern" member of a schema object (not a property named
// "pattern": those sit under "properties"), without recursion.
void RemovePatterns(rapidjson::Value& root) {
  std::vector<std::pair<rapidjson::Value*, bool>> pending = {{&root, false}};
  while (!pending.empty()) {
    auto [v, is_properties] = pending.back();
    pending.pop_back();
    if (v->IsObject()) {
      if (!is_properties) v->RemoveMember("pattern");
      for (auto& m : v->GetObject()) {
        pending.emplace_back(
            &m.value, !is_properties && absl::string_view(m.name.GetString()) == "properties");
      }
    } else if (v->IsArray()) {
      for (auto& item : v->GetArray()) pending.emplace_back(&item, false);
    }
  }
}

// Every string value (dates and times are strings to the schema too) and
// its key path, in document order. toml++ bounds the nesting (256 levels).
void CollectStrings(const toml::node& node, KeyPath* path, std::vector<KeyPath>* out) {
  if (const toml::table* table = node.as_table()) {
    for (auto&& [key, child] : *table) {
      path->push_back(std::string(key.str()));
      CollectStrings(child, path, out);
      path->pop_back();
    }
  } else if (const toml::array* array = node.as_array()) {
    for (size_t i = 0; i < array->size(); ++i) {
      path->push_back(i);
      CollectStrings(*array->get(i), path, out);
      path->pop_back();
    }
  } else if (node.is_string() || node.is_date() || node.is_time() || node.is_date_time()) {
    out->push_back(*path);
  }
}

const LoadedSchema& Schema() {
  static const LoadedSchema* const loaded = [] {
    auto* s = new LoadedSchema;
    s->document.Parse(kConfigSchemaJson);
    if (s->document.HasParseError() || !s->document.IsObject()) {
      s->error = absl::StrCat("the compiled-in config schema is not valid JSON (offset ",
                              s->document.GetErrorOffset(), ")");
      return s;
    }
    s->without_patterns.CopyFrom(s->document, s->without_patterns.GetAllocator());
    RemovePatterns(s->without_patterns);
    try {
      valijson::SchemaParser parser(valijson::SchemaParser::kDraft7);
      parser.populateSchema(valijson::adapters::RapidJsonAdapter(s->without_patterns), s->schema);
    } catch (const std::exception& e) {
      s->error = absl::StrCat("the compiled-in config schema cannot be loaded: ", e.what());
      return s;
    }
    std::set<std::string> names;
    CollectSecretKeys(s->document, s->document, &names, 0);
    s->secret_key_names.assign(names.begin(), names.end());
    return s;
  }();
  return *loaded;
}

// Walks the JSON document along valijson's context ("<root>", "[cloud]",
// "[kind]", "[0]") and returns the equivalent key path.
bool ContextToPath(const rapidjson::Value& document, const std::vector<std::string>& context,
                   KeyPath* path) {
  const rapidjson::Value* node = &document;
  for (const std::string& raw : context) {
    if (raw == "<root>") continue;
    absl::string_view segment = raw;
    if (!absl::ConsumePrefix(&segment, "[") || !absl::ConsumeSuffix(&segment, "]")) {
      return false;
    }
    if (node->IsArray()) {
      size_t index = 0;
      if (!absl::SimpleAtoi(segment, &index) || index >= node->Size()) return false;
      path->push_back(index);
      node = &(*node)[static_cast<rapidjson::SizeType>(index)];
    } else if (node->IsObject()) {
      auto it = node->FindMember(
          rapidjson::Value(segment.data(), static_cast<rapidjson::SizeType>(segment.size())));
      if (it == node->MemberEnd()) return false;
      path->push_back(std::string(segment));
      node = &it->value;
    } else {
      return false;
    }
  }
  return true;
}

}  // namespace

absl::Status ValidateAgainstSchema(const toml::table& root, std::vector<Diagnostic>* out) {
  const LoadedSchema& loaded = Schema();
  if (!loaded.error.empty()) return absl::InternalError(loaded.error);

  absl::StatusOr<std::string> json = TomlToJsonText(root, /*non_finite_as_null=*/true);
  if (!json.ok()) return json.status();
  rapidjson::Document document;
  document.Parse<rapidjson::kParseIterativeFlag>(json->c_str(), json->size());
  if (document.HasParseError()) return absl::InternalError("the config's JSON form does not parse");

  valijson::Validator validator;
  valijson::ValidationResults results;
  validator.validate(loaded.schema, valijson::adapters::RapidJsonAdapter(document), &results);
  // Each failing node once, with valijson's first description as a fallback.
  std::map<KeyPath, std::string> failing;
  valijson::ValidationResults::Error error;
  while (results.popError(error)) {
    KeyPath path;
    if (!ContextToPath(document, error.context, &path)) continue;
    failing.emplace(std::move(path), error.description);
  }
  // The patterns valijson did not see: every string whose schema has one
  // is explained (length first, then the pattern) unless it failed above.
  std::vector<KeyPath> strings;
  KeyPath scratch;
  CollectStrings(root, &scratch, &strings);
  for (const KeyPath& path : strings) {
    if (failing.count(path) > 0) continue;
    if (Keyword(SchemaAt(loaded.document, path), "pattern") == nullptr) continue;
    ExplainSchemaFailure(root, loaded.document, path, out);
  }
  for (const auto& [path, description] : failing) {
    if (ExplainSchemaFailure(root, loaded.document, path, out) > 0) continue;
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
    out->push_back(
        Diagnostic{ValuePosition(root, path),
                   absl::StrCat(path.empty() ? "" : absl::StrCat(FormatKeyPath(root, path), ": "),
                                absl::AsciiStrToLower(absl::StripSuffix(description, ".")))});
  }
  return absl::OkStatus();
}

const std::vector<std::string>& SecretKeyNames() { return Schema().secret_key_names; }

}  // namespace rotor::config_internal
