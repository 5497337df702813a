#include "tests/emulator/emulator.h"

#include <cmath>
#include <cstdio>
#include <optional>
#include <random>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "base/files.h"
#include "base/status_macros.h"
#include "tests/emulator/json_internal.h"
#include "tests/emulator/seed.h"
#include "tests/emulator/util.h"

namespace rotor::emulator {
namespace {

bool Seg(const std::vector<std::string>& seg, size_t i, absl::string_view word) {
  return i < seg.size() && absl::EqualsIgnoreCase(seg[i], word);
}

HttpResponse NotFound(const HttpRequest& request) {
  rapidjson::StringBuffer b;
  json::Writer w(b);
  w.StartObject();
  json::Key(w, "error");
  w.StartObject();
  json::KeyStr(w, "code", "NotFound");
  json::KeyStr(w, "message",
               absl::StrCat("The emulator has no endpoint ", request.method, " ", request.path));
  w.EndObject();
  w.EndObject();
  HttpResponse r;
  r.Json(404, json::Text(b));
  return r;
}

void KeyVaultHeaders(HttpResponse& r, const HttpRequest& request) {
  r.SetHeader("Cache-Control", "no-cache");
  r.SetHeader("Pragma", "no-cache");
  r.SetHeader("Expires", "-1");
  r.SetHeader("x-ms-keyvault-region", "local");
  r.SetHeader("x-ms-keyvault-network-info",
              "conn_type=Ipv4;addr=127.0.0.1;act_addr_fam=InterNetwork;");
  r.SetHeader("x-ms-keyvault-service-version", "1.9.0.0-rotor-emulator");
  r.SetHeader("x-content-type-options", "nosniff");
  r.SetHeader("Strict-Transport-Security", "max-age=31536000;includeSubDomains");
  const std::string client_id = request.Header("x-ms-client-request-id");
  if (!client_id.empty()) r.SetHeader("x-ms-client-request-id", client_id);
}

void ArmHeaders(HttpResponse& r, const HttpRequest& request) {
  r.SetHeader("Cache-Control", "no-cache");
  r.SetHeader("Pragma", "no-cache");
  r.SetHeader("Expires", "-1");
  r.SetHeader("x-content-type-options", "nosniff");
  r.SetHeader("Strict-Transport-Security", "max-age=31536000; includeSubDomains");
  r.SetHeader("x-ms-correlation-request-id", NewUuid());
  if (request.method == "GET" || request.method == "HEAD") {
    r.SetHeader("x-ms-ratelimit-remaining-subscription-reads", "11999");
  } else if (request.method == "DELETE") {
    r.SetHeader("x-ms-ratelimit-remaining-subscription-deletes", "14999");
  } else {
    r.SetHeader("x-ms-ratelimit-remaining-subscription-writes", "1199");
  }
  // Errors ARM answers itself (not a resource provider) name the gateway.
  if (r.status >= 400 && r.status < 500) r.SetHeader("x-ms-failure-cause", "gateway");
}

}  // namespace

Emulator::Emulator(EmulatorOptions options, int port) : options_(std::move(options)) {
  endpoints_.port = port;
  endpoints_.identity = options_.identity;
  endpoints_.tenant = options_.tenant;
}

Emulator::~Emulator() { Shutdown(); }

absl::StatusOr<std::unique_ptr<Emulator>> Emulator::Create(EmulatorOptions options, int port,
                                                           const TlsFiles& tls) {
  // --seed-registry works on the first vault and resource group, the
  // manual procedure's names when none is given.
  if (options.seed_registry) {
    if (options.vaults.empty()) options.vaults.push_back(kSeedVault);
    if (options.resource_groups.empty()) options.resource_groups.push_back(kSeedResourceGroup);
  }
  std::unique_ptr<Emulator> e(new Emulator(std::move(options), port));
  const EmulatorOptions& o = e->options_;
  if (!o.clients.empty()) {
    e->first_client_.emplace(o.clients[0].client_id,
                             Secret(std::string(o.clients[0].secret.Reveal())));
  }
  e->seed_ = o.seed.has_value() ? *o.seed : std::random_device{}();
  e->faults_ = std::make_unique<FaultInjector>(o.fail_rate, o.drop_rate, e->seed_, o.corrupt_rate,
                                               o.slow_rate);
  if (!o.journal_path.empty()) {
    ASSIGN_OR_RETURN(e->journal_, Journal::Open(o.journal_path));
  }
  ASSIGN_OR_RETURN(e->tokens_, TokenService::Create(e->endpoints_, tls.token_key_path,
                                                    std::move(e->options_.clients), o.client_certs,
                                                    o.token_lifetime));
  local::VaultModelOptions model;
  model.soft_delete = o.soft_delete;
  model.retention_days = o.retention_days;
  ASSIGN_OR_RETURN(e->vaults_, KeyVaultService::Open(o.state_dir, o.vaults, model, RealClock::Get(),
                                                     o.persist_interval));
  e->vaults_->set_replication_delay(o.replication_delay);
  RegistryOptions registry;
  registry.registry_dir = o.registry_dir;
  registry.registry_cmd = o.registry_cmd;
  registry.bcrypt_cost = o.bcrypt_cost;
  registry.always_rerun = o.always_rerun;
  registry.log_path = absl::StrCat(o.state_dir, "/registry-cmd.log");
  e->registry_ = std::make_unique<RegistryProvisioner>(registry, *e->vaults_, *e->tokens_);
  ArmOptions arm;
  arm.state_dir = o.state_dir;
  arm.resource_groups = o.resource_groups;
  arm.deploy_duration = o.deploy_duration;
  arm.deploy_fail = o.deploy_fail;
  arm.page_size = o.arm_page_size;
  arm.dns_zones = o.dns_zones;
  arm.challtestsrv = o.challtestsrv;
  ASSIGN_OR_RETURN(e->arm_,
                   ArmService::Open(arm, e->endpoints_, *e->vaults_, *e->registry_, e->stats_));
  // After a restart, bring the registry of the last successful deployment back.
  const std::string thumbprint = e->arm_->LastRegistryThumbprint();
  if (!o.registry_cmd.empty() && !thumbprint.empty() &&
      PathExists(absl::StrCat(o.registry_dir, "/", thumbprint, ".crt"))) {
    absl::Status started = e->registry_->StartRegistry(thumbprint);
    if (!started.ok()) {
      std::fprintf(stderr, "rotor-emulator: restarting the registry command failed: %s\n",
                   std::string(started.message()).c_str());
    }
  }
  return e;
}

void Emulator::Shutdown() {
  if (arm_) arm_->Shutdown();
  if (registry_) registry_->StopRegistry();
}

std::vector<std::string> Emulator::EndpointLines() const {
  std::vector<std::string> lines;
  const int port = endpoints_.port;
  lines.push_back(absl::StrCat("listening https://", options_.listen_host, ":", port));
  lines.push_back(absl::StrCat("ca ", options_.state_dir, "/ca.pem"));
  lines.push_back(
      absl::StrCat("metadata ", endpoints_.Arm(), "/metadata/endpoints?api-version=2015-01-01"));
  lines.push_back(absl::StrCat("arm ", endpoints_.Arm()));
  lines.push_back(absl::StrCat("arm-audience ", endpoints_.ArmAudience()));
  lines.push_back(absl::StrCat("login ", endpoints_.Authority(), " (", endpoints_.identity, ")"));
  lines.push_back(
      absl::StrCat("token-v1 ", endpoints_.Login(), "/", endpoints_.tenant, "/oauth2/token"));
  lines.push_back(
      absl::StrCat("token-v2 ", endpoints_.Login(), "/", endpoints_.tenant, "/oauth2/v2.0/token"));
  lines.push_back(absl::StrCat("token-adfs ", endpoints_.Login(), "/adfs/oauth2/token"));
  lines.push_back(absl::StrCat("keyvault-resource ", endpoints_.VaultResource()));
  for (const auto& v : vaults_->Names()) {
    lines.push_back(absl::StrCat("vault ", v, " ", endpoints_.Vault(v)));
  }
  lines.push_back(absl::StrCat("stats https://127.0.0.1:", port, "/_emulator/stats"));
  return lines;
}

std::string Emulator::EndpointsJson() const {
  rapidjson::StringBuffer b;
  json::Writer w(b);
  w.StartObject();
  json::Key(w, "port");
  w.Int(endpoints_.port);
  json::KeyStr(w, "ca", absl::StrCat(options_.state_dir, "/ca.pem"));
  json::KeyStr(w, "arm", endpoints_.Arm());
  json::KeyStr(w, "arm_audience", endpoints_.ArmAudience());
  json::KeyStr(w, "metadata",
               absl::StrCat(endpoints_.Arm(), "/metadata/endpoints?api-version=2015-01-01"));
  json::KeyStr(w, "identity", endpoints_.identity);
  json::KeyStr(w, "tenant", endpoints_.tenant);
  json::KeyStr(w, "authority", endpoints_.Authority());
  json::KeyStr(w, "token_v1",
               absl::StrCat(endpoints_.Login(), "/", endpoints_.tenant, "/oauth2/token"));
  json::KeyStr(w, "token_v2",
               absl::StrCat(endpoints_.Login(), "/", endpoints_.tenant, "/oauth2/v2.0/token"));
  json::KeyStr(w, "token_adfs", absl::StrCat(endpoints_.Login(), "/adfs/oauth2/token"));
  json::KeyStr(w, "keyvault_resource", endpoints_.VaultResource());
  json::Key(w, "vaults");
  w.StartObject();
  for (const auto& v : vaults_->Names()) json::KeyStr(w, v, endpoints_.Vault(v));
  w.EndObject();
  json::KeyStr(w, "stats", absl::StrCat("https://127.0.0.1:", endpoints_.port, "/_emulator/stats"));
  json::Key(w, "seed");
  w.Uint64(seed_);
  w.EndObject();
  return json::Text(b);
}

SlidingWindow& Emulator::Window(const std::string& vault, bool write) {
  std::lock_guard<std::mutex> lock(windows_mu_);
  auto& slot = windows_[absl::StrCat(write ? "w/" : "a/", absl::AsciiStrToLower(vault))];
  if (!slot) {
    slot = std::make_unique<SlidingWindow>(write ? options_.write_throttle : options_.throttle);
  }
  return *slot;
}

HttpResponse Emulator::Handle(const HttpRequest& request) {
  const absl::Time start = absl::Now();
  HttpResponse r;
  std::string vault_for_stats;
  if (absl::StartsWith(request.path, "/_emulator/")) {
    r = Admin(request);
  } else {
    JournalContext journal;
    if (journal_) {
      journal.seq = journal_->Arrive();
      journal.arrival = start;
      if (auto put = DeploymentPut(request); put.has_value()) {
        journal.running = arm_->RunningIn(put->first);
      }
    }
    auto record = [&](HttpResponse& answer) {
      if (!journal_) return;
      journal.took = absl::Now() - start;
      if (IsKeyVaultPath(request.path)) journal.vault = JournalVault(request);
      journal_->Record(journal, request, answer);
    };
    std::optional<HttpResponse> as_carried_out;
    if (options_.latency > absl::ZeroDuration()) absl::SleepFor(options_.latency);
    const Fault fault = faults_->Next();
    std::optional<HttpResponse> scripted = scripted_.Take(request);
    if (scripted.has_value()) {
      r = *std::move(scripted);
      journal.fault = "scripted";
    } else if (fault == Fault::kDrop) {
      stats_.Dropped();
      r.drop = true;
      if (!options_.quiet) {
        std::fprintf(stderr, "rotor-emulator: %s %s%s dropped (--drop-rate)\n",
                     request.method.c_str(), request.host.c_str(), request.target.c_str());
      }
      journal.fault = "drop";
      record(r);
      return r;
    }
    if (scripted.has_value()) {
      // Answered above (POST /_emulator/answer).
    } else if (fault == Fault::kFail500 || fault == Fault::kFail503) {
      journal.fault = fault == Fault::kFail503 ? "503" : "500";
      stats_.InjectedFailure();
      const bool unavailable = fault == Fault::kFail503;
      r = KeyVaultError(unavailable ? 503 : 500,
                        unavailable ? "ServiceUnavailable" : "InternalServerError",
                        unavailable ? "The service is temporarily unavailable (--fail-rate)."
                                    : "An internal server error occurred (--fail-rate).");
      if (IsKeyVaultPath(request.path)) {
        std::string host = HostName(request.host);
        size_t dot = host.find(".vault.");
        std::string vault = dot != std::string::npos   ? vaults_->Find(host.substr(0, dot))
                            : vaults_->Names().empty() ? std::string()
                                                       : vaults_->Names()[0];
        if (!vault.empty()) {
          stats_.Vault(vault, KeyVaultOperation(request), r.status, false);
        }
      }
    } else {
      r = Route(request);
      // Faults of the answer to a request that was carried out.
      const AnswerFault answer = faults_->NextAnswer();
      if (answer.corrupt && !r.body.empty()) {
        // The journal records what was carried out (a SetSecret's version
        // comes from the answer), not what the client received.
        if (journal_) as_carried_out = r;
        stats_.InjectedFailure();
        r.body = CorruptBody(r.body, answer);
        journal.fault = "corrupt";
      }
      if (answer.slow) {
        journal.fault = journal.fault.empty() ? "slow" : journal.fault + ",slow";
        absl::SleepFor(options_.slow);
      }
    }
    stats_.Request(r.status);
    record(as_carried_out.has_value() ? *as_carried_out : r);
  }
  r.SetHeader("x-ms-request-id", NewUuid());
  r.SetHeader("Date", HttpDate(absl::Now()));
  if (!options_.quiet && !absl::StartsWith(request.path, "/_emulator/")) {
    std::fprintf(stderr, "rotor-emulator: %s %s%s %d %lldms\n", request.method.c_str(),
                 request.host.c_str(), request.target.c_str(), r.status,
                 static_cast<long long>(absl::ToInt64Milliseconds(absl::Now() - start)));
  }
  return r;
}

HttpResponse Emulator::Route(const HttpRequest& request) {
  const std::vector<std::string> seg = PathSegments(request.path);
  if (Seg(seg, 0, "metadata") && Seg(seg, 1, "endpoints") && seg.size() == 2) {
    return Metadata(request);
  }
  if (IsKeyVaultPath(request.path)) return KeyVault(request);
  if (Seg(seg, 0, "subscriptions")) return Arm(request);
  // Tokens.
  if (seg.size() == 3 && Seg(seg, 1, "oauth2") && Seg(seg, 2, "token")) {
    const bool adfs = Seg(seg, 0, "adfs");
    return tokens_->IssueToken(request, adfs ? TokenFlavor::kAdfs : TokenFlavor::kAadV1,
                               adfs ? "adfs" : seg[0]);
  }
  if (seg.size() == 4 && Seg(seg, 1, "oauth2") && Seg(seg, 2, "v2.0") && Seg(seg, 3, "token")) {
    return tokens_->IssueToken(request, TokenFlavor::kAadV2, seg[0]);
  }
  if (request.method == "GET") {
    if (seg.size() == 3 && Seg(seg, 1, ".well-known") && Seg(seg, 2, "openid-configuration")) {
      return OpenIdConfiguration(request, seg[0], false);
    }
    if (seg.size() == 4 && Seg(seg, 1, "v2.0") && Seg(seg, 2, ".well-known") &&
        Seg(seg, 3, "openid-configuration")) {
      return OpenIdConfiguration(request, seg[0], true);
    }
    if ((seg.size() == 4 && Seg(seg, 1, "discovery") && Seg(seg, 2, "v2.0") &&
         Seg(seg, 3, "keys")) ||
        (seg.size() == 3 && Seg(seg, 1, "discovery") && Seg(seg, 2, "keys"))) {
      HttpResponse r;
      r.Json(200, tokens_->JwksJson());
      return r;
    }
    if (seg.size() == 3 && Seg(seg, 0, "common") && Seg(seg, 1, "discovery") &&
        Seg(seg, 2, "instance")) {
      const std::string host =
          request.host.empty() ? absl::StrCat("127.0.0.1:", endpoints_.port) : request.host;
      rapidjson::StringBuffer b;
      json::Writer w(b);
      w.StartObject();
      json::KeyStr(w, "tenant_discovery_endpoint",
                   absl::StrCat("https://", host, "/", endpoints_.tenant,
                                "/v2.0/.well-known/openid-configuration"));
      json::KeyStr(w, "api-version", "1.1");
      json::Key(w, "metadata");
      w.StartArray();
      w.StartObject();
      json::KeyStr(w, "preferred_network", host);
      json::KeyStr(w, "preferred_cache", host);
      json::Key(w, "aliases");
      w.StartArray();
      json::Str(w, host);
      w.EndArray();
      w.EndObject();
      w.EndArray();
      w.EndObject();
      HttpResponse r;
      r.Json(200, json::Text(b));
      return r;
    }
  }
  return NotFound(request);
}

HttpResponse Emulator::Admin(const HttpRequest& request) {
  HttpResponse r;
  const std::string& p = request.path;
  if (p == "/_emulator/stats" && request.method == "GET") {
    r.Json(200, stats_.Json(tokens_->issued(), tokens_->refused(), arm_->Running()));
  } else if (p == "/_emulator/stats/reset" && request.method == "POST") {
    stats_.Reset();
    r.status = 204;
  } else if (p == "/_emulator/deploy-fail" && request.method == "POST" &&
             !request.Query("resourceGroup").empty()) {
    arm_->ArmFailure(request.Query("resourceGroup"));
    r.status = 204;
  } else if (p == "/_emulator/answer" && request.method == "POST" &&
             !request.Query("path").empty()) {
    // The next `count` (default 1, 0: until DELETE) requests for `method`
    // (default any) and `path` get `status` (default 200), the request body
    // repeated `repeat` times (default 1) as `contentType` (default JSON),
    // and the header `header` ("Name: value") if given.
    ScriptedAnswer answer;
    answer.method = request.HasQuery("method") ? request.Query("method") : "*";
    answer.path = request.Query("path");
    int count = 1, status = 200, repeat = 1;
    if ((request.HasQuery("count") && !absl::SimpleAtoi(request.Query("count"), &count)) ||
        (request.HasQuery("status") && !absl::SimpleAtoi(request.Query("status"), &status)) ||
        (request.HasQuery("repeat") &&
         (!absl::SimpleAtoi(request.Query("repeat"), &repeat) || repeat < 0 ||
          static_cast<double>(repeat) * static_cast<double>(request.body.size()) > 256e6))) {
      return KeyVaultError(400, "BadParameter", "count, status and repeat are numbers");
    }
    answer.remaining = count;
    answer.response.status = status;
    answer.response.body.reserve(request.body.size() * static_cast<size_t>(repeat));
    for (int i = 0; i < repeat; ++i) answer.response.body += request.body;
    answer.response.content_type = request.HasQuery("contentType")
                                       ? request.Query("contentType")
                                       : "application/json; charset=utf-8";
    if (const std::string header = request.Query("header"); !header.empty()) {
      const size_t colon = header.find(':');
      if (colon == std::string::npos) {
        return KeyVaultError(400, "BadParameter", "header is \"Name: value\"");
      }
      answer.response.SetHeader(header.substr(0, colon),
                                std::string(absl::StripAsciiWhitespace(header.substr(colon + 1))));
    }
    scripted_.Add(std::move(answer));
    r.status = 204;
  } else if (p == "/_emulator/answer" && request.method == "DELETE") {
    scripted_.Clear();
    r.status = 204;
  } else if (p == "/_emulator/health" && request.method == "GET") {
    r.Json(200, "{\"status\":\"ok\"}");
  } else if (p == "/_emulator/endpoints" && request.method == "GET") {
    r.Json(200, EndpointsJson());
  } else {
    r = NotFound(request);
  }
  return r;
}

HttpResponse Emulator::Metadata(const HttpRequest& request) const {
  // The login endpoint follows the name the client used: management.X ->
  // login.X; a bare address (127.0.0.1, localhost) stays as it is, for
  // clients that cannot resolve *.localhost.
  std::string host = HostName(request.host);
  if (host.empty()) host = "127.0.0.1";
  std::string login_host = host;
  if (absl::StartsWith(host, "management.")) {
    login_host = absl::StrCat("login.", host.substr(strlen("management.")));
  }
  if (login_host.find(':') != std::string::npos) login_host = absl::StrCat("[", login_host, "]");
  const std::string login = absl::StrCat("https://", login_host, ":", endpoints_.port);
  rapidjson::StringBuffer b;
  json::Writer w(b);
  w.StartObject();
  json::KeyStr(w, "galleryEndpoint", endpoints_.Origin("gallery.localhost") + "/");
  json::KeyStr(w, "graphEndpoint", endpoints_.Origin("graph.localhost") + "/");
  json::KeyStr(w, "portalEndpoint", endpoints_.Origin("portal.localhost") + "/");
  json::Key(w, "authentication");
  w.StartObject();
  json::KeyStr(w, "loginEndpoint",
               endpoints_.adfs() ? absl::StrCat(login, "/adfs") : absl::StrCat(login, "/"));
  json::Key(w, "audiences");
  w.StartArray();
  json::Str(w, endpoints_.ArmAudience());
  w.EndArray();
  w.EndObject();
  w.EndObject();
  HttpResponse r;
  r.Json(200, json::Text(b));
  return r;
}

HttpResponse Emulator::OpenIdConfiguration(const HttpRequest& request, const std::string& tenant,
                                           bool v2) const {
  const std::string origin =
      absl::StrCat("https://", request.host.empty() ? absl::StrCat("127.0.0.1:", endpoints_.port)
                                                    : request.host);
  const bool adfs = absl::EqualsIgnoreCase(tenant, "adfs");
  const std::string base = absl::StrCat(origin, "/", tenant);
  const std::string oauth = v2 ? absl::StrCat(base, "/oauth2/v2.0") : absl::StrCat(base, "/oauth2");
  rapidjson::StringBuffer b;
  json::Writer w(b);
  w.StartObject();
  json::KeyStr(w, "token_endpoint", absl::StrCat(oauth, "/token"));
  json::Key(w, "token_endpoint_auth_methods_supported");
  w.StartArray();
  for (const char* m : {"client_secret_post", "private_key_jwt", "client_secret_basic"}) {
    json::Str(w, m);
  }
  w.EndArray();
  json::KeyStr(w, "jwks_uri", absl::StrCat(base, v2 ? "/discovery/v2.0/keys" : "/discovery/keys"));
  json::Key(w, "response_modes_supported");
  w.StartArray();
  for (const char* m : {"query", "fragment", "form_post"}) json::Str(w, m);
  w.EndArray();
  json::Key(w, "subject_types_supported");
  w.StartArray();
  json::Str(w, "pairwise");
  w.EndArray();
  json::Key(w, "id_token_signing_alg_values_supported");
  w.StartArray();
  json::Str(w, "RS256");
  w.EndArray();
  json::Key(w, "response_types_supported");
  w.StartArray();
  for (const char* m : {"code", "id_token", "code id_token", "token id_token", "token"}) {
    json::Str(w, m);
  }
  w.EndArray();
  json::Key(w, "scopes_supported");
  w.StartArray();
  for (const char* m : {"openid", "profile", "email", "offline_access"}) json::Str(w, m);
  w.EndArray();
  json::KeyStr(w, "issuer",
               adfs ? absl::StrCat(origin, "/adfs")
               : v2 ? absl::StrCat(base, "/v2.0")
                    : absl::StrCat("https://sts.localhost/", tenant, "/"));
  json::Key(w, "request_uri_parameter_supported");
  w.Bool(false);
  json::KeyStr(w, "userinfo_endpoint", absl::StrCat(origin, "/oidc/userinfo"));
  json::KeyStr(w, "authorization_endpoint", absl::StrCat(oauth, "/authorize"));
  json::KeyStr(w, "device_authorization_endpoint", absl::StrCat(oauth, "/devicecode"));
  json::Key(w, "http_logout_supported");
  w.Bool(true);
  json::Key(w, "frontchannel_logout_supported");
  w.Bool(true);
  json::KeyStr(w, "end_session_endpoint", absl::StrCat(oauth, "/logout"));
  json::Key(w, "claims_supported");
  w.StartArray();
  for (const char* m : {"sub", "iss", "aud", "exp", "iat", "nbf", "tid", "appid"}) json::Str(w, m);
  w.EndArray();
  json::Key(w, "tenant_region_scope");
  w.Null();
  json::KeyStr(w, "cloud_instance_name", "localhost");
  json::KeyStr(w, "cloud_graph_host_name", "graph.localhost");
  json::KeyStr(w, "msgraph_host", "graph.localhost");
  w.EndObject();
  HttpResponse r;
  r.Json(200, json::Text(b));
  return r;
}

std::string Emulator::JournalVault(const HttpRequest& request) const {
  const std::string host = HostName(request.host);
  const size_t dot = host.find(".vault.");
  if (dot != std::string::npos && dot > 0) return vaults_->Find(host.substr(0, dot));
  return vaults_->Names().empty() ? std::string() : vaults_->Names()[0];
}

HttpResponse Emulator::KeyVault(const HttpRequest& request) {
  // The vault: {vault}.vault.{suffix}, else the first vault.
  const std::string host = HostName(request.host);
  std::string vault;
  const size_t dot = host.find(".vault.");
  if (dot != std::string::npos && dot > 0) {
    vault = vaults_->Find(host.substr(0, dot));
    if (vault.empty()) {
      HttpResponse r = KeyVaultError(
          404, "VaultNotFound",
          absl::StrCat("The vault '", host.substr(0, dot),
                       "' is not served by this emulator (start it with --vault NAME)."));
      KeyVaultHeaders(r, request);
      return r;
    }
  } else if (!vaults_->Names().empty()) {
    vault = vaults_->Names()[0];
  } else {
    HttpResponse r = KeyVaultError(404, "VaultNotFound",
                                   "The emulator serves no vault (start it with --vault NAME).");
    KeyVaultHeaders(r, request);
    return r;
  }
  const std::string op = KeyVaultOperation(request);
  const bool write = IsKeyVaultWrite(request);
  HttpResponse r;

  const TokenCheck check =
      tokens_->Validate(request.Header("authorization"), endpoints_.VaultAudiences());
  if (!check.ok()) {
    std::string message;
    switch (check.outcome) {
      case TokenCheck::kMissing:
        message = "AKV10000: Request is missing a Bearer or PoP token.";
        break;
      case TokenCheck::kExpired:
        message = absl::StrCat(
            "Token is expired: the access token expired at ",
            absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", check.expires, absl::UTCTimeZone()), ".");
        break;
      case TokenCheck::kWrongAudience:
        message = absl::StrCat("AKV10022: Invalid audience. Expected ", endpoints_.VaultResource(),
                               ", found: ", check.audience, ".");
        break;
      default:
        message = "The access token is not valid: it was not issued by this emulator.";
        break;
    }
    r = KeyVaultError(401, "Unauthorized", message);
    r.SetHeader("WWW-Authenticate",
                absl::StrCat("Bearer authorization=\"", endpoints_.Authority(), "\", resource=\"",
                             endpoints_.VaultResource(), "\""));
  } else {
    const absl::Time now = absl::Now();
    SlidingWindow& all = Window(vault, false);
    std::optional<absl::Duration> wait = all.Admit(now);
    const char* reason = "VaultOperationLimitReached";
    if (!wait && write) {
      wait = Window(vault, true).Admit(now);
      if (wait) {
        all.Undo();
        reason = "VaultRequestTypeLimitReached";
      }
    }
    if (wait) {
      r = KeyVaultError(429, "Throttled",
                        absl::StrCat("Request was not processed because too many requests were "
                                     "received. Reason: ",
                                     reason));
      if (!options_.throttle_no_retry_after) {
        const int64_t seconds =
            std::max<int64_t>(1, static_cast<int64_t>(std::ceil(absl::ToDoubleSeconds(*wait))));
        r.SetHeader("Retry-After", absl::StrCat(seconds));
      }
    } else {
      const std::string base = request.host.empty()
                                   ? absl::StrCat("https://127.0.0.1:", endpoints_.port)
                                   : absl::StrCat("https://", request.host);
      r = vaults_->Handle(vault, request, base);
    }
  }
  KeyVaultHeaders(r, request);
  stats_.Vault(vault, op, r.status, write);
  return r;
}

HttpResponse Emulator::Arm(const HttpRequest& request) {
  HttpResponse r;
  const TokenCheck check =
      tokens_->Validate(request.Header("authorization"), endpoints_.ArmAudiences());
  if (!check.ok()) {
    std::string code, message, description;
    switch (check.outcome) {
      case TokenCheck::kMissing:
        code = "AuthenticationFailed";
        message = "Authentication failed. The 'Authorization' header is missing.";
        description = "The authentication failed because of missing 'Authorization' header.";
        break;
      case TokenCheck::kExpired: {
        const auto fmt = [](absl::Time t) {
          return absl::FormatTime("%m/%d/%Y %H:%M:%S", t, absl::UTCTimeZone());
        };
        code = "ExpiredAuthenticationToken";
        message = absl::StrCat("The access token expiry UTC time '", fmt(check.expires),
                               "' is earlier than current UTC time '", fmt(absl::Now()), "'.");
        description = "The access token has expired.";
        break;
      }
      case TokenCheck::kWrongAudience:
        code = "InvalidAuthenticationTokenAudience";
        message = absl::StrCat(
            "The access token has been obtained for wrong audience or resource '", check.audience,
            "'. It should exactly match with one of the allowed audiences '",
            endpoints_.ArmAudience(), "','", endpoints_.Arm(), "/'.");
        description = "The access token has an invalid audience.";
        break;
      default:
        code = "InvalidAuthenticationToken";
        message = "The access token is invalid.";
        description = "The access token is not valid.";
        break;
    }
    r = ArmError(401, code, message);
    r.SetHeader(
        "WWW-Authenticate",
        absl::StrCat("Bearer authorization_uri=\"", endpoints_.Authority(),
                     "\", error=\"invalid_token\", error_description=\"", description, "\""));
  } else {
    const std::string base = request.host.empty()
                                 ? absl::StrCat("https://127.0.0.1:", endpoints_.port)
                                 : absl::StrCat("https://", request.host);
    r = arm_->Handle(request, base);
  }
  ArmHeaders(r, request);
  stats_.Arm(r.status);
  return r;
}

}  // namespace rotor::emulator
