// Emulator::SeedRegistry: --seed-registry (see seed.h).
#include "tests/emulator/seed.h"

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "base/files.h"
#include "base/password.h"
#include "base/status_macros.h"
#include "certs/keyvault_secret.h"
#include "tests/emulator/emulator.h"
#include "tests/emulator/json_internal.h"
#include "tests/emulator/template.h"
#include "tests/support/testing.h"

namespace rotor::emulator {
namespace {

constexpr char kKeyVaultApi[] = "7.4";
constexpr char kArmApi[] = "2019-10-01";

// NAME='value' lines of seed.env (values never hold a quote: the
// passwords' alphabet has none).
std::map<std::string, std::string> ReadEnvFile(const std::string& path) {
  std::map<std::string, std::string> out;
  auto text = ReadFile(path);
  if (!text.ok()) return out;
  for (absl::string_view line : absl::StrSplit(*text, '\n', absl::SkipEmpty())) {
    line = absl::StripAsciiWhitespace(line);
    if (!absl::ConsumePrefix(&line, "export ")) continue;
    const size_t eq = line.find('=');
    if (eq == absl::string_view::npos) continue;
    absl::string_view value = line.substr(eq + 1);
    if (absl::ConsumePrefix(&value, "'")) absl::ConsumeSuffix(&value, "'");
    out[std::string(line.substr(0, eq))] = std::string(value);
  }
  std::fill(text->begin(), text->end(), '\0');
  return out;
}

std::string EnvName(absl::string_view user) {
  std::string name = absl::AsciiStrToUpper(user);
  for (char& c : name) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return absl::StrCat("REGISTRY_USER_", name, "_PASSWORD");
}

HttpRequest Request(const std::string& method, const std::string& host, const std::string& path,
                    const std::string& api_version, std::string body = "") {
  HttpRequest r;
  r.method = method;
  r.host = host;
  r.path = path;
  r.target = absl::StrCat(path, "?api-version=", api_version);
  r.query["api-version"] = api_version;
  r.body = std::move(body);
  if (!r.body.empty()) r.headers["content-type"] = "application/json";
  return r;
}

// {"value", "contentType"} of a SetSecret.
std::string SetSecretBody(absl::string_view value, absl::string_view content_type) {
  rapidjson::StringBuffer b;
  json::Writer w(b);
  w.StartObject();
  json::KeyStr(w, "value", value);
  json::KeyStr(w, "contentType", content_type);
  w.EndObject();
  return json::Text(b);
}

std::string ErrorOf(const HttpResponse& r) {
  rapidjson::Document doc;
  doc.Parse(r.body.data(), r.body.size());
  const rapidjson::Value* error = doc.HasParseError() ? nullptr : json::Member(doc, "error");
  if (error == nullptr) return absl::StrCat("HTTP ", r.status);
  return absl::StrCat("HTTP ", r.status, " ", json::StrMember(*error, "code").value_or(""), ": ",
                      json::StrMember(*error, "message").value_or(""));
}

}  // namespace

absl::StatusOr<std::vector<std::string>> Emulator::SeedRegistry() {
  const std::string& dir = options_.state_dir;
  const std::string vault =
      vaults_->Find(options_.vaults.empty() ? kSeedVault : options_.vaults[0]);
  if (vault.empty()) return absl::FailedPreconditionError("the vault to seed is not served");
  const std::string group =
      options_.resource_groups.empty() ? kSeedResourceGroup : options_.resource_groups[0];
  const std::string env_path = absl::StrCat(dir, "/", kSeedEnvFile);
  const std::string ca_path = absl::StrCat(dir, "/", kSeedRegistryCaFile);
  const std::string vault_host =
      absl::StrCat(absl::AsciiStrToLower(vault), ".vault.localhost:", endpoints_.port);
  const std::string vault_base = endpoints_.Vault(vault);
  const std::string arm_host = absl::StrCat("management.localhost:", endpoints_.port);
  const std::string deployment_path =
      absl::StrCat("/subscriptions/", kSeedSubscription, "/resourcegroups/", group,
                   "/providers/Microsoft.Resources/deployments/", kSeedDeployment);
  const std::string registry_host =
      absl::StrCat(kSeedDomainNameLabel, ".", kEmulatorLocation, ".cloudapp.localhost");

  std::map<std::string, std::string> env = ReadEnvFile(env_path);
  auto deployment_state = [&]() -> std::string {
    HttpResponse r =
        arm_->Handle(Request("GET", arm_host, deployment_path, kArmApi), endpoints_.Arm());
    if (r.status != 200) return "";
    rapidjson::Document doc;
    doc.Parse(r.body.data(), r.body.size());
    const rapidjson::Value* props = doc.HasParseError() ? nullptr : json::Member(doc, "properties");
    return props != nullptr ? json::StrMember(*props, "provisioningState").value_or("") : "";
  };
  const bool seeded =
      !env.empty() && PathExists(ca_path) &&
      vaults_->Handle(vault,
                      Request("GET", vault_host, absl::StrCat("/secrets/", kSeedCertificateSecret),
                              kKeyVaultApi),
                      vault_base)
              .status == 200 &&
      deployment_state() == "Succeeded";

  std::string client_id, client_secret;
  if (first_client_.has_value()) {
    client_id = first_client_->first;
    client_secret = std::string(first_client_->second.Reveal());
  } else if (env.count("REGISTRY_SPN_CLIENT_ID") > 0) {
    client_id = env["REGISTRY_SPN_CLIENT_ID"];
    client_secret = env["REGISTRY_SPN_CLIENT_SECRET"];
  } else {
    client_id = "registry-spn";
    client_secret = std::string(GeneratePassword(32).Reveal());
  }

  if (!seeded) {
    // 1. The users: what the PowerShell procedure writes.
    std::map<std::string, std::string> passwords;
    for (const char* user : kSeedUsers) {
      const std::string password(GeneratePassword(24).Reveal());
      HttpResponse r =
          vaults_->Handle(vault,
                          Request("PUT", vault_host, absl::StrCat("/secrets/", user), kKeyVaultApi,
                                  SetSecretBody(password, "user credentials")),
                          vault_base);
      if (r.status != 200) {
        return absl::InternalError(absl::StrCat("setting the user ", user, ": ", ErrorOf(r)));
      }
      passwords[user] = password;
    }
    // 2. The certificate secret, for the registry host.
    const std::string pfx_password(GeneratePassword(24).Reveal());
    ASSIGN_OR_RETURN(RegistryCertificate cert,
                     IssueRegistryCertificate(registry_host, pfx_password));
    RETURN_IF_ERROR(WriteFileAtomic(ca_path, cert.ca_pem, 0644));
    ASSIGN_OR_RETURN(Secret envelope,
                     certs::EncodeCertificateSecret(cert.pfx_der, Secret(pfx_password)));
    HttpResponse r = vaults_->Handle(
        vault,
        Request("PUT", vault_host, absl::StrCat("/secrets/", kSeedCertificateSecret), kKeyVaultApi,
                SetSecretBody(envelope.Reveal(), certs::kCertificateContentType)),
        vault_base);
    if (r.status != 200) {
      return absl::InternalError(absl::StrCat("setting the certificate secret: ", ErrorOf(r)));
    }
    rapidjson::Document set;
    set.Parse(r.body.data(), r.body.size());
    const std::string secret_url = json::StrMember(set, "id").value_or("");

    // 3. The deployment of the gallery template, as the portal makes it,
    // seconds after the PowerShell: in a later second than the writes, which
    // Key Vault stamps to the second (a write in a deployment's own second
    // reads as made after it).
    rotor::testing::SleepIntoNextSecond();
    const std::string vault_id =
        absl::StrCat("/subscriptions/", kSeedSubscription, "/resourceGroups/", group,
                     "/providers/Microsoft.KeyVault/vaults/", vault);
    rapidjson::StringBuffer b;
    json::Writer w(b);
    w.StartObject();
    json::Key(w, "properties");
    w.StartObject();
    json::KeyStr(w, "mode", "Incremental");
    json::Key(w, "template");
    json::Raw(w, kGalleryTemplateJson);
    json::Key(w, "parameters");
    w.StartObject();
    auto param = [&](absl::string_view name, absl::string_view value) {
      json::Key(w, name);
      w.StartObject();
      json::KeyStr(w, "value", value);
      w.EndObject();
    };
    param("adminPublicKey", "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC0 rotor-emulator");
    param("pipName", "registry-pip");
    param("pipDomainNameLabel", kSeedDomainNameLabel);
    param("storageAccountResourceId",
          absl::StrCat("/subscriptions/", kSeedSubscription, "/resourceGroups/", group,
                       "/providers/Microsoft.Storage/storageAccounts/registrystorage"));
    param("storageAccountContainer", "registry");
    param("pfxKeyVaultResourceId", vault_id);
    param("pfxKeyVaultSecretUrl", secret_url);
    param("pfxThumbprint", cert.thumbprint);
    param("servicePrincipalClientId", client_id);
    param("servicePrincipalClientSecret", client_secret);
    w.EndObject();
    w.EndObject();
    w.EndObject();
    r = arm_->Handle(Request("PUT", arm_host, deployment_path, kArmApi, json::Text(b)),
                     endpoints_.Arm());
    if (r.status != 200 && r.status != 201) {
      return absl::InternalError(absl::StrCat("deploying the registry: ", ErrorOf(r)));
    }
    std::string state;
    const absl::Time deadline = absl::Now() + absl::Minutes(5);
    for (;;) {
      state = deployment_state();
      if (state == "Succeeded" || state == "Failed" || state == "Canceled") break;
      if (absl::Now() > deadline) {
        return absl::DeadlineExceededError("the registry deployment did not finish in 5 minutes");
      }
      absl::SleepFor(absl::Milliseconds(100));
    }
    if (state != "Succeeded") {
      HttpResponse d =
          arm_->Handle(Request("GET", arm_host, deployment_path, kArmApi), endpoints_.Arm());
      return absl::InternalError(
          absl::StrCat("the registry deployment ended ", state, ": ", d.body));
    }

    // 4. What a user of rotor needs and must not see printed.
    std::string text =
        "# rotor-emulator --seed-registry: the passwords of what it stood up. Keep private.\n";
    for (const auto& [user, password] : passwords) {
      absl::StrAppend(&text, "export ", EnvName(user), "='", password, "'\n");
    }
    absl::StrAppend(&text, "export REGISTRY_PFX_PASSWORD='", pfx_password, "'\n");
    absl::StrAppend(&text, "export REGISTRY_SPN_CLIENT_ID='", client_id, "'\n");
    absl::StrAppend(&text, "export REGISTRY_SPN_CLIENT_SECRET='", client_secret, "'\n");
    // The registry's service principal is also the emulator's first client:
    // rotor's own sign-in (`rotor init --client-id`) reads this variable.
    absl::StrAppend(&text, "export AZURE_CLIENT_SECRET='", client_secret, "'\n");
    absl::Status written = WriteFileAtomic(env_path, text, 0600);
    std::fill(text.begin(), text.end(), '\0');
    for (auto& [user, password] : passwords) std::fill(password.begin(), password.end(), '\0');
    RETURN_IF_ERROR(written);
  }
  std::fill(client_secret.begin(), client_secret.end(), '\0');

  std::vector<std::string> users;
  for (const char* user : kSeedUsers) users.push_back(user);
  std::string registry_url = absl::StrCat("https://", registry_host);
  if (options_.registry_port > 0) absl::StrAppend(&registry_url, ":", options_.registry_port);
  std::vector<std::string> lines{
      absl::StrCat("arm-endpoint ", endpoints_.Arm()),
      absl::StrCat("ca-bundle ", dir, "/ca.pem"),
      absl::StrCat("tenant ", endpoints_.tenant),
      absl::StrCat("subscription ", kSeedSubscription),
      absl::StrCat("client-id ", client_id),
      absl::StrCat("client-secret-env REGISTRY_SPN_CLIENT_SECRET"),
      absl::StrCat("resource-group ", group),
      absl::StrCat("vault-name ", vault),
      absl::StrCat("vault-url ", vault_base),
      absl::StrCat("deployment ", kSeedDeployment),
      absl::StrCat("certificate-secret ", kSeedCertificateSecret),
      absl::StrCat("users ", absl::StrJoin(users, ",")),
      absl::StrCat("registry-url ", registry_url),
      absl::StrCat("registry-ca ", ca_path),
      absl::StrCat("seed-env ", env_path),
      absl::StrCat("seeded ", seeded ? "earlier" : "now"),
  };
  // The Azure DNS zones --dns-zone created in the same resource group, for
  // an ACME issuer's dns_zone.
  for (const auto& zone : options_.dns_zones) {
    lines.push_back(absl::StrCat("dns-zone ", absl::AsciiStrToLower(zone)));
  }
  return lines;
}

}  // namespace rotor::emulator
