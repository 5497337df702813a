#include "cli/sign_in.h"

#include <doctest/doctest.h>

#include "absl/strings/match.h"

namespace rotor::cli {
namespace {

TEST_CASE("ResolveSignIn: sources, environment variables, errors without values") {
  FakeEnvironment env;
  env.Set("SP_SECRET", "sp-secret-value");
  using Method = auth::SignInOptions::Method;

  AuthConfig secret;
  secret.method = AuthMethod::kClientSecret;
  secret.client_id = "app";
  CHECK(absl::StrContains(ResolveSignIn(secret, env).status().message(), "auth.client_secret"));
  ValueSource source;
  source.kind = ValueSource::Kind::kEnv;
  source.env = "SP_SECRET";
  secret.client_secret = source.Clone();
  auto resolved = ResolveSignIn(secret, env);
  REQUIRE_MESSAGE(resolved.ok(), resolved.status().ToString());
  CHECK(resolved->method == Method::kClientSecret);
  CHECK(resolved->client_id == "app");
  CHECK(resolved->client_secret->Reveal() == "sp-secret-value");

  source.env = "UNSET_VAR";
  secret.client_secret = source.Clone();
  auto missing = ResolveSignIn(secret, env);
  CHECK(absl::StrContains(missing.status().message(), "UNSET_VAR"));

  AuthConfig from_env;
  from_env.method = AuthMethod::kEnvironment;
  auto no_id = ResolveSignIn(from_env, env);
  CHECK(absl::StrContains(no_id.status().message(), "AZURE_CLIENT_ID"));
  env.Set("AZURE_CLIENT_ID", "env-app");
  auto no_secret = ResolveSignIn(from_env, env);
  CHECK(absl::StrContains(no_secret.status().message(), "AZURE_CLIENT_SECRET"));
  CHECK_FALSE(absl::StrContains(no_secret.status().message(), "sp-secret-value"));
  env.Set("AZURE_CLIENT_SECRET", "env-secret-value");
  auto ok = ResolveSignIn(from_env, env);
  REQUIRE(ok.ok());
  CHECK(ok->client_id == "env-app");
  CHECK(ok->method == Method::kClientSecret);

  env.Unset("AZURE_CLIENT_SECRET");
  env.Set("AZURE_CLIENT_CERTIFICATE_PATH", "/x/sp.pfx");
  env.Set("AZURE_CLIENT_CERTIFICATE_PASSWORD", "pw");
  auto by_cert = ResolveSignIn(from_env, env);
  REQUIRE_MESSAGE(by_cert.ok(), by_cert.status().ToString());
  CHECK(by_cert->method == Method::kClientCertificate);
  CHECK(by_cert->client_certificate == "/x/sp.pfx");
  CHECK(by_cert->client_certificate_password.Reveal() == "pw");

  AuthConfig mi;
  mi.method = AuthMethod::kManagedIdentity;
  CHECK(ResolveSignIn(mi, env)->method == Method::kManagedIdentity);
}

TEST_CASE("CloudOptionsFrom: the flavor and every override") {
  CloudConfig cloud;
  cloud.kind = CloudKind::kAzure;
  cloud.arm_endpoint = "https://management.example";
  cloud.keyvault_audience = "https://vault.example";
  auth::CloudOptions options = CloudOptionsFrom(cloud);
  CHECK(options.flavor == auth::CloudFlavor::kAzure);
  CHECK(options.arm_endpoint == cloud.arm_endpoint);
  CHECK(options.keyvault_audience == cloud.keyvault_audience);
  cloud.kind = CloudKind::kAzureStack;
  CHECK(CloudOptionsFrom(cloud).flavor == auth::CloudFlavor::kAzureStack);
}

}  // namespace
}  // namespace rotor::cli
