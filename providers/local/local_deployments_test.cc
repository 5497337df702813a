#include "providers/local/local_deployments.h"

#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/clock.h"
#include "base/files.h"
#include "tests/support/testing.h"

namespace rotor::local {
namespace {

absl::Time T0() { return absl::FromUnixSeconds(1700000000) + absl::Milliseconds(250); }

constexpr char kSpnSecret[] = "spn-secret-value-7c1f";

constexpr char kTemplate[] = R"({
  "$schema": "https://schema.management.azure.com/schemas/2015-01-01/deploymentTemplate.json#",
  "contentVersion": "1.0.0.0",
  "parameters": {
    "adminUsername": {"type": "string", "defaultValue": "azureuser"},
    "location": {"type": "string", "defaultValue": "[resourceGroup().location]"},
    "pfxKeyVaultResourceId": {"type": "string"},
    "pfxKeyVaultSecretUrl": {"type": "string"},
    "pfxThumbprint": {"type": "string"},
    "servicePrincipalClientId": {"type": "string"},
    "servicePrincipalClientSecret": {"type": "securestring"},
    "replicas": {"type": "int", "defaultValue": 1, "allowedValues": [1, 2, 3]}
  },
  "resources": [],
  "outputs": {"url": {"type": "string", "value": "[parameters('pfxKeyVaultSecretUrl')]"}}
})";

DeploymentRequest Request(const std::string& name = "registry") {
  DeploymentRequest r;
  r.name = name;
  r.template_json = kTemplate;
  r.parameters["pfxKeyVaultResourceId"] = Secret(
      "\"/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/"
      "newregreg/"
      "providers/Microsoft.KeyVault/vaults/newregkv\"");
  r.parameters["pfxKeyVaultSecretUrl"] = Secret(
      "\"https://newregkv.vault.rotor.local/secrets/containersecret/"
      "0123456789abcdef0123456789abcdef\"");
  r.parameters["pfxThumbprint"] = Secret("\"84E05C1D98BCE3A5421D225B140B36E86A3D5534\"");
  r.parameters["servicePrincipalClientId"] = Secret("\"client-id\"");
  r.parameters["servicePrincipalClientSecret"] = Secret(absl::StrCat("\"", kSpnSecret, "\""));
  r.tags["purpose"] = "test";
  return r;
}

struct Fixture {
  testing::TempDir dir;
  FakeClock clock{T0()};
  std::unique_ptr<LocalDeployments> service;

  explicit Fixture(ProvisioningHook hook = nullptr) {
    LocalDeploymentsOptions options;
    options.state_dir = dir.Path("state");
    options.clock = &clock;
    options.resource_groups = {"newregreg"};
    options.provisioning_hook = std::move(hook);
    options.poll_interval = absl::Milliseconds(5);
    auto opened = LocalDeployments::Open(std::move(options));
    REQUIRE(opened.ok());
    service = std::move(*opened);
  }
  std::string StoreText() const { return dir.Read("state/deployments/newregreg.json"); }
};

TEST_CASE("LocalDeployments: deploy, list, get, export template") {
  Fixture f;
  CHECK(f.service->ListDeployments("newregreg")->empty());  // implicit group
  auto started = f.service->StartDeployment("newregreg", Request());
  REQUIRE(started.ok());
  CHECK(started->provisioning_state == "Succeeded");
  CHECK(started->Succeeded());

  auto d = f.service->GetDeployment("NewRegReg", "registry");
  REQUIRE(d.ok());
  CHECK(d->name == "registry");
  CHECK(d->resource_group == "newregreg");
  CHECK(d->id ==
        "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/"
        "newregreg/"
        "providers/Microsoft.Resources/deployments/registry");
  CHECK(d->timestamp == T0());
  CHECK(d->mode == "Incremental");
  CHECK(d->error.empty());
  CHECK(d->tags.at("purpose") == "test");
  CHECK(d->parameters.at("pfxThumbprint").type == "String");
  CHECK(d->parameters.at("pfxThumbprint").value_json ==
        "\"84E05C1D98BCE3A5421D225B140B36E86A3D5534\"");
  CHECK(d->parameters.at("servicePrincipalClientSecret").type == "SecureString");
  CHECK(d->parameters.at("servicePrincipalClientSecret").value_json.empty());
  // Defaults are shown as ARM shows them; expressions are not evaluated.
  CHECK(d->parameters.at("adminUsername").value_json == "\"azureuser\"");
  CHECK(d->parameters.at("replicas").type == "Int");
  CHECK(d->parameters.at("replicas").value_json == "1");
  CHECK(d->parameters.at("location").value_json.empty());

  auto list = f.service->ListDeployments("newregreg");
  REQUIRE(list.ok());
  REQUIRE(list->size() == 1);
  CHECK((*list)[0].name == "registry");

  auto exported = f.service->ExportTemplate("newregreg", "registry");
  REQUIRE(exported.ok());
  CHECK(
      absl::StrContains(*exported, "\"servicePrincipalClientSecret\":{\"type\":\"securestring\"}"));
  CHECK(absl::StrContains(*exported, "[parameters('pfxKeyVaultSecretUrl')]"));

  auto waited = f.service->WaitForDeployment("newregreg", "registry", nullptr, absl::Seconds(1));
  REQUIRE(waited.ok());
  CHECK(waited->Succeeded());

  CHECK(f.service->GetDeployment("newregreg", "other").status().code() ==
        absl::StatusCode::kNotFound);
  CHECK(f.service->ExportTemplate("newregreg", "other").status().code() ==
        absl::StatusCode::kNotFound);
}

