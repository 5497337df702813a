// Reading and adjusting ARM templates: the parameters and the CustomScript
// extension a template declares (TemplateInfo), and the template with that
// extension's forceUpdateTag set, which is how a redeploy makes the
// registry VM run its script (and read Key Vault) again when nothing else
// in the extension's configuration changes.
#ifndef ROTOR_ENGINE_TEMPLATE_TEMPLATE_H_
#define ROTOR_ENGINE_TEMPLATE_TEMPLATE_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "engine/model/template_info.h"

namespace rotor {

// InvalidArgument when the text is not a JSON object, or its "parameters"
// is not an object of objects.
absl::StatusOr<TemplateInfo> ParseTemplateInfo(absl::string_view template_json);

// The template with properties.forceUpdateTag = `tag` on its CustomScript
// extension (nested resources included), other content as it was.
// FailedPrecondition when the template has no such extension.
absl::StatusOr<std::string> WithForceUpdateTag(absl::string_view template_json,
                                               absl::string_view tag);

}  // namespace rotor

#endif  // ROTOR_ENGINE_TEMPLATE_TEMPLATE_H_
