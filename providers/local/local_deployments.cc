#include "providers/local/local_deployments.h"

#include <openssl/crypto.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <exception>
#include <map>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "base/files.h"
#include "base/status_macros.h"
#include "providers/local/deployments_store_codec.h"
#include "providers/local/json_internal.h"
#include "providers/local/local_files.h"
#include "rapidjson/document.h"
#include "rapidjson/error/en.h"

namespace rotor::local {
namespace {

constexpr size_t kMaxDeploymentName = 64;
constexpr size_t kMaxResourceGroupName = 90;

using internal::ToJsonText;

absl::Status ArmError(absl::StatusCode code, absl::string_view arm_code,
                      absl::string_view message) {
  return absl::Status(code, absl::StrCat(arm_code, ": ", message));
}

absl::Status TemplateValidationFailed(absl::string_view detail) {
  return ArmError(absl::StatusCode::kInvalidArgument, "InvalidTemplate",
                  absl::StrCat("Deployment template validation failed: '", detail, "'."));
}

absl::Status ResourceGroupNotFound(absl::string_view resource_group) {
  return ArmError(absl::StatusCode::kNotFound, "ResourceGroupNotFound",
                  absl::StrCat("Resource group '", resource_group, "' could not be found."));
}

absl::Status DeploymentNotFound(absl::string_view resource_group, absl::string_view name) {
  return ArmError(absl::StatusCode::kNotFound, "DeploymentNotFound",
                  absl::StrCat("Deployment '", name, "' could not be found in resource group '",
                               resource_group, "'."));
}

absl::Status ValidateResourceGroupName(absl::string_view resource_group) {
  if (IsSafeFileComponent(resource_group, kMaxResourceGroupName) &&
      !absl::EndsWith(resource_group, ".")) {
    return absl::OkStatus();
  }
  return ArmError(absl::StatusCode::kInvalidArgument, "InvalidResourceGroupName",
                  absl::StrCat("Resource group name '", resource_group.substr(0, 100),
                               "' is invalid: 1 to 90 characters of letters, digits, "
                               "'-', '_', '.', '(' and ')', not ending in '.'."));
}

absl::Status ValidateDeploymentName(absl::string_view name) {
  if (IsSafeFileComponent(name, kMaxDeploymentName)) return absl::OkStatus();
  return ArmError(absl::StatusCode::kInvalidArgument, "InvalidDeploymentName",
                  absl::StrCat("Deployment name '", name.substr(0, 100),
                               "' is invalid: 1 to 64 characters of letters, digits, "
                               "'-', '_', '.', '(' and ')'."));
}

bool ProcessAlive(int64_t pid) {
  if (pid <= 0 || pid > 0x7fffffff) return false;
  if (::kill(static_cast<pid_t>(pid), 0) == 0) return true;
  return errno != ESRCH;
}

// A Running record whose process is gone can never finish.
void MarkInterrupted(StoredDeployment& d, absl::Time now) {
  if (d.deployment.provisioning_state != kStateRunning || ProcessAlive(d.pid)) return;
  d.deployment.provisioning_state = kStateFailed;
  d.deployment.error =
      absl::StrCat("DeploymentFailed: the local deployment was interrupted (process ", d.pid,
                   " ended while it was running)");
  d.deployment.timestamp = now;
  d.pid = 0;
}

// --- template validation
// --------------------------------------------------------

struct TemplateParameter {
  std::string type;  // normalised: "String", "SecureString", ...
  bool has_default = false;
  std::string default_json;  // literal defaults only (not "[expressions]")
  std::vector<std::string> allowed_json;
};

bool IsSecureType(absl::string_view type) {
  return type == "SecureString" || type == "SecureObject";
}

absl::StatusOr<std::string> NormaliseType(absl::string_view declared, absl::string_view parameter) {
  static const std::map<std::string, std::string> kTypes = {
      {"string", "String"}, {"securestring", "SecureString"}, {"int", "Int"},    {"bool", "Bool"},
      {"object", "Object"}, {"secureobject", "SecureObject"}, {"array", "Array"}};
  auto it = kTypes.find(absl::AsciiStrToLower(declared));
  if (it == kTypes.end()) {
    return TemplateValidationFailed(
        absl::StrCat("The template parameter '", parameter, "' has an invalid type '", declared,
                     "'. Allowed types are: string, securestring, int, bool, "
                     "object, secureobject, array."));
  }
  return it->second;
}

const char* JTokenType(const rapidjson::Value& v) {
  if (v.IsString()) return "String";
  if (v.IsBool()) return "Boolean";
  if (v.IsInt64() || v.IsUint64()) return "Integer";
  if (v.IsNumber()) return "Float";
  if (v.IsObject()) return "Object";
  if (v.IsArray()) return "Array";
  return "Null";
}

const char* ExpectedJTokens(absl::string_view type) {
  if (type == "String" || type == "SecureString") return "String, Uri";
  if (type == "Int") return "Integer";
  if (type == "Bool") return "Boolean";
  if (type == "Array") return "Array";
  return "Object";
}

bool TypeMatches(absl::string_view type, const rapidjson::Value& v) {
  if (type == "String" || type == "SecureString") return v.IsString();
  if (type == "Int") return v.IsInt64() || v.IsUint64();
  if (type == "Bool") return v.IsBool();
  if (type == "Array") return v.IsArray();
  return v.IsObject();
}

bool IsExpression(const rapidjson::Value& v) {
  if (!v.IsString()) return false;
  absl::string_view s(v.GetString(), v.GetStringLength());
  return absl::StartsWith(s, "[") && !absl::StartsWith(s, "[[") && absl::EndsWith(s, "]");
}

absl::StatusOr<std::map<std::string, TemplateParameter>> TemplateParameters(
    const std::string& template_json) {
  rapidjson::Document doc;
  doc.Parse(template_json.data(), template_json.size());
  if (doc.HasParseError()) {
    return ArmError(absl::StatusCode::kInvalidArgument, "InvalidTemplate",
                    absl::StrCat("Deployment template parse failed: '",
                                 rapidjson::GetParseError_En(doc.GetParseError()), " at offset ",
                                 doc.GetErrorOffset(), "'."));
  }
  if (!doc.IsObject()) {
    return ArmError(absl::StatusCode::kInvalidArgument, "InvalidTemplate",
                    "Deployment template parse failed: the template must be a "
                    "JSON object.");
  }
  std::map<std::string, TemplateParameter> out;
  auto params = doc.FindMember("parameters");
  if (params == doc.MemberEnd()) return out;
  if (!params->value.IsObject()) {
    return TemplateValidationFailed("The template 'parameters' section must be an object.");
  }
  for (const auto& m : params->value.GetObject()) {
    const std::string name = m.name.GetString();
    if (!m.value.IsObject()) {
      return TemplateValidationFailed(
          absl::StrCat("The template parameter '", name, "' must be an object."));
    }
    auto type = m.value.FindMember("type");
    if (type == m.value.MemberEnd() || !type->value.IsString()) {
      return TemplateValidationFailed(
          absl::StrCat("The template parameter '", name, "' has no type."));
    }
    TemplateParameter p;
    ASSIGN_OR_RETURN(p.type, NormaliseType(type->value.GetString(), name));
    if (auto def = m.value.FindMember("defaultValue"); def != m.value.MemberEnd()) {
      p.has_default = true;
      if (!IsExpression(def->value) && !IsSecureType(p.type)) {
        p.default_json = ToJsonText(def->value);
      }
    }
    if (auto allowed = m.value.FindMember("allowedValues"); allowed != m.value.MemberEnd()) {
      if (!allowed->value.IsArray()) {
        return TemplateValidationFailed(absl::StrCat(
            "The template parameter '", name, "' has an 'allowedValues' that is not an array."));
      }
      for (const auto& v : allowed->value.GetArray()) p.allowed_json.push_back(ToJsonText(v));
    }
    out.emplace(absl::AsciiStrToLower(name), std::move(p));
  }
  return out;
}

std::vector<std::string> DeclaredNames(const std::string& template_json) {
  std::vector<std::string> names;
  rapidjson::Document doc;
  doc.Parse(template_json.data(), template_json.size());
  if (doc.HasParseError() || !doc.IsObject()) return names;
  auto params = doc.FindMember("parameters");
  if (params == doc.MemberEnd() || !params->value.IsObject()) return names;
  for (const auto& m : params->value.GetObject()) names.push_back(m.name.GetString());
  return names;
}

// Validates `request` against the template and returns the parameters as
// they are stored (secure values dropped). Messages never quote values.
absl::StatusOr<std::map<std::string, DeploymentParameter>> ValidateParameters(
    const std::string& template_json, const DeploymentRequest& request) {
  ASSIGN_OR_RETURN(auto declared, TemplateParameters(template_json));
  const std::vector<std::string> declared_names = DeclaredNames(template_json);

  std::vector<std::string> unknown;
  for (const auto& [name, value] : request.parameters) {
    if (declared.find(absl::AsciiStrToLower(name)) == declared.end()) unknown.push_back(name);
  }
  if (!unknown.empty()) {
    return TemplateValidationFailed(
        absl::StrCat("The template parameters '", absl::StrJoin(unknown, ", "),
                     "' in the parameters file are not valid; they are not "
                     "present in the original "
                     "template and can therefore not be provided at deployment "
                     "time. The only supported "
                     "parameters for this template are '",
                     absl::StrJoin(declared_names, ", "),
                     "'. Please see https://aka.ms/arm-pass-parameter-values "
                     "for usage details."));
  }

  std::map<std::string, const Secret*> given;
  for (const auto& [name, value] : request.parameters) given[absl::AsciiStrToLower(name)] = &value;

  std::map<std::string, DeploymentParameter> stored;
  for (const std::string& name : declared_names) {
    const TemplateParameter& p = declared.at(absl::AsciiStrToLower(name));
    auto it = given.find(absl::AsciiStrToLower(name));
    DeploymentParameter out;
    out.type = p.type;
    if (it == given.end()) {
      if (!p.has_default) {
        return TemplateValidationFailed(
            absl::StrCat("The value for the template parameter '", name,
                         "' is not provided. Please see "
                         "https://aka.ms/resource-manager-parameter-files for "
                         "usage details."));
      }
      out.value_json = p.default_json;
      stored[name] = std::move(out);
      continue;
    }
    const Secret& value = *it->second;
    rapidjson::Document doc;
    doc.Parse(value.Reveal().data(), value.size());
    struct Wipe {
      rapidjson::Document& d;
      ~Wipe() {
        if (d.IsString()) OPENSSL_cleanse(const_cast<char*>(d.GetString()), d.GetStringLength());
      }
    } wipe{doc};
    if (doc.HasParseError()) {
      return ArmError(
          absl::StatusCode::kInvalidArgument, "InvalidRequestContent",
          absl::StrCat("The value of the deployment parameter '", name, "' is not valid JSON."));
    }
    if (!TypeMatches(p.type, doc)) {
      return TemplateValidationFailed(
          absl::StrCat("Template parameter JToken type is not valid. Expected '",
                       ExpectedJTokens(p.type), "'. Actual '", JTokenType(doc),
                       "'. Please see "
                       "https://aka.ms/resource-manager-parameter-files for usage details. "
                       "(parameter '",
                       name, "')"));
    }
    if (!p.allowed_json.empty()) {
      std::string compact = ToJsonText(doc);
      bool allowed = false;
      for (const auto& a : p.allowed_json) allowed = allowed || a == compact;
      OPENSSL_cleanse(compact.data(), compact.size());
      if (!allowed) {
        return TemplateValidationFailed(absl::StrCat(
            "The provided value for the template parameter '", name,
            "' is not valid. The parameter value is not part of the allowed "
            "value(s): '",
            IsSecureType(p.type) ? "(hidden)" : absl::StrJoin(p.allowed_json, ","), "'."));
      }
    }
    if (!IsSecureType(p.type)) out.value_json = ToJsonText(doc);
    stored[name] = std::move(out);
  }
  return stored;
}

absl::StatusOr<std::string> NormaliseMode(absl::string_view mode) {
  if (mode.empty() || absl::EqualsIgnoreCase(mode, "Incremental"))
    return std::string("Incremental");
  if (absl::EqualsIgnoreCase(mode, "Complete")) return std::string("Complete");
  return ArmError(absl::StatusCode::kInvalidArgument, "InvalidDeploymentMode",
                  absl::StrCat("The deployment mode '", mode,
                               "' is not valid; use 'Incremental' or 'Complete'."));
}

absl::StatusOr<std::string> ResolveTemplate(const DeploymentRequest& request) {
  const bool inline_template = !request.template_json.empty();
  const bool link = !request.template_link_uri.empty();
  if (inline_template == link) {
    return ArmError(absl::StatusCode::kInvalidArgument, "InvalidRequestContent",
                    "The deployment must have exactly one of 'template' and "
                    "'templateLink'.");
  }
  if (inline_template) return request.template_json;
  constexpr absl::string_view kFile = "file://";
  if (!absl::StartsWith(request.template_link_uri, kFile)) {
    return ArmError(absl::StatusCode::kInvalidArgument, "InvalidContentLink",
                    absl::StrCat("The local provider only deploys inline templates and "
                                 "file:// template links, not '",
                                 request.template_link_uri, "'."));
  }
  std::string path = request.template_link_uri.substr(kFile.size());
  auto text = ReadFile(path);
  if (!text.ok()) {
    return ArmError(absl::StatusCode::kInvalidArgument, "InvalidContentLink",
                    absl::StrCat("Unable to download deployment content from '",
                                 request.template_link_uri, "': ", text.status().message()));
  }
  return *text;
}

class LocalDeploymentsStore {
 public:
  static absl::StatusOr<DeploymentsStore> Load(const LocalDeploymentsOptions& options,
                                               absl::string_view resource_group, absl::Time now) {
    RETURN_IF_ERROR(ValidateResourceGroupName(resource_group));
    const std::string path = LocalDeployments::StorePath(options.state_dir, resource_group);
    if (!PathExists(path)) {
      for (const auto& rg : options.resource_groups) {
        if (absl::EqualsIgnoreCase(rg, resource_group)) {
          DeploymentsStore store;
          store.resource_group = rg;
          return store;
        }
      }
      return ResourceGroupNotFound(resource_group);
    }
    ASSIGN_OR_RETURN(std::string text, ReadFile(path));
    ASSIGN_OR_RETURN(DeploymentsStore store, DecodeDeploymentsStore(text, path));
    for (StoredDeployment& sd : store.deployments) MarkInterrupted(sd, now);
    return store;
  }

