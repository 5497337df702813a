#include "engine/config/toml_tree.h"

#include <algorithm>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "engine/config/toml_text.h"

namespace rotor::config_internal {
namespace {

bool IsValidNameForPath(absl::string_view name) {
  if (name.empty() || name.size() > 127) return false;
  for (char c : name) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-') return false;
  }
  return true;
}

Position FromSource(const toml::source_position& p) {
  return Position{static_cast<int>(p.line), static_cast<int>(p.column)};
}

}  // namespace

std::string TemporalText(const toml::node& node) {
  std::ostringstream out;
  if (auto* d = node.as_date()) out << d->get();
  if (auto* t = node.as_time()) out << t->get();
  if (auto* dt = node.as_date_time()) out << dt->get();
  return out.str();
}

KeyPath Parent(const KeyPath& path) { return KeyPath(path.begin(), path.end() - 1); }

bool IsStrictPrefix(const KeyPath& prefix, const KeyPath& path) {
  return prefix.size() < path.size() && std::equal(prefix.begin(), prefix.end(), path.begin());
}

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
      const toml::node* element = node && node->is_array() ? node->as_array()->get(index) : nullptr;
      std::string label = absl::StrCat(index);
      if (element != nullptr && element->is_table()) {
        const toml::node* name = element->as_table()->get("name");
        if (name != nullptr && name->is_string() && IsValidNameForPath(name->as_string()->get())) {
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
      node = node->is_array() ? node->as_array()->get(std::get<size_t>(segment)) : nullptr;
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
      if (it != parent->as_table()->end() && it->first.source().begin.line > 0) {
        return FromSource(it->first.source().begin);
      }
    }
  } else {
    const toml::node* node = NodeAt(root, path);
    if (node != nullptr && node->source().begin.line > 0) return FromSource(node->source().begin);
  }
  return ValuePosition(root, Parent(path));
}

Position ValuePosition(const toml::table& root, const KeyPath& path) {
  if (path.empty()) return Position{1, 1};
  const toml::node* node = NodeAt(root, path);
  if (node != nullptr && node->source().begin.line > 0) return FromSource(node->source().begin);
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
      return !a.empty() && a.is_array_of_tables() ? "an array of tables" : "an array";
    }
    default:
      return "nothing";
  }
}

}  // namespace rotor::config_internal
