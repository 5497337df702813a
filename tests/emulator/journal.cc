#include "tests/emulator/journal.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/files.h"
#include "base/secret.h"
#include "certs/keyvault_secret.h"
#include "certs/pfx.h"
#include "tests/emulator/json_internal.h"
#include "tests/emulator/keyvault.h"
#include "tests/emulator/util.h"

namespace rotor::emulator {
namespace {

bool Is(const std::vector<std::string>& seg, size_t i, absl::string_view word) {
  return i < seg.size() && absl::EqualsIgnoreCase(seg[i], word);
}

// The last path segment of a Key Vault id ("https://.../secrets/a/VERSION").
std::string VersionOfId(absl::string_view id) {
  std::vector<absl::string_view> parts = absl::StrSplit(id, '/');
  // https: "" host secrets NAME VERSION
  if (parts.size() >= 6 && absl::EqualsIgnoreCase(parts[parts.size() - 3], "secrets")) {
    return std::string(parts.back());
  }
  return "";
}

const rapidjson::Value* ParameterValue(const rapidjson::Value& parameters, absl::string_view name) {
  const rapidjson::Value* p = json::MemberCi(parameters, name);
  return p == nullptr ? nullptr : json::MemberCi(*p, "value");
}

void KeyVaultFields(json::Writer& w, const JournalContext& context, const HttpRequest& request,
                    const HttpResponse& response) {
  const std::vector<std::string> seg = PathSegments(request.path);
  const std::string op = KeyVaultOperation(request);
  json::KeyStr(w, "vault", context.vault);
  json::KeyStr(w, "op", op);
  if (seg.size() >= 2 && !seg[1].empty()) json::KeyStr(w, "secret", seg[1]);
  std::string version;
  if (Is(seg, 0, "secrets") && seg.size() == 3 && !Is(seg, 2, "versions") &&
      !Is(seg, 2, "backup")) {
    version = seg[2];
  }
  const bool ok = response.status >= 200 && response.status < 300;
  rapidjson::Document answer;
  if (ok && !response.body.empty() &&
      (op == "SetSecret" || op == "UpdateSecret" || op == "RecoverDeletedSecret")) {
    answer.Parse<rapidjson::kParseIterativeFlag>(response.body.data(), response.body.size());
    if (!answer.HasParseError()) {
      if (auto id = json::StrMember(answer, "id"); id.has_value()) version = VersionOfId(*id);
    }
  }
  if (!version.empty()) json::KeyStr(w, "version", version);
  if (op != "SetSecret" && op != "UpdateSecret") return;
  rapidjson::Document body;
  body.Parse<rapidjson::kParseIterativeFlag>(request.body.data(), request.body.size());
  if (body.HasParseError() || !body.IsObject()) return;
  std::optional<std::string> content_type = json::StrMember(body, "contentType");
  if (content_type.has_value()) json::KeyStr(w, "content_type", *content_type);
  std::optional<bool> enabled;
  if (const auto* attributes = json::Member(body, "attributes"); attributes != nullptr) {
    if (const auto* e = json::Member(*attributes, "enabled"); e != nullptr && e->IsBool()) {
      enabled = e->GetBool();
    }
  }
  if (op == "SetSecret" && !enabled.has_value()) enabled = true;
  if (enabled.has_value()) {
    json::Key(w, "enabled");
    w.Bool(*enabled);
  }
  // The thumbprint of the PFX a write stored (never the value itself).
  if (op == "SetSecret" && ok && content_type.has_value() &&
      (*content_type == "pfx" || *content_type == certs::kPkcs12ContentType)) {
    const auto* value = json::Member(body, "value");
    if (value == nullptr || !value->IsString()) return;
    Secret secret(std::string(value->GetString(), value->GetStringLength()));
    auto decoded = certs::DecodeCertificateSecret(secret, *content_type);
    if (!decoded.ok()) {
      json::KeyStr(w, "pfx_error", decoded.status().message());
      return;
    }
    auto pfx = certs::Pfx::Open(decoded->pfx_der.Reveal(), decoded->password, "the secret");
    if (!pfx.ok()) {
      json::KeyStr(w, "pfx_error", pfx.status().message());
      return;
    }
    json::KeyStr(w, "thumbprint", pfx->Thumbprint());
  }
}

void ArmFields(json::Writer& w, const JournalContext& context, const HttpRequest& request) {
  const std::vector<std::string> seg = PathSegments(request.path);
  // subscriptions/{sub}/resourcegroups/{rg}/providers/Microsoft.Resources/deployments/{name}/...
  if (!Is(seg, 2, "resourcegroups") || seg.size() < 4) return;
  json::KeyStr(w, "resource_group", seg[3]);
  // .../providers/Microsoft.Network/dnsZones/{zone}[/{type}/{name}] (dns.h)
  if (Is(seg, 4, "providers") && Is(seg, 5, "Microsoft.Network") && Is(seg, 6, "dnszones") &&
      seg.size() >= 8) {
    json::KeyStr(w, "dns_zone", seg[7]);
    if (seg.size() >= 9) json::KeyStr(w, "record_type", seg[8]);
    if (seg.size() >= 10) json::KeyStr(w, "record_set", seg[9]);
    return;
  }
  if (!Is(seg, 4, "providers") || !Is(seg, 5, "Microsoft.Resources") ||
      !Is(seg, 6, "deployments") || seg.size() < 8 || seg[7].empty()) {
    return;
  }
  json::KeyStr(w, "deployment", seg[7]);
  if (!DeploymentPut(request).has_value()) return;
  json::Key(w, "running");
  w.StartArray();
  for (const auto& name : context.running) json::Str(w, name);
  w.EndArray();
  rapidjson::Document body;
  body.Parse<rapidjson::kParseIterativeFlag>(request.body.data(), request.body.size());
  if (body.HasParseError() || !body.IsObject()) return;
  if (const auto* tags = json::MemberCi(body, "tags"); tags != nullptr) {
    if (const auto* m = json::MemberCi(*tags, "managed-by"); m != nullptr && m->IsString()) {
      json::KeyStr(w, "managed_by", m->GetString());
    }
  }
  const auto* props = json::MemberCi(body, "properties");
  const auto* parameters = props == nullptr ? nullptr : json::MemberCi(*props, "parameters");
  if (parameters == nullptr || !parameters->IsObject()) return;
  // Plain parameters only: the secure ones are never journaled.
  for (const auto& [name, key] : {std::pair{"pfxKeyVaultSecretUrl", "pfx_secret_url"},
                                  std::pair{"pfxThumbprint", "pfx_thumbprint"}}) {
    const auto* v = ParameterValue(*parameters, name);
    if (v != nullptr && v->IsString()) json::KeyStr(w, key, v->GetString());
  }
}

std::string Surface(const HttpRequest& request) {
  const std::vector<std::string> seg = PathSegments(request.path);
  if (IsKeyVaultPath(request.path)) return "kv";
  if (Is(seg, 0, "subscriptions")) return "arm";
  if (Is(seg, 0, "metadata")) return "metadata";
  if (absl::StrContains(absl::AsciiStrToLower(request.path), "/oauth2/")) return "token";
  return "other";
}

}  // namespace

std::optional<std::pair<std::string, std::string>> DeploymentPut(const HttpRequest& request) {
  if (request.method != "PUT") return std::nullopt;
  const std::vector<std::string> seg = PathSegments(request.path);
  if (seg.size() != 8 || !Is(seg, 0, "subscriptions") || !Is(seg, 2, "resourcegroups") ||
      !Is(seg, 4, "providers") || !Is(seg, 5, "Microsoft.Resources") ||
      !Is(seg, 6, "deployments") || seg[7].empty()) {
    return std::nullopt;
  }
  return std::make_pair(seg[3], seg[7]);
}

std::string JournalLine(const JournalContext& context, const HttpRequest& request,
                        const HttpResponse& response) {
  rapidjson::StringBuffer b;
  json::Writer w(b);
  w.StartObject();
  json::Key(w, "seq");
  w.Int64(context.seq);
  json::KeyStr(w, "time",
               absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", context.arrival, absl::UTCTimeZone()));
  json::Key(w, "ms");
  w.Int64(absl::ToInt64Milliseconds(context.took));
  json::KeyStr(w, "method", request.method);
  json::KeyStr(w, "path", request.path);
  json::Key(w, "status");
  w.Int(response.drop ? 0 : response.status);
  json::KeyStr(w, "fault", context.fault);
  const std::string agent = request.Header("user-agent");
  json::KeyStr(w, "client", agent.substr(0, agent.find(' ')));
  const std::string surface = Surface(request);
  json::KeyStr(w, "surface", surface);
  if (surface == "kv") KeyVaultFields(w, context, request, response);
  if (surface == "arm") ArmFields(w, context, request);
  w.EndObject();
  return json::Text(b);
}

absl::StatusOr<std::unique_ptr<Journal>> Journal::Open(const std::string& path) {
  // Continue the numbering of a journal the emulator wrote before a restart.
  int64_t last = 0;
  if (auto text = ReadFile(path); text.ok()) {
    for (absl::string_view line : absl::StrSplit(*text, '\n', absl::SkipEmpty())) {
      constexpr absl::string_view kSeq = "{\"seq\":";
      if (!absl::StartsWith(line, kSeq)) continue;
      line.remove_prefix(kSeq.size());
      int64_t seq = 0;
      if (absl::SimpleAtoi(line.substr(0, line.find(',')), &seq)) last = std::max(last, seq);
    }
  }
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) return ErrnoToStatus(errno, absl::StrCat("open the journal ", path));
  std::FILE* file = ::fdopen(fd, "a");
  if (file == nullptr) {
    ::close(fd);
    return ErrnoToStatus(errno, absl::StrCat("open the journal ", path));
  }
  return std::unique_ptr<Journal>(new Journal(file, last + 1));
}

Journal::~Journal() { std::fclose(file_); }

int64_t Journal::Arrive() {
  std::lock_guard<std::mutex> lock(mu_);
  return next_seq_++;
}

void Journal::Record(const JournalContext& context, const HttpRequest& request,
                     const HttpResponse& response) {
  std::string line = JournalLine(context, request, response);
  line.push_back('\n');
  std::lock_guard<std::mutex> lock(mu_);
  std::fwrite(line.data(), 1, line.size(), file_);
  std::fflush(file_);
}

}  // namespace rotor::emulator
