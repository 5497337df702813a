#include "tests/fakes/contracts.h"

#include <doctest/doctest.h>

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"

namespace rotor::fakes {
namespace {

bool IsVersionId(const std::string& v) {
  return v.size() == 32 && std::all_of(v.begin(), v.end(), [](char c) {
           return absl::ascii_isdigit(static_cast<unsigned char>(c)) || (c >= 'a' && c <= 'f');
         });
}

const SecretVersion* Listed(const std::vector<SecretVersion>& list, const std::string& name) {
  for (const auto& s : list) {
    if (absl::EqualsIgnoreCase(s.name, name)) return &s;
  }
  return nullptr;
}

constexpr char kTemplate[] = R"({
  "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
  "contentVersion": "1.0.0.0",
  "parameters": {
    "label": {"type": "string"},
    "servicePrincipalClientSecret": {"type": "securestring"}
  },
  "resources": []
})";

DeploymentRequest Request(const std::string& name, const std::string& label) {
  DeploymentRequest r;
  r.name = name;
  r.template_json = kTemplate;
  r.parameters["label"] = Secret("\"" + label + "\"");
  r.parameters["servicePrincipalClientSecret"] = Secret("\"contract-sp-secret\"");
  return r;
}

}  // namespace

void CheckVaultContract(Vault& vault, bool soft_delete) {
  // Absent secrets are NotFound.
  CHECK(vault.GetSecret("contract-absent").status().code() == absl::StatusCode::kNotFound);
  CHECK(vault.ListSecretVersions("contract-absent").status().code() == absl::StatusCode::kNotFound);

  // A write creates a version, which becomes the latest; tags and content
  // type belong to it.
  SetSecretRequest first;
  first.value = Secret("contract-value-1");
  first.content_type = "user credentials";
  first.tags = {{"managed-by", "rotor"}};
  auto v1 = vault.SetSecret("Contract-User", first);
  REQUIRE_MESSAGE(v1.ok(), v1.status().ToString());
  CHECK(IsVersionId(v1->version));
  CHECK(v1->name == "Contract-User");
  CHECK(absl::EndsWith(v1->id, "/secrets/Contract-User/" + v1->version));
  CHECK(v1->enabled);

  // Names are compared case-insensitively; the stored case is returned.
  auto read = vault.GetSecret("contract-user");
  REQUIRE_MESSAGE(read.ok(), read.status().ToString());
  CHECK(read->value.Reveal() == "contract-value-1");
  CHECK(read->meta.name == "Contract-User");
  CHECK(read->meta.version == v1->version);
  CHECK(read->meta.content_type == "user credentials");
  CHECK(read->meta.tags == first.tags);

  SetSecretRequest second;
  second.value = Secret("contract-value-2");
  second.content_type = "other";
  auto v2 = vault.SetSecret("contract-user", second);
  REQUIRE_MESSAGE(v2.ok(), v2.status().ToString());
  CHECK(v2->version != v1->version);
  CHECK(vault.GetSecret("contract-user")->value.Reveal() == "contract-value-2");
  CHECK(vault.GetSecret("contract-user", v1->version)->value.Reveal() == "contract-value-1");
  CHECK(vault.GetSecret("contract-user", v1->version)->meta.content_type == "user credentials");
  auto versions = vault.ListSecretVersions("contract-user");
  REQUIRE(versions.ok());
  CHECK(versions->size() == 2);

  // The list shows the latest version's metadata, never a value.
  auto list = vault.ListSecrets();
  REQUIRE(list.ok());
  const SecretVersion* listed = Listed(*list, "contract-user");
  REQUIRE(listed != nullptr);
  CHECK(listed->content_type == "other");
  CHECK(listed->enabled);
  CHECK((listed->version.empty() || listed->version == v2->version));

  // A disabled version cannot be read.
  auto disabled = vault.SetVersionEnabled("contract-user", v2->version, false);
  REQUIRE_MESSAGE(disabled.ok(), disabled.status().ToString());
  CHECK_FALSE(disabled->enabled);
  CHECK(vault.GetSecret("contract-user").status().code() == absl::StatusCode::kPermissionDenied);
  REQUIRE(vault.SetVersionEnabled("contract-user", v2->version, true).ok());

  // A delete removes every version.
  auto deleted = vault.DeleteSecret("contract-user");
  REQUIRE_MESSAGE(deleted.ok(), deleted.status().ToString());
  CHECK(vault.GetSecret("contract-user").status().code() == absl::StatusCode::kNotFound);
  CHECK(Listed(*vault.ListSecrets(), "contract-user") == nullptr);
  if (soft_delete) {
    // Deleted but recoverable: a write is refused until it is recovered.
    auto listed_deleted = vault.ListDeletedSecrets();
    REQUIRE(listed_deleted.ok());
    bool found = false;
    for (const auto& d : *listed_deleted) {
      found |= absl::EqualsIgnoreCase(d.latest.name, "contract-user");
    }
    CHECK(found);
    auto refused = vault.SetSecret("contract-user", first);
    CHECK(refused.status().code() == absl::StatusCode::kFailedPrecondition);
    CHECK(VaultErrorCode(refused.status()) == kObjectIsDeletedButRecoverable);
    auto recovered = vault.RecoverDeletedSecret("contract-user");
    REQUIRE_MESSAGE(recovered.ok(), recovered.status().ToString());
    CHECK(vault.GetSecret("contract-user")->value.Reveal() == "contract-value-2");
    CHECK(vault.ListSecretVersions("contract-user")->size() == 2);
    // Deleted and purged: the name is free again.
    REQUIRE(vault.DeleteSecret("contract-user").ok());
    REQUIRE(vault.PurgeDeletedSecret("contract-user").ok());
  }
  auto again = vault.SetSecret("contract-user", first);
  REQUIRE_MESSAGE(again.ok(), again.status().ToString());
  CHECK(vault.ListSecretVersions("contract-user")->size() == 1);
  REQUIRE(vault.DeleteSecret("contract-user").ok());
  if (soft_delete) REQUIRE(vault.PurgeDeletedSecret("contract-user").ok());
}

