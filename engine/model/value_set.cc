#include "engine/model/value_set.h"

#include "absl/strings/str_cat.h"

namespace rotor {

absl::StatusOr<Secret> MapValueSet::Value(absl::string_view key) const {
  auto it = values_.find(key);
  if (it == values_.end()) {
    return absl::NotFoundError(absl::StrCat("no value for ", key));
  }
  return it->second.Clone();
}

}  // namespace rotor
