#include "engine/config/toml_to_json.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cmath>

#include "engine/config/toml_tree.h"

namespace rotor::config_internal {
namespace {

// NaN and infinities become null (TomlToJsonText refuses them first unless
// asked not to).
void ToJson(const toml::node& node, rapidjson::Value* out,
            rapidjson::Document::AllocatorType& alloc) {
  switch (node.type()) {
    case toml::node_type::table: {
      out->SetObject();
      for (auto&& [key, child] : *node.as_table()) {
        rapidjson::Value name(key.str().data(), static_cast<rapidjson::SizeType>(key.str().size()),
                              alloc);
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
      out->SetString(s.data(), static_cast<rapidjson::SizeType>(s.size()), alloc);
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
      out->SetString(s.data(), static_cast<rapidjson::SizeType>(s.size()), alloc);
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

}  // namespace

absl::StatusOr<std::string> TomlToJsonText(const toml::node& node, bool non_finite_as_null) {
  if (!non_finite_as_null && HasNonFinite(node)) {
    return absl::InvalidArgumentError("JSON has no NaN or infinite numbers");
  }
  rapidjson::Document document;
  ToJson(node, &document, document.GetAllocator());
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  document.Accept(writer);
  return std::string(buffer.GetString(), buffer.GetSize());
}

}  // namespace rotor::config_internal