void CheckDeploymentsContract(DeploymentService& deployments, const std::string& resource_group,
                              const std::string& missing_group) {
  CHECK(deployments.ListDeployments(missing_group).status().code() == absl::StatusCode::kNotFound);
  CHECK(deployments.GetDeployment(resource_group, "contract-absent").status().code() ==
        absl::StatusCode::kNotFound);

  auto started = deployments.StartDeployment(resource_group, Request("contract-a", "one"));
  REQUIRE_MESSAGE(started.ok(), started.status().ToString());
  auto done =
      deployments.WaitForDeployment(resource_group, "contract-a", nullptr, absl::Seconds(30));
  REQUIRE_MESSAGE(done.ok(), done.status().ToString());
  CHECK(done->provisioning_state == kStateSucceeded);
  CHECK(IsTerminalProvisioningState(done->provisioning_state));

  // Reads return plain parameters, never a securestring's value.
  auto read = deployments.GetDeployment(resource_group, "contract-a");
  REQUIRE(read.ok());
  REQUIRE(read->parameters.count("label") == 1);
  CHECK(read->parameters.at("label").value_json == "\"one\"");
  REQUIRE(read->parameters.count("servicePrincipalClientSecret") == 1);
  CHECK(read->parameters.at("servicePrincipalClientSecret").value_json.empty());
  CHECK(absl::EqualsIgnoreCase(read->parameters.at("servicePrincipalClientSecret").type,
                               "SecureString"));
  auto exported = deployments.ExportTemplate(resource_group, "contract-a");
  REQUIRE(exported.ok());
  CHECK(absl::StrContains(*exported, "servicePrincipalClientSecret"));

  // Deploying under an existing name replaces it.
  REQUIRE(deployments.StartDeployment(resource_group, Request("contract-a", "two")).ok());
  REQUIRE(
      deployments.WaitForDeployment(resource_group, "contract-a", nullptr, absl::Seconds(30)).ok());
  auto list = deployments.ListDeployments(resource_group);
  REQUIRE(list.ok());
  int named = 0;
  for (const auto& d : *list) {
    if (d.name == "contract-a") {
      ++named;
      CHECK(d.parameters.at("label").value_json == "\"two\"");
    }
  }
  CHECK(named == 1);
}

}  // namespace rotor::fakes
