// Loading rotor.toml: toml++ parses, the compiled-in JSON Schema checks key
// names, types, enums and patterns (engine/config/config_schema.cc), and this
// file loads each section: it checks the rules that span keys, applies
// defaults and resolves paths. Value sources ({ env = ... }, ...) are parsed
// by engine/config/value_source_parser.cc; every problem found is reported at
// once, with its source line and a caret, by engine/config/diagnostics.cc.
#include "engine/config/config.h"

#include <toml++/toml.h>

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "base/digest.h"
#include "base/files.h"
#include "base/loopback.h"
#include "engine/config/config_schema.h"
#include "engine/config/diagnostics.h"
#include "engine/config/toml_to_json.h"
#include "engine/config/toml_tree.h"
#include "engine/config/value_source_parser.h"
#include "engine/model/registry_vm.h"

namespace rotor {

// ---------------------------------------------------------------------------
// Config model helpers.

ValueSource ValueSource::Clone() const {
  ValueSource copy;
  copy.kind = kind;
  copy.env = env;
  copy.file = file;
  copy.command = command;
  copy.generate_length = generate_length;
  copy.literal = literal.Clone();
  copy.max_length = max_length;
  copy.key_path = key_path;
  copy.location = location;
  return copy;
}

std::string ValueSource::Describe() const {
  switch (kind) {
    case Kind::kEnv:
      return absl::StrCat("env ", env);
    case Kind::kFile:
      return absl::StrCat("file ", ShowPath(file));
    case Kind::kCommand:
      return ShowPath(absl::StrCat("command [", absl::StrJoin(command, ", "), "]"));
    case Kind::kGenerate:
      return absl::StrCat("generate ", generate_length);
    case Kind::kLiteral:
      return "literal";
  }
  return "unknown";
}

std::string DeploymentConfig::ParameterName(absl::string_view logical) const {
  auto it = parameter_names.find(std::string(logical));
  if (it != parameter_names.end() && !it->second.empty()) return it->second;
  return GalleryParameterName(logical);
}

namespace {

using config_internal::Diagnostic;
using config_internal::KeyPath;
using config_internal::Position;
using config_internal::Region;
using config_internal::SourceContext;
using config_internal::SourceRules;

constexpr char kAzureArmEndpoint[] = "https://management.azure.com";
constexpr char kAzureStackProfile[] = "2020-09-01-hybrid";
constexpr char kAzureProfile[] = "latest";
constexpr char kDefaultStateDir[] = ".rotor";

std::string AbsoluteDir(const std::string& path) {
  std::error_code ec;
  std::filesystem::path dir = std::filesystem::absolute(DirName(path), ec).lexically_normal();
  std::string out = dir.string();
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  return out;
}

// ---------------------------------------------------------------------------
// The loader.

class Loader {
 public:
  Loader(absl::string_view text, const std::string& path) : text_(text), path_(path) {}

  absl::StatusOr<Config> Run() {
    config_.path = path_;
    config_.dir = AbsoluteDir(path_);
    config_.digest = Sha256Hex(text_);

    toml::table root;
    try {
      root = toml::parse(std::string_view(text_.data(), text_.size()), path_);
    } catch (const toml::parse_error& e) {
      Position at{static_cast<int>(e.source().begin.line),
                  static_cast<int>(e.source().begin.column)};
      if (at.line < 1) at = Position{1, 1};
      Error(at, std::string(e.description()));
      return Failure();
    }
    root_ = &root;

    absl::Status schema = config_internal::ValidateAgainstSchema(root, &diagnostics_);
    if (!schema.ok()) return schema;
    RefuseNul(root, {});

    LoadCloud();
    LoadAuth();
    LoadVault();
    LoadCertificate();  // before users: they must not take its secret name
    LoadUsers();
    LoadDeployment();
    LoadRegistry();
    LoadPolicy();
    if (config_.vault.resource_group.empty() && config_.deployment.has_value()) {
      config_.vault.resource_group = config_.deployment->resource_group;
    }
    if (!diagnostics_.empty()) return Failure();
    return std::move(config_);
  }

 private:
  // --- diagnostics

