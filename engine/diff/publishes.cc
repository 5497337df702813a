#include "engine/diff/publishes.h"

#include "absl/strings/str_cat.h"
#include "engine/model/registry_vm.h"

namespace rotor::diff_internal {

absl::Status PlanPublishes(const DesiredState& desired, const ActualState& actual, Plan& plan) {
  std::vector<const DesiredUser*> users;
  for (const auto& c : plan.changes) {
    if (c.Kind() != "user") continue;
    if (!c.write.has_value() && c.action != Action::kRecover) continue;
    if (c.action == Action::kRetire || c.action == Action::kDelete) continue;
    for (const auto& u : desired.users) {
      if (SecretKey(u.name) == SecretKey(c.Name()) && !u.publish.empty()) users.push_back(&u);
    }
  }
  if (users.empty()) return absl::OkStatus();
  std::string registry;
  if (!desired.registry_url.empty()) {
    registry = UrlAuthority(desired.registry_url);
  } else if (actual.base_deployment.has_value()) {
    auto url = RegistryUrlFromDeployment(desired.arm_endpoint, *actual.base_deployment);
    if (!url.ok()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "user[", users.front()->name,
          "].publish needs the registry's host for its clients: ", url.status().message()));
    }
    registry = UrlAuthority(*url);
  } else {
    return absl::FailedPreconditionError(
        absl::StrCat("user[", users.front()->name,
                     "].publish needs the registry's host for its clients: set [registry] url"));
  }
  for (const DesiredUser* u : users) {
    for (const auto& sink : u->publish) {
      PlannedPublish& p = plan.publishes.emplace_back();
      p.user = u->name;
      p.registry = registry;
      p.docker_config = sink.docker_config;
      p.command = sink.command;
    }
  }
  return absl::OkStatus();
}

}  // namespace rotor::diff_internal