TEST_CASE("LocalDeployments: the store never holds securestring values") {
  Fixture f;
  REQUIRE(f.service->StartDeployment("newregreg", Request())->Succeeded());
  const std::string text = f.StoreText();
  CHECK(absl::StrContains(text, "\"format_version\": 1"));
  CHECK(absl::StrContains(text, "\"SecureString\""));
  CHECK(absl::StrContains(text, "84E05C1D98BCE3A5421D225B140B36E86A3D5534"));
  CHECK_FALSE(absl::StrContains(text, kSpnSecret));
  struct stat st;
  REQUIRE(::stat(f.dir.Path("state/deployments/newregreg.json").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  REQUIRE(::stat(f.dir.Path("state/deployments").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0700);
  int entries = 0;
  for (const auto& e : std::filesystem::directory_iterator(f.dir.Path("state/deployments"))) {
    (void)e;
    ++entries;
  }
  CHECK(entries == 1);  // no temporary files left
}

TEST_CASE("LocalDeployments: resource groups must exist") {
  Fixture f;
  auto missing = f.service->ListDeployments("othergroup");
  CHECK(missing.status().code() == absl::StatusCode::kNotFound);
  CHECK(absl::StartsWith(missing.status().message(), "ResourceGroupNotFound: "));
  CHECK(f.service->StartDeployment("othergroup", Request()).status().code() ==
        absl::StatusCode::kNotFound);
  CHECK_FALSE(f.service->ResourceGroupExists("othergroup"));
  REQUIRE(f.service->CreateResourceGroup("OtherGroup").ok());
  REQUIRE(f.service->CreateResourceGroup("othergroup").ok());  // idempotent
  CHECK(f.service->ResourceGroupExists("OTHERGROUP"));
  CHECK(f.service->ListDeployments("othergroup")->empty());
  auto d = f.service->StartDeployment("othergroup", Request());
  REQUIRE(d.ok());
  CHECK(d->resource_group == "OtherGroup");
  CHECK(f.service->CreateResourceGroup("bad/name").code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE(
    "LocalDeployments: a missing parameter is InvalidTemplate and records "
    "nothing") {
  Fixture f;
  auto request = Request();
  request.parameters.erase("pfxThumbprint");
  auto result = f.service->StartDeployment("newregreg", request);
  REQUIRE_FALSE(result.ok());
  CHECK(result.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(result.status().message() ==
        "InvalidTemplate: Deployment template validation failed: 'The value "
        "for the template "
        "parameter 'pfxThumbprint' is not provided. Please see "
        "https://aka.ms/resource-manager-parameter-files for usage details.'.");
  CHECK(f.service->ListDeployments("newregreg")->empty());
}

TEST_CASE("LocalDeployments: an unknown parameter is refused") {
  Fixture f;
  auto request = Request();
  request.parameters["registryReplicas"] = Secret("2");
  auto result = f.service->StartDeployment("newregreg", request);
  REQUIRE_FALSE(result.ok());
  CHECK(result.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(absl::StrContains(result.status().message(),
                          "InvalidTemplate: Deployment template validation failed: 'The "
                          "template parameters 'registryReplicas' in the parameters file are "
                          "not valid; they are not present in the original template"));
  CHECK(absl::StrContains(result.status().message(),
                          "The only supported parameters for this template are 'adminUsername, "
                          "location, pfxKeyVaultResourceId"));
}

TEST_CASE(
    "LocalDeployments: value types and allowed values are checked without "
    "echoing values") {
  Fixture f;
  auto request = Request();
  request.parameters["servicePrincipalClientSecret"] = Secret("12345678");
  auto wrong_type = f.service->StartDeployment("newregreg", request);
  CHECK(wrong_type.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(absl::StrContains(wrong_type.status().message(),
                          "Template parameter JToken type is not valid. Expected 'String, Uri'. "
                          "Actual 'Integer'."));
  CHECK_FALSE(absl::StrContains(wrong_type.status().message(), "12345678"));

  request = Request();
  request.parameters["replicas"] = Secret("7");
  auto not_allowed = f.service->StartDeployment("newregreg", request);
  CHECK(not_allowed.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(absl::StrContains(not_allowed.status().message(), "allowed value(s): '1,2,3'"));

  request = Request();
  request.parameters["servicePrincipalClientSecret"] = Secret("\"unterminated");
  auto bad_json = f.service->StartDeployment("newregreg", request);
  CHECK(bad_json.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK_FALSE(absl::StrContains(bad_json.status().message(), "unterminated"));

  request = Request();
  request.template_json = "{\"parameters\": ";
  CHECK(absl::StartsWith(f.service->StartDeployment("newregreg", request).status().message(),
                         "InvalidTemplate: Deployment template parse failed"));
  request = Request();
  request.mode = "Sideways";
  CHECK(f.service->StartDeployment("newregreg", request).status().code() ==
        absl::StatusCode::kInvalidArgument);
  request = Request("bad name!");
  CHECK(f.service->StartDeployment("newregreg", request).status().code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(f.service->ListDeployments("newregreg")->empty());
}

TEST_CASE(
    "LocalDeployments: the hook gets secure values, its failure makes the "
    "deployment Failed") {
  std::string seen_secret, seen_group;
  absl::Time hook_time;
  Fixture* fixture = nullptr;
  Fixture f([&](const DeploymentRequest& request, const std::string& group) -> absl::Status {
    seen_secret = std::string(request.parameters.at("servicePrincipalClientSecret").Reveal());
    seen_group = group;
    auto running = fixture->service->GetDeployment(group, request.name);
    REQUIRE(running.ok());
    CHECK(running->provisioning_state == "Running");
    CHECK_FALSE(IsTerminalProvisioningState(running->provisioning_state));
    hook_time = running->timestamp;
    fixture->clock.Advance(absl::Seconds(42));
    return absl::FailedPreconditionError("thumbprint ABC does not match the certificate");
  });
  fixture = &f;
  auto result = f.service->StartDeployment("newregreg", Request());
  REQUIRE(result.ok());  // the deployment ran; it failed
  CHECK(seen_secret == absl::StrCat("\"", kSpnSecret, "\""));
  CHECK(seen_group == "newregreg");
  CHECK(hook_time == T0());
  CHECK(result->provisioning_state == "Failed");
  CHECK(result->timestamp == T0() + absl::Seconds(42));
  CHECK(absl::StartsWith(result->error, "DeploymentFailed: "));
  CHECK(absl::StrContains(result->error, "thumbprint ABC does not match the certificate"));

  auto waited = f.service->WaitForDeployment("newregreg", "registry", nullptr, absl::Seconds(1));
  REQUIRE(waited.ok());
  CHECK(waited->provisioning_state == "Failed");
  CHECK(waited->error == result->error);
  CHECK_FALSE(absl::StrContains(f.StoreText(), kSpnSecret));
}

TEST_CASE("LocalDeployments: a second deployment while one runs is refused") {
  absl::Status inner;
  Fixture* fixture = nullptr;
  Fixture f([&](const DeploymentRequest& request, const std::string& group) -> absl::Status {
    if (request.name == "registry") {
      inner = fixture->service->StartDeployment(group, Request("second")).status();
    }
    return absl::OkStatus();
  });
  fixture = &f;
  auto result = f.service->StartDeployment("newregreg", Request());
  REQUIRE(result.ok());
  CHECK(result->Succeeded());
  CHECK(inner.code() == absl::StatusCode::kFailedPrecondition);
  CHECK(absl::StrContains(inner.message(), "deployment registry is still running"));
  CHECK(f.service->GetDeployment("newregreg", "second").status().code() ==
        absl::StatusCode::kNotFound);
  // Once it ended, deploying works again.
  CHECK(f.service->StartDeployment("newregreg", Request("second"))->Succeeded());
}

TEST_CASE(
    "LocalDeployments: redeploying a name replaces it and makes it the most "
    "recent") {
  Fixture f;
  REQUIRE(f.service->StartDeployment("newregreg", Request("first")).ok());
  f.clock.Advance(absl::Minutes(1));
  REQUIRE(f.service->StartDeployment("newregreg", Request("second")).ok());
  f.clock.Advance(absl::Minutes(1));
  auto again = Request("first");
  again.parameters["pfxThumbprint"] = Secret("\"0000000000000000000000000000000000000000\"");
  REQUIRE(f.service->StartDeployment("newregreg", again).ok());
  auto list = f.service->ListDeployments("newregreg");
  REQUIRE(list->size() == 2);
  CHECK((*list)[0].name == "second");
  CHECK((*list)[1].name == "first");
  CHECK((*list)[1].timestamp == T0() + absl::Minutes(2));
  CHECK((*list)[1].parameters.at("pfxThumbprint").value_json ==
        "\"0000000000000000000000000000000000000000\"");
}

TEST_CASE("LocalDeployments: a Running record of a dead process reads as Failed") {
  Fixture f;
  REQUIRE(f.service->StartDeployment("newregreg", Request()).ok());
  std::string text = f.StoreText();
  const std::string succeeded = "\"provisioning_state\": \"Succeeded\"";
  REQUIRE(absl::StrContains(text, succeeded));
  // pid far above pid_max: no such process.
  text.replace(text.find(succeeded), succeeded.size(),
               "\"provisioning_state\": \"Running\", \"pid\": 2147483000");
  f.dir.Write("state/deployments/newregreg.json", text);
  auto d = f.service->GetDeployment("newregreg", "registry");
  REQUIRE(d.ok());
  CHECK(d->provisioning_state == "Failed");
  CHECK(absl::StrContains(d->error, "interrupted"));
  CHECK(f.service->StartDeployment("newregreg", Request())->Succeeded());
}

TEST_CASE(
    "LocalDeployments: waiting on a deployment another process runs times "
    "out") {
  Fixture f;
  REQUIRE(f.service->StartDeployment("newregreg", Request()).ok());
  std::string text = f.StoreText();
  const std::string succeeded = "\"provisioning_state\": \"Succeeded\"";
  text.replace(text.find(succeeded), succeeded.size(),
               absl::StrCat("\"provisioning_state\": \"Running\", \"pid\": ", ::getpid()));
  f.dir.Write("state/deployments/newregreg.json", text);
  int polls = 0;
  auto waited = f.service->WaitForDeployment(
      "newregreg", "registry",
      [&](const Deployment& current, absl::Duration) {
        CHECK(current.provisioning_state == "Running");
        ++polls;
      },
      absl::Milliseconds(60));
  CHECK(waited.status().code() == absl::StatusCode::kDeadlineExceeded);
  CHECK(polls >= 2);
  CHECK(f.service->StartDeployment("newregreg", Request("other")).status().code() ==
        absl::StatusCode::kFailedPrecondition);
}

TEST_CASE("LocalDeployments: file:// template links are read and exported") {
  Fixture f;
  const std::string path = f.dir.Write("template.json", kTemplate);
  auto request = Request();
  request.template_json.clear();
  request.template_link_uri = "file://" + path;
  auto d = f.service->StartDeployment("newregreg", request);
  REQUIRE(d.ok());
  CHECK(d->Succeeded());
  CHECK(d->template_link_uri == "file://" + path);
  CHECK(absl::StrContains(*f.service->ExportTemplate("newregreg", "registry"), "pfxThumbprint"));
  request.template_link_uri = "https://example.com/t.json";
  CHECK(f.service->StartDeployment("newregreg", request).status().code() ==
        absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace rotor::local
