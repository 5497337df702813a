#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "engine/render/render.h"

namespace rotor {
namespace {

constexpr char kReset[] = "\x1b[0m";
constexpr char kBold[] = "\x1b[1m";
constexpr char kGreen[] = "\x1b[32m";
constexpr char kYellow[] = "\x1b[33m";
constexpr char kRed[] = "\x1b[31m";
constexpr char kCyan[] = "\x1b[36m";

struct ActionStyle {
  const char* symbol;
  const char* color;
  const char* verb;
};

ActionStyle StyleOf(const Change& c) {
  switch (c.action) {
    case Action::kCreate:
      return {"+", kGreen,
              c.Kind() == "deployment" ? "will be deployed for the first time" : "will be created"};
    case Action::kRecover:
      return {"+", kGreen, "will be recovered from soft delete"};
    case Action::kUpdate:
      return {"~", kYellow, "will be updated with a new secret version"};
    case Action::kDelete:
      return {"-", kRed, "will be deleted"};
    case Action::kRedeploy:
      return {"~", kCyan, "will be redeployed"};
    case Action::kRetire:
      return {"-", kRed, "will retire: its login works until the deadline, then rotor deletes it"};
    case Action::kNoOp:
      return {" ", "", "is unchanged"};
  }
  return {"?", "", ""};
}

std::string Paint(const TextStyle& style, const char* color, absl::string_view text) {
  if (!style.color || *color == '\0') return std::string(text);
  return absl::StrCat(color, text, kReset);
}

std::string Quoted(const std::string& value) {
  if (value.empty()) return "(none)";
  if (value == kSensitiveValue || value == kKnownAfterApply) return value;
  return absl::StrCat("\"", value, "\"");
}

}  // namespace

std::string RenderSummaryLine(const Plan& plan) {
  if (!plan.HasChanges()) {
    return "No changes. The vault and the deployment match the configuration.";
  }
  Plan::Summary s = plan.Summarize();
  return absl::StrFormat("Plan: %d to add, %d to change, %d to destroy, %d to redeploy.", s.add,
                         s.change, s.destroy, s.redeploy);
}

std::string RenderWarningsText(const Plan& plan, const TextStyle& style) {
  std::string out;
  for (const auto& w : plan.warnings) {
    absl::StrAppend(&out, Paint(style, kYellow, "Warning:"), " ", w.subject, ": ", w.message, "\n");
  }
  return out;
}

std::string RenderChecksText(const Plan& plan, const TextStyle& style) {
  std::string out;
  for (const auto& check : plan.certificate_checks) {
    const char* color = check.level == "OK" ? kGreen : check.level == "WARNING" ? kYellow : kRed;
    absl::StrAppend(&out, "  ", check.name, ": ", Paint(style, color, check.level),
                    check.detail.empty() ? "" : absl::StrCat(" (", check.detail, ")"), "\n");
  }
  return out;
}

std::string RenderPlanText(const Plan& plan, const TextStyle& style) {
  std::string out;
  if (!plan.certificate_checks.empty()) {
    // One line when every check passes; every check when one warns or fails.
    bool all_ok = true;
    for (const auto& check : plan.certificate_checks) all_ok = all_ok && check.level == "OK";
    if (all_ok) {
      absl::StrAppend(
          &out, "Certificate checks: ",
          Paint(style, kGreen, absl::StrCat("all ", plan.certificate_checks.size(), " passed")),
          " (rotor validate lists them).\n\n");
    } else {
      absl::StrAppend(&out, "Certificate checks:\n", RenderChecksText(plan, style), "\n");
    }
  }
  if (!plan.HasChanges()) {
    absl::StrAppend(&out, Paint(style, kGreen, RenderSummaryLine(plan)), "\n");
  } else {
    if (!plan.rollback_of.empty()) {
      absl::StrAppend(&out, "rotor will roll back apply ", plan.rollback_of, ", putting vault ",
                      plan.vault, " and its deployment back as they were before it:\n");
    } else {
      absl::StrAppend(&out, "rotor will perform the following actions on vault ", plan.vault,
                      ":\n");
    }
    for (const Change& c : plan.changes) {
      ActionStyle a = StyleOf(c);
      // A certificate an issuer renews says why it is due.
      const std::string renewal = c.After(kRenewalAttribute);
      const std::string verb =
          renewal.empty() ? std::string(a.verb) : absl::StrCat("will be renewed (", renewal, ")");
      absl::StrAppend(&out, "\n  # ", c.address, " ", verb, "\n");
      absl::StrAppend(&out, "  ", Paint(style, a.color, a.symbol), " ",
                      style.color ? absl::StrCat(kBold, c.address, kReset) : c.address,
                      c.action == Action::kRetire
                          ? absl::StrCat(" (retires ", c.After(kRetiresAttribute), ")")
                          : "",
                      "\n");
      size_t width = 0;
      for (const auto& attr : c.attributes) width = std::max(width, attr.name.size());
      for (const auto& attr : c.attributes) {
        if (attr.name == kRenewalAttribute) continue;  // said in the heading
        std::string symbol;
        std::string value;
        if (attr.before.empty() && !attr.after.empty()) {
          symbol = "+";
          value = Quoted(attr.after);
        } else if (!attr.before.empty() && attr.after.empty()) {
          symbol = "-";
          value = Quoted(attr.before);
        } else if (attr.before == attr.after && attr.before != kSensitiveValue) {
          continue;  // unchanged: not worth a line
        } else if (attr.before == kSensitiveValue && attr.after == kSensitiveValue) {
          symbol = "~";
          value = kSensitiveValue;
        } else {
          symbol = "~";
          value = absl::StrCat(Quoted(attr.before), " -> ", Quoted(attr.after));
        }
        absl::StrAppend(&out, "      ", symbol, " ", attr.name,
                        std::string(width - attr.name.size(), ' '), " = ", value, "\n");
      }
      for (const auto& reason : c.reasons) {
        absl::StrAppend(&out, "      ",
                        Paint(style, kCyan, absl::StrCat("reason (", CauseName(c.cause), "):")),
                        " ", reason, "\n");
      }
    }
    if (!plan.publishes.empty()) {
      absl::StrAppend(&out,
                      "\n  # after the redeploy, rotor hands the new passwords to their clients\n");
      for (const auto& p : plan.publishes) {
        absl::StrAppend(&out, "  > publish user.", p.user, " to ", p.Describe(), " (registry ",
                        p.registry, ")\n");
      }
    }
    absl::StrAppend(&out, "\n",
                    style.color ? absl::StrCat(kBold, RenderSummaryLine(plan), kReset)
                                : RenderSummaryLine(plan),
                    "\n");
  }
  if (!plan.warnings.empty()) absl::StrAppend(&out, "\n", RenderWarningsText(plan, style));
  return out;
}

std::string RenderOutputsText(const ApplyOutputs& outputs) {
  std::string out;
  if (!outputs.pfx_key_vault_secret_url.empty()) {
    absl::StrAppend(&out, "PFX KeyVaultResourceId       : ", outputs.pfx_key_vault_resource_id,
                    "\n", "PFX KeyVaultSecretUrl        : ", outputs.pfx_key_vault_secret_url, "\n",
                    "PFX Certificate Thumbprint   : ", outputs.pfx_thumbprint, "\n");
  }
  if (!outputs.deployment_name.empty()) {
    absl::StrAppend(&out, "Deployment                   : ", outputs.deployment_name, " (",
                    outputs.deployment_state, ")\n");
  }
  return out;
}

}  // namespace rotor
