#include "cli/arm_dns01_solver.h"

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/status_macros.h"

namespace rotor::cli {
namespace {

using acme::kAcmeChallengeLabel;

bool IsChallengeName(absl::string_view relative_name) {
  return relative_name == kAcmeChallengeLabel ||
         absl::StartsWith(relative_name, absl::StrCat(kAcmeChallengeLabel, "."));
}

}  // namespace

ArmDns01Solver::ArmDns01Solver(std::unique_ptr<arm::ArmDnsZoneClient> zone)
    : zone_(std::move(zone)) {}

absl::Status ArmDns01Solver::RemoveStale() {
  ASSIGN_OR_RETURN(std::vector<arm::TxtRecordSet> sets, zone_->ListTxt());
  for (const arm::TxtRecordSet& set : sets) {
    if (!set.managed_by_rotor || !IsChallengeName(set.name)) continue;
    if (presented_.count(set.name) > 0) continue;
    RETURN_IF_ERROR(zone_->DeleteTxt(set.name));
  }
  stale_removed_ = true;
  return absl::OkStatus();
}

absl::Status ArmDns01Solver::Present(absl::string_view record_name, absl::string_view txt_value) {
  ASSIGN_OR_RETURN(std::string relative, zone_->RelativeName(record_name));
  if (!IsChallengeName(relative)) {
    return absl::InvalidArgumentError(absl::StrCat("refusing to write the TXT record set ",
                                                   relative, " in DNS zone ", zone_->options().zone,
                                                   ": not an ", kAcmeChallengeLabel, " name"));
  }
  if (!stale_removed_) RETURN_IF_ERROR(RemoveStale());
  std::vector<std::string>& values = presented_[relative];
  values.emplace_back(txt_value);
  absl::Status written = zone_->SetTxt(relative, values);
  if (!written.ok()) {
    values.pop_back();
    if (values.empty()) presented_.erase(relative);
    return absl::Status(written.code(),
                        absl::StrCat("writing the DNS-01 answer ", record_name, " in DNS zone ",
                                     zone_->options().zone, ": ", written.message()));
  }
  return absl::OkStatus();
}

absl::Status ArmDns01Solver::CleanUp(absl::string_view record_name) {
  ASSIGN_OR_RETURN(std::string relative, zone_->RelativeName(record_name));
  if (presented_.erase(relative) == 0) return absl::OkStatus();
  absl::Status deleted = zone_->DeleteTxt(relative);
  if (!deleted.ok()) {
    return absl::Status(deleted.code(),
                        absl::StrCat("removing the DNS-01 answer ", record_name, " from DNS zone ",
                                     zone_->options().zone, ": ", deleted.message()));
  }
  return absl::OkStatus();
}

}  // namespace rotor::cli
