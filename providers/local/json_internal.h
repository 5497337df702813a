// RapidJSON helpers the local stores share (local_deployments.cc,
// deployments_store_codec.cc). Internal to providers/local: RapidJSON stays
// out of its public headers.
#ifndef ROTOR_PROVIDERS_LOCAL_JSON_INTERNAL_H_
#define ROTOR_PROVIDERS_LOCAL_JSON_INTERNAL_H_

#include <string>

#include "rapidjson/document.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"

namespace rotor::local::internal {

// `value` as compact JSON text.
inline std::string ToJsonText(const rapidjson::Value& value) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  value.Accept(writer);
  return std::string(buffer.GetString(), buffer.GetSize());
}

}  // namespace rotor::local::internal

#endif  // ROTOR_PROVIDERS_LOCAL_JSON_INTERNAL_H_
