#include "tests/emulator/options.h"

#include <CLI/CLI.hpp>
#include <cmath>
#include <cstdlib>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "base/loopback.h"

namespace rotor::emulator {

absl::StatusOr<absl::Duration> ParseDurationFlag(absl::string_view text) {
  std::string t(absl::StripAsciiWhitespace(text));
  absl::Duration d;
  if (absl::EndsWith(t, "d") && !absl::EndsWith(t, "ms")) {
    double days = 0;
    if (absl::SimpleAtod(t.substr(0, t.size() - 1), &days) && days >= 0) {
      return absl::Hours(24) * days;
    }
  } else if (t == "0") {
    return absl::ZeroDuration();
  } else if (absl::ParseDuration(t, &d) && d >= absl::ZeroDuration() &&
             d != absl::InfiniteDuration()) {
    return d;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "invalid duration \"", text, "\": use a number and a unit, like 20ms, 30s, 10m, 1h"));
}

absl::StatusOr<RateLimit> ParseRateLimit(absl::string_view text) {
  size_t slash = text.find('/');
  RateLimit rate;
  if (slash != absl::string_view::npos && absl::SimpleAtoi(text.substr(0, slash), &rate.count) &&
      rate.count > 0) {
    std::string window(text.substr(slash + 1));
    if (!window.empty() && absl::ascii_isalpha(static_cast<unsigned char>(window[0]))) {
      window = absl::StrCat("1", window);
    }
    auto d = ParseDurationFlag(window);
    if (d.ok() && *d > absl::ZeroDuration()) {
      rate.window = *d;
      return rate;
    }
  }
  return absl::InvalidArgumentError(
      absl::StrCat("invalid rate \"", text, "\": use COUNT/WINDOW, like 4000/10s or 300/s"));
}

absl::StatusOr<std::vector<std::string>> SplitCommandLine(absl::string_view text) {
  std::vector<std::string> words;
  std::string current;
  bool in_word = false;
  char quote = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (quote == '\'') {
      if (c == '\'') {
        quote = 0;
      } else {
        current.push_back(c);
      }
      continue;
    }
    if (quote == '"') {
      if (c == '"') {
        quote = 0;
      } else if (c == '\\' && i + 1 < text.size() && (text[i + 1] == '"' || text[i + 1] == '\\')) {
        current.push_back(text[++i]);
      } else {
        current.push_back(c);
      }
      continue;
    }
    if (c == '\'' || c == '"') {
      quote = c;
      in_word = true;
    } else if (c == '\\' && i + 1 < text.size()) {
      current.push_back(text[++i]);
      in_word = true;
    } else if (absl::ascii_isspace(static_cast<unsigned char>(c))) {
      if (in_word) words.push_back(std::move(current));
      current.clear();
      in_word = false;
    } else {
      current.push_back(c);
      in_word = true;
    }
  }
  if (quote != 0) {
    return absl::InvalidArgumentError("unterminated quote in the command line");
  }
  if (in_word) words.push_back(std::move(current));
  if (words.empty()) return absl::InvalidArgumentError("empty command line");
  return words;
}

namespace {

absl::Status ParseListen(const std::string& text, EmulatorOptions& options) {
  size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("--listen \"", text, "\": use HOST:PORT, like 127.0.0.1:8443 or 127.0.0.1:0"));
  }
  int port = -1;
  if (!absl::SimpleAtoi(text.substr(colon + 1), &port) || port < 0 || port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("--listen \"", text, "\": bad port"));
  }
  std::string host = text.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  options.listen_host = host;
  options.listen_port = port;
  return absl::OkStatus();
}

