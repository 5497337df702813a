// TemplateInfo: what rotor needs to know about an ARM template, as plain
// data (engine/template reads it from the JSON): the parameters with their
// types and whether they have a default, and the CustomScript extension
// that runs the registry VM's script.
#ifndef ROTOR_ENGINE_MODEL_TEMPLATE_INFO_H_
#define ROTOR_ENGINE_MODEL_TEMPLATE_INFO_H_

#include <map>
#include <string>

#include "absl/strings/string_view.h"

namespace rotor {

struct TemplateParameterInfo {
  std::string name;  // as declared
  std::string type;  // lower-cased: "string", "securestring", "int", ...
  bool has_default = false;
  bool IsSecure() const { return type == "securestring" || type == "secureobject"; }
};

struct TemplateInfo {
  // Keyed by lower-cased name: ARM compares parameter names
  // case-insensitively.
  std::map<std::string, TemplateParameterInfo> parameters;
  // A Microsoft.Compute/virtualMachines/extensions resource of type
  // CustomScript (the registry script), and its name as written.
  bool has_custom_script = false;
  std::string custom_script_name;

  const TemplateParameterInfo* FindParameter(absl::string_view name) const;
};

}  // namespace rotor

#endif  // ROTOR_ENGINE_MODEL_TEMPLATE_INFO_H_
