// RapidJSON lookups the ARM codecs share (arm_codec.cc, dns_zone_codec.cc).
// Internal to providers/arm: RapidJSON stays out of its public headers.
#ifndef ROTOR_PROVIDERS_ARM_ARM_JSON_INTERNAL_H_
#define ROTOR_PROVIDERS_ARM_ARM_JSON_INTERNAL_H_

#include "rapidjson/document.h"

namespace rotor::arm::internal {

// The member `name` of `o`, or nullptr when `o` is not an object or has none.
inline const rapidjson::Value* Member(const rapidjson::Value& o, const char* name) {
  if (!o.IsObject()) return nullptr;
  auto it = o.FindMember(name);
  return it == o.MemberEnd() ? nullptr : &it->value;
}

}  // namespace rotor::arm::internal

#endif  // ROTOR_PROVIDERS_ARM_ARM_JSON_INTERNAL_H_
