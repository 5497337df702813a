// ValueSet: where apply gets the values a plan names (PlannedValue keys):
// the configuration's sources, resolved again for this run. The CLI
// implements it over the DesiredState; tests over a map.
#ifndef ROTOR_ENGINE_MODEL_VALUE_SET_H_
#define ROTOR_ENGINE_MODEL_VALUE_SET_H_

#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "base/secret.h"

namespace rotor {

class ValueSet {
 public:
  virtual ~ValueSet() = default;
  // The value of `key`; NotFound when the set has none.
  virtual absl::StatusOr<Secret> Value(absl::string_view key) const = 0;
};

// A ValueSet over a map (tests, and values collected by the CLI).
class MapValueSet : public ValueSet {
 public:
  void Set(std::string key, Secret value) { values_[std::move(key)] = std::move(value); }
  absl::StatusOr<Secret> Value(absl::string_view key) const override;

 private:
  std::map<std::string, Secret, std::less<>> values_;
};

}  // namespace rotor

#endif  // ROTOR_ENGINE_MODEL_VALUE_SET_H_
