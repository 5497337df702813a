#include "engine/config/schema_nodes.h"

#include "absl/strings/match.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"

namespace rotor::config_internal {

const rapidjson::Value* Member(const rapidjson::Value& object, const char* name) {
  if (!object.IsObject()) return nullptr;
  auto it = object.FindMember(name);
  return it == object.MemberEnd() ? nullptr : &it->value;
}

const rapidjson::Value* Resolve(const rapidjson::Value& root, const rapidjson::Value* node) {
  for (int depth = 0; node != nullptr && depth < 16; ++depth) {
    const rapidjson::Value* ref = Member(*node, "$ref");
    if (ref == nullptr || !ref->IsString()) return node;
    absl::string_view target(ref->GetString(), ref->GetStringLength());
    if (!absl::ConsumePrefix(&target, "#/definitions/")) return nullptr;
    const rapidjson::Value* definitions = Member(root, "definitions");
    if (definitions == nullptr) return nullptr;
    auto it = definitions->FindMember(
        rapidjson::Value(target.data(), static_cast<rapidjson::SizeType>(target.size())));
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

void CollectSecretKeys(const rapidjson::Value& root, const rapidjson::Value& node,
                       std::set<std::string>* names, int depth) {
  if (depth > 32 || !node.IsObject()) return;
  if (const rapidjson::Value* props = Member(node, "properties"); props && props->IsObject()) {
    for (auto it = props->MemberBegin(); it != props->MemberEnd(); ++it) {
      if (IsWriteOnly(root, &it->value)) names->insert(it->name.GetString());
      CollectSecretKeys(root, it->value, names, depth + 1);
    }
  }
  if (const rapidjson::Value* items = Member(node, "items"); items && items->IsObject()) {
    CollectSecretKeys(root, *items, names, depth + 1);
  }
}

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
      } else if (items != nullptr && items->IsArray() && index < items->Size()) {
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

const rapidjson::Value* Annotation(const SchemaNode& node, const char* name) {
  if (node.raw != nullptr) {
    if (const rapidjson::Value* v = Member(*node.raw, name)) return v;
  }
  return Keyword(node, name);
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
  if (const rapidjson::Value* props = Keyword(node, "properties"); props && props->IsObject()) {
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

}  // namespace rotor::config_internal
