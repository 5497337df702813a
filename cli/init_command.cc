#include "cli/init_command.h"

#include <algorithm>
#include <filesystem>
#include <ostream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "base/files.h"
#include "base/json_text.h"
#include "base/status_macros.h"
#include "certs/keyvault_secret.h"
#include "certs/pfx.h"
#include "cli/providers.h"
#include "engine/config/config.h"
#include "engine/config/toml_text.h"
#include "engine/model/registry_vm.h"
#include "engine/model/state.h"

namespace rotor::cli {
namespace {

namespace fs = std::filesystem;

constexpr char kPfxPasswordVariable[] = "REGISTRY_PFX_PASSWORD";
constexpr char kSpnSecretVariable[] = "REGISTRY_SPN_CLIENT_SECRET";
constexpr char kSpnIdVariable[] = "REGISTRY_SPN_CLIENT_ID";
constexpr char kAzureClientSecretVariable[] = "AZURE_CLIENT_SECRET";

std::string Absolute(const std::string& path) {
  std::error_code ec;
  fs::path p = fs::absolute(path, ec);
  return ec ? path : p.lexically_normal().string();
}

// `path` (absolute) as the config in `dir` should name it: relative when the
// two lie in one project (they share at least two leading folders, as
// /srv/reg/ca.pem and /srv/reg/conf do), so the folder can move or be
// committed as a whole; absolute otherwise (/etc/ssl/... from /home/...).
std::string RelativeTo(const std::string& dir, const std::string& path) {
  if (path.empty() || !fs::path(path).is_absolute()) return path;
  const fs::path p = fs::path(path).lexically_normal();
  const fs::path d = fs::path(dir).lexically_normal();
  int shared = 0;
  for (auto pi = p.begin(), di = d.begin(); pi != p.end() && di != d.end() && *pi == *di;
       ++pi, ++di) {
    if (!pi->empty() && *pi != "/") ++shared;
  }
  std::string r = p.lexically_relative(d).string();
  if (r.empty() || r == ".") return path;
  if (absl::StartsWith(r, "..") && shared < 2) return path;
  return r;
}

// `text` as comment lines of at most 79 columns: the first starts with
// `first`, the others with `next`.
std::string Comment(absl::string_view text, absl::string_view first, absl::string_view next) {
  std::string out;
  std::string line(first);
  bool empty = true;
  for (absl::string_view word : absl::StrSplit(text, ' ', absl::SkipEmpty())) {
    if (!empty && line.size() + 1 + word.size() > 79) {
      absl::StrAppend(&out, line, "\n");
      line = std::string(next);
      empty = true;
    }
    absl::StrAppend(&line, empty ? "" : " ", word);
    empty = false;
  }
  absl::StrAppend(&out, line, "\n");
  return out;
}

// The `#:schema` line that lets Taplo-aware editors check the written file:
// the schema installed with this binary (share/rotor/schemas beside bin/),
// else the configured install location, else the sources it was built from.
std::string SchemaLine(const std::string& dir) {
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  std::vector<std::string> candidates;
  if (!ec) {
    candidates.push_back(
        (exe.parent_path().parent_path() / "share/rotor/schemas/rotor.schema.json").string());
  }
  candidates.push_back(ROTOR_INSTALLED_SCHEMA);
  candidates.push_back(ROTOR_SOURCE_SCHEMA);
  std::string path = ROTOR_INSTALLED_SCHEMA;
  for (const auto& c : candidates) {
    if (PathExists(c)) {
      path = fs::path(c).lexically_normal().string();
      break;
    }
  }
  return absl::StrCat("#:schema ", RelativeTo(dir, path), "\n");
}

struct Variable {
  std::string name;
  std::string what;
};

absl::StatusOr<std::string> SourceToml(const ValueSource& s, const std::string& dir,
                                       std::vector<Variable>* variables, absl::string_view what) {
  switch (s.kind) {
    case ValueSource::Kind::kEnv:
      variables->push_back({s.env, std::string(what)});
      return absl::StrCat("{ env = ", TomlQuote(s.env), " }");
    case ValueSource::Kind::kFile:
      return absl::StrCat("{ file = ", TomlQuote(RelativeTo(dir, s.file)), " }");
    case ValueSource::Kind::kCommand: {
      std::vector<std::string> args;
      for (size_t i = 0; i < s.command.size(); ++i) {
        std::string arg = s.command[i];
        if (i == 0 && absl::StartsWith(arg, "/")) {
          arg = RelativeTo(dir, arg);
          if (arg.find('/') == std::string::npos) arg = absl::StrCat("./", arg);
        }
        args.push_back(TomlQuote(arg));
      }
      return absl::StrCat("{ command = [", absl::StrJoin(args, ", "), "] }");
    }
    case ValueSource::Kind::kGenerate:
      return absl::StrCat("{ generate = ", s.generate_length, " }");
    case ValueSource::Kind::kLiteral:
      break;
  }
  return absl::InvalidArgumentError(
      absl::StrCat(what, ": a literal value cannot be carried into the new configuration"));
}

// [cloud] and [auth] of an existing configuration, for a file in `dir`.
absl::StatusOr<std::string> CloudAuthFromConfig(const Config& config, const std::string& dir,
                                                std::vector<Variable>* variables) {
  const CloudConfig& c = config.cloud;
  std::string text = absl::StrCat("[cloud]\nkind = ", TomlQuote(KindName(c.kind)), "\n");
  if (c.kind == CloudKind::kLocal) {
    absl::StrAppend(&text, "state_dir = ", TomlQuote(RelativeTo(dir, c.state_dir)), "\n");
    return text;
  }
  auto add = [&](const char* key, const std::string& value) {
    if (!value.empty()) absl::StrAppend(&text, key, " = ", TomlQuote(value), "\n");
  };
  add("arm_endpoint", c.arm_endpoint);
  add("tenant_id", c.tenant_id);
  add("subscription_id", c.subscription_id);
  add("ca_bundle", RelativeTo(dir, c.ca_bundle));
  add("profile", c.profile);
  add("vault_dns_suffix", c.vault_dns_suffix);
  add("login_endpoint", c.login_endpoint);
  add("management_audience", c.management_audience);
  add("keyvault_audience", c.keyvault_audience);
  add("keyvault_api_version", c.keyvault_api_version);
  add("deployments_api_version", c.deployments_api_version);
  if (c.allow_insecure_loopback) text += "allow_insecure_loopback = true\n";

  const AuthConfig& a = config.auth;
  absl::StrAppend(&text, "\n[auth]\nmethod = ", TomlQuote(MethodName(a.method)), "\n");
  add("client_id", a.client_id);
  if (a.client_secret.has_value()) {
    ASSIGN_OR_RETURN(std::string s, SourceToml(*a.client_secret, dir, variables,
                                               "rotor's own sign-in ([auth] client_secret)"));
    absl::StrAppend(&text, "client_secret = ", s, "\n");
  }
  add("client_certificate", RelativeTo(dir, a.client_certificate));
  if (a.client_certificate_password.has_value()) {
    ASSIGN_OR_RETURN(std::string s, SourceToml(*a.client_certificate_password, dir, variables,
                                               "the password of [auth] client_certificate"));
    absl::StrAppend(&text, "client_certificate_password = ", s, "\n");
  }
  return text;
}

// [cloud] and [auth] from the flags.
absl::StatusOr<std::string> CloudAuthFromFlags(const InitOptions& o, const std::string& dir,
                                               std::vector<Variable>* variables) {
  const std::string kind = o.kind.empty() ? "azurestack" : o.kind;
  std::string text = absl::StrCat("[cloud]\nkind = ", TomlQuote(kind), "\n");
  if (kind == "local") {
    for (const auto& [flag, value] :
         {std::pair<const char*, const std::string*>{"--arm-endpoint", &o.arm_endpoint},
          {"--tenant-id", &o.tenant_id},
          {"--subscription-id", &o.subscription_id},
          {"--ca-bundle", &o.ca_bundle},
          {"--profile", &o.profile},
          {"--client-id", &o.client_id}}) {
      if (!value->empty()) {
        return absl::InvalidArgumentError(
            absl::StrCat(flag,
                         " is not used with --kind local (the vault and the deployments "
                         "live in the .rotor folder beside the configuration)"));
      }
    }
    return text;
  }
  if (kind == "azurestack" && o.arm_endpoint.empty()) {
    return absl::InvalidArgumentError(
        "--arm-endpoint is required for Azure Stack Hub (for example --arm-endpoint "
        "https://management.local.azurestack.external), or take the cloud settings from a "
        "configuration with -c");
  }
  auto add = [&](const char* key, const std::string& value) {
    if (!value.empty()) absl::StrAppend(&text, key, " = ", TomlQuote(value), "\n");
  };
  add("arm_endpoint", o.arm_endpoint);
  add("tenant_id", o.tenant_id);
  add("subscription_id", o.subscription_id);
  if (!o.ca_bundle.empty()) add("ca_bundle", RelativeTo(dir, Absolute(o.ca_bundle)));
  add("profile", o.profile);
  if (o.client_id.empty()) {
    text += "\n[auth]\nmethod = \"environment\"\n";
  } else {
    absl::StrAppend(&text,
                    "\n[auth]\nmethod = \"client_secret\"\nclient_id = ", TomlQuote(o.client_id),
                    "\nclient_secret = { env = \"", kAzureClientSecretVariable, "\" }\n");
    variables->push_back(
        {kAzureClientSecretVariable, "rotor's own sign-in ([auth] client_secret)"});
  }
  return text;
}

bool IsUserKind(const SecretVersion& s) { return ClassifySecret(s) == SecretKind::kUser; }

bool IsCertificateKind(const SecretVersion& s) {
  return ClassifySecret(s) == SecretKind::kCertificate;
}

std::string ParameterString(const Deployment& d, const std::string& name) {
  auto it = d.parameters.find(name);
  if (it == d.parameters.end()) return "";
  return JsonStringValue(it->second.value_json).value_or("");
}

// The secret name in a Key Vault secret URL of this vault
// ({base_url}/secrets/{name}[/{version}]), or "".
std::string SecretNameFromUrl(absl::string_view url, absl::string_view base_url) {
  absl::string_view rest = url;
  std::string base = absl::AsciiStrToLower(absl::StripSuffix(base_url, "/"));
  if (!absl::StartsWith(absl::AsciiStrToLower(rest), base)) return "";
  rest.remove_prefix(base.size());
  if (!absl::ConsumePrefix(&rest, "/secrets/")) return "";
  return std::string(rest.substr(0, rest.find('/')));
}

struct Adopted {
  std::vector<std::string> users;
  std::vector<std::string> disabled_users;
  std::vector<std::string> not_adopted;  // neither user nor certificate
  // Of not_adopted, those the registry VM turns into logins (short, enabled).
  std::vector<std::string> short_others;
  std::vector<std::string> certificate_dns_names;
  std::optional<SecretVersion> certificate;
  Secret pfx_der;
  std::string thumbprint;
  bool pfx_password_empty = false;
  Deployment deployment;
};

absl::Status ReadCertificate(Vault& vault, const std::string& name, Adopted& a) {
  auto bundle = vault.GetSecret(name);
  if (!bundle.ok()) {
    return absl::Status(bundle.status().code(), absl::StrCat("read the certificate secret ", name,
                                                             ": ", bundle.status().message()));
  }
  auto decoded = certs::DecodeCertificateSecret(bundle->value, bundle->meta.content_type);
  if (!decoded.ok()) {
    return absl::Status(
        decoded.status().code(),
        absl::StrCat("the certificate secret ", name,
                     " does not hold a PFX the registry can use: ", decoded.status().message()));
  }
  ASSIGN_OR_RETURN(certs::Pfx pfx, certs::Pfx::Open(decoded->pfx_der.Reveal(), decoded->password,
                                                    absl::StrCat("Key Vault secret ", name)));
  a.certificate = bundle->meta;
  a.pfx_der = std::move(decoded->pfx_der);
  a.thumbprint = pfx.Thumbprint();
  a.certificate_dns_names = pfx.Info(absl::Now()).dns_names;
  a.pfx_password_empty = decoded->password.size() == 0;
  return absl::OkStatus();
}

}  // namespace

std::string UserPasswordVariable(absl::string_view user) {
  std::string name = absl::AsciiStrToUpper(user);
  std::replace(name.begin(), name.end(), '-', '_');
  return absl::StrCat("REGISTRY_USER_", name, "_PASSWORD");
}

int InitCommand(const InitOptions& options, Io& io) {
  auto fail = [&](const absl::Status& status) {
    io.err << "Error: " << status.message() << "\n";
    return kExitError;
  };
  const std::string out_path = options.out;
  const std::string dir = DirName(Absolute(out_path));
  if (PathExists(out_path)) {
    return fail(absl::AlreadyExistsError(absl::StrCat(
        out_path,
        " exists: rotor init does not overwrite a file; remove it or choose another -o")));
  }

  // [cloud] and [auth], and the vault and resource group.
  std::vector<Variable> auth_variables;
  std::string cloud_auth;
  std::string vault_name = options.vault;
  std::string resource_group = options.resource_group;
  std::string vault_resource_group;
  std::optional<RegistryConfig> existing_registry;  // -c's [registry]
  if (!options.existing.empty()) {
    for (const auto& [flag, value] :
         {std::pair<const char*, const std::string*>{"--kind", &options.kind},
          {"--arm-endpoint", &options.arm_endpoint},
          {"--tenant-id", &options.tenant_id},
          {"--subscription-id", &options.subscription_id},
          {"--ca-bundle", &options.ca_bundle},
          {"--profile", &options.profile},
          {"--client-id", &options.client_id}}) {
      if (!value->empty()) {
        return fail(absl::InvalidArgumentError(
            absl::StrCat(flag, " and -c both give the cloud settings: use one or the other")));
      }
    }
    auto existing = LoadConfig(options.existing);
    if (!existing.ok()) return fail(existing.status());
    auto text = CloudAuthFromConfig(*existing, dir, &auth_variables);
    if (!text.ok()) return fail(text.status());
    cloud_auth = *std::move(text);
    if (vault_name.empty()) vault_name = existing->vault.name;
    if (resource_group.empty() && existing->deployment.has_value()) {
      resource_group = existing->deployment->resource_group;
    }
    if (resource_group.empty()) resource_group = existing->vault.resource_group;
    existing_registry = existing->registry;
  } else {
    auto text = CloudAuthFromFlags(options, dir, &auth_variables);
    if (!text.ok()) return fail(text.status());
    cloud_auth = *std::move(text);
  }
  if (vault_name.empty() || resource_group.empty()) {
    return fail(absl::InvalidArgumentError(
        "name the registry with --vault NAME and --resource-group RG (the resource group of "
        "its deployments)"));
  }
  if (vault_resource_group.empty()) vault_resource_group = resource_group;
  if (!options.registry_url.empty() || !options.registry_ca_bundle.empty()) {
    if (options.registry_url.empty()) {
      return fail(absl::InvalidArgumentError(
          "--registry-ca-bundle needs --registry-url (the registry it is the CA of)"));
    }
    if (!absl::StartsWith(options.registry_url, "https://") ||
        UrlHost(options.registry_url).empty()) {
      return fail(absl::InvalidArgumentError(
          absl::StrCat("--registry-url ", options.registry_url,
                       ": give the registry's base URL, https://HOST[:PORT]")));
    }
    if (!options.registry_ca_bundle.empty() && !PathExists(options.registry_ca_bundle)) {
      return fail(absl::NotFoundError(
          absl::StrCat("--registry-ca-bundle ", options.registry_ca_bundle, ": no such file")));
    }
    existing_registry = RegistryConfig{
        options.registry_url,
        options.registry_ca_bundle.empty() ? "" : Absolute(options.registry_ca_bundle)};
  }

  // Open the providers through a configuration parsed from what init will
  // write, so every default and check is the one plan applies.
  const std::string vault_section =
      absl::StrCat("\n[vault]\nname = ", TomlQuote(vault_name),
                   "\nresource_group = ", TomlQuote(vault_resource_group), "\n");
  auto probe = ParseConfig(
      absl::StrCat(cloud_auth, vault_section,
                   "\n[deployment]\nresource_group = ", TomlQuote(resource_group), "\n"),
      out_path);
  if (!probe.ok()) return fail(probe.status());
  if (probe->cloud.kind == CloudKind::kLocal && !PathExists(probe->cloud.state_dir)) {
    return fail(absl::NotFoundError(absl::StrCat(
        "no local state at ", probe->cloud.state_dir,
        ": with kind = \"local\", write the configuration beside the .rotor folder it adopts")));
  }
  ProviderOptions provider_options = ProviderOptionsFor(options.common, io);
  auto providers = OpenProviders(*probe, provider_options);
  if (!providers.ok()) return fail(providers.status());
  Vault& vault = *providers->vault;

  // The deployment.
  Adopted adopted;
  auto deployments = providers->deployments->ListDeployments(resource_group);
  if (!deployments.ok()) {
    return fail(absl::Status(deployments.status().code(),
                             absl::StrCat("list the deployments of resource group ", resource_group,
                                          ": ", deployments.status().message())));
  }
  std::stable_sort(
      deployments->begin(), deployments->end(),
      [](const Deployment& a, const Deployment& b) { return a.timestamp > b.timestamp; });
  if (deployments->empty()) {
    return fail(absl::NotFoundError(
        absl::StrCat("resource group ", resource_group,
                     " has no deployment: rotor init adopts a registry that is already deployed")));
  }
  const bool latest = options.deployment.empty() || options.deployment == "latest";
  bool found = false;
  for (const auto& d : *deployments) {
    if (latest || absl::EqualsIgnoreCase(d.name, options.deployment)) {
      // A full read: the list may carry fewer details.
      auto full = providers->deployments->GetDeployment(resource_group, d.name);
      if (!full.ok()) return fail(full.status());
      adopted.deployment = *std::move(full);
      found = true;
      break;
    }
  }
  if (!found) {
    std::vector<std::string> names;
    for (const auto& d : *deployments) names.push_back(d.name);
    return fail(absl::NotFoundError(
        absl::StrCat("deployment \"", options.deployment, "\" not found in resource group ",
                     resource_group, "; its deployments: ", absl::StrJoin(names, ", "))));
  }
  const Deployment& deployment = adopted.deployment;

  // The secrets.
  auto secrets = vault.ListSecrets();
  if (!secrets.ok()) {
    return fail(absl::Status(
        secrets.status().code(),
        absl::StrCat("list the secrets of vault ", vault_name, ": ", secrets.status().message())));
  }
  std::vector<std::string> warnings;
  std::string certificate_name = SecretNameFromUrl(
      ParameterString(deployment, GalleryParameterName(kParamPfxKeyVaultSecretUrl)),
      vault.info().base_url);
  if (certificate_name.empty()) {
    std::vector<std::string> candidates;
    for (const auto& s : *secrets) {
      if (IsCertificateKind(s)) candidates.push_back(s.name);
    }
    if (candidates.size() == 1) {
      certificate_name = candidates[0];
      warnings.push_back(absl::StrCat("deployment ", deployment.name,
                                      " names no certificate secret of vault ", vault_name,
                                      " (pfxKeyVaultSecretUrl); adopted ", certificate_name,
                                      ", the vault's only certificate secret"));
    } else {
      warnings.push_back(
          absl::StrCat("deployment ", deployment.name, " names no certificate secret of vault ",
                       vault_name, " (pfxKeyVaultSecretUrl), and the vault holds ",
                       candidates.size(), " certificate secrets: no [certificate] was written"));
    }
  }
  if (!certificate_name.empty()) {
    if (absl::Status s = ReadCertificate(vault, certificate_name, adopted); !s.ok()) return fail(s);
    const std::string deployed_thumb =
        ParameterString(deployment, GalleryParameterName(kParamPfxThumbprint));
    if (!deployed_thumb.empty() && !absl::EqualsIgnoreCase(deployed_thumb, adopted.thumbprint)) {
      warnings.push_back(absl::StrCat("deployment ", deployment.name,
                                      " passes pfxThumbprint = ", deployed_thumb, " but secret ",
                                      certificate_name, " holds thumbprint ", adopted.thumbprint,
                                      ": rotor plan will redeploy"));
    }
    const std::string deployed_url =
        ParameterString(deployment, GalleryParameterName(kParamPfxKeyVaultSecretUrl));
    if (!deployed_url.empty() && adopted.certificate->id != deployed_url &&
        deployed_thumb == adopted.thumbprint) {
      warnings.push_back(absl::StrCat("deployment ", deployment.name,
                                      " passes an older version of ", certificate_name,
                                      ": rotor plan will redeploy"));
    }
  }
  std::vector<SecretVersion> sorted = *std::move(secrets);
  std::sort(sorted.begin(), sorted.end(), [](const SecretVersion& a, const SecretVersion& b) {
    return absl::AsciiStrToLower(a.name) < absl::AsciiStrToLower(b.name);
  });
  for (const auto& s : sorted) {
    if (absl::EqualsIgnoreCase(s.name, certificate_name)) continue;
    if (IsUserKind(s)) {
      adopted.users.push_back(s.name);
      if (!s.enabled) adopted.disabled_users.push_back(s.name);
    } else if (!IsCertificateKind(s)) {
      adopted.not_adopted.push_back(s.name);
      if (!s.enabled) continue;
      auto bundle = vault.GetSecret(s.name);
      if (!bundle.ok()) {
        return fail(absl::Status(bundle.status().code(),
                                 absl::StrCat("read secret ", s.name,
                                              " (to tell whether the "
                                              "registry VM turns it into a login): ",
                                              bundle.status().message())));
      }
      if (bundle->value.size() <= kMaxLoginSecretLength) adopted.short_others.push_back(s.name);
    }
  }
  if (!deployment.Succeeded()) {
    warnings.push_back(absl::StrCat("deployment ", deployment.name, " is ",
                                    deployment.provisioning_state, ": rotor plan will redeploy"));
  }
  for (const auto& name : adopted.disabled_users) {
    warnings.push_back(absl::StrCat("user ", name,
                                    ": its latest version is disabled (the registry VM cannot read "
                                    "it); rotor plan will write a new version"));
  }
  for (const auto& name : adopted.not_adopted) {
    const bool login = std::find(adopted.short_others.begin(), adopted.short_others.end(), name) !=
                       adopted.short_others.end();
    warnings.push_back(absl::StrCat(
        "secret ", name,
        " is neither a registry user (content type \"user credentials\" or tag "
        "rotor-role = user) nor a certificate, and was not adopted",
        login ? "; its value is short enough that the registry VM turns it into a login, so "
                "policy.other_short_secrets = \"keep\" keeps it one as it is today: declare it "
                "as a [[user]] or delete it, then remove that line"
              : ""));
  }

  // The registry's address: from -c, else the FQDN the deployment gives.
  std::string registry_section;
  std::string registry_host;
  if (existing_registry.has_value() && !existing_registry->url.empty()) {
    registry_host = UrlHost(existing_registry->url);
    absl::StrAppend(&registry_section, "\n[registry]\nurl = ", TomlQuote(existing_registry->url),
                    "\n");
    if (!existing_registry->ca_bundle.empty()) {
      absl::StrAppend(&registry_section,
                      "ca_bundle = ", TomlQuote(RelativeTo(dir, existing_registry->ca_bundle)),
                      "\n");
    }
  } else if (auto url = RegistryUrlFromDeployment(probe->cloud.arm_endpoint, deployment);
             url.ok()) {
    registry_host = UrlHost(*url);
    absl::StrAppend(&registry_section, "\n",
                    Comment(absl::StrCat("[registry] url is derived from the deployment: ", *url,
                                         " (set it if the registry answers elsewhere)."),
                            "# ", "# "));
  } else {
    absl::StrAppend(
        &registry_section, "\n",
        Comment(
            absl::StrCat("The registry's address cannot be derived here (", url.status().message(),
                         "). Fill it in so that plan checks the certificate against it and "
                         "rotor verify can reach the registry:"),
            "# ", "# "),
        "# [registry]\n# url = \"https://REGISTRY-HOST\"\n");
  }
  std::string dns_name;
  if (adopted.certificate.has_value()) {
    if (!registry_host.empty() &&
        CertificateCoversHost(adopted.certificate_dns_names, registry_host)) {
      dns_name = registry_host;
    } else if (!adopted.certificate_dns_names.empty()) {
      dns_name = adopted.certificate_dns_names.front();
      if (!registry_host.empty()) {
        warnings.push_back(
            absl::StrCat("the certificate in secret ", adopted.certificate->name, " is for ",
                         absl::StrJoin(adopted.certificate_dns_names, ", "),
                         ", which does not cover the "
                         "registry's host ",
                         registry_host, ": rotor plan refuses it until a certificate for ",
                         registry_host, " is rotated in"));
      }
    }
  }

  // The configuration.
  std::vector<Variable> variables;
  std::string body = absl::StrCat(cloud_auth, vault_section);
  for (const auto& user : adopted.users) {
    std::string variable = UserPasswordVariable(user);
    variables.push_back({variable, absl::StrCat("the password of user \"", user, "\"")});
    absl::StrAppend(&body, "\n[[user]]\nname = ", TomlQuote(user), "\npassword = { env = \"",
                    variable, "\" }\n");
  }
  std::string pfx_file;
  if (adopted.certificate.has_value()) {
    pfx_file = absl::StrCat(adopted.certificate->name, ".pfx");
    variables.push_back(
        {kPfxPasswordVariable, absl::StrCat("the password of ", pfx_file, " (the PFX in secret ",
                                            adopted.certificate->name, ")")});
    absl::StrAppend(&body, "\n[certificate]\nsecret_name = ", TomlQuote(adopted.certificate->name),
                    "\n# The PFX in the secret (thumbprint ", adopted.thumbprint,
                    "); point pfx at the one you rotate to.\npfx = ", TomlQuote(pfx_file),
                    "\npassword = { env = \"", kPfxPasswordVariable, "\" }\n");
    if (!dns_name.empty()) absl::StrAppend(&body, "dns_name = ", TomlQuote(dns_name), "\n");
    if (adopted.pfx_password_empty) {
      warnings.push_back(absl::StrCat(
          "the PFX in secret ", adopted.certificate->name,
          " has no password, and [certificate] password must not be empty: export it again with "
          "a password before the next certificate rotation"));
    }
  }
  absl::StrAppend(&body, "\n[deployment]\nresource_group = ", TomlQuote(resource_group),
                  "\nname = ", TomlQuote(latest ? "latest" : deployment.name), "\n");
  const std::string sp_id =
      ParameterString(deployment, GalleryParameterName(kParamServicePrincipalClientId));
  const bool has_sp_id =
      deployment.parameters.count(GalleryParameterName(kParamServicePrincipalClientId)) > 0;
  const bool has_sp_secret =
      deployment.parameters.count(GalleryParameterName(kParamServicePrincipalClientSecret)) > 0;
  if (has_sp_id || has_sp_secret) {
    // The gallery template declares both as securestring: ARM returns
    // neither, so both come from variables (a plain-string id is kept).
    if (!sp_id.empty()) {
      absl::StrAppend(&body, "client_id = ", TomlQuote(sp_id), "\n");
    } else {
      variables.push_back({kSpnIdVariable,
                           "the registry's service principal application id (the deployment's "
                           "servicePrincipalClientId, a secure value ARM never returns)"});
      absl::StrAppend(&body, "client_id = { env = \"", kSpnIdVariable, "\" }\n");
    }
    variables.push_back({kSpnSecretVariable,
                         "the registry's service principal secret (the deployment's "
                         "servicePrincipalClientSecret, which ARM never returns)"});
    absl::StrAppend(&body, "client_secret = { env = \"", kSpnSecretVariable, "\" }\n");
  }
  absl::StrAppend(&body, registry_section);
  if (!adopted.short_others.empty()) {
    absl::StrAppend(
        &body, "\n[policy]\n",
        Comment(absl::StrCat("The registry VM turns ", absl::StrJoin(adopted.short_others, ", "),
                             " into logins today; this keeps them so."),
                "# ", "# "),
        "other_short_secrets = \"keep\"\n");
  }
  for (auto& v : auth_variables) variables.push_back(std::move(v));

  size_t width = 0;
  for (const auto& v : variables) width = std::max(width, v.name.size());
  std::string listing;
  for (const auto& v : variables) {
    absl::StrAppend(&listing, "  ", v.name, std::string(width + 3 - v.name.size(), ' '), v.what,
                    "\n");
  }
  const std::string out_name = fs::path(out_path).filename().string();
  std::string header = Comment(
      absl::StrCat("Written by `rotor init` at ",
                   absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", io.clock.Now(), absl::UTCTimeZone()),
                   " from vault ", vault_name, " and deployment ", deployment.name,
                   " (resource group ", resource_group,
                   "). No secret is written here: every value comes from a variable. Once they "
                   "hold the values the registry has now, `rotor plan -c ",
                   out_name, "` says \"No changes.\":"),
      "# ", "# ");
  header += "#\n";
  for (const auto& v : variables) {
    header +=
        Comment(v.what, absl::StrCat("#   ", v.name, std::string(width + 2 - v.name.size(), ' ')),
                absl::StrCat("#", std::string(width + 5, ' ')));
  }
  if (!adopted.users.empty()) {
    header += "#\n";
    header += Comment(absl::StrCat("The users' current passwords are in the vault (for example az "
                                   "keyvault secret show --vault-name ",
                                   vault_name, " --name ", adopted.users[0],
                                   " --query value -o tsv). A password that should live only in "
                                   "Key Vault can be { generate = 32 } instead of { env = ... }."),
                      "# ", "# ");
  }
  for (const auto& w : warnings) {
    header += "#\n";
    header += Comment(absl::StrCat("Note: ", w), "# ", "#   ");
  }
  std::string text = absl::StrCat(SchemaLine(dir), header, "\n", body);

  // Check what is written as plan will read it.
  if (auto check = ParseConfig(text, out_path); !check.ok()) {
    return fail(absl::InternalError(absl::StrCat(
        "rotor init made a configuration it cannot load (a bug): ", check.status().message())));
  }
  if (absl::Status s = MakeDirs(dir); !s.ok()) return fail(s);
  std::string pfx_path;
  if (!pfx_file.empty()) {
    pfx_path = (fs::path(dir) / pfx_file).string();
    if (PathExists(pfx_path)) {
      return fail(absl::AlreadyExistsError(
          absl::StrCat(pfx_path,
                       " exists: rotor init does not overwrite a file; remove it or write the "
                       "configuration elsewhere")));
    }
    if (absl::Status s = WriteFileAtomic(pfx_path, adopted.pfx_der.Reveal(), 0600); !s.ok()) {
      return fail(s);
    }
  }
  if (absl::Status s = WriteFileAtomic(out_path, text, 0644); !s.ok()) return fail(s);

  if (!options.common.quiet) {
    for (const auto& w : warnings) io.err << "Warning: " << w << "\n";
  }
  io.out << "Wrote " << out_path << ": " << adopted.users.size()
         << (adopted.users.size() == 1 ? " user" : " users");
  if (adopted.certificate.has_value()) io.out << ", certificate " << adopted.certificate->name;
  io.out << ", deployment " << deployment.name << " (resource group " << resource_group << ").\n";
  if (!pfx_path.empty()) {
    io.out << "Wrote " << pfx_path << " (mode 0600): the PFX in secret "
           << adopted.certificate->name << ", thumbprint " << adopted.thumbprint << ".\n";
  }
  if (!variables.empty()) {
    io.out << "\nSet these variables to the values the registry has now; then rotor plan -c "
           << out_path << " says \"No changes.\":\n\n"
           << listing;
  }
  return kExitOk;
}

}  // namespace rotor::cli
