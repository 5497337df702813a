#include "tests/fakes/fake_deployments.h"

#include <rapidjson/document.h>

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace rotor::fakes {
namespace {

std::string Key(absl::string_view group, absl::string_view name) {
  return absl::AsciiStrToLower(absl::StrCat(group, "/", name));
}

// The template's declared parameter types, lower-cased ("securestring").
std::map<std::string, std::string> ParameterTypes(absl::string_view template_json) {
  std::map<std::string, std::string> types;
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseIterativeFlag>(template_json.data(), template_json.size());
  if (doc.HasParseError() || !doc.IsObject()) return types;
  auto params = doc.FindMember("parameters");
  if (params == doc.MemberEnd() || !params->value.IsObject()) return types;
  for (auto it = params->value.MemberBegin(); it != params->value.MemberEnd(); ++it) {
    std::string type;
    if (it->value.IsObject()) {
      auto t = it->value.FindMember("type");
      if (t != it->value.MemberEnd() && t->value.IsString()) type = t->value.GetString();
    }
    types[it->name.GetString()] = absl::AsciiStrToLower(type);
  }
  return types;
}

// ARM's spelling of a parameter type in a deployment ("SecureString").
std::string ArmTypeName(const std::string& lower) {
  if (lower == "securestring") return "SecureString";
  if (lower == "secureobject") return "SecureObject";
  if (lower == "int") return "Int";
  if (lower == "bool") return "Bool";
  if (lower == "object") return "Object";
  if (lower == "array") return "Array";
  return "String";
}

}  // namespace

FakeDeployments::FakeDeployments(const Clock& clock, std::set<std::string> resource_groups)
    : clock_(clock) {
  for (const auto& g : resource_groups) groups_.insert(absl::AsciiStrToLower(g));
}

void FakeDeployments::FailNext(std::string error) {
  std::lock_guard<std::mutex> lock(mu_);
  failures_.push_back(std::move(error));
}

std::vector<FakeDeployments::Started> FakeDeployments::started() const {
  std::lock_guard<std::mutex> lock(mu_);
  return started_;
}

absl::Status FakeDeployments::CheckGroup(absl::string_view resource_group) const {
  if (groups_.count(absl::AsciiStrToLower(resource_group)) == 0) {
    return absl::NotFoundError(
        absl::StrCat("ResourceGroupNotFound: resource group ", resource_group, " not found"));
  }
  return absl::OkStatus();
}

absl::StatusOr<FakeDeployments::Record> FakeDeployments::Make(
    absl::string_view resource_group, const DeploymentRequest& request) const {
  if (request.template_json.empty()) {
    return absl::InvalidArgumentError("the fake deploys inline templates only");
  }
  Record r;
  r.template_json = request.template_json;
  Deployment& d = r.deployment;
  d.resource_group = std::string(resource_group);
  d.name = request.name;
  d.id = absl::StrCat("/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/",
                      resource_group, "/providers/Microsoft.Resources/deployments/", request.name);
  d.timestamp = clock_.Now();
  d.mode = request.mode;
  d.tags = request.tags;
  const auto types = ParameterTypes(request.template_json);
  for (const auto& [name, value] : request.parameters) {
    auto t = types.find(name);
    if (t == types.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat("InvalidTemplate: the template does not declare parameter '", name, "'"));
    }
    DeploymentParameter p;
    p.type = ArmTypeName(t->second);
    // ARM never returns secure values.
    if (t->second != "securestring" && t->second != "secureobject") {
      p.value_json = std::string(value.Reveal());
    }
    d.parameters[name] = std::move(p);
  }
  return r;
}

absl::Status FakeDeployments::Seed(absl::string_view resource_group,
                                   const DeploymentRequest& request, absl::string_view state) {
  std::lock_guard<std::mutex> lock(mu_);
  if (absl::Status s = CheckGroup(resource_group); !s.ok()) return s;
  auto made = Make(resource_group, request);
  if (!made.ok()) return made.status();
  made->deployment.provisioning_state = std::string(state);
  made->final_state = std::string(state);
  made->sequence = ++sequence_;
  records_[Key(resource_group, request.name)] = *std::move(made);
  return absl::OkStatus();
}

absl::StatusOr<std::vector<Deployment>> FakeDeployments::ListDeployments(
    absl::string_view resource_group) {
  std::lock_guard<std::mutex> lock(mu_);
  if (absl::Status s = CheckGroup(resource_group); !s.ok()) return s;
  std::vector<const Record*> found;
  const std::string prefix = Key(resource_group, "");
  for (const auto& [key, record] : records_) {
    if (key.compare(0, prefix.size(), prefix) == 0) found.push_back(&record);
  }
  std::sort(found.begin(), found.end(),
            [](const Record* a, const Record* b) { return a->sequence < b->sequence; });
  std::vector<Deployment> out;
  for (const Record* r : found) out.push_back(r->deployment);
  return out;
}

