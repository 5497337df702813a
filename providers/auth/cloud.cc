#include "providers/auth/cloud.h"

#include <arpa/inet.h>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "base/status_macros.h"
#include "providers/http/checked_read.h"

namespace rotor::auth {
namespace {

constexpr ApiProfile kProfiles[] = {
    {"2020-09-01-hybrid", "2016-10-01", "2019-10-01", "2016-04-01"},
    {"2019-03-01-hybrid", "2016-10-01", "2018-05-01", "2016-04-01"},
    {"latest", "7.6", "2025-04-01", "2018-05-01"},
};

std::string TrimSlashes(absl::string_view s) {
  while (absl::EndsWith(s, "/")) s.remove_suffix(1);
  return std::string(s);
}

bool IsIpAddress(absl::string_view host) {
  std::string h(host);
  if (absl::StartsWith(h, "[")) return true;
  in_addr v4;
  in6_addr v6;
  return inet_pton(AF_INET, h.c_str(), &v4) == 1 || inet_pton(AF_INET6, h.c_str(), &v6) == 1;
}

}  // namespace

absl::Span<const ApiProfile> KnownApiProfiles() { return kProfiles; }

absl::StatusOr<ApiVersions> ResolveApiVersions(const CloudOptions& cloud) {
  ApiVersions v;
  // Every Azure Stack Hub profile serves DNS zones at 2016-04-01, which
  // public Azure also still serves: the version for a profile rotor does
  // not know.
  v.dns = "2016-04-01";
  v.profile = cloud.profile;
  if (v.profile.empty()) {
    v.profile = cloud.flavor == CloudFlavor::kAzure ? "latest" : "2020-09-01-hybrid";
  }
  const ApiProfile* found = nullptr;
  for (const auto& p : kProfiles) {
    if (absl::EqualsIgnoreCase(p.name, v.profile)) found = &p;
  }
  if (found != nullptr) {
    v.keyvault = std::string(found->keyvault);
    v.deployments = std::string(found->deployments);
    v.dns = std::string(found->dns);
  } else if (cloud.keyvault_api_version.empty() || cloud.deployments_api_version.empty()) {
    std::vector<std::string> names;
    for (const auto& p : kProfiles) names.emplace_back(p.name);
    return absl::InvalidArgumentError(
        absl::StrCat("cloud.profile \"", v.profile, "\" is not a profile rotor knows (",
                     absl::StrJoin(names, ", "),
                     "); pick one of those, or set both cloud.keyvault_api_version and "
                     "cloud.deployments_api_version"));
  }
  if (!cloud.keyvault_api_version.empty()) v.keyvault = cloud.keyvault_api_version;
  if (!cloud.deployments_api_version.empty()) v.deployments = cloud.deployments_api_version;
  return v;
}

std::string MetadataUrl(absl::string_view arm_endpoint) {
  return absl::StrCat(TrimSlashes(arm_endpoint), "/metadata/endpoints?api-version=2015-01-01");
}

absl::string_view TokenProtocolName(TokenProtocol protocol) {
  switch (protocol) {
    case TokenProtocol::kAadV1:
      return "AAD v1";
    case TokenProtocol::kAadV2:
      return "AAD v2";
    case TokenProtocol::kAdfs:
      return "AD FS";
  }
  return "?";
}

std::string CloudEndpoints::Authority(absl::string_view tenant) const {
  if (adfs) return login_endpoint;
  return absl::StrCat(login_endpoint, "/", tenant);
}

std::string CloudEndpoints::TokenEndpoint(absl::string_view tenant) const {
  switch (protocol) {
    case TokenProtocol::kAadV2:
      return absl::StrCat(Authority(tenant), "/oauth2/v2.0/token");
    case TokenProtocol::kAadV1:
    case TokenProtocol::kAdfs:
      break;
  }
  return absl::StrCat(Authority(tenant), "/oauth2/token");
}

std::string CloudEndpoints::VaultUrl(absl::string_view vault_name) const {
  return absl::StrCat("https://", absl::AsciiStrToLower(vault_name), ".", vault_dns_suffix);
}

bool IsAdfsLoginEndpoint(absl::string_view login_endpoint) {
  std::string trimmed = absl::AsciiStrToLower(TrimSlashes(login_endpoint));
  return absl::EndsWith(trimmed, "/adfs");
}

absl::StatusOr<UrlParts> SplitUrl(absl::string_view url) {
  UrlParts parts;
  size_t scheme_end = url.find("://");
  if (scheme_end == absl::string_view::npos || scheme_end == 0) {
    return absl::InvalidArgumentError(absl::StrCat("\"", url, "\" is not an absolute URL"));
  }
  parts.scheme = absl::AsciiStrToLower(url.substr(0, scheme_end));
  absl::string_view rest = url.substr(scheme_end + 3);
  size_t end = rest.find_first_of("/?#");
  absl::string_view authority = rest.substr(0, end);
  if (end != absl::string_view::npos && rest[end] == '/') {
    absl::string_view path = rest.substr(end);
    path = path.substr(0, path.find_first_of("?#"));
    parts.path = std::string(path);
  }
  if (size_t at = authority.rfind('@'); at != absl::string_view::npos) {
    authority.remove_prefix(at + 1);
  }
  absl::string_view host = authority;
  if (absl::StartsWith(authority, "[")) {
    size_t close = authority.find(']');
    if (close == absl::string_view::npos) {
      return absl::InvalidArgumentError(absl::StrCat("\"", url, "\" has a malformed host"));
    }
    host = authority.substr(0, close + 1);
    absl::string_view after = authority.substr(close + 1);
    if (absl::ConsumePrefix(&after, ":") && !absl::SimpleAtoi(after, &parts.port)) {
      return absl::InvalidArgumentError(absl::StrCat("\"", url, "\" has a malformed port"));
    }
  } else if (size_t colon = authority.rfind(':'); colon != absl::string_view::npos) {
    host = authority.substr(0, colon);
    if (!absl::SimpleAtoi(authority.substr(colon + 1), &parts.port) || parts.port <= 0 ||
        parts.port > 65535) {
      return absl::InvalidArgumentError(absl::StrCat("\"", url, "\" has a malformed port"));
    }
  }
  if (host.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("\"", url, "\" has no host"));
  }
  parts.host = absl::AsciiStrToLower(host);
  return parts;
}

