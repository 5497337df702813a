#include "engine/model/apply_history.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/civil_time.h"

namespace rotor {
namespace {

constexpr char kIdTimeFormat[] = "%Y%m%dT%H%M%SZ";
constexpr size_t kIdTimeLength = 16;  // "20261205T201142Z"

}  // namespace

std::string MakeApplyId(absl::Time now, absl::string_view suffix) {
  std::string id = absl::FormatTime(kIdTimeFormat, now, absl::UTCTimeZone());
  if (!suffix.empty()) absl::StrAppend(&id, "-", suffix);
  return id;
}

std::optional<absl::Time> ApplyIdTime(absl::string_view id) {
  if (id.size() < kIdTimeLength) return std::nullopt;
  if (id.size() > kIdTimeLength && id[kIdTimeLength] != '-') return std::nullopt;
  // absl::ParseTime's %Y takes every digit: the fields are cut by hand.
  if (id[8] != 'T' || id[kIdTimeLength - 1] != 'Z') return std::nullopt;
  int fields[6];
  const size_t starts[6] = {0, 4, 6, 9, 11, 13};
  const size_t lengths[6] = {4, 2, 2, 2, 2, 2};
  for (int i = 0; i < 6; ++i) {
    absl::string_view digits = id.substr(starts[i], lengths[i]);
    for (char c : digits) {
      if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return std::nullopt;
    }
    if (!absl::SimpleAtoi(digits, &fields[i])) return std::nullopt;
  }
  const absl::CivilSecond civil(fields[0], fields[1], fields[2], fields[3], fields[4], fields[5]);
  if (civil.year() != fields[0] || civil.month() != fields[1] || civil.day() != fields[2] ||
      civil.hour() != fields[3] || civil.minute() != fields[4] || civil.second() != fields[5]) {
    return std::nullopt;  // not a real date
  }
  return absl::FromCivil(civil, absl::UTCTimeZone());
}

std::string DeletedTagValue(const std::vector<std::string>& names) {
  std::string value;
  for (size_t i = 0; i < names.size(); ++i) {
    const size_t reserve = i + 1 == names.size() ? 0 : 6;  // ",+9999"
    std::string candidate = absl::StrCat(value, value.empty() ? "" : ",", names[i]);
    if (candidate.size() + reserve > kMaxTagValueLength) {
      absl::StrAppend(&value, value.empty() ? "" : ",", "+", names.size() - i);
      return value;
    }
    value = std::move(candidate);
  }
  return value;
}

std::vector<ApplyRecord> FindApplies(const std::vector<SecretVersion>& versions,
                                     const std::vector<Deployment>& deployments) {
  std::map<std::string, ApplyRecord> by_id;
  auto record = [&](const std::string& id) -> ApplyRecord* {
    std::optional<absl::Time> t = ApplyIdTime(id);
    if (!t.has_value()) return nullptr;
    ApplyRecord& r = by_id[id];
    r.id = id;
    r.time = *t;
    return &r;
  };
  for (const auto& v : versions) {
    auto tag = v.tags.find(kApplyIdTag);
    if (tag == v.tags.end()) continue;
    if (ApplyRecord* r = record(tag->second)) r->written[v.name].push_back(v.version);
  }
  for (const auto& d : deployments) {
    auto tag = d.tags.find(kApplyIdTag);
    if (tag == d.tags.end()) continue;
    ApplyRecord* r = record(tag->second);
    if (r == nullptr) continue;
    r->deployment = d.name;
    r->deployment_state = d.provisioning_state;
    auto deleted = d.tags.find(kDeletedTag);
    if (deleted != d.tags.end() && !deleted->second.empty()) {
      r->deleted = absl::StrSplit(deleted->second, ',');
    }
    auto of = d.tags.find(kRollbackOfTag);
    if (of != d.tags.end()) r->rollback_of = of->second;
  }
  std::vector<ApplyRecord> out;
  for (auto& [id, r] : by_id) out.push_back(std::move(r));
  std::reverse(out.begin(), out.end());
  return out;
}

std::vector<SecretVersion> History::All(const std::vector<SecretVersion>& deleted) const {
  std::vector<SecretVersion> all;
  for (const auto& [key, list] : versions) all.insert(all.end(), list.begin(), list.end());
  all.insert(all.end(), deleted.begin(), deleted.end());
  return all;
}

std::string DescribeApply(const ApplyRecord& record) {
  std::vector<std::string> parts;
  if (!record.rollback_of.empty())
    parts.push_back(absl::StrCat("rollback of ", record.rollback_of));
  if (!record.written.empty()) {
    std::vector<std::string> names;
    for (const auto& [name, versions] : record.written) names.push_back(name);
    parts.push_back(absl::StrCat("wrote ", absl::StrJoin(names, ", ")));
  }
  if (!record.deleted.empty()) {
    parts.push_back(absl::StrCat("deleted ", absl::StrJoin(record.deleted, ", ")));
  }
  if (!record.deployment.empty()) {
    parts.push_back(
        absl::StrCat("deployment ", record.deployment, " (", record.deployment_state, ")"));
  } else {
    parts.push_back("no deployment");
  }
  return absl::StrJoin(parts, "; ");
}

}  // namespace rotor
