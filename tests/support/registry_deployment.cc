#include "tests/support/registry_deployment.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace rotor::testing {

const char kRegistryTemplateJson[] = R"({
  "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
  "contentVersion": "1.0.0.0",
  "parameters": {
    "adminUsername": {"type": "string", "defaultValue": "azureuser"},
    "registryReplicas": {"type": "int", "defaultValue": 1},
    "pipDomainNameLabel": {"type": "string", "defaultValue": "myreg"},
    "pfxKeyVaultResourceId": {"type": "string"},
    "pfxKeyVaultSecretUrl": {"type": "string"},
    "pfxThumbprint": {"type": "string"},
    "servicePrincipalClientId": {"type": "string"},
    "servicePrincipalClientSecret": {"type": "securestring"}
  },
  "resources": [],
  "outputs": {"thumbprint": {"type": "string", "value": "[parameters('pfxThumbprint')]"}}
})";

std::string RegistryDeploymentBody(const RegistryDeploymentParameters& p, int replicas,
                                   const std::string& domain_name_label) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  auto string_parameter = [&w](const char* name, const std::string& value) {
    w.Key(name);
    w.StartObject();
    w.Key("value");
    w.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
    w.EndObject();
  };
  w.StartObject();
  w.Key("properties");
  w.StartObject();
  w.Key("mode");
  w.String("Incremental");
  w.Key("template");
  w.RawValue(kRegistryTemplateJson, sizeof(kRegistryTemplateJson) - 1, rapidjson::kObjectType);
  w.Key("parameters");
  w.StartObject();
  string_parameter("pfxKeyVaultResourceId", p.vault_resource_id);
  if (replicas > 0) {
    w.Key("registryReplicas");
    w.StartObject();
    w.Key("value");
    w.Int(replicas);
    w.EndObject();
  }
  if (!domain_name_label.empty()) string_parameter("pipDomainNameLabel", domain_name_label);
  string_parameter("pfxKeyVaultSecretUrl", p.secret_url);
  string_parameter("pfxThumbprint", p.thumbprint);
  string_parameter("servicePrincipalClientId", p.sp_client_id);
  string_parameter("servicePrincipalClientSecret", p.sp_client_secret);
  w.EndObject();
  w.EndObject();
  w.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

std::string GalleryDeploymentBody(const GalleryParameters& p, const std::string& force_update_tag) {
  rapidjson::Document tpl;
  tpl.Parse(kGalleryTemplateJson);
  if (!force_update_tag.empty()) {
    for (auto& r : tpl["resources"].GetArray()) {
      if (std::string(r["type"].GetString()) == "Microsoft.Compute/virtualMachines/extensions") {
        r["properties"].AddMember("forceUpdateTag",
                                  rapidjson::Value(force_update_tag.c_str(), tpl.GetAllocator()),
                                  tpl.GetAllocator());
      }
    }
  }
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  auto string_parameter = [&w](const char* name, const std::string& value) {
    w.Key(name);
    w.StartObject();
    w.Key("value");
    w.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
    w.EndObject();
  };
  w.StartObject();
  w.Key("properties");
  w.StartObject();
  w.Key("mode");
  w.String("Incremental");
  w.Key("template");
  tpl.Accept(w);
  w.Key("parameters");
  w.StartObject();
  string_parameter("adminPublicKey", "ssh-rsa AAAAB3NzaC1yc2E test");
  string_parameter("pipName", "registry-pip");
  string_parameter("pipDomainNameLabel", p.domain_name_label);
  string_parameter("storageAccountResourceId",
                   "/subscriptions/s/resourceGroups/newregreg/providers/Microsoft.Storage/"
                   "storageAccounts/newregsa");
  string_parameter("storageAccountContainer", "registry");
  string_parameter("pfxKeyVaultResourceId", p.vault_resource_id);
  string_parameter("pfxKeyVaultSecretUrl", p.secret_url);
  string_parameter("pfxThumbprint", p.thumbprint);
  string_parameter("registryReplicas", p.registry_replicas);
  string_parameter("servicePrincipalClientId", p.sp_client_id);
  string_parameter("servicePrincipalClientSecret", p.sp_client_secret);
  w.EndObject();
  w.EndObject();
  w.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

std::string VaultResourceId(const std::string& subscription, const std::string& resource_group,
                            const std::string& vault) {
  return "/subscriptions/" + subscription + "/resourceGroups/" + resource_group +
         "/providers/Microsoft.KeyVault/vaults/" + vault;
}

}  // namespace rotor::testing