bool SameOrigin(absl::string_view a, absl::string_view b) {
  auto pa = SplitUrl(a);
  auto pb = SplitUrl(b);
  return pa.ok() && pb.ok() && pa->scheme == pb->scheme && pa->host == pb->host &&
         pa->EffectivePort() == pb->EffectivePort();
}

absl::StatusOr<std::string> StampDnsSuffix(absl::string_view arm_endpoint) {
  ASSIGN_OR_RETURN(UrlParts parts, SplitUrl(arm_endpoint));
  size_t dot = parts.host.find('.');
  if (IsIpAddress(parts.host) || dot == std::string::npos || dot + 1 >= parts.host.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot derive the stamp's DNS suffix from arm_endpoint ", arm_endpoint,
                     " (its host has no parent domain); set cloud.vault_dns_suffix"));
  }
  std::string suffix = parts.host.substr(dot + 1);
  if (parts.port != 0) absl::StrAppend(&suffix, ":", parts.port);
  return suffix;
}

absl::StatusOr<CloudEndpoints> DeriveEndpoints(const CloudOptions& cloud,
                                               const MetadataEndpoints* metadata) {
  CloudEndpoints e;
  e.arm_endpoint = TrimSlashes(cloud.arm_endpoint.empty() && cloud.flavor == CloudFlavor::kAzure
                                   ? kAzureArmEndpoint
                                   : cloud.arm_endpoint);
  if (e.arm_endpoint.empty()) {
    return absl::InvalidArgumentError("cloud.arm_endpoint is required for kind = \"azurestack\"");
  }
  const bool azure = cloud.flavor == CloudFlavor::kAzure;

  // Login endpoint and ARM audience.
  if (!cloud.login_endpoint.empty()) {
    e.login_endpoint = TrimSlashes(cloud.login_endpoint);
  } else if (azure) {
    e.login_endpoint = kAzureLoginEndpoint;
  } else if (metadata != nullptr) {
    e.login_endpoint = TrimSlashes(metadata->login_endpoint);
  }
  if (e.login_endpoint.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("the login endpoint is unknown: ", MetadataUrl(e.arm_endpoint),
                     " gave none; set cloud.login_endpoint"));
  }
  if (!cloud.management_audience.empty()) {
    e.management_audience = cloud.management_audience;
  } else if (azure) {
    // ARM accepts tokens for its own URL: https://management.azure.com/ on
    // public Azure, the sovereign clouds' management URLs likewise.
    e.management_audience = SameOrigin(e.arm_endpoint, kAzureArmEndpoint)
                                ? std::string(kAzureManagementAudience)
                                : absl::StrCat(e.arm_endpoint, "/");
  } else if (metadata != nullptr && !metadata->audiences.empty() &&
             !metadata->audiences[0].empty()) {
    e.management_audience = metadata->audiences[0];
  }
  if (e.management_audience.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("the ARM token audience is unknown: ", MetadataUrl(e.arm_endpoint),
                     " lists no audiences; set cloud.management_audience"));
  }
  e.adfs = IsAdfsLoginEndpoint(e.login_endpoint);
  e.protocol =
      e.adfs ? TokenProtocol::kAdfs : (azure ? TokenProtocol::kAadV2 : TokenProtocol::kAadV1);

  // Key Vault.
  if (!cloud.vault_dns_suffix.empty()) {
    absl::string_view suffix = cloud.vault_dns_suffix;
    absl::ConsumePrefix(&suffix, ".");
    e.vault_dns_suffix = absl::AsciiStrToLower(TrimSlashes(suffix));
  } else if (azure && cloud.arm_endpoint.empty()) {
    e.vault_dns_suffix = kAzureVaultDnsSuffix;
  } else if (azure && SameOrigin(cloud.arm_endpoint, kAzureArmEndpoint)) {
    e.vault_dns_suffix = kAzureVaultDnsSuffix;
  } else {
    ASSIGN_OR_RETURN(std::string stamp, StampDnsSuffix(e.arm_endpoint));
    e.vault_dns_suffix = absl::StrCat("vault.", stamp);
  }
  e.keyvault_audience = cloud.keyvault_audience;
  if (azure && e.vault_dns_suffix == kAzureVaultDnsSuffix) {
    e.keyvault_audience_fallback = kAzureKeyVaultAudience;
  } else {
    e.keyvault_audience_fallback = absl::StrCat("https://", e.vault_dns_suffix);
  }
  return e;
}

