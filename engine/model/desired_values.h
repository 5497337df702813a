// The values a plan names (PlannedValue keys), from the configuration's
// sources as BuildDesired resolved them: "user.NAME" (a declared password),
// "certificate.NAME" (the Key Vault secret value of the PFX),
// "deployment.client_id" and "deployment.client_secret".
#ifndef ROTOR_ENGINE_MODEL_DESIRED_VALUES_H_
#define ROTOR_ENGINE_MODEL_DESIRED_VALUES_H_

#include "engine/model/state.h"
#include "engine/model/value_set.h"

namespace rotor {

class DesiredValues : public ValueSet {
 public:
  // `desired` must outlive this object.
  explicit DesiredValues(const DesiredState& desired) : desired_(desired) {}
  absl::StatusOr<Secret> Value(absl::string_view key) const override;

 private:
  const DesiredState& desired_;
};

}  // namespace rotor

#endif  // ROTOR_ENGINE_MODEL_DESIRED_VALUES_H_
