// The applies rotor made, read back from what they left: rotor keeps no
// state, so every secret version an apply writes and the deployment it
// makes carry the apply's id (kApplyIdTag), and its deployment also names
// the secrets it deleted. `rotor show` lists them; `rotor rollback` puts the
// registry back as it was before one (engine/diff/rollback.h).
//
// An apply id is the UTC time its plan was made and a few random
// characters: "20261205T201142Z-k3f9". Ids sort by time. Nothing changes the
// live state between a plan and its apply (a saved plan is refused when it
// did), so "before apply X" is the state at X's time.
#ifndef ROTOR_ENGINE_MODEL_APPLY_HISTORY_H_
#define ROTOR_ENGINE_MODEL_APPLY_HISTORY_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "engine/model/deployments.h"
#include "engine/model/vault.h"

namespace rotor {

// On every version rotor writes and on every deployment it makes.
inline constexpr char kApplyIdTag[] = "rotor-apply-id";
// On an apply's deployment: the secrets it deleted, comma-separated (cut
// to fit a tag's 256 characters, then "+N").
inline constexpr char kDeletedTag[] = "rotor-deleted";
// On a rollback's deployment: the apply it undid.
inline constexpr char kRollbackOfTag[] = "rotor-rollback-of";
// On a retiring user's version (policy.retire_after): when rotor deletes
// it, RFC 3339 UTC.
inline constexpr char kRetireAtTag[] = "rotor-retire-at";
// Azure's limit on a tag value.
inline constexpr size_t kMaxTagValueLength = 256;

// "20261205T201142Z" and, when not empty, "-" and `suffix`.
std::string MakeApplyId(absl::Time now, absl::string_view suffix);
// The time an apply id starts with; nullopt when `id` is not one.
std::optional<absl::Time> ApplyIdTime(absl::string_view id);

// The kDeletedTag value for `names`, within kMaxTagValueLength.
std::string DeletedTagValue(const std::vector<std::string>& names);

struct ApplyRecord {
  std::string id;
  absl::Time time = absl::UnixEpoch();  // from the id
  // Secrets it wrote a version of, and the versions, by secret name.
  std::map<std::string, std::vector<std::string>> written;
  std::vector<std::string> deleted;  // from its deployment's kDeletedTag
  std::string deployment;            // its deployment's name, "" when none
  std::string deployment_state;
  std::string rollback_of;  // the apply it rolled back, "" when none
};

// Every apply found in `versions` (every version of the secrets read) and
// `deployments`, newest first.
std::vector<ApplyRecord> FindApplies(const std::vector<SecretVersion>& versions,
                                     const std::vector<Deployment>& deployments);

// Every version of the secrets an apply may have written (read by
// engine/refresh/history.h).
struct History {
  // SecretKey(name) -> every version, oldest first.
  std::map<std::string, std::vector<SecretVersion>> versions;
  // Every version read, and `deleted` (the soft-deleted secrets' latest
  // versions), for FindApplies.
  std::vector<SecretVersion> All(const std::vector<SecretVersion>& deleted = {}) const;
};

// One line saying what an apply changed: "wrote admin, containersecret;
// deleted old; deployment registry-20261205T201142Z-k3f9 (Succeeded)".
std::string DescribeApply(const ApplyRecord& record);

}  // namespace rotor

#endif  // ROTOR_ENGINE_MODEL_APPLY_HISTORY_H_