// "http://HOST:PORT[/]" with a loopback HOST, without the trailing slash.
absl::StatusOr<std::string> ParseChalltestsrvUrl(absl::string_view text) {
  absl::string_view rest = text;
  std::string host;
  if (absl::ConsumePrefix(&rest, "http://")) {
    absl::ConsumeSuffix(&rest, "/");
    const size_t colon = rest.rfind(':');
    int port = 0;
    if (colon != absl::string_view::npos && absl::SimpleAtoi(rest.substr(colon + 1), &port) &&
        port > 0 && port <= 65535 && rest.find('/') == absl::string_view::npos) {
      host = std::string(rest.substr(0, colon));  // "[::1]" as IsLoopbackHost reads it
    }
  }
  if (host.empty() || !IsLoopbackHost(host)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--challtestsrv \"", text,
                     "\": use http://HOST:PORT of pebble-challtestsrv's management API on "
                     "loopback, like http://127.0.0.1:8055"));
  }
  return std::string(text.substr(0, text.size() - (absl::EndsWith(text, "/") ? 1 : 0)));
}

absl::StatusOr<std::pair<std::string, std::string>> SplitIdValue(const std::string& flag,
                                                                 const std::string& text) {
  size_t colon = text.find(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size()) {
    // Never echo the text: it may hold a client secret.
    return absl::InvalidArgumentError(absl::StrCat(flag, " needs ID:VALUE"));
  }
  return std::make_pair(text.substr(0, colon), text.substr(colon + 1));
}

}  // namespace

