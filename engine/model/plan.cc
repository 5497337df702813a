#include "engine/model/plan.h"

#include <array>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace rotor {

std::string FormatPlanTime(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone());
}

namespace {

constexpr std::array<std::pair<Action, absl::string_view>, 7> kActionNames = {{
    {Action::kNoOp, "no-op"},
    {Action::kCreate, "create"},
    {Action::kUpdate, "update"},
    {Action::kDelete, "delete"},
    {Action::kRecover, "recover"},
    {Action::kRedeploy, "redeploy"},
    {Action::kRetire, "retire"},
}};

}  // namespace

absl::string_view ActionName(Action action) {
  for (const auto& [a, name] : kActionNames) {
    if (a == action) return name;
  }
  return "unknown";
}

bool ParseAction(absl::string_view name, Action* action) {
  for (const auto& [a, n] : kActionNames) {
    if (n == name) {
      *action = a;
      return true;
    }
  }
  return false;
}

absl::string_view CauseName(Cause cause) { return cause == Cause::kDrift ? "drift" : "config"; }

bool ParseCause(absl::string_view name, Cause* cause) {
  if (name == "config") {
    *cause = Cause::kConfig;
  } else if (name == "drift") {
    *cause = Cause::kDrift;
  } else {
    return false;
  }
  return true;
}

std::string DescribeCommand(const std::vector<std::string>& command) {
  std::vector<std::string> quoted;
  for (const auto& a : command) quoted.push_back(absl::StrCat("\"", a, "\""));
  return absl::StrCat("command [", absl::StrJoin(quoted, ", "), "]");
}

std::string PlannedPublish::Describe() const {
  if (!docker_config.empty()) return absl::StrCat("docker_config ", docker_config);
  return DescribeCommand(command);
}

std::string Change::Name() const {
  size_t dot = address.find('.');
  return dot == std::string::npos ? address : address.substr(dot + 1);
}

std::string Change::Kind() const { return address.substr(0, address.find('.')); }

std::string Change::After(absl::string_view name) const {
  for (const auto& attribute : attributes) {
    if (attribute.name == name) return attribute.after;
  }
  return "";
}

Plan::Summary Plan::Summarize() const {
  Summary s;
  for (const auto& c : changes) {
    switch (c.action) {
      case Action::kCreate:
      case Action::kRecover:
        ++s.add;
        break;
      case Action::kUpdate:
      case Action::kRetire:
        ++s.change;
        break;
      case Action::kDelete:
        ++s.destroy;
        break;
      case Action::kRedeploy:
        ++s.redeploy;
        break;
      case Action::kNoOp:
        break;
    }
  }
  return s;
}

const PlannedValue* Plan::FindValue(absl::string_view key) const {
  for (const auto& v : values) {
    if (v.key == key) return &v;
  }
  return nullptr;
}

bool Plan::HasDrift() const {
  for (const auto& c : changes) {
    if (c.cause == Cause::kDrift) return true;
  }
  return false;
}

}  // namespace rotor