  void Error(Position at, std::string message) {
    diagnostics_.push_back(Diagnostic{at, std::move(message)});
  }
  void ErrorAtValue(const KeyPath& path, absl::string_view what) {
    Error(config_internal::ValuePosition(*root_, path), absl::StrCat(Name(path), ": ", what));
  }
  void ErrorAtKey(const KeyPath& path, absl::string_view what) {
    Error(config_internal::KeyPosition(*root_, path), absl::StrCat(Name(path), ": ", what));
  }

  absl::Status Failure() {
    return config_internal::DiagnosticsError(path_, text_, std::move(diagnostics_),
                                             secret_regions_);
  }

  // A NUL in a string (TOML allows "\u0000") would end a path, a program
  // name or an argument early where it reaches the system: "pw\u0000.txt"
  // would read "pw". Refused in every string but deployment.parameters'
  // values, which travel as JSON. toml++ bounds the nesting (256 levels).
  void RefuseNul(const toml::node& node, const KeyPath& path) {
    if (path.size() >= 2 && path[0] == config_internal::PathSegment("deployment") &&
        path[1] == config_internal::PathSegment("parameters")) {
      return;
    }
    if (const toml::table* table = node.as_table()) {
      for (auto&& [key, child] : *table) {
        KeyPath child_path = path;
        child_path.push_back(std::string(key.str()));
        RefuseNul(child, child_path);
      }
    } else if (const toml::array* array = node.as_array()) {
      for (size_t i = 0; i < array->size(); ++i) {
        KeyPath child_path = path;
        child_path.push_back(i);
        RefuseNul(*array->get(i), child_path);
      }
    } else if (const toml::value<std::string>* s = node.as_string()) {
      if (s->get().find('\0') != std::string::npos) {
        ErrorAtValue(path,
                     "holds a NUL character (\\u0000), which would end a file name, program "
                     "name or argument early; remove it");
      }
    }
  }

  // --- typed access (the schema has reported wrong types already)

  std::string Name(const KeyPath& path) const {
    return config_internal::FormatKeyPath(*root_, path);
  }
  const toml::node* At(const KeyPath& path) const { return config_internal::NodeAt(*root_, path); }
  bool Has(const KeyPath& path) const { return At(path) != nullptr; }
  std::optional<std::string> String(const KeyPath& path) const {
    const toml::node* node = At(path);
    if (node == nullptr || !node->is_string()) return std::nullopt;
    return node->as_string()->get();
  }
  std::string StringOr(const KeyPath& path, std::string fallback = "") const {
    return String(path).value_or(std::move(fallback));
  }
  std::optional<int64_t> Integer(const KeyPath& path) const {
    const toml::node* node = At(path);
    if (node == nullptr || !node->is_integer()) return std::nullopt;
    return node->as_integer()->get();
  }
  std::optional<bool> Bool(const KeyPath& path) const {
    const toml::node* node = At(path);
    if (node == nullptr || !node->is_boolean()) return std::nullopt;
    return node->as_boolean()->get();
  }
  SourceLocation Location(const KeyPath& path) const {
    Position p = config_internal::ValuePosition(*root_, path);
    return SourceLocation{path_, p.line, p.column};
  }
  // A path from the file, relative to the config's folder.
  std::string PathValue(const KeyPath& path) const {
    std::optional<std::string> value = String(path);
    if (!value || value->empty()) return "";
    return ResolvePath(config_.dir, *value);
  }

  // --- value sources

  std::optional<ValueSource> Source(const KeyPath& path, const SourceRules& rules) {
    return config_internal::ParseValueSource(*root_, path, rules,
                                             SourceContext{path_, config_.dir, kind_},
                                             &diagnostics_, &secret_regions_);
  }

  // --- sections

