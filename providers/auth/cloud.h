// The cloud rotor talks to: which API versions (Azure Stack Hub API
// profiles), and where every endpoint is (ARM, login, Key Vault) with the
// token audiences, discovered the way Azure Stack Hub tooling does it
// (docs/azure-contracts.md §0, §2.3, §3).
//
// Azure Stack Hub: GET {arm_endpoint}/metadata/endpoints?api-version=2015-01-01
// gives the login endpoint (ADFS when it ends in /adfs) and the ARM audience
// (audiences[0]); the stamp suffix is the ARM host minus its first label
// (management.local.azurestack.external -> local.azurestack.external); Key
// Vault lives at https://{vault}.vault.{suffix}, and its audience comes from
// the vault's 401 challenge (fallback https://vault.{suffix}). A port on the
// ARM endpoint is carried over to the derived Key Vault host and audience
// (https://management.localhost:8443 -> https://kv.vault.localhost:8443).
// Public Azure uses the well-known endpoints (another ARM endpoint, e.g. a
// sovereign cloud's, gets the same derivation: vault.{suffix}, and its own
// URL as the ARM audience). Every value can be overridden in [cloud].
#ifndef ROTOR_PROVIDERS_AUTH_CLOUD_H_
#define ROTOR_PROVIDERS_AUTH_CLOUD_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "providers/http/http_client.h"

namespace rotor::auth {

// Which cloud, and what [cloud] overrides: plain options the composition
// root (cli/) fills from the config. Empty strings mean "derive it".
enum class CloudFlavor { kAzureStack, kAzure };
struct CloudOptions {
  CloudFlavor flavor = CloudFlavor::kAzureStack;
  std::string arm_endpoint;  // required for Azure Stack Hub
  std::string profile;       // empty: the flavor's default
  std::string keyvault_api_version;
  std::string deployments_api_version;
  std::string login_endpoint;
  std::string management_audience;
  std::string vault_dns_suffix;
  std::string keyvault_audience;
};

// --- API profiles

struct ApiProfile {
  absl::string_view name;
  absl::string_view keyvault;     // Key Vault data plane api-version
  absl::string_view deployments;  // Microsoft.Resources/deployments
  absl::string_view dns;          // Microsoft.Network/dnsZones ([certificate.acme])
};

// The profiles rotor knows:
//   2020-09-01-hybrid  Key Vault 2016-10-01, deployments 2019-10-01, DNS 2016-04-01
//                      (default for kind = "azurestack")
//   2019-03-01-hybrid  Key Vault 2016-10-01, deployments 2018-05-01, DNS 2016-04-01
//   latest             Key Vault 7.6,        deployments 2025-04-01, DNS 2018-05-01
//                      (default for kind = "azure")
absl::Span<const ApiProfile> KnownApiProfiles();

struct ApiVersions {
  std::string profile;
  std::string keyvault;
  std::string deployments;
  std::string dns;
};

// The versions for cloud.profile (empty: the kind's default), with
// cloud.keyvault_api_version / cloud.deployments_api_version overriding.
// An unknown profile is InvalidArgument unless both versions are overridden.
absl::StatusOr<ApiVersions> ResolveApiVersions(const CloudOptions& cloud);

// --- endpoints

// Public Azure's well-known values.
inline constexpr char kAzureArmEndpoint[] = "https://management.azure.com";
inline constexpr char kAzureLoginEndpoint[] = "https://login.microsoftonline.com";
inline constexpr char kAzureManagementAudience[] = "https://management.azure.com/";
inline constexpr char kAzureVaultDnsSuffix[] = "vault.azure.net";
inline constexpr char kAzureKeyVaultAudience[] = "https://vault.azure.net";

// The legacy (2015-01-01) /metadata/endpoints answer.
struct MetadataEndpoints {
  std::string login_endpoint;          // authentication.loginEndpoint
  std::vector<std::string> audiences;  // authentication.audiences
  std::string graph_endpoint;
  std::string gallery_endpoint;
  std::string portal_endpoint;
};
// Parses the JSON body; InvalidArgument when it is not that shape, has no
// loginEndpoint, or has a known field of another type (naming the field).
absl::StatusOr<MetadataEndpoints> ParseMetadataEndpoints(absl::string_view json);
// The most a /metadata/endpoints answer may hold (it is under 1 KB).
inline constexpr size_t kMaxMetadataAnswerBytes = 1 << 20;
// "{arm_endpoint}/metadata/endpoints?api-version=2015-01-01".
std::string MetadataUrl(absl::string_view arm_endpoint);

// How tokens are requested.
enum class TokenProtocol {
  kAadV1,  // POST {login}/{tenant}/oauth2/token, resource=
  kAadV2,  // POST {login}/{tenant}/oauth2/v2.0/token, scope={aud}/.default
  kAdfs,   // POST {login}/oauth2/token (login ends in /adfs), resource=
};
absl::string_view TokenProtocolName(TokenProtocol protocol);

struct CloudEndpoints {
  std::string arm_endpoint;    // no trailing slash
  std::string login_endpoint;  // no trailing slash
  bool adfs = false;
  TokenProtocol protocol = TokenProtocol::kAadV1;
  std::string management_audience;
  // Configured Key Vault audience (cloud.keyvault_audience): when set it is
  // used as is and the challenge is not consulted.
  std::string keyvault_audience;
  // Used when a vault's 401 carries no usable challenge: https://vault.{suffix}
  // (https://vault.azure.net on public Azure).
  std::string keyvault_audience_fallback;
  // "vault.local.azurestack.external" (may end in ":port").
  std::string vault_dns_suffix;

