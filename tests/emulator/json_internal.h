// RapidJSON helpers for the emulator's .cc files (internal: no public header
// of the emulator includes this file, so RapidJSON stays out of its API).
#ifndef ROTOR_TESTS_EMULATOR_JSON_INTERNAL_H_
#define ROTOR_TESTS_EMULATOR_JSON_INTERNAL_H_

#include <map>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "rapidjson/document.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"

namespace rotor::emulator::json {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

inline void Str(Writer& w, absl::string_view s) {
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}
inline void Key(Writer& w, absl::string_view s) {
  w.Key(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}
inline void KeyStr(Writer& w, absl::string_view k, absl::string_view v) {
  Key(w, k);
  Str(w, v);
}
// "key": {"name": "value", ...}: tags, metadata.
inline void KeyStrMap(Writer& w, absl::string_view key,
                      const std::map<std::string, std::string>& m) {
  Key(w, key);
  w.StartObject();
  for (const auto& [k, v] : m) KeyStr(w, k, v);
  w.EndObject();
}
inline std::string Text(const rapidjson::StringBuffer& b) {
  return std::string(b.GetString(), b.GetSize());
}
inline std::string ToText(const rapidjson::Value& v) {
  rapidjson::StringBuffer b;
  Writer w(b);
  v.Accept(w);
  return Text(b);
}
// Writes `json_text` (already valid JSON) as a raw value.
inline void Raw(Writer& w, absl::string_view json_text) {
  w.RawValue(json_text.data(), json_text.size(), rapidjson::kObjectType);
}
// A JSON string literal for `s`.
inline std::string Quote(absl::string_view s) {
  rapidjson::StringBuffer b;
  Writer w(b);
  Str(w, s);
  return Text(b);
}

inline const rapidjson::Value* Member(const rapidjson::Value& v, const char* name) {
  if (!v.IsObject()) return nullptr;
  auto it = v.FindMember(name);
  return it == v.MemberEnd() ? nullptr : &it->value;
}
// The member `name` as a string when it is one.
inline std::optional<std::string> StrMember(const rapidjson::Value& v, const char* name) {
  const rapidjson::Value* m = Member(v, name);
  if (m == nullptr || !m->IsString()) return std::nullopt;
  return std::string(m->GetString(), m->GetStringLength());
}
// Case-insensitive member lookup (ARM property names are case-insensitive).
inline const rapidjson::Value* MemberCi(const rapidjson::Value& v, absl::string_view name) {
  if (!v.IsObject()) return nullptr;
  for (auto it = v.MemberBegin(); it != v.MemberEnd(); ++it) {
    absl::string_view n(it->name.GetString(), it->name.GetStringLength());
    if (n.size() == name.size()) {
      bool same = true;
      for (size_t i = 0; i < n.size() && same; ++i) {
        same = (n[i] | 0x20) == (name[i] | 0x20);
      }
      if (same) return &it->value;
    }
  }
  return nullptr;
}

}  // namespace rotor::emulator::json

#endif  // ROTOR_TESTS_EMULATOR_JSON_INTERNAL_H_