  void LoadCloud() {
    CloudConfig& cloud = config_.cloud;
    const std::optional<std::string> kind = String({"cloud", "kind"});
    if (kind == "azurestack") kind_ = CloudKind::kAzureStack;
    if (kind == "azure") kind_ = CloudKind::kAzure;
    if (kind == "local") kind_ = CloudKind::kLocal;
    if (kind_) cloud.kind = *kind_;

    cloud.arm_endpoint = StringOr({"cloud", "arm_endpoint"});
    cloud.tenant_id = StringOr({"cloud", "tenant_id"});
    cloud.subscription_id = StringOr({"cloud", "subscription_id"});
    cloud.ca_bundle = PathValue({"cloud", "ca_bundle"});
    cloud.profile = StringOr({"cloud", "profile"});
    cloud.vault_dns_suffix = StringOr({"cloud", "vault_dns_suffix"});
    cloud.login_endpoint = StringOr({"cloud", "login_endpoint"});
    cloud.management_audience = StringOr({"cloud", "management_audience"});
    cloud.keyvault_audience = StringOr({"cloud", "keyvault_audience"});
    cloud.keyvault_api_version = StringOr({"cloud", "keyvault_api_version"});
    cloud.deployments_api_version = StringOr({"cloud", "deployments_api_version"});
    cloud.allow_insecure_loopback = Bool({"cloud", "allow_insecure_loopback"}).value_or(false);
    if (!kind_) return;

    if (*kind_ == CloudKind::kLocal) {
      for (const char* key :
           {"arm_endpoint", "tenant_id", "subscription_id", "ca_bundle", "profile",
            "vault_dns_suffix", "login_endpoint", "management_audience", "keyvault_audience",
            "keyvault_api_version", "deployments_api_version", "allow_insecure_loopback"}) {
        if (Has({"cloud", key})) {
          ErrorAtKey({"cloud", key},
                     "not used when kind = \"local\"; remove it, or set kind = "
                     "\"azurestack\" "
                     "or \"azure\"");
        }
      }
      cloud.state_dir =
          ResolvePath(config_.dir, StringOr({"cloud", "state_dir"}, kDefaultStateDir));
      return;
    }

    if (Has({"cloud", "state_dir"})) {
      ErrorAtKey({"cloud", "state_dir"}, "only used when kind = \"local\"; remove it");
    }
    if (cloud.profile.empty()) {
      cloud.profile = *kind_ == CloudKind::kAzureStack ? kAzureStackProfile : kAzureProfile;
    }
    if (cloud.arm_endpoint.empty()) {
      if (*kind_ == CloudKind::kAzure) {
        cloud.arm_endpoint = kAzureArmEndpoint;
      } else {
        ErrorAtValue({"cloud"},
                     "missing key \"arm_endpoint\" (required when kind = "
                     "\"azurestack\"); for "
                     "example arm_endpoint = "
                     "\"https://management.local.azurestack.external\"");
      }
    }
    while (absl::EndsWith(cloud.arm_endpoint, "/")) cloud.arm_endpoint.pop_back();
    for (const char* key : {"arm_endpoint", "login_endpoint"}) {
      std::optional<std::string> url = String({"cloud", key});
      if (!url || !absl::StartsWithIgnoreCase(*url, "http://")) continue;
      if (!cloud.allow_insecure_loopback || !IsLoopbackHost(UrlHost(*url))) {
        ErrorAtValue({"cloud", key},
                     "http:// is only allowed for a loopback host (localhost, "
                     "127.0.0.1, [::1]) "
                     "with allow_insecure_loopback = true; use https://");
      }
    }
    if (!Has({"auth"})) {
      ErrorAtValue({"cloud", "kind"},
                   absl::StrCat("kind = \"", KindName(*kind_),
                                "\" needs an [auth] table; add one with method = "
                                "\"client_secret\", \"client_certificate\", "
                                "\"managed_identity\" or \"environment\""));
    }
  }

