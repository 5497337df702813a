// Reading the known fields of a server's JSON answer strictly: a field that
// is absent or null is "not given"; a field of another type than the codec
// expects is an error naming the field, e.g.
//   field "value[0].properties.parameters" is a string, not an object
// rather than being read as "not given" (a deployment whose parameters were
// a string was read as one with no parameters, and redeployed without
// them). Unknown fields are ignored, as the services add fields over time.
//
// One JsonFieldErrors per answer keeps the first such error; JsonObject
// reads one object of it. Templated on the JSON value type (the codecs use
// RapidJSON's, which stays in their .cc files), so this header names no
// third-party type.
#ifndef ROTOR_BASE_JSON_FIELDS_H_
#define ROTOR_BASE_JSON_FIELDS_H_

#include <cmath>
#include <cstddef>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "base/inert_text.h"

namespace rotor {

// The first wrong-typed field of one answer.
class JsonFieldErrors {
 public:
  // Records that `path` holds `have` ("a string") where `want` ("an
  // object") was expected; only the first is kept. A path can hold names
  // the server chose (a tag's), so it is shown cut and inert.
  void Wrong(absl::string_view path, absl::string_view have, absl::string_view want) {
    if (!status_.ok()) return;
    status_ = absl::InvalidArgumentError(
        absl::StrCat("field \"", ShowInert(path, kMaxPathBytes), "\" is ", have, ", not ", want));
  }
  static constexpr size_t kMaxPathBytes = 300;
  const absl::Status& status() const { return status_; }
  bool ok() const { return status_.ok(); }

 private:
  absl::Status status_;
};

// "a string", "a number", "an object", ... for messages.
template <typename Value>
const char* JsonTypeName(const Value& v) {
  if (v.IsNull()) return "null";
  if (v.IsBool()) return "a boolean";
  if (v.IsNumber()) return "a number";
  if (v.IsString()) return "a string";
  if (v.IsArray()) return "an array";
  if (v.IsObject()) return "an object";
  return "a JSON value";
}

// "value[3]" / "properties.parameters": a field's path for messages.
inline std::string JsonChildPath(absl::string_view parent, absl::string_view name) {
  return parent.empty() ? std::string(name) : absl::StrCat(parent, ".", name);
}
inline std::string JsonItemPath(absl::string_view parent, size_t index) {
  return absl::StrCat(parent, "[", index, "]");
}

// One JSON object of an answer (or none: `value` null, or not an object
// after the caller has reported that).
template <typename Value>
class JsonObject {
 public:
  JsonObject(const Value* value, std::string path, JsonFieldErrors* errors)
      : value_(value != nullptr && value->IsObject() ? value : nullptr),
        path_(std::move(path)),
        errors_(errors) {}

  bool present() const { return value_ != nullptr; }
  JsonFieldErrors* errors() const { return errors_; }
  const std::string& path() const { return path_; }
  const Value* value() const { return value_; }
  std::string PathOf(absl::string_view name) const { return JsonChildPath(path_, name); }

  // The member, or nullptr when absent or null.
  const Value* Get(const char* name) const {
    if (value_ == nullptr) return nullptr;
    auto it = value_->FindMember(name);
    if (it == value_->MemberEnd() || it->value.IsNull()) return nullptr;
    return &it->value;
  }

  // A string member; "" when not given or of another type (recorded).
  std::string String(const char* name) const {
    const Value* v = Typed(name, &Value::IsString, "a string");
    return v == nullptr ? std::string() : std::string(v->GetString(), v->GetStringLength());
  }
  std::optional<bool> Bool(const char* name) const {
    const Value* v = Typed(name, &Value::IsBool, "a boolean");
    return v == nullptr ? std::nullopt : std::optional<bool>(v->GetBool());
  }
  // A finite number.
  std::optional<double> Number(const char* name) const {
    const Value* v = Typed(name, &Value::IsNumber, "a number");
    if (v == nullptr) return std::nullopt;
    const double d = v->GetDouble();
    if (!std::isfinite(d)) {
      errors_->Wrong(PathOf(name), "not a finite number", "a number");
      return std::nullopt;
    }
    return d;
  }
  JsonObject Object(const char* name) const {
    return JsonObject(Typed(name, &Value::IsObject, "an object"), PathOf(name), errors_);
  }
  const Value* Array(const char* name) const { return Typed(name, &Value::IsArray, "an array"); }

  // A map of strings (tags): fn(name, value) for each member; null members
  // are skipped, others of another type recorded.
  template <typename Fn>
  void ForEachString(Fn fn) const {
    if (value_ == nullptr) return;
    for (auto it = value_->MemberBegin(); it != value_->MemberEnd(); ++it) {
      const absl::string_view name(it->name.GetString(), it->name.GetStringLength());
      if (it->value.IsNull()) continue;
      if (!it->value.IsString()) {
        errors_->Wrong(PathOf(name), JsonTypeName(it->value), "a string");
        continue;
      }
      fn(name, absl::string_view(it->value.GetString(), it->value.GetStringLength()));
    }
  }

  // A member that is `is` (Value::IsString, ...), or nullptr when absent,
  // null, or of another type (recorded as `want`).
  const Value* Typed(const char* name, bool (Value::*is)() const, const char* want) const {
    const Value* v = Get(name);
    if (v == nullptr) return nullptr;
    if (!(v->*is)()) {
      errors_->Wrong(PathOf(name), JsonTypeName(*v), want);
      return nullptr;
    }
    return v;
  }

 private:
  const Value* value_;
  std::string path_;
  JsonFieldErrors* errors_;
};

}  // namespace rotor

#endif  // ROTOR_BASE_JSON_FIELDS_H_