  // AAD: {login}/{tenant}; ADFS: {login} (no tenant segment).
  std::string Authority(absl::string_view tenant) const;
  // The token endpoint for `protocol`.
  std::string TokenEndpoint(absl::string_view tenant) const;
  // https://{vault lower-cased}.{vault_dns_suffix}
  std::string VaultUrl(absl::string_view vault_name) const;
};

// True when a login endpoint names AD FS: it ends in /adfs or /adfs/
// (case-insensitive).
bool IsAdfsLoginEndpoint(absl::string_view login_endpoint);

// The ARM host minus its first DNS label, with the ARM port if one is given:
// "https://management.local.azurestack.external" -> "local.azurestack.external",
// "https://management.localhost:8443" -> "localhost:8443". InvalidArgument
// for an IP address or a single-label host (nothing to derive from).
absl::StatusOr<std::string> StampDnsSuffix(absl::string_view arm_endpoint);

// Derives every endpoint from the config and, for Azure Stack Hub, the
// stamp's metadata (nullptr when both cloud.login_endpoint and
// cloud.management_audience are set, or for public Azure). Overrides win.
absl::StatusOr<CloudEndpoints> DeriveEndpoints(const CloudOptions& cloud,
                                               const MetadataEndpoints* metadata);

// DeriveEndpoints after reading the stamp's metadata when it is needed
// (kind azurestack without both overrides). The request needs no token.
absl::StatusOr<CloudEndpoints> DiscoverEndpoints(const CloudOptions& cloud, http::HttpSender& http);

// Pieces of a URL, for derivations and same-origin checks.
struct UrlParts {
  std::string scheme;  // lower-cased
  std::string host;    // lower-cased
  int port = 0;        // 0 when not written
  std::string path;    // from the first '/', query and fragment excluded
  int EffectivePort() const { return port != 0 ? port : (scheme == "http" ? 80 : 443); }
};
absl::StatusOr<UrlParts> SplitUrl(absl::string_view url);
// Same scheme, host (case-insensitive) and effective port.
bool SameOrigin(absl::string_view a, absl::string_view b);

}  // namespace rotor::auth

#endif  // ROTOR_PROVIDERS_AUTH_CLOUD_H_