  void LoadAuth() {
    if (!Has({"auth"})) return;
    AuthConfig& auth = config_.auth;
    std::optional<std::string> method = String({"auth", "method"});
    std::optional<AuthMethod> m;
    if (method == "client_secret") m = AuthMethod::kClientSecret;
    if (method == "client_certificate") m = AuthMethod::kClientCertificate;
    if (method == "managed_identity") m = AuthMethod::kManagedIdentity;
    if (method == "environment") m = AuthMethod::kEnvironment;
    if (m) auth.method = *m;
    auth.client_id = StringOr({"auth", "client_id"});
    auth.client_secret = Source({"auth", "client_secret"}, SourceRules{});
    auth.client_certificate = PathValue({"auth", "client_certificate"});
    auth.client_certificate_password =
        Source({"auth", "client_certificate_password"}, SourceRules{});
    if (!m) return;

    std::vector<const char*> needs, forbids;
    switch (*m) {
      case AuthMethod::kClientSecret:
        needs = {"client_id", "client_secret"};
        forbids = {"client_certificate", "client_certificate_password"};
        break;
      case AuthMethod::kClientCertificate:
        needs = {"client_id", "client_certificate"};
        forbids = {"client_secret"};
        break;
      case AuthMethod::kManagedIdentity:
        forbids = {"client_secret", "client_certificate", "client_certificate_password"};
        break;
      case AuthMethod::kEnvironment:
        forbids = {"client_id", "client_secret", "client_certificate",
                   "client_certificate_password"};
        break;
    }
    for (const char* key : needs) {
      if (Has({"auth", key})) continue;
      ErrorAtValue({"auth"}, absl::StrCat("missing key \"", key, "\" (required with method = \"",
                                          MethodName(*m), "\")",
                                          std::string(key) == "client_secret"
                                              ? "; for example client_secret = { env = "
                                                "\"AZURE_CLIENT_SECRET\" }"
                                              : ""));
    }
    for (const char* key : forbids) {
      if (!Has({"auth", key})) continue;
      ErrorAtKey({"auth", key},
                 absl::StrCat("not used with method = \"", MethodName(*m), "\"; remove it",
                              *m == AuthMethod::kEnvironment
                                  ? " (method \"environment\" reads AZURE_CLIENT_ID and the "
                                    "rest from the environment)"
                                  : ""));
    }
  }

  void LoadVault() {
    config_.vault.name = StringOr({"vault", "name"});
    config_.vault.resource_group = StringOr({"vault", "resource_group"});
    config_.vault.location = Location({"vault"});
  }

  void LoadCertificate() {
    if (!Has({"certificate"}) || !At({"certificate"})->is_table()) return;
    CertificateConfig cert;
    cert.secret_name = StringOr({"certificate", "secret_name"});
    cert.pfx = PathValue({"certificate", "pfx"});
    std::optional<ValueSource> password = Source({"certificate", "password"}, SourceRules{});
    if (password) cert.password = std::move(*password);
    cert.min_valid_days = static_cast<int>(Integer({"certificate", "min_valid_days"}).value_or(30));
    cert.warn_days = static_cast<int>(Integer({"certificate", "warn_days"}).value_or(45));
    cert.dns_name = StringOr({"certificate", "dns_name"});
    cert.ca_bundle = PathValue({"certificate", "ca_bundle"});
    cert.location = Location({"certificate"});
    LoadCertificateSource(cert);
    if (cert.warn_days < cert.min_valid_days) {
      const bool explicit_warn = Has({"certificate", "warn_days"});
      ErrorAtValue({"certificate", explicit_warn ? "warn_days" : "min_valid_days"},
                   absl::StrCat("warn_days (", cert.warn_days, explicit_warn ? "" : ", the default",
                                ") is less than min_valid_days (", cert.min_valid_days,
                                "); set warn_days to at least ", cert.min_valid_days));
    }
    config_.certificate = std::move(cert);
  }