absl::StatusOr<Deployment> FakeDeployments::GetDeployment(absl::string_view resource_group,
                                                          absl::string_view name) {
  std::lock_guard<std::mutex> lock(mu_);
  if (absl::Status s = CheckGroup(resource_group); !s.ok()) return s;
  auto it = records_.find(Key(resource_group, name));
  if (it == records_.end()) {
    return absl::NotFoundError(absl::StrCat("DeploymentNotFound: deployment ", name, " not found"));
  }
  return it->second.deployment;
}

absl::StatusOr<std::string> FakeDeployments::ExportTemplate(absl::string_view resource_group,
                                                            absl::string_view name) {
  std::lock_guard<std::mutex> lock(mu_);
  if (absl::Status s = CheckGroup(resource_group); !s.ok()) return s;
  auto it = records_.find(Key(resource_group, name));
  if (it == records_.end()) {
    return absl::NotFoundError(absl::StrCat("DeploymentNotFound: deployment ", name, " not found"));
  }
  return it->second.template_json;
}

absl::StatusOr<Deployment> FakeDeployments::StartDeployment(absl::string_view resource_group,
                                                            const DeploymentRequest& request) {
  std::lock_guard<std::mutex> lock(mu_);
  if (absl::Status s = CheckGroup(resource_group); !s.ok()) return s;
  for (const auto& [key, record] : records_) {
    if (key.compare(0, Key(resource_group, "").size(), Key(resource_group, "")) == 0 &&
        !IsTerminalProvisioningState(record.deployment.provisioning_state)) {
      return WithDeploymentErrorCode(
          absl::FailedPreconditionError(absl::StrCat("DeploymentActive: deployment ",
                                                     record.deployment.name, " is still running")),
          kDeploymentActive);
    }
  }
  auto made = Make(resource_group, request);
  if (!made.ok()) return made.status();
  made->deployment.provisioning_state = "Running";
  made->final_state = kStateSucceeded;
  if (!failures_.empty()) {
    made->final_state = kStateFailed;
    made->final_error = std::move(failures_.front());
    failures_.pop_front();
  }
  made->sequence = ++sequence_;
  Started started{std::string(resource_group), request.name, request.template_json, {}};
  for (const auto& [name, value] : request.parameters) {
    started.parameters[name] = std::string(value.Reveal());
  }
  started_.push_back(std::move(started));
  Deployment accepted = made->deployment;
  records_[Key(resource_group, request.name)] = *std::move(made);
  return accepted;
}

absl::Status FakeDeployments::ValidateDeployment(absl::string_view resource_group,
                                                 const DeploymentRequest& request) {
  std::lock_guard<std::mutex> lock(mu_);
  ++validations_;
  if (absl::Status s = CheckGroup(resource_group); !s.ok()) return s;
  auto made = Make(resource_group, request);
  if (!made.ok()) return made.status();
  // Every parameter without a default must be given.
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseIterativeFlag>(request.template_json.data(),
                                            request.template_json.size());
  auto params = doc.IsObject() ? doc.FindMember("parameters") : doc.MemberEnd();
  if (doc.IsObject() && params != doc.MemberEnd() && params->value.IsObject()) {
    for (auto it = params->value.MemberBegin(); it != params->value.MemberEnd(); ++it) {
      if (!it->value.IsObject() || it->value.HasMember("defaultValue")) continue;
      if (request.parameters.count(it->name.GetString()) == 0) {
        return absl::InvalidArgumentError(
            absl::StrCat("InvalidTemplate: Deployment template validation failed: 'The value for "
                         "the template parameter '",
                         it->name.GetString(), "' is not provided.'"));
      }
    }
  }
  return absl::OkStatus();
}

int FakeDeployments::validations() const {
  std::lock_guard<std::mutex> lock(mu_);
  return validations_;
}

absl::StatusOr<Deployment> FakeDeployments::WaitForDeployment(absl::string_view resource_group,
                                                              absl::string_view name,
                                                              const DeploymentProgress& progress,
                                                              absl::Duration timeout) {
  std::lock_guard<std::mutex> lock(mu_);
  if (absl::Status s = CheckGroup(resource_group); !s.ok()) return s;
  auto it = records_.find(Key(resource_group, name));
  if (it == records_.end()) {
    return absl::NotFoundError(absl::StrCat("DeploymentNotFound: deployment ", name, " not found"));
  }
  Record& r = it->second;
  if (!IsTerminalProvisioningState(r.deployment.provisioning_state)) {
    if (progress) progress(r.deployment, absl::ZeroDuration());
    r.deployment.provisioning_state = r.final_state;
    r.deployment.error = r.final_error;
    r.deployment.timestamp = clock_.Now();
  }
  return r.deployment;
}

}  // namespace rotor::fakes
