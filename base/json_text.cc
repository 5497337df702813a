#include "base/json_text.h"

#include <openssl/crypto.h>

#include <algorithm>

#include "rapidjson/document.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"

namespace rotor {

std::string JsonQuote(absl::string_view text) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  writer.String(text.data(), static_cast<rapidjson::SizeType>(text.size()));
  return std::string(buffer.GetString(), buffer.GetSize());
}

Secret JsonQuoteSecret(const Secret& text) {
  // Sized for the worst escaping (\u00XX per byte) so it never reallocates:
  // a reallocation would free an unwiped copy.
  rapidjson::StringBuffer buffer(nullptr, 6 * text.size() + 3);
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  writer.String(text.Reveal().data(), static_cast<rapidjson::SizeType>(text.size()));
  std::string quoted;
  // On the heap (past the small-string buffer), so the moves below hand the
  // buffer over instead of leaving a copy behind.
  quoted.reserve(std::max<size_t>(buffer.GetSize(), 32));
  quoted.assign(buffer.GetString(), buffer.GetSize());
  OPENSSL_cleanse(const_cast<char*>(buffer.GetString()), buffer.GetSize());
  return Secret(std::move(quoted));
}

std::optional<std::string> JsonStringValue(absl::string_view json) {
  rapidjson::Document doc;
  doc.Parse(json.data(), json.size());
  if (doc.HasParseError() || !doc.IsString()) return std::nullopt;
  return std::string(doc.GetString(), doc.GetStringLength());
}

std::optional<std::string> JsonCanonical(absl::string_view json) {
  rapidjson::Document doc;
  doc.Parse(json.data(), json.size());
  if (doc.HasParseError()) return std::nullopt;
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  doc.Accept(writer);
  return std::string(buffer.GetString(), buffer.GetSize());
}

absl::StatusOr<std::vector<std::string>> TemplateParameterNames(absl::string_view template_json) {
  rapidjson::Document doc;
  doc.Parse(template_json.data(), template_json.size());
  if (doc.HasParseError() || !doc.IsObject()) {
    return absl::InvalidArgumentError("the template is not a JSON object");
  }
  std::vector<std::string> names;
  auto it = doc.FindMember("parameters");
  if (it == doc.MemberEnd()) return names;
  if (!it->value.IsObject()) {
    return absl::InvalidArgumentError("the template's \"parameters\" is not an object");
  }
  for (const auto& m : it->value.GetObject()) {
    names.emplace_back(m.name.GetString(), m.name.GetStringLength());
  }
  return names;
}

}  // namespace rotor
