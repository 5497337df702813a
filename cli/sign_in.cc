#include "cli/sign_in.h"

#include <utility>

#include "base/status_macros.h"

namespace rotor::cli {

auth::CloudOptions CloudOptionsFrom(const CloudConfig& cloud) {
  auth::CloudOptions options;
  options.flavor =
      cloud.kind == CloudKind::kAzure ? auth::CloudFlavor::kAzure : auth::CloudFlavor::kAzureStack;
  options.arm_endpoint = cloud.arm_endpoint;
  options.profile = cloud.profile;
  options.keyvault_api_version = cloud.keyvault_api_version;
  options.deployments_api_version = cloud.deployments_api_version;
  options.login_endpoint = cloud.login_endpoint;
  options.management_audience = cloud.management_audience;
  options.vault_dns_suffix = cloud.vault_dns_suffix;
  options.keyvault_audience = cloud.keyvault_audience;
  return options;
}

absl::StatusOr<auth::SignInOptions> ResolveSignIn(const AuthConfig& auth, const Environment& env) {
  using Method = auth::SignInOptions::Method;
  auth::SignInOptions options;
  options.client_id = auth.client_id;
  switch (auth.method) {
    case AuthMethod::kClientSecret: {
      options.method = Method::kClientSecret;
      if (!auth.client_secret.has_value()) {
        return absl::InvalidArgumentError(
            "auth.client_secret is required with method = \"client_secret\"");
      }
      ASSIGN_OR_RETURN(Secret secret, ResolveValue(*auth.client_secret, env, "auth.client_secret"));
      options.client_secret = std::move(secret);
      break;
    }
    case AuthMethod::kClientCertificate: {
      options.method = Method::kClientCertificate;
      options.client_certificate = auth.client_certificate;
      if (auth.client_certificate_password.has_value()) {
        ASSIGN_OR_RETURN(options.client_certificate_password,
                         ResolveValue(*auth.client_certificate_password, env,
                                      "auth.client_certificate_password"));
      }
      break;
    }
    case AuthMethod::kManagedIdentity:
      options.method = Method::kManagedIdentity;
      break;
    case AuthMethod::kEnvironment: {
      auto id = env.Get("AZURE_CLIENT_ID");
      if (!id.has_value() || id->empty()) {
        return absl::InvalidArgumentError(
            "auth.method = \"environment\": AZURE_CLIENT_ID is not set");
      }
      options.client_id = *id;
      auto secret = env.Get("AZURE_CLIENT_SECRET");
      auto cert_path = env.Get("AZURE_CLIENT_CERTIFICATE_PATH");
      if (secret.has_value() && !secret->empty()) {
        options.method = Method::kClientSecret;
        options.client_secret = Secret(*std::move(secret));
      } else if (cert_path.has_value() && !cert_path->empty()) {
        options.method = Method::kClientCertificate;
        options.client_certificate = *cert_path;
        options.client_certificate_password =
            Secret(env.Get("AZURE_CLIENT_CERTIFICATE_PASSWORD").value_or(""));
      } else {
        return absl::InvalidArgumentError(
            "auth.method = \"environment\": set AZURE_CLIENT_SECRET or "
            "AZURE_CLIENT_CERTIFICATE_PATH (with AZURE_CLIENT_ID and AZURE_TENANT_ID)");
      }
      break;
    }
  }
  return options;
}

}  // namespace rotor::cli