  // Exactly one of pfx (with password), [certificate.acme] and
  // [certificate.issuer]; the keys that only an issuer uses.
  void LoadCertificateSource(CertificateConfig& cert) {
    const KeyPath pfx = {"certificate", "pfx"};
    const KeyPath acme = {"certificate", "acme"};
    const KeyPath issuer = {"certificate", "issuer"};
    std::vector<KeyPath> sources;
    for (const KeyPath& path : {pfx, acme, issuer}) {
      if (Has(path)) sources.push_back(path);
    }
    if (sources.empty()) {
      ErrorAtValue({"certificate"},
                   "needs exactly one source for the certificate: pfx (with password), "
                   "[certificate.acme] or [certificate.issuer]");
    }
    for (size_t i = 1; i < sources.size(); ++i) {
      ErrorAtKey(sources[i], absl::StrCat("not with ", Name(sources[0]),
                                          ": [certificate] takes exactly one of pfx (with "
                                          "password), [certificate.acme] and "
                                          "[certificate.issuer]; remove one"));
    }
    if (Has(pfx) && !Has({"certificate", "password"})) {
      ErrorAtKey(pfx,
                 "needs password (the PFX's password: { env = ... }, { file = ... } or "
                 "{ command = [...] })");
    }
    if (!Has(pfx) && Has({"certificate", "password"})) {
      ErrorAtKey({"certificate", "password"},
                 "only used with pfx (the PFX file's password); an issuer's PFX gets a "
                 "generated password; remove it");
    }
    if (const toml::node* table = At(acme); table != nullptr && table->is_table()) {
      AcmeConfig a;
      a.directory = StringOr({"certificate", "acme", "directory"});
      a.email = StringOr({"certificate", "acme", "email"});
      a.dns_zone = StringOr({"certificate", "acme", "dns_zone"});
      a.dns_resource_group = StringOr({"certificate", "acme", "dns_resource_group"});
      a.eab_key_id = StringOr({"certificate", "acme", "eab_key_id"});
      a.eab_hmac_key = Source({"certificate", "acme", "eab_hmac_key"}, SourceRules{});
      a.ca_bundle = PathValue({"certificate", "acme", "ca_bundle"});
      a.location = Location(acme);
      const bool has_id = Has({"certificate", "acme", "eab_key_id"});
      const bool has_key = Has({"certificate", "acme", "eab_hmac_key"});
      if (has_id != has_key) {
        ErrorAtKey({"certificate", "acme", has_id ? "eab_key_id" : "eab_hmac_key"},
                   absl::StrCat("External Account Binding needs both eab_key_id and "
                                "eab_hmac_key; add ",
                                has_id ? "eab_hmac_key" : "eab_key_id", " or remove this one"));
      }
      cert.acme = std::move(a);
    }
    if (const toml::node* table = At(issuer); table != nullptr && table->is_table()) {
      IssuerCommandConfig i;
      if (const toml::node* command = At({"certificate", "issuer", "command"});
          command != nullptr && command->is_array()) {
        for (const toml::node& arg : *command->as_array()) {
          if (arg.is_string()) i.command.push_back(arg.as_string()->get());
        }
        // As a value source's command: "./x" and "bin/x" are relative to
        // the config file, "x" is looked up in PATH.
        if (!i.command.empty() && i.command[0].find('/') != std::string::npos) {
          i.command[0] = ResolvePath(config_.dir, i.command[0]);
        }
      }
      if (std::optional<std::string> timeout = String({"certificate", "issuer", "timeout"})) {
        if (std::optional<absl::Duration> d = ParseDuration(*timeout, /*seconds=*/true)) {
          i.timeout = *d;
        }
      }
      i.location = Location(issuer);
      cert.issuer = std::move(i);
    }
    if (const toml::node* names = At({"certificate", "dns_names"});
        names != nullptr && names->is_array()) {
      for (const toml::node& name : *names->as_array()) {
        if (name.is_string()) cert.dns_names.push_back(name.as_string()->get());
      }
    }
    cert.key = StringOr({"certificate", "key"}, cert.key);
    cert.reuse_key = Bool({"certificate", "reuse_key"}).value_or(false);
    if (std::optional<std::string> renew = String({"certificate", "renew_before"})) {
      cert.renew_before.text = *renew;
      if (absl::EndsWith(*renew, "%")) {
        int percent = 0;
        if (absl::SimpleAtoi(absl::string_view(*renew).substr(0, renew->size() - 1), &percent) &&
            percent >= 1 && percent <= 99) {
          cert.renew_before.percent = percent;
        }
      } else {
        cert.renew_before.before = ParseDuration(*renew);
      }
    }
    if (!cert.HasIssuer()) {
      for (const char* key : {"dns_names", "key", "renew_before", "reuse_key"}) {
        if (Has({"certificate", key})) {
          ErrorAtKey({"certificate", key},
                     "only used with [certificate.acme] or [certificate.issuer] (rotor "
                     "renews only the certificates it has issued); remove it");
        }
      }
    }
  }

