// Micro benchmark: diff and render of a registry with 100,000 users,
// in-process (no network, no files). The desired and actual states are
// built in memory: every user exists, one in ten has a new password (an
// update), 1,000 undeclared user secrets are stale (deletes), the
// certificate is current, and the deployment passes it, so the plan holds
// 11,000 changes and a redeploy. Times ComputePlan, the text and the JSON
// rendering and the state fingerprint, best of `--repeat` runs.
//
//   rotor_plan_micro_bench [--users 100000] [--repeat 3] [--json]
//
// Prints one line per step and the total; with --json one JSON object.
// Exits 1 when the best diff + render total exceeds --limit seconds (1).
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/json_text.h"
#include "engine/diff/diff.h"
#include "engine/model/state.h"
#include "engine/refresh/refresh.h"
#include "engine/render/render.h"

namespace rotor {
namespace {

constexpr char kBase[] = "https://newregkv.vault.local.azurestack.external";

struct States {
  DesiredState desired;
  ActualState actual;
};

States Build(int users) {
  States s;
  const absl::Time written = absl::FromUnixSeconds(1780000000);
  s.desired.config_path = "rotor.toml";
  s.desired.config_digest = std::string(64, 'a');
  s.desired.vault_name = "newregkv";
  s.actual.vault.name = "newregkv";
  s.actual.vault.base_url = kBase;
  s.actual.vault.resource_id =
      "/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/newregkv";
  s.desired.users.reserve(users);
  for (int i = 0; i < users; ++i) {
    const std::string name = absl::StrFormat("user-%06d", i);
    const std::string password = absl::StrCat("Password-", i, "-0123456789abcdef");
    DesiredUser& u = s.desired.users.emplace_back();
    u.name = name;
    u.password = Secret(i % 10 == 0 ? absl::StrCat(password, "-new") : password);
    u.source = absl::StrCat("env PW_", i);
    SecretVersion v;
    v.name = name;
    v.version = absl::StrFormat("%032x", i);
    v.id = absl::StrCat(kBase, "/secrets/", name, "/", v.version);
    v.content_type = kUserContentType;
    v.tags = {{kManagedByTag, kManagedByValue}, {kRoleTag, kRoleUser}};
    v.created = v.updated = written;
    s.actual.values.emplace(SecretKey(name), Secret(password));
    s.actual.secrets.emplace(SecretKey(name), std::move(v));
  }
  for (int i = 0; i < users / 100; ++i) {
    SecretVersion v;
    v.name = absl::StrFormat("stale-%06d", i);
    v.id = absl::StrCat(kBase, "/secrets/", v.name);
    v.content_type = kUserContentType;
    v.created = v.updated = written;
    s.actual.secrets.emplace(SecretKey(v.name), std::move(v));
  }
  // The certificate, current, and a deployment passing it.
  DesiredCertificate& c = s.desired.certificate.emplace();
  c.secret_name = "containersecret";
  c.pfx_path = "registry.pfx";
  c.thumbprint = std::string(40, 'A');
  c.subject = "CN=myreg";
  c.issuer = "CN=CA";
  c.dns_names = {"myreg.local.cloudapp.azurestack.external"};
  c.not_before = written - absl::Hours(24);
  c.not_after = written + absl::Hours(24 * 365);
  SecretVersion cert;
  cert.name = "containersecret";
  cert.version = std::string(32, 'c');
  cert.id = absl::StrCat(kBase, "/secrets/containersecret/", cert.version);
  cert.content_type = "pfx";
  cert.tags = {{kManagedByTag, kManagedByValue}, {kRoleTag, kRoleCertificate}};
  cert.created = cert.updated = written;
  ActualCertificate& ac = s.actual.certificates["containersecret"];
  ac.thumbprint = c.thumbprint;
  ac.subject = c.subject;
  ac.issuer = c.issuer;
  ac.dns_names = c.dns_names;
  ac.not_before = c.not_before;
  ac.not_after = c.not_after;
  DesiredDeployment& d = s.desired.deployment.emplace();
  d.resource_group = "rg";
  d.name = "latest";
  Deployment base;
  base.resource_group = "rg";
  base.name = "registry";
  base.timestamp = written + absl::Minutes(1);
  base.provisioning_state = kStateSucceeded;
  base.parameters["pfxKeyVaultSecretUrl"].value_json = JsonQuote(cert.id);
  base.parameters["pfxThumbprint"].value_json = JsonQuote(c.thumbprint);
  s.actual.secrets.emplace("containersecret", std::move(cert));
  s.actual.deployments.push_back(base);
  s.actual.deployments_read = true;
  s.actual.base_deployment = base;
  s.actual.last_successful_deployment = base;
  return s;
}

double Time(const std::function<void()>& fn) {
  auto start = std::chrono::steady_clock::now();
  fn();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

int Main(int argc, char** argv) {
  int users = 100000;
  int repeat = 3;
  double limit = 1.0;
  bool json = false;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--users") && i + 1 < argc) {
      users = std::atoi(argv[++i]);
    } else if (!std::strcmp(argv[i], "--repeat") && i + 1 < argc) {
      repeat = std::atoi(argv[++i]);
    } else if (!std::strcmp(argv[i], "--limit") && i + 1 < argc) {
      limit = std::atof(argv[++i]);
    } else if (!std::strcmp(argv[i], "--json")) {
      json = true;
    } else {
      std::fprintf(stderr, "usage: %s [--users N] [--repeat N] [--limit SECONDS] [--json]\n",
                   argv[0]);
      return 2;
    }
  }
  const States s = Build(users);
  const absl::Time now = absl::FromUnixSeconds(1780000000) + absl::Hours(1);
  double best_diff = 1e9, best_text = 1e9, best_json = 1e9, best_fingerprint = 1e9,
         best_total = 1e9;
  size_t changes = 0, text_bytes = 0, json_bytes = 0;
  for (int r = 0; r < repeat; ++r) {
    absl::StatusOr<Plan> plan;
    std::string text, rendered_json, fingerprint;
    double diff = Time([&] { plan = ComputePlan(s.desired, s.actual, now); });
    if (!plan.ok()) {
      std::fprintf(stderr, "ComputePlan: %s\n", std::string(plan.status().message()).c_str());
      return 1;
    }
    double t = Time([&] { text = RenderPlanText(*plan, TextStyle{}); });
    double j = Time([&] { rendered_json = RenderPlanJson(*plan, /*pretty=*/true); });
    double f = Time([&] { fingerprint = StateFingerprint(s.actual); });
    changes = plan->changes.size();
    text_bytes = text.size();
    json_bytes = rendered_json.size();
    best_diff = std::min(best_diff, diff);
    best_text = std::min(best_text, t);
    best_json = std::min(best_json, j);
    best_fingerprint = std::min(best_fingerprint, f);
    best_total = std::min(best_total, diff + t + j);
  }
  const bool pass = best_total <= limit;
  if (json) {
    std::printf(
        "{\"users\": %d, \"changes\": %zu, \"diff_seconds\": %.4f, \"render_text_seconds\": %.4f, "
        "\"render_json_seconds\": %.4f, \"fingerprint_seconds\": %.4f, "
        "\"diff_and_render_seconds\": %.4f, \"limit_seconds\": %.2f, \"pass\": %s}\n",
        users, changes, best_diff, best_text, best_json, best_fingerprint, best_total, limit,
        pass ? "true" : "false");
  } else {
    std::printf("diff + render of %d secrets (%zu changes), best of %d:\n", users, changes, repeat);
    std::printf("  ComputePlan      %8.3f s\n", best_diff);
    std::printf("  RenderPlanText   %8.3f s  (%zu bytes)\n", best_text, text_bytes);
    std::printf("  RenderPlanJson   %8.3f s  (%zu bytes)\n", best_json, json_bytes);
    std::printf("  StateFingerprint %8.3f s\n", best_fingerprint);
    std::printf("  diff + render    %8.3f s  (limit %.2f s: %s)\n", best_total, limit,
                pass ? "ok" : "OVER");
  }
  return pass ? 0 : 1;
}

}  // namespace
}  // namespace rotor

int main(int argc, char** argv) { return rotor::Main(argc, argv); }
