// Renderers of a Plan: Terraform-style text for people and JSON for
// programs (schemas/plan.schema.json). The JSON form is also the saved-plan
// format (plan_file.h). Neither ever holds a secret value.
#ifndef ROTOR_ENGINE_RENDER_RENDER_H_
#define ROTOR_ENGINE_RENDER_RENDER_H_

#include <string>

#include "absl/status/statusor.h"
#include "engine/model/apply_outputs.h"
#include "engine/model/plan.h"

namespace rotor {

struct TextStyle {
  bool color = false;  // ANSI colours (the CLI enables them on a TTY only)
};

std::string RenderPlanText(const Plan& plan, const TextStyle& style);
// "Plan: 1 to add, 2 to change, 0 to destroy, 1 to redeploy." or
// "No changes. ..." when there is nothing to do.
std::string RenderSummaryLine(const Plan& plan);
std::string RenderWarningsText(const Plan& plan, const TextStyle& style);
std::string RenderChecksText(const Plan& plan, const TextStyle& style);

std::string RenderPlanJson(const Plan& plan, bool pretty);
absl::StatusOr<Plan> ParsePlanJson(absl::string_view json);

std::string RenderOutputsText(const ApplyOutputs& outputs);
std::string RenderOutputsJson(const ApplyOutputs& outputs);

}  // namespace rotor

#endif  // ROTOR_ENGINE_RENDER_RENDER_H_
