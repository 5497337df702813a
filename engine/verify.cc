#include "engine/verify.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "certs/pfx.h"
#include "engine/diff.h"
#include "rapidjson/prettywriter.h"
#include "rapidjson/stringbuffer.h"

namespace rotor {

bool VerifyReport::ok() const {
  return std::all_of(checks.begin(), checks.end(), [](const VerifyCheck& c) { return c.ok; });
}

namespace {

VerifyCheck CheckCertificate(const ExpectedCertificate& expected, RegistryProbe& probe) {
  VerifyCheck check{"certificate", false, ""};
  auto pem = probe.ServedCertificatePem();
  if (!pem.ok()) {
    check.detail = std::string(pem.status().message());
    return check;
  }
  auto served = certs::ThumbprintOfPem(*pem, "the served certificate");
  if (!served.ok()) {
    check.detail = std::string(served.status().message());
    return check;
  }
  if (*served != expected.thumbprint) {
    check.detail = absl::StrCat("serves ", *served, ", but the declared certificate is ",
                                expected.thumbprint, " (a redeploy has not happened yet?)");
    return check;
  }
  check.ok = true;
  check.detail = absl::StrCat("serves ", *served, ", valid until ", FormatPlanTime(expected.not_after));
  return check;
}

VerifyCheck CheckLogin(const std::string& user, const Secret& password, bool want_accepted,
                       RegistryProbe& probe) {
  VerifyCheck check{absl::StrCat(want_accepted ? "user " : "rejected ", user), false, ""};
  auto status = probe.Login(user, password);
  if (!status.ok()) {
    check.detail = std::string(status.status().message());
    return check;
  }
  int want = want_accepted ? 200 : 401;
  check.ok = *status == want;
  check.detail = absl::StrCat("GET /v2/ -> ", *status,
                              check.ok ? "" : absl::StrCat(" (expected ", want, ")"));
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
    report.checks.push_back(CheckCertificate(*input.certificate, probe));
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
  int failed = static_cast<int>(
      std::count_if(report.checks.begin(), report.checks.end(), [](const auto& c) { return !c.ok; }));
  absl::StrAppend(&out, "\n",
                  failed == 0 ? absl::StrCat("Verified: all ", report.checks.size(), " checks hold.")
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
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize()) + "\n";
}

}  // namespace rotor
