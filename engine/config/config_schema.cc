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
  valijson::Schema schema;
  std::string error;  // non-empty when the schema could not be loaded
  std::vector<std::string> secret_key_names;
};

const LoadedSchema& Schema() {
  static const LoadedSchema* const loaded = [] {
    auto* s = new LoadedSchema;
    s->document.Parse(kConfigSchemaJson);
    if (s->document.HasParseError() || !s->document.IsObject()) {
      s->error = absl::StrCat("the compiled-in config schema is not valid JSON (offset ",
                              s->document.GetErrorOffset(), ")");
      return s;
    }
    try {
      valijson::SchemaParser parser(valijson::SchemaParser::kDraft7);
      parser.populateSchema(valijson::adapters::RapidJsonAdapter(s->document), s->schema);
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
  if (validator.validate(loaded.schema, valijson::adapters::RapidJsonAdapter(document), &results)) {
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
