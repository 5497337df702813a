// Small helpers shared by the emulator's services.
#ifndef ROTOR_TESTS_EMULATOR_UTIL_H_
#define ROTOR_TESTS_EMULATOR_UTIL_H_

#include <map>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace rotor::emulator {

// A random (version 4) UUID, lower case.
std::string NewUuid();
// 32 random hex characters.
std::string RandomHex(size_t bytes);
// A UUID-shaped id derived from `seed` (the same seed, the same id): for ids
// ARM keeps per operation, rendered again on every read.
std::string StableUuid(absl::string_view seed);

// An application/x-www-form-urlencoded body (later duplicates ignored).
std::map<std::string, std::string> ParseForm(absl::string_view body);

// The path split on "/" without the leading slash; a trailing slash gives a
// last empty segment ("/secrets/a/" -> {"secrets", "a", ""}).
std::vector<std::string> PathSegments(absl::string_view path);

// ARM's timestamp form: "2024-05-01T10:00:00.1234567Z".
std::string ArmTimestamp(absl::Time t);
// ISO 8601 duration as ARM writes it: "PT3.0952125S".
std::string ArmDuration(absl::Duration d);
// RFC 1123 ("Tue, 20 Apr 2021 21:14:26 GMT") for Date headers.
std::string HttpDate(absl::Time t);

// The key of an ARM resource in a resource group: ARM's names are case
// insensitive ("RG", "Name" -> "rg/name").
std::string ArmResourceKey(absl::string_view resource_group, absl::string_view name);

// The host part of a Host header ("a.b:8443" -> "a.b", "[::1]:80" -> "::1"),
// lower case.
std::string HostName(absl::string_view host_header);

}  // namespace rotor::emulator

#endif  // ROTOR_TESTS_EMULATOR_UTIL_H_
