// libFuzzer target: ARM's JSON answers (providers/arm/arm_codec.h):
// deployments and their lists, async-operation status, deployment
// operations, exported templates, validate results, error bodies, dates.
#include <cstddef>
#include <cstdint>

#include "providers/arm/arm_codec.h"
#include "tests/fuzz/inert.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::string_view body(reinterpret_cast<const char*>(data), size);
  using namespace rotor::arm;
  // Errors (a wrong-typed field names its path, which the server chose) and
  // formatted server errors reach the terminal: bounded and inert.
  using rotor::fuzz::ExpectInertError;
  ExpectInertError(ParseDeployment(body, "rg"));
  ExpectInertError(ParseDeploymentList(body, "rg"));
  ExpectInertError(ParseOperationStatus(body));
  ExpectInertError(ParseDeploymentOperations(body));
  ExpectInertError(ParseExportedTemplate(body));
  rotor::fuzz::ExpectInert(FormatArmError(body), 50 * 2100);
  auto validate = ParseValidateResult(body);
  ExpectInertError(validate);
  if (validate.ok()) rotor::fuzz::ExpectInert(*validate, 50 * 2100);
  if (auto ops = ParseDeploymentOperations(body); ops.ok()) {
    for (const auto& failure : ops->failures) rotor::fuzz::ExpectInert(failure, 50 * 2100 + 500);
  }
  if (size < 64) ExpectInertError(ParseArmTime(body));
  return 0;
}
