#include "engine/template/template.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace rotor {
namespace {

// A member by name, compared case-insensitively as ARM does.
rapidjson::Value* MemberCi(rapidjson::Value& object, absl::string_view name) {
  if (!object.IsObject()) return nullptr;
  for (auto it = object.MemberBegin(); it != object.MemberEnd(); ++it) {
    if (absl::EqualsIgnoreCase(absl::string_view(it->name.GetString(), it->name.GetStringLength()),
                               name)) {
      return &it->value;
    }
  }
  return nullptr;
}

std::string StringOf(rapidjson::Value* v) {
  return v != nullptr && v->IsString() ? std::string(v->GetString(), v->GetStringLength()) : "";
}

bool IsCustomScript(rapidjson::Value& resource) {
  if (!resource.IsObject()) return false;
  const std::string type = absl::AsciiStrToLower(StringOf(MemberCi(resource, "type")));
  if (!absl::EndsWith(type, "extensions")) return false;
  rapidjson::Value* props = MemberCi(resource, "properties");
  if (props == nullptr || !props->IsObject()) return false;
  const std::string kind = StringOf(MemberCi(*props, "type"));
  return absl::EqualsIgnoreCase(kind, "CustomScript") ||
         absl::EqualsIgnoreCase(kind, "CustomScriptForLinux");
}

// The first CustomScript extension among `resources` and their nested ones.
rapidjson::Value* FindCustomScript(rapidjson::Value* resources) {
  if (resources == nullptr || !resources->IsArray()) return nullptr;
  for (auto& r : resources->GetArray()) {
    if (IsCustomScript(r)) return &r;
    if (rapidjson::Value* found = FindCustomScript(MemberCi(r, "resources"))) return found;
  }
  return nullptr;
}

absl::StatusOr<rapidjson::Document> ParseObject(absl::string_view template_json) {
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseIterativeFlag>(template_json.data(), template_json.size());
  if (doc.HasParseError() || !doc.IsObject()) {
    return absl::InvalidArgumentError("the template is not a JSON object");
  }
  return doc;
}

}  // namespace

absl::StatusOr<TemplateInfo> ParseTemplateInfo(absl::string_view template_json) {
  auto doc = ParseObject(template_json);
  if (!doc.ok()) return doc.status();
  TemplateInfo info;
  if (rapidjson::Value* params = MemberCi(*doc, "parameters"); params != nullptr) {
    if (!params->IsObject()) {
      return absl::InvalidArgumentError("the template's \"parameters\" is not an object");
    }
    for (auto it = params->MemberBegin(); it != params->MemberEnd(); ++it) {
      const std::string name(it->name.GetString(), it->name.GetStringLength());
      if (!it->value.IsObject()) {
        return absl::InvalidArgumentError(
            absl::StrCat("the template's parameter \"", name, "\" is not an object"));
      }
      TemplateParameterInfo p;
      p.name = name;
      p.type = absl::AsciiStrToLower(StringOf(MemberCi(it->value, "type")));
      p.has_default = MemberCi(it->value, "defaultValue") != nullptr;
      info.parameters[absl::AsciiStrToLower(name)] = std::move(p);
    }
  }
  if (rapidjson::Value* extension = FindCustomScript(MemberCi(*doc, "resources"))) {
    info.has_custom_script = true;
    info.custom_script_name = StringOf(MemberCi(*extension, "name"));
  }
  return info;
}

absl::StatusOr<std::string> WithForceUpdateTag(absl::string_view template_json,
                                               absl::string_view tag) {
  auto doc = ParseObject(template_json);
  if (!doc.ok()) return doc.status();
  rapidjson::Value* extension = FindCustomScript(MemberCi(*doc, "resources"));
  if (extension == nullptr) {
    return absl::FailedPreconditionError("the template has no CustomScript extension");
  }
  rapidjson::Value& props = *MemberCi(*extension, "properties");
  rapidjson::Value value(tag.data(), static_cast<rapidjson::SizeType>(tag.size()),
                         doc->GetAllocator());
  if (rapidjson::Value* existing = MemberCi(props, "forceUpdateTag")) {
    *existing = value;
  } else {
    props.AddMember("forceUpdateTag", value, doc->GetAllocator());
  }
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  doc->Accept(writer);
  return std::string(buffer.GetString(), buffer.GetSize());
}

}  // namespace rotor
