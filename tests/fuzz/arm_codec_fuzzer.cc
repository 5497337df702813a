// libFuzzer target: ARM's JSON answers (providers/arm/arm_codec.h):
// deployments and their lists, async-operation status, deployment
// operations, exported templates, validate results, error bodies, dates.
#include <cstddef>
#include <cstdint>

#include "providers/arm/arm_codec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::string_view body(reinterpret_cast<const char*>(data), size);
  using namespace rotor::arm;
  (void)ParseDeployment(body, "rg");
  (void)ParseDeploymentList(body, "rg");
  (void)ParseOperationStatus(body);
  (void)ParseDeploymentOperations(body);
  (void)ParseExportedTemplate(body);
  (void)FormatArmError(body);
  (void)ParseValidateResult(body);
  if (size < 64) (void)ParseArmTime(body);
  return 0;
}
