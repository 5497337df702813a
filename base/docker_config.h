// A Docker client's config.json (~/.docker/config.json): where `docker
// login` files credentials, as auths."HOST[:PORT]".auth =
// base64("USER:PASSWORD").
#ifndef ROTOR_BASE_DOCKER_CONFIG_H_
#define ROTOR_BASE_DOCKER_CONFIG_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "base/secret.h"

namespace rotor {

// Merges the login for `registry` into the config at `path` (created when
// absent): that entry is replaced, every other key and entry kept, and the
// file is replaced atomically with mode 0600. A file that is not a JSON
// object (or whose "auths" is not one) is left alone: FailedPrecondition
// naming the path, never its content.
absl::Status MergeDockerLogin(const std::string& path, absl::string_view registry,
                              absl::string_view user, const Secret& password);

}  // namespace rotor

#endif  // ROTOR_BASE_DOCKER_CONFIG_H_
