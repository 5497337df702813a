// Internal to the config loader: walking the config's JSON Schema
// (schemas/rotor.schema.json) with RapidJSON: members, "$ref"s, the schema
// node for a key path, annotations. Exposes RapidJSON types.
#ifndef ROTOR_ENGINE_CONFIG_SCHEMA_NODES_H_
#define ROTOR_ENGINE_CONFIG_SCHEMA_NODES_H_

#include <rapidjson/document.h>

#include <set>
#include <string>
#include <vector>

#include "engine/config/toml_tree.h"

namespace rotor::config_internal {

// The member `name` of `object`, or nullptr.
const rapidjson::Value* Member(const rapidjson::Value& object, const char* name);

// Follows "$ref": "#/definitions/NAME" (the only form the schema uses).
const rapidjson::Value* Resolve(const rapidjson::Value& root, const rapidjson::Value* node);

// Whether the node (or what it refers to) is "writeOnly": a secret source.
bool IsWriteOnly(const rapidjson::Value& root, const rapidjson::Value* node);

// The names of every writeOnly property below `node`.
void CollectSecretKeys(const rapidjson::Value& root, const rapidjson::Value& node,
                       std::set<std::string>* names, int depth);

struct SchemaNode {
  const rapidjson::Value* raw = nullptr;       // as written (siblings of $ref)
  const rapidjson::Value* resolved = nullptr;  // after $ref
};

// The schema that applies at `path` (both null when none does).
SchemaNode SchemaAt(const rapidjson::Value& root, const KeyPath& path);

// A validation keyword of the resolved node, or nullptr.
const rapidjson::Value* Keyword(const SchemaNode& node, const char* name);

// Annotations may sit beside a "$ref" (draft 7 ignores them for validation,
// editors show them): the raw node wins.
const rapidjson::Value* Annotation(const SchemaNode& node, const char* name);

// A string or an array of strings as a list (other values: empty).
std::vector<std::string> StringList(const rapidjson::Value* v);

// The names under "properties".
std::vector<std::string> PropertyNames(const SchemaNode& node);

// Whether the schema is exactly {"type": "object"}.
bool IsObjectSchema(const rapidjson::Value& root, const rapidjson::Value* raw);

}  // namespace rotor::config_internal

#endif  // ROTOR_ENGINE_CONFIG_SCHEMA_NODES_H_