  static absl::Status Save(const LocalDeploymentsOptions& options, const DeploymentsStore& store) {
    RETURN_IF_ERROR(EnsureStateSubdir(options.state_dir, "deployments"));
    return WriteFileAtomic(LocalDeployments::StorePath(options.state_dir, store.resource_group),
                           EncodeDeploymentsStore(store), 0600);
  }
};

}  // namespace

// --- LocalDeployments
// -----------------------------------------------------------

std::string LocalDeployments::StorePath(absl::string_view state_dir,
                                        absl::string_view resource_group) {
  return absl::StrCat(state_dir, "/deployments/", absl::AsciiStrToLower(resource_group), ".json");
}

std::string LocalDeployments::DeploymentId(absl::string_view subscription_id,
                                           absl::string_view resource_group,
                                           absl::string_view name) {
  return absl::StrCat("/subscriptions/", subscription_id, "/resourceGroups/", resource_group,
                      "/providers/Microsoft.Resources/deployments/", name);
}

LocalDeployments::LocalDeployments(LocalDeploymentsOptions options, const Clock& clock)
    : options_(std::move(options)), clock_(clock) {}

absl::StatusOr<std::unique_ptr<LocalDeployments>> LocalDeployments::Open(
    LocalDeploymentsOptions options) {
  if (options.state_dir.empty()) {
    return absl::InvalidArgumentError("local deployments: state_dir is empty");
  }
  for (const auto& rg : options.resource_groups) RETURN_IF_ERROR(ValidateResourceGroupName(rg));
  RETURN_IF_ERROR(EnsureStateSubdir(options.state_dir, "deployments"));
  const Clock& clock = options.clock != nullptr ? *options.clock : RealClock::Get();
  return std::unique_ptr<LocalDeployments>(new LocalDeployments(std::move(options), clock));
}

absl::Status LocalDeployments::CreateResourceGroup(absl::string_view resource_group) {
  RETURN_IF_ERROR(ValidateResourceGroupName(resource_group));
  std::lock_guard<std::mutex> lock(mu_);
  if (PathExists(StorePath(options_.state_dir, resource_group))) return absl::OkStatus();
  DeploymentsStore store;
  store.resource_group = std::string(resource_group);
  return LocalDeploymentsStore::Save(options_, store);
}

bool LocalDeployments::ResourceGroupExists(absl::string_view resource_group) {
  std::lock_guard<std::mutex> lock(mu_);
  return LocalDeploymentsStore::Load(options_, resource_group, clock_.Now()).ok();
}

void LocalDeployments::set_provisioning_hook(ProvisioningHook hook) {
  std::lock_guard<std::mutex> lock(mu_);
  options_.provisioning_hook = std::move(hook);
}

absl::StatusOr<std::vector<Deployment>> LocalDeployments::ListDeployments(
    absl::string_view resource_group) {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(DeploymentsStore store,
                   LocalDeploymentsStore::Load(options_, resource_group, clock_.Now()));
  std::vector<Deployment> out;
  for (auto& sd : store.deployments) out.push_back(std::move(sd.deployment));
  return out;
}

absl::StatusOr<Deployment> LocalDeployments::GetDeployment(absl::string_view resource_group,
                                                           absl::string_view name) {
  RETURN_IF_ERROR(ValidateDeploymentName(name));
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(DeploymentsStore store,
                   LocalDeploymentsStore::Load(options_, resource_group, clock_.Now()));
  for (auto& sd : store.deployments) {
    if (absl::EqualsIgnoreCase(sd.deployment.name, name)) return std::move(sd.deployment);
  }
  return DeploymentNotFound(store.resource_group, name);
}

absl::StatusOr<std::string> LocalDeployments::ExportTemplate(absl::string_view resource_group,
                                                             absl::string_view name) {
  RETURN_IF_ERROR(ValidateDeploymentName(name));
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(DeploymentsStore store,
                   LocalDeploymentsStore::Load(options_, resource_group, clock_.Now()));
  for (auto& sd : store.deployments) {
    if (absl::EqualsIgnoreCase(sd.deployment.name, name)) {
      if (sd.template_json.empty()) {
        return absl::NotFoundError(absl::StrCat("deployment ", name, " has no stored template"));
      }
      return sd.template_json;
    }
  }
  return DeploymentNotFound(store.resource_group, name);
}

absl::Status LocalDeployments::ValidateDeployment(absl::string_view resource_group,
                                                  const DeploymentRequest& request) {
  RETURN_IF_ERROR(ValidateDeploymentName(request.name));
  RETURN_IF_ERROR(ValidateResourceGroupName(resource_group));
  if (!ResourceGroupExists(resource_group)) {
    return absl::NotFoundError(
        absl::StrCat("ResourceGroupNotFound: resource group ", resource_group, " not found"));
  }
  RETURN_IF_ERROR(NormaliseMode(request.mode).status());
  ASSIGN_OR_RETURN(std::string template_text, ResolveTemplate(request));
  return ValidateParameters(template_text, request).status();
}

absl::StatusOr<Deployment> LocalDeployments::StartDeployment(absl::string_view resource_group,
                                                             const DeploymentRequest& request) {
  RETURN_IF_ERROR(ValidateDeploymentName(request.name));
  ProvisioningHook hook;
  std::string group_name;
  {
    std::lock_guard<std::mutex> lock(mu_);
    ASSIGN_OR_RETURN(DeploymentsStore store,
                     LocalDeploymentsStore::Load(options_, resource_group, clock_.Now()));
    for (const auto& sd : store.deployments) {
      if (sd.deployment.provisioning_state == kStateRunning) {
        return WithDeploymentErrorCode(
            absl::FailedPreconditionError(absl::StrCat(
                "deployment ", sd.deployment.name, " is still running in resource group ",
                store.resource_group, " (DeploymentActive); wait for it to finish")),
            kDeploymentActive);
      }
    }
    ASSIGN_OR_RETURN(std::string mode, NormaliseMode(request.mode));
    ASSIGN_OR_RETURN(std::string template_text, ResolveTemplate(request));
    ASSIGN_OR_RETURN(auto parameters, ValidateParameters(template_text, request));
    // Store the template in canonical compact form.
    rapidjson::Document tpl;
    tpl.Parse(template_text.data(), template_text.size());

    StoredDeployment sd;
    Deployment& d = sd.deployment;
    d.resource_group = store.resource_group;
    d.name = request.name;
    d.id = DeploymentId(options_.subscription_id, store.resource_group, request.name);
    d.timestamp = clock_.Now();
    d.provisioning_state = kStateRunning;
    d.mode = mode;
    d.parameters = std::move(parameters);
    d.tags = request.tags;
    d.template_link_uri = request.template_link_uri;
    sd.template_json = ToJsonText(tpl);
    sd.pid = ::getpid();
    std::erase_if(store.deployments, [&](const StoredDeployment& other) {
      return absl::EqualsIgnoreCase(other.deployment.name, request.name);
    });
    store.deployments.push_back(std::move(sd));
    RETURN_IF_ERROR(LocalDeploymentsStore::Save(options_, store));
    hook = options_.provisioning_hook;
    group_name = store.resource_group;
  }

  // Provisioning runs without the lock: a hook may read this service.
  absl::Status provisioned;
  if (hook) {
    try {
      provisioned = hook(request, group_name);
    } catch (const std::exception& e) {
      provisioned = absl::InternalError(absl::StrCat("unexpected exception: ", e.what()));
    } catch (...) {
      // Never leave the record Running: record the failure, then rethrow.
      std::lock_guard<std::mutex> lock(mu_);
      auto store = LocalDeploymentsStore::Load(options_, group_name, clock_.Now());
      if (store.ok()) {
        for (auto& sd : store->deployments) {
          if (absl::EqualsIgnoreCase(sd.deployment.name, request.name)) {
            sd.deployment.provisioning_state = kStateFailed;
            sd.deployment.error = "DeploymentFailed: provisioning raised an unknown exception";
            sd.deployment.timestamp = clock_.Now();
            sd.pid = 0;
          }
        }
        (void)LocalDeploymentsStore::Save(options_, *store);
      }
      throw;
    }
  }

  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(DeploymentsStore store,
                   LocalDeploymentsStore::Load(options_, group_name, clock_.Now()));
  StoredDeployment* mine = nullptr;
  for (auto& sd : store.deployments) {
    if (absl::EqualsIgnoreCase(sd.deployment.name, request.name)) mine = &sd;
  }
  if (mine == nullptr) {
    return absl::AbortedError(absl::StrCat("deployment ", request.name,
                                           " disappeared from resource group ", group_name,
                                           " while it was running"));
  }
  Deployment& d = mine->deployment;
  d.timestamp = clock_.Now();
  mine->pid = 0;
  if (provisioned.ok()) {
    d.provisioning_state = kStateSucceeded;
    d.error.clear();
  } else {
    d.provisioning_state = kStateFailed;
    d.error = absl::StrCat(
        "DeploymentFailed: At least one resource deployment operation "
        "failed.\n",
        absl::StatusCodeToString(provisioned.code()), ": ", provisioned.message());
  }
  RETURN_IF_ERROR(LocalDeploymentsStore::Save(options_, store));
  return d;
}

absl::StatusOr<Deployment> LocalDeployments::WaitForDeployment(absl::string_view resource_group,
                                                               absl::string_view name,
                                                               const DeploymentProgress& progress,
                                                               absl::Duration timeout) {
  const absl::Time start = absl::Now();
  for (;;) {
    ASSIGN_OR_RETURN(Deployment d, GetDeployment(resource_group, name));
    if (IsTerminalProvisioningState(d.provisioning_state)) return d;
    const absl::Duration elapsed = absl::Now() - start;
    if (progress) progress(d, elapsed);
    if (elapsed >= timeout) {
      return absl::DeadlineExceededError(
          absl::StrCat("deployment ", name, " in resource group ", resource_group, " is still ",
                       d.provisioning_state, " after ", absl::FormatDuration(timeout)));
    }
    absl::SleepFor(std::min(options_.poll_interval, timeout - elapsed));
  }
}

}  // namespace rotor::local
