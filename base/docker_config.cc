#include "base/docker_config.h"

#include <algorithm>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "base/files.h"
#include "rapidjson/document.h"
#include "rapidjson/prettywriter.h"
#include "rapidjson/stringbuffer.h"

namespace rotor {
namespace {

// The largest Docker config rotor reads (they are a few KB).
constexpr size_t kMaxDockerConfigBytes = 1 << 20;

}  // namespace

absl::Status MergeDockerLogin(const std::string& path, absl::string_view registry,
                              absl::string_view user, const Secret& password) {
  rapidjson::Document doc;
  absl::StatusOr<std::string> text = ReadFile(path);
  if (text.ok()) {
    if (text->size() > kMaxDockerConfigBytes) {
      WipeString(*text);
      return absl::FailedPreconditionError(
          absl::StrCat(path, " is larger than ", kMaxDockerConfigBytes, " bytes"));
    }
    doc.Parse<rapidjson::kParseIterativeFlag>(text->data(), text->size());
    WipeString(*text);
    if (doc.HasParseError() || !doc.IsObject()) {
      return absl::FailedPreconditionError(absl::StrCat(
          path, " is not a Docker config (a JSON object)",
          doc.HasParseError() ? absl::StrCat(": JSON error at offset ", doc.GetErrorOffset()) : "",
          "; it was left as it is"));
    }
  } else if (absl::IsNotFound(text.status())) {
    doc.SetObject();
  } else {
    return text.status();
  }
  auto& alloc = doc.GetAllocator();
  auto auths = doc.FindMember("auths");
  if (auths == doc.MemberEnd()) {
    doc.AddMember("auths", rapidjson::Value(rapidjson::kObjectType), alloc);
    auths = doc.FindMember("auths");
  } else if (!auths->value.IsObject()) {
    return absl::FailedPreconditionError(
        absl::StrCat(path, ": \"auths\" is not an object; it was left as it is"));
  }
  Secret pair(absl::StrCat(user, ":", password.Reveal()));
  Secret auth(absl::Base64Escape(pair.Reveal()));
  rapidjson::Value entry(rapidjson::kObjectType);
  entry.AddMember(
      "auth",
      rapidjson::Value(auth.Reveal().data(), static_cast<rapidjson::SizeType>(auth.size()), alloc),
      alloc);
  auths->value.RemoveMember(std::string(registry).c_str());
  auths->value.AddMember(
      rapidjson::Value(registry.data(), static_cast<rapidjson::SizeType>(registry.size()), alloc),
      entry, alloc);
  rapidjson::StringBuffer buffer;
  rapidjson::PrettyWriter<rapidjson::StringBuffer> writer(buffer);
  writer.SetIndent('\t', 1);
  doc.Accept(writer);
  Secret out(absl::StrCat(absl::string_view(buffer.GetString(), buffer.GetSize()), "\n"));
  // The buffers held the file's credentials: wiped before they are freed.
  std::fill_n(const_cast<char*>(buffer.GetString()), buffer.GetSize(), '\0');
  return WriteFileAtomic(path, out.Reveal(), 0600);
}

}  // namespace rotor
