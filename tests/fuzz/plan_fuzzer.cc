// libFuzzer target: rotor's saved plan files (engine/render/render.h
// ParsePlanJson). A plan that parses is rendered both ways, and its JSON
// form must parse back to the same JSON.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "engine/render/render.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::string_view json(reinterpret_cast<const char*>(data), size);
  auto plan = rotor::ParsePlanJson(json);
  if (!plan.ok()) return 0;
  (void)rotor::RenderPlanText(*plan, rotor::TextStyle{});
  (void)rotor::RenderSummaryLine(*plan);
  (void)rotor::RenderWarningsText(*plan, rotor::TextStyle{.color = true});
  (void)rotor::RenderChecksText(*plan, rotor::TextStyle{});
  std::string rendered = rotor::RenderPlanJson(*plan, false);
  auto again = rotor::ParsePlanJson(rendered);
  if (!again.ok() || rotor::RenderPlanJson(*again, false) != rendered) std::abort();
  return 0;
}
