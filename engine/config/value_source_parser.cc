#include "engine/config/value_source_parser.h"

#include <cstdint>
#include <string>

#include "absl/strings/str_cat.h"
#include "base/files.h"
#include "engine/model/registry_vm.h"

namespace rotor::config_internal {

std::optional<ValueSource> ParseValueSource(const toml::table& root, const KeyPath& path,
                                            const SourceRules& rules, const SourceContext& context,
                                            std::vector<Diagnostic>* diagnostics,
                                            std::vector<Region>* secret_regions) {
  const toml::node* node = NodeAt(root, path);
  if (node == nullptr) return std::nullopt;
  ValueSource source;
  source.key_path = FormatKeyPath(root, path);
  const Position at = ValuePosition(root, path);
  source.location = SourceLocation{std::string(context.file), at.line, at.column};
  source.max_length = rules.max_length;
  if (const toml::value<std::string>* literal = node->as_string()) {
    if (rules.secret) {
      secret_regions->push_back(Region{Position{static_cast<int>(node->source().begin.line),
                                                static_cast<int>(node->source().begin.column)},
                                       Position{static_cast<int>(node->source().end.line),
                                                static_cast<int>(node->source().end.column)}});
      if (context.kind.has_value() && *context.kind != CloudKind::kLocal) {
        diagnostics->push_back(Diagnostic{
            at, absl::StrCat(source.key_path,
                             ": a literal secret is only allowed when "
                             "cloud.kind = \"local\"; "
                             "use { env = \"NAME\" }, { file = \"PATH\" }",
                             rules.allow_generate ? ", { command = [\"PROGRAM\", ...] } or "
                                                    "{ generate = 32 }"
                                                  : " or { command = [\"PROGRAM\", ...] }")});
        return std::nullopt;
      }
    }
    if (literal->get().empty()) return std::nullopt;
    source.kind = ValueSource::Kind::kLiteral;
    source.literal = Secret(literal->get());
    return source;
  }
  const toml::table* table = node->as_table();
  if (table == nullptr || table->size() != 1) return std::nullopt;
  // toml++'s iterator hands out a proxy that lives in the iterator.
  const auto first = table->begin();
  const std::string key(first->first.str());
  const toml::node& value = first->second;
  if (key == "env" && value.is_string()) {
    source.kind = ValueSource::Kind::kEnv;
    source.env = value.as_string()->get();
  } else if (key == "file" && value.is_string() && !value.as_string()->get().empty()) {
    source.kind = ValueSource::Kind::kFile;
    source.file = ResolvePath(std::string(context.dir), value.as_string()->get());
  } else if (key == "command" && value.is_array() && !value.as_array()->empty()) {
    source.kind = ValueSource::Kind::kCommand;
    for (const toml::node& arg : *value.as_array()) {
      if (!arg.is_string()) return std::nullopt;
      source.command.push_back(arg.as_string()->get());
    }
    std::string& program = source.command[0];
    if (program.empty()) return std::nullopt;
    // "./get-secret.sh" and "bin/x" are relative to the config file;
    // "pass" is looked up in PATH.
    if (program.find('/') != std::string::npos)
      program = ResolvePath(std::string(context.dir), program);
  } else if (key == "generate" && rules.allow_generate && value.is_integer()) {
    int64_t length = value.as_integer()->get();
    if (length < 16 || length > static_cast<int64_t>(kMaxLoginSecretLength)) return std::nullopt;
    source.kind = ValueSource::Kind::kGenerate;
    source.generate_length = static_cast<int>(length);
  } else {
    return std::nullopt;
  }
  return source;
}

}  // namespace rotor::config_internal
