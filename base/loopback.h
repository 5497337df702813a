// The one rule for "this host is this machine", shared by the config check
// (http:// is accepted for loopback only) and the HTTP layer that enforces
// it when connecting.
#ifndef ROTOR_BASE_LOOPBACK_H_
#define ROTOR_BASE_LOOPBACK_H_

#include "absl/strings/string_view.h"

namespace rotor {

// True for "localhost" and any "*.localhost" name (RFC 6761: they resolve
// to loopback without DNS, as libcurl does), "[::1]" / "::1", and an IPv4
// address in 127.0.0.0/8 written as one (not "127.0.0.1.nip.io", which DNS
// may send anywhere). Case-insensitive.
bool IsLoopbackHost(absl::string_view host);

}  // namespace rotor

#endif  // ROTOR_BASE_LOOPBACK_H_