  void LoadUsers() {
    const toml::node* users = At({"user"});
    if (users == nullptr || !users->is_array()) return;
    std::optional<std::string> cert_name = String({"certificate", "secret_name"});
    struct Seen {
      std::string name;
      int line;
    };
    std::map<std::string, Seen> seen;  // lower-cased name -> first
    for (size_t i = 0; i < users->as_array()->size(); ++i) {
      const KeyPath base = {"user", i};
      if (!At(base)->is_table()) continue;
      UserConfig user;
      user.name = StringOr({"user", i, "name"});
      user.location = Location(base);
      std::optional<ValueSource> password = Source(
          {"user", i, "password"},
          SourceRules{.secret = true, .allow_generate = true, .max_length = kMaxLoginSecretLength});
      if (password) user.password = std::move(*password);

      if (std::optional<std::string> rotate = String({"user", i, "rotate_after"})) {
        if (password && password->kind != ValueSource::Kind::kGenerate) {
          ErrorAtKey({"user", i, "rotate_after"},
                     "only used with password = { generate = N }: rotor "
                     "rotates only the "
                     "passwords it generates; remove it");
        } else if (std::optional<absl::Duration> d = ParseDuration(*rotate)) {
          user.rotate_after = *d;
        }
      }

      if (const toml::node* publish = At({"user", i, "publish"});
          publish != nullptr && publish->is_array()) {
        for (size_t j = 0; j < publish->as_array()->size(); ++j) {
          PublishSink sink;
          if (std::optional<std::string> path =
                  String({"user", i, "publish", j, "docker_config"})) {
            sink.docker_config = ResolvePath(config_.dir, *path);
          } else if (const toml::node* command = At({"user", i, "publish", j, "command"});
                     command != nullptr && command->is_array()) {
            for (const toml::node& arg : *command->as_array()) {
              if (arg.is_string()) sink.command.push_back(arg.as_string()->get());
            }
            // As a value source's command: "./x" and "bin/x" are relative to
            // the config file, "x" is looked up in PATH.
            if (!sink.command.empty() && sink.command[0].find('/') != std::string::npos) {
              sink.command[0] = ResolvePath(config_.dir, sink.command[0]);
            }
          }
          if (!sink.docker_config.empty() || !sink.command.empty()) {
            user.publish.push_back(std::move(sink));
          }
        }
      }

      if (!user.name.empty()) {
        const Position at = config_internal::ValuePosition(*root_, {"user", i, "name"});
        const std::string lower = absl::AsciiStrToLower(user.name);
        auto [it, inserted] = seen.emplace(lower, Seen{user.name, at.line});
        if (!inserted) {
          ErrorAtValue({"user", i, "name"},
                       absl::StrCat("duplicate user \"", user.name, "\": user \"", it->second.name,
                                    "\" is declared at line ", it->second.line,
                                    " and Key Vault secret names ignore case; rename or remove "
                                    "one of them"));
        }
        if (cert_name && absl::EqualsIgnoreCase(*cert_name, user.name)) {
          const Position cert_at =
              config_internal::ValuePosition(*root_, {"certificate", "secret_name"});
          ErrorAtValue({"user", i, "name"},
                       absl::StrCat("\"", user.name,
                                    "\" is also the certificate's secret name "
                                    "(certificate.secret_name, line ",
                                    cert_at.line, "); rename the user or the certificate secret"));
        }
      }
      config_.users.push_back(std::move(user));
    }
  }

  // "90d": a whole number and m, h, d or w; with `seconds`, s too.
  static std::optional<absl::Duration> ParseDuration(absl::string_view text, bool seconds = false) {
    if (text.size() < 2) return std::nullopt;
    int64_t count = 0;
    if (!absl::SimpleAtoi(text.substr(0, text.size() - 1), &count) || count <= 0) {
      return std::nullopt;
    }
    switch (text.back()) {
      case 's':
        if (!seconds) return std::nullopt;
        return absl::Seconds(count);
      case 'm':
        return absl::Minutes(count);
      case 'h':
        return absl::Hours(count);
      case 'd':
        return absl::Hours(24 * count);
      case 'w':
        return absl::Hours(24 * 7 * count);
    }
    return std::nullopt;
  }

