#include "providers/arm/dns_zone_codec.h"

#include "absl/strings/str_cat.h"
#include "base/inert_text.h"
#include "engine/model/vault.h"
#include "providers/arm/arm_json_internal.h"
#include "rapidjson/document.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"

namespace rotor::arm {
namespace {

using internal::Member;

absl::Status Bad(absl::string_view url, absl::string_view what) {
  return absl::InternalError(
      absl::StrCat("the TXT record set list from ", url, " cannot be read: ", what));
}

}  // namespace

Secret TxtRecordSetBody(const std::vector<std::string>& values, int ttl_seconds) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  w.StartObject();
  w.Key("properties");
  w.StartObject();
  w.Key("TTL");
  w.Int(ttl_seconds);
  w.Key("metadata");
  w.StartObject();
  w.Key(kManagedByTag);
  w.String(kManagedByValue);
  w.EndObject();
  w.Key("TXTRecords");
  w.StartArray();
  for (const std::string& v : values) {
    w.StartObject();
    w.Key("value");
    w.StartArray();
    w.String(v.data(), static_cast<rapidjson::SizeType>(v.size()));
    w.EndArray();
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  w.EndObject();
  return Secret(std::string(buffer.GetString(), buffer.GetSize()));
}

absl::StatusOr<TxtRecordSetPage> ParseTxtRecordSetList(absl::string_view body,
                                                       absl::string_view url) {
  rapidjson::Document doc;
  doc.Parse(body.data(), body.size());
  if (doc.HasParseError() || !doc.IsObject()) return Bad(url, "not a JSON object");
  const rapidjson::Value* value = Member(doc, "value");
  if (value == nullptr || !value->IsArray()) return Bad(url, "\"value\" is not an array");
  TxtRecordSetPage page;
  for (const rapidjson::Value& item : value->GetArray()) {
    const rapidjson::Value* name = Member(item, "name");
    if (name == nullptr || !name->IsString()) return Bad(url, "a record set has no \"name\"");
    TxtRecordSet set;
    set.name = name->GetString();
    const rapidjson::Value* props = Member(item, "properties");
    if (props != nullptr && !props->IsObject()) {
      return Bad(url, absl::StrCat("\"properties\" of ", ShowInert(set.name), " is not an object"));
    }
    if (props != nullptr) {
      if (const rapidjson::Value* m = Member(*props, "metadata"); m != nullptr) {
        const rapidjson::Value* managed = Member(*m, kManagedByTag);
        set.managed_by_rotor = managed != nullptr && managed->IsString() &&
                               managed->GetString() == std::string_view(kManagedByValue);
      }
      const rapidjson::Value* records = Member(*props, "TXTRecords");
      if (records != nullptr && records->IsArray()) {
        for (const rapidjson::Value& r : records->GetArray()) {
          const rapidjson::Value* strings = Member(r, "value");
          if (strings == nullptr || !strings->IsArray()) continue;
          std::string joined;
          for (const rapidjson::Value& s : strings->GetArray()) {
            if (s.IsString()) joined.append(s.GetString(), s.GetStringLength());
          }
          set.values.push_back(std::move(joined));
        }
      }
    }
    page.items.push_back(std::move(set));
  }
  if (const rapidjson::Value* next = Member(doc, "nextLink"); next != nullptr && next->IsString()) {
    page.next_link = next->GetString();
  }
  return page;
}

}  // namespace rotor::arm