ParsedCommandLine ParseCommandLine(int argc, const char* const* argv) {
  ParsedCommandLine result;
  EmulatorOptions options;
  CLI::App app{
      "rotor-emulator: an HTTPS Azure Stack Hub stand-in (tokens, /metadata/endpoints, "
      "Key Vault secrets, ARM deployments) on loopback, with its own CA."};
  app.set_version_flag("--version", std::string("rotor-emulator ") + ROTOR_VERSION);

  std::string listen = "127.0.0.1:0";
  std::vector<std::string> clients, client_certs;
  std::string registry_cmd, latency, throttle, write_throttle, deploy_duration, token_lifetime;
  std::string slow;
  std::string persist_interval;
  std::string replication_delay;
  std::string seed_text;
  bool no_soft_delete = false;

  app.add_option("--listen", listen,
                 "HOST:PORT to serve HTTPS on (PORT 0 picks a free port; default 127.0.0.1:0)");
  app.add_option("--state", options.state_dir,
                 "folder for vaults, deployments, the CA (DIR/ca.pem) and DIR/port")
      ->required();
  app.add_option("--vault", options.vaults, "a Key Vault to serve (repeatable)");
  app.add_option("--resource-group", options.resource_groups,
                 "a resource group to create (repeatable)");
  app.add_option("--client", clients,
                 "ID:SECRET, a service principal that may get tokens (repeatable); with no "
                 "--client and no --client-cert, any client id and secret is accepted");
  app.add_option("--client-cert", client_certs,
                 "ID:PEMPATH, a service principal whose client assertions are verified "
                 "against the certificate in PEMPATH (repeatable)");
  app.add_option("--identity", options.identity, "aad (default) or adfs")
      ->check(CLI::IsMember({"aad", "adfs"}));
  app.add_option("--tenant", options.tenant,
                 "the tenant named in the Key Vault challenge and metadata");
  app.add_option("--registry-dir", options.registry_dir,
                 "receives htpasswd, <THUMBPRINT>.crt and .prv after each successful "
                 "registry deployment");
  app.add_option("--registry-cmd", registry_cmd,
                 "command (no shell) (re)started after each successful registry deployment, "
                 "with REGISTRY_DIR in its environment");
  app.add_flag("--seed-registry", options.seed_registry,
               "after start-up, stand up what Microsoft's manual procedure leaves behind: user "
               "secrets, the certificate secret and a deployment 'registry' of the gallery "
               "template (unless the state folder holds them); passwords go to DIR/seed.env");
  app.add_option("--registry-port", options.registry_port,
                 "the port --registry-cmd's registry listens on (for the registry URL "
                 "--seed-registry prints)")
      ->check(CLI::Range(1, 65535));
  app.add_option("--token-lifetime", token_lifetime, "lifetime of issued tokens (default 1h)");
  app.add_flag("--always-rerun", options.always_rerun,
               "re-run the registry script on every deployment (default: only when the "
               "CustomScript extension's configuration changes, as Azure does)");
  app.add_option("--bcrypt-cost", options.bcrypt_cost, "bcrypt cost of htpasswd lines (4..31)")
      ->check(CLI::Range(4, 31));
  app.add_option("--threads", options.threads, "HTTPS worker threads (default 64)")
      ->check(CLI::Range(2, 1024));
  app.add_flag("--no-soft-delete", no_soft_delete, "new vaults purge on delete");
  app.add_option("--retention-days", options.retention_days,
                 "soft-delete retention of new vaults (7..90, default 90)")
      ->check(CLI::Range(7, 90));
  app.add_option("--arm-page-size", options.arm_page_size,
                 "deployments per page of an ARM list (default 100)")
      ->check(CLI::Range(1, 1000));
  app.add_flag("--quiet", options.quiet, "no per-request log lines on stderr");
  app.add_flag("--detach", options.detach,
               "return once serving (after --seed-registry), leaving the emulator running in "
               "the background; its pid is in DIR/pid (stop it with kill)");
  app.add_option("--tls-cert-profile", options.tls_cert_profile,
                 "server certificate: valid (default), or one clients must refuse: untrusted "
                 "(another CA), wrong-host (names only wrong-host.example), expired")
      ->check(CLI::IsMember({"valid", "untrusted", "wrong-host", "expired"}));

  app.add_option("--latency", latency, "delay added to every request, like 20ms");
  app.add_option("--throttle", throttle,
                 "per-vault limit on all Key Vault transactions, like 4000/10s");
  app.add_option("--write-throttle", write_throttle,
                 "per-vault limit on secret creations and new versions, like 300/10s");
  app.add_flag("--throttle-no-retry-after", options.throttle_no_retry_after,
               "answer 429 without Retry-After");
  app.add_option("--fail-rate", options.fail_rate, "share of requests answered 500/503, like 0.1")
      ->check(CLI::Range(0.0, 1.0));
  app.add_option("--drop-rate", options.drop_rate,
                 "share of connections closed without an answer, like 0.05")
      ->check(CLI::Range(0.0, 1.0));
  app.add_option("--corrupt-rate", options.corrupt_rate,
                 "share of answers whose JSON body is truncated or garbled, like 0.05")
      ->check(CLI::Range(0.0, 1.0));
  app.add_option("--slow-rate", options.slow_rate,
                 "share of answers held back by --slow after the request was carried out")
      ->check(CLI::Range(0.0, 1.0));
  app.add_option("--slow", slow, "how long --slow-rate holds an answer back (default 5s)");
  app.add_option("--persist-interval", persist_interval,
                 "write changed vaults to the state folder at most once per interval, off the "
                 "request path (default 0: after every change, before answering)");
  app.add_option("--journal", options.journal_path,
                 "append one JSON line per request to FILE (method, path, status, names, "
                 "versions, thumbprints; never a value)");
  app.add_option("--replication-delay", replication_delay,
                 "how long a Key Vault delete or recover takes to be seen, as Key Vault's "
                 "eventual consistency (default 0: at once)");
  app.add_option("--deploy-duration", deploy_duration,
                 "how long deployments stay Running (default 1s)");
  app.add_option("--deploy-fail", options.deploy_fail,
                 "fail the next deployment in resource group NAME (repeatable)");
  app.add_option("--dns-zone", options.dns_zones,
                 "an Azure DNS zone (Microsoft.Network/dnsZones) to create in the first "
                 "--resource-group (repeatable)");
  app.add_option("--challtestsrv", options.challtestsrv,
                 "http://HOST:PORT of pebble-challtestsrv's management API on loopback: every "
                 "TXT record set stored through ARM is mirrored into it (set-txt / clear-txt)");
  app.add_option("--seed", seed_text, "seed of every random fault choice");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    result.exit_code = e.get_exit_code();
    if (result.exit_code == 0) {
      // --help / --version
      std::string help = e.what();
      if (dynamic_cast<const CLI::CallForHelp*>(&e) != nullptr ||
          dynamic_cast<const CLI::CallForAllHelp*>(&e) != nullptr) {
        help = app.help();
      }
      result.message = help;
    } else {
      result.exit_code = 2;
      result.message = absl::StrCat("rotor-emulator: ", e.what(), "\nRun with --help for usage.");
    }
    return std::move(result);
  }

  auto fail = [&](const absl::Status& status) {
    result.exit_code = 2;
    result.message = absl::StrCat("rotor-emulator: ", status.message());
    return std::move(result);
  };

  if (auto s = ParseListen(listen, options); !s.ok()) return fail(s);
  for (const auto& text : clients) {
    auto pair = SplitIdValue("--client", text);
    if (!pair.ok()) return fail(pair.status());
    options.clients.push_back(ClientSecretOption{pair->first, Secret(pair->second)});
    std::fill(pair->second.begin(), pair->second.end(), '\0');
  }
  for (const auto& text : client_certs) {
    auto pair = SplitIdValue("--client-cert", text);
    if (!pair.ok()) return fail(pair.status());
    options.client_certs.push_back(ClientCertOption{pair->first, pair->second});
  }
  if (!registry_cmd.empty()) {
    auto argv_or = SplitCommandLine(registry_cmd);
    if (!argv_or.ok())
      return fail(
          absl::InvalidArgumentError(absl::StrCat("--registry-cmd: ", argv_or.status().message())));
    options.registry_cmd = *argv_or;
    if (options.registry_dir.empty()) {
      return fail(absl::InvalidArgumentError("--registry-cmd needs --registry-dir"));
    }
  }
  auto duration = [&](const std::string& flag, const std::string& text,
                      absl::Duration& out) -> absl::Status {
    if (text.empty()) return absl::OkStatus();
    auto d = ParseDurationFlag(text);
    if (!d.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(flag, ": ", d.status().message()));
    }
    out = *d;
    return absl::OkStatus();
  };
  if (auto s = duration("--latency", latency, options.latency); !s.ok()) return fail(s);
  if (auto s = duration("--slow", slow, options.slow); !s.ok()) return fail(s);
  if (auto s = duration("--persist-interval", persist_interval, options.persist_interval);
      !s.ok()) {
    return fail(s);
  }
  if (auto s = duration("--deploy-duration", deploy_duration, options.deploy_duration); !s.ok()) {
    return fail(s);
  }
  if (auto s = duration("--replication-delay", replication_delay, options.replication_delay);
      !s.ok()) {
    return fail(s);
  }
  if (auto s = duration("--token-lifetime", token_lifetime, options.token_lifetime); !s.ok()) {
    return fail(s);
  }
  if (options.token_lifetime < absl::Seconds(1)) {
    return fail(absl::InvalidArgumentError("--token-lifetime must be at least 1s"));
  }
  auto rate = [&](const std::string& flag, const std::string& text,
                  RateLimit& out) -> absl::Status {
    if (text.empty()) return absl::OkStatus();
    auto r = ParseRateLimit(text);
    if (!r.ok()) return absl::InvalidArgumentError(absl::StrCat(flag, ": ", r.status().message()));
    out = *r;
    return absl::OkStatus();
  };
  if (auto s = rate("--throttle", throttle, options.throttle); !s.ok()) return fail(s);
  if (auto s = rate("--write-throttle", write_throttle, options.write_throttle); !s.ok()) {
    return fail(s);
  }
  if (!seed_text.empty()) {
    uint64_t seed = 0;
    if (!absl::SimpleAtoi(seed_text, &seed)) {
      return fail(absl::InvalidArgumentError("--seed must be a non-negative integer"));
    }
    options.seed = seed;
  }
  if (!options.challtestsrv.empty()) {
    auto url = ParseChalltestsrvUrl(options.challtestsrv);
    if (!url.ok()) return fail(url.status());
    options.challtestsrv = *std::move(url);
  }
  options.soft_delete = !no_soft_delete;
  result.options = std::move(options);
  return std::move(result);
}

}  // namespace rotor::emulator
