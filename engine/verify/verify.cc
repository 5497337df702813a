#include "engine/verify/verify.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "base/json_text.h"
#include "certs/pfx.h"
#include "engine/model/plan.h"
#include "engine/model/registry_vm.h"
#include "rapidjson/prettywriter.h"
#include "rapidjson/stringbuffer.h"

namespace rotor {

bool VerifyReport::ok() const {
  return std::all_of(checks.begin(), checks.end(), [](const VerifyCheck& c) { return c.ok; });
}

namespace {

VerifyCheck CheckCertificate(const ExpectedCertificate& expected, RegistryProbe& probe,
                             absl::Time now) {
  VerifyCheck check{"certificate", false, ""};
  check.declared_thumbprint = expected.thumbprint;
  check.declared_not_after = expected.not_after;
  auto pem = probe.ServedCertificatePem();
  if (!pem.ok()) {
    check.detail = std::string(pem.status().message());
    return check;
  }
  auto served = certs::ThumbprintOfPem(*pem, "the served certificate");
  auto not_after = certs::NotAfterOfPem(*pem, "the served certificate");
  if (!served.ok() || !not_after.ok()) {
    check.detail = std::string((served.ok() ? not_after.status() : served.status()).message());
    return check;
  }
  check.served_thumbprint = *served;
  check.served_not_after = *not_after;
  if (*served != expected.thumbprint) {
    check.detail = absl::StrCat("serves ", *served, ", but the declared certificate is ",
                                expected.thumbprint, " (a redeploy has not happened yet?); served ",
                                "valid until ", FormatPlanTime(*not_after),
                                ", declared valid until ", FormatPlanTime(expected.not_after));
    return check;
  }
  if (*not_after <= now) {
    check.detail =
        absl::StrCat("serves ", *served, ", which expired at ", FormatPlanTime(*not_after));
    return check;
  }
  check.ok = true;
  check.detail = absl::StrCat("serves ", *served, ", valid until ", FormatPlanTime(*not_after));
  return check;
}

VerifyCheck CheckLogin(const std::string& user, const Secret& password, bool want_accepted,
                       RegistryProbe& probe) {
  VerifyCheck check{absl::StrCat(want_accepted ? "user " : "rejected ", user), false, ""};
  const int want = want_accepted ? 200 : 401;
  check.user = user;
  check.expected_status = want;
  auto status = probe.Login(user, password);
  if (!status.ok()) {
    check.detail = std::string(status.status().message());
    return check;
  }
  check.status = *status;
  check.ok = *status == want;
  check.detail =
      absl::StrCat("GET /v2/ -> ", *status, check.ok ? "" : absl::StrCat(" (expected ", want, ")"));
  if (!check.ok && !want_accepted && *status == 200) {
    absl::StrAppend(&check.detail, ": the deleted user can still log in; redeploy the registry");
  }
  return check;
}

}  // namespace

VerifyReport RunVerify(const VerifyInput& input, RegistryProbe& probe, absl::Time now) {
  VerifyReport report;
  report.registry_url = probe.url();
  if (input.certificate.has_value()) {
    report.checks.push_back(CheckCertificate(*input.certificate, probe, now));
  }
  for (const auto& [user, password] : input.accepted) {
    report.checks.push_back(CheckLogin(user, password, true, probe));
  }
  for (const auto& [user, password] : input.rejected) {
    report.checks.push_back(CheckLogin(user, password, false, probe));
  }
  return report;
}

std::string RenderVerifyText(const VerifyReport& report) {
  size_t width = 5;
  for (const auto& c : report.checks) width = std::max(width, c.name.size());
  std::string out = absl::StrCat("Registry: ", report.registry_url, "\n\n");
  absl::StrAppend(&out, absl::StrFormat("%-*s  %-6s  %s\n", static_cast<int>(width), "CHECK",
                                        "RESULT", "DETAIL"));
  for (const auto& c : report.checks) {
    absl::StrAppend(&out, absl::StrFormat("%-*s  %-6s  %s\n", static_cast<int>(width), c.name,
                                          c.ok ? "OK" : "FAILED", c.detail));
  }
  int failed = static_cast<int>(std::count_if(report.checks.begin(), report.checks.end(),
                                              [](const auto& c) { return !c.ok; }));
  absl::StrAppend(&out, "\n",
                  failed == 0
                      ? absl::StrCat("Verified: all ", report.checks.size(), " checks hold.")
                      : absl::StrCat(failed, " of ", report.checks.size(), " checks failed."),
                  "\n");
  return out;
}

std::string RenderVerifyJson(const VerifyReport& report) {
  rapidjson::StringBuffer buffer;
  rapidjson::PrettyWriter<rapidjson::StringBuffer> w(buffer);
  w.SetIndent(' ', 2);
  w.StartObject();
  w.Key("registry");
  w.String(report.registry_url.c_str());
  w.Key("ok");
  w.Bool(report.ok());
  w.Key("checks");
  w.StartArray();
  for (const auto& c : report.checks) {
    w.StartObject();
    w.Key("name");
    w.String(c.name.c_str());
    w.Key("ok");
    w.Bool(c.ok);
    w.Key("detail");
    w.String(c.detail.c_str());
    if (!c.declared_thumbprint.empty()) {
      auto side = [&w](const char* key, const std::string& thumbprint,
                       const std::optional<absl::Time>& not_after) {
        w.Key(key);
        if (thumbprint.empty()) {
          w.Null();
          return;
        }
        w.StartObject();
        w.Key("thumbprint");
        w.String(thumbprint.c_str());
        w.Key("not_after");
        if (not_after.has_value()) {
          w.String(FormatPlanTime(*not_after).c_str());
        } else {
          w.Null();
        }
        w.EndObject();
      };
      side("served", c.served_thumbprint, c.served_not_after);
      side("declared", c.declared_thumbprint, c.declared_not_after);
    }
    if (!c.user.empty()) {
      w.Key("user");
      w.String(c.user.c_str());
      w.Key("expected_status");
      w.Int(c.expected_status);
      w.Key("status");
      if (c.status == 0) {
        w.Null();
      } else {
        w.Int(c.status);
      }
    }
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize()) + "\n";
}

}  // namespace rotor