absl::StatusOr<CloudEndpoints> DiscoverEndpoints(const CloudOptions& cloud,
                                                 http::HttpSender& http) {
  const bool need_metadata = cloud.flavor == CloudFlavor::kAzureStack &&
                             (cloud.login_endpoint.empty() || cloud.management_audience.empty());
  if (!need_metadata) return DeriveEndpoints(cloud, nullptr);
  const std::string url = MetadataUrl(cloud.arm_endpoint);
  std::optional<MetadataEndpoints> metadata;
  auto response = http::SendCheckedRead(
      http,
      [&] {
        http::HttpRequest request = http::Get(url);
        request.headers.emplace_back("Accept", "application/json");
        request.max_response_bytes = kMaxMetadataAnswerBytes;
        return request;
      },
      [&](const http::HttpResponse& answer) -> absl::Status {
        ASSIGN_OR_RETURN(metadata, ParseMetadataEndpoints(answer.body));
        return absl::OkStatus();
      },
      http::CheckedReadOptions{});
  if (!response.ok()) {
    return absl::Status(response.status().code(), absl::StrCat("reading the stamp's endpoints: ",
                                                               response.status().message()));
  }
  if (!response->ok()) {
    absl::Status error = http::HttpErrorToStatus("GET", url, *response);
    return absl::Status(error.code(),
                        absl::StrCat("reading the stamp's endpoints: ", error.message()));
  }
  return DeriveEndpoints(cloud, &*metadata);
}

}  // namespace rotor::auth
