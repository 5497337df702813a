#include "engine/model/desired_values.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace rotor {

absl::StatusOr<Secret> DesiredValues::Value(absl::string_view key) const {
  absl::string_view name = key;
  if (absl::ConsumePrefix(&name, "user.")) {
    for (const auto& u : desired_.users) {
      if (SecretKey(u.name) == SecretKey(name) && !u.generated) return u.password.Clone();
    }
  } else if (absl::ConsumePrefix(&name, "certificate.")) {
    if (desired_.certificate.has_value() &&
        SecretKey(desired_.certificate->secret_name) == SecretKey(name)) {
      return desired_.certificate->secret_value.Clone();
    }
  } else if (desired_.deployment.has_value() && desired_.deployment->has_service_principal) {
    if (key == "deployment.client_id") return desired_.deployment->client_id.Clone();
    if (key == "deployment.client_secret") return desired_.deployment->client_secret.Clone();
  }
  return absl::NotFoundError(
      absl::StrCat("the configuration no longer declares ", key, ", which the plan writes"));
}

}  // namespace rotor