  void LoadDeployment() {
    if (!Has({"deployment"}) || !At({"deployment"})->is_table()) return;
    DeploymentConfig d;
    d.resource_group = StringOr({"deployment", "resource_group"});
    d.name = StringOr({"deployment", "name"}, "latest");
    d.client_id = Source({"deployment", "client_id"}, SourceRules{.secret = false});
    d.client_secret = Source({"deployment", "client_secret"}, SourceRules{});
    d.template_file = PathValue({"deployment", "template"});
    if (const toml::node* params = At({"deployment", "parameters"}); params && params->is_table()) {
      for (auto&& [key, value] : *params->as_table()) {
        absl::StatusOr<std::string> json = config_internal::TomlToJsonText(value);
        if (!json.ok()) {
          ErrorAtValue({"deployment", "parameters", std::string(key.str())},
                       absl::StrCat(json.status().message(), "; use a finite number"));
          continue;
        }
        d.parameters[std::string(key.str())] = *json;
      }
    }
    if (const toml::node* names = At({"deployment", "parameter_names"});
        names && names->is_table()) {
      for (auto&& [key, value] : *names->as_table()) {
        if (value.is_string()) d.parameter_names[std::string(key.str())] = value.as_string()->get();
      }
    }
    d.location = Location({"deployment"});
    config_.deployment = std::move(d);
  }

  void LoadRegistry() {
    config_.registry.url = StringOr({"registry", "url"});
    config_.registry.ca_bundle = PathValue({"registry", "ca_bundle"});
  }

  void LoadPolicy() {
    config_.policy.delete_stale_users = Bool({"policy", "delete_stale_users"}).value_or(true);
    config_.policy.delete_stale_certificates =
        Bool({"policy", "delete_stale_certificates"}).value_or(false);
    if (std::optional<std::string> retire = String({"policy", "retire_after"})) {
      config_.policy.retire_after = ParseDuration(*retire);
    }
    const std::string other = StringOr({"policy", "other_short_secrets"});
    using Other = PolicyConfig::OtherShortSecrets;
    config_.policy.other_short_secrets = other == "delete" ? Other::kDelete
                                         : other == "keep" ? Other::kKeep
                                                           : Other::kRefuse;
  }

  absl::string_view text_;
  std::string path_;
  const toml::table* root_ = nullptr;
  Config config_;
  std::optional<CloudKind> kind_;
  std::vector<Diagnostic> diagnostics_;
  std::vector<Region> secret_regions_;
};

}  // namespace

const char* KindName(CloudKind kind) {
  switch (kind) {
    case CloudKind::kAzureStack:
      return "azurestack";
    case CloudKind::kAzure:
      return "azure";
    case CloudKind::kLocal:
      return "local";
  }
  return "";
}

const char* MethodName(AuthMethod method) {
  switch (method) {
    case AuthMethod::kClientSecret:
      return "client_secret";
    case AuthMethod::kClientCertificate:
      return "client_certificate";
    case AuthMethod::kManagedIdentity:
      return "managed_identity";
    case AuthMethod::kEnvironment:
      return "environment";
  }
  return "";
}

absl::StatusOr<Config> ParseConfig(absl::string_view toml_text, const std::string& path) {
  return Loader(toml_text, path).Run();
}

absl::StatusOr<Config> LoadConfig(const std::string& path) {
  absl::StatusOr<std::string> text =
      ReadFile(path, ReadLimit{.max_bytes = kMaxConfigBytes, .what = "a config file"});
  if (!text.ok()) {
    // ReadFile says "open <path>: <reason>".
    absl::string_view reason = text.status().message();
    absl::ConsumePrefix(&reason, absl::StrCat("open ", ShowPath(path), ": "));
    absl::ConsumePrefix(&reason, absl::StrCat("read ", ShowPath(path), ": "));
    return absl::Status(
        text.status().code(),
        absl::StrCat(ShowPath(path), ": error: cannot read the config file: ", reason));
  }
  return ParseConfig(*text, path);
}

}  // namespace rotor
