#include "engine/model/template_info.h"

#include "absl/strings/ascii.h"

namespace rotor {

const TemplateParameterInfo* TemplateInfo::FindParameter(absl::string_view name) const {
  auto it = parameters.find(absl::AsciiStrToLower(name));
  return it == parameters.end() ? nullptr : &it->second;
}

}  // namespace rotor
