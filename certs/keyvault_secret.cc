#include "certs/keyvault_secret.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <string>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace rotor::certs {
namespace {

// A working buffer that is wiped when it goes out of scope. Callers size it
// before writing so it never reallocates (a reallocation would free an
// unwiped copy).
class Scratch {
 public:
  Scratch() = default;
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  ~Scratch() {
    if (s.capacity() > 0) {
      s.resize(s.capacity());
      OPENSSL_cleanse(s.data(), s.size());
    }
  }
  std::string s;
};

size_t Base64Size(size_t n) { return 4 * ((n + 2) / 3); }

void Base64Encode(absl::string_view in, Scratch* out) {
  out->s.assign(Base64Size(in.size()) + 1, '\0');  // + EVP_EncodeBlock's NUL
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out->s.data()),
                                reinterpret_cast<const unsigned char*>(in.data()),
                                static_cast<int>(in.size()));
  out->s.resize(static_cast<size_t>(n));
}

// NUL bytes after JSON parsed in situ (see DecodeJsonWrapped).
constexpr size_t kInsituPadding = 4;

int Base64Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

// Standard base64 with optional padding; whitespace (line breaks of
// PowerShell's ToBase64String -InsertLineBreaks, a trailing newline) is
// skipped. On failure returns the offset of the offending input byte (or the
// input size for a truncated one) in `bad_offset`, never the byte itself.
bool Base64Decode(absl::string_view in, Scratch* out, size_t* bad_offset) {
  out->s.clear();
  // A partial last quantum, and DecodeJsonWrapped's padding: never a
  // reallocation, which would leave an unwiped copy behind.
  out->s.reserve(in.size() / 4 * 3 + 3 + kInsituPadding);
  unsigned int acc = 0;
  int bits = 0;
  size_t symbols = 0;
  size_t padding = 0;
  for (size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') continue;
    if (c == '=') {
      if (++padding > 2) {
        *bad_offset = i;
        return false;
      }
      continue;
    }
    const int v = Base64Value(c);
    if (v < 0 || padding > 0) {
      *bad_offset = i;
      return false;
    }
    acc = ((acc << 6) | static_cast<unsigned int>(v)) & 0xFFFFu;
    bits += 6;
    ++symbols;
    if (bits >= 8) {
      bits -= 8;
      out->s.push_back(static_cast<char>((acc >> bits) & 0xFFu));
    }
  }
  acc = 0;
  if (symbols % 4 == 1 || (padding > 0 && (symbols + padding) % 4 != 0)) {
    *bad_offset = in.size();
    return false;
  }
  return true;
}

absl::Status NotBase64(absl::string_view what, size_t offset) {
  return absl::InvalidArgumentError(
      absl::StrCat(what, " is not valid base64 (at offset ", offset, ")"));
}

absl::StatusOr<DecodedCertificate> DecodeRawPkcs12(const Secret& value) {
  constexpr char kWhat[] = "the certificate secret (content type application/x-pkcs12)";
  Scratch pfx;
  size_t bad = 0;
  if (!Base64Decode(value.Reveal(), &pfx, &bad)) return NotBase64(kWhat, bad);
  if (pfx.s.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(kWhat, " is empty"));
  }
  DecodedCertificate decoded;
  decoded.pfx_der = Secret(pfx.s);
  return decoded;
}

absl::StatusOr<DecodedCertificate> DecodeJsonWrapped(const Secret& value) {
  constexpr char kWhat[] = "the certificate secret";
  Scratch json;
  size_t bad = 0;
  if (!Base64Decode(value.Reveal(), &json, &bad)) return NotBase64(kWhat, bad);
  // RapidJSON's in-situ UTF-8 check reads a multibyte sequence's whole
  // length before it looks at the bytes: a lead byte at the very end would
  // read up to three bytes past one terminator, so there are four.
  json.s.append(kInsituPadding, '\0');  // within the reserved capacity

  // In-situ parsing leaves the strings in `json` (which is wiped) instead of
  // copying them into the document's allocator (which is not).
  rapidjson::Document doc;
  // Iterative: the default parser recurses once per nesting level (a
  // deeply nested value overflowed the stack).
  doc.ParseInsitu<rapidjson::kParseValidateEncodingFlag | rapidjson::kParseIterativeFlag>(
      json.s.data());
  if (doc.HasParseError()) {
    return absl::InvalidArgumentError(
        absl::StrCat(kWhat,
                     " is base64 but not the JSON {\"data\", \"dataType\", "
                     "\"password\"} object: ",
                     rapidjson::GetParseError_En(doc.GetParseError()), " (at offset ",
                     doc.GetErrorOffset(), ")"));
  }
  if (!doc.IsObject()) {
    return absl::InvalidArgumentError(absl::StrCat(kWhat, " is JSON but not an object"));
  }
  auto data = doc.FindMember("data");
  if (data == doc.MemberEnd() || !data->value.IsString()) {
    return absl::InvalidArgumentError(absl::StrCat(kWhat, " has no string \"data\" field"));
  }
  auto type = doc.FindMember("dataType");
  if (type == doc.MemberEnd() || !type->value.IsString() ||
      !absl::EqualsIgnoreCase(
          absl::string_view(type->value.GetString(), type->value.GetStringLength()), "pfx")) {
    return absl::InvalidArgumentError(absl::StrCat(kWhat, " has no \"dataType\": \"pfx\" field"));
  }
  DecodedCertificate decoded;
  auto password = doc.FindMember("password");
  if (password != doc.MemberEnd() && !password->value.IsNull()) {
    if (!password->value.IsString()) {
      return absl::InvalidArgumentError(
          absl::StrCat(kWhat, " has a \"password\" field that is not a string"));
    }
    decoded.password =
        Secret(std::string(password->value.GetString(), password->value.GetStringLength()));
  }
  Scratch pfx;
  if (!Base64Decode(absl::string_view(data->value.GetString(), data->value.GetStringLength()), &pfx,
                    &bad)) {
    return NotBase64(absl::StrCat("the \"data\" field of ", kWhat), bad);
  }
  if (pfx.s.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("the \"data\" field of ", kWhat, " is empty"));
  }
  decoded.pfx_der = Secret(pfx.s);
  return decoded;
}

}  // namespace

absl::StatusOr<Secret> EncodeCertificateSecret(absl::string_view pfx_der, const Secret& password) {
  Scratch data;
  Base64Encode(pfx_der, &data);

  // Worst case: every password byte escaped as \u00XX. Reserving it all up
  // front keeps the buffer from being reallocated (and a copy left behind).
  const size_t capacity = data.s.size() + 6 * password.size() + 64;
  rapidjson::StringBuffer json(nullptr, capacity);
  rapidjson::Writer<rapidjson::StringBuffer, rapidjson::UTF8<>, rapidjson::UTF8<>,
                    rapidjson::CrtAllocator, rapidjson::kWriteValidateEncodingFlag>
      writer(json);
  writer.StartObject();
  writer.Key("data");
  writer.String(data.s.data(), static_cast<rapidjson::SizeType>(data.s.size()));
  writer.Key("dataType");
  writer.String(kCertificateContentType);
  writer.Key("password");
  const bool password_ok =
      writer.String(password.Reveal().data(), static_cast<rapidjson::SizeType>(password.size()));
  writer.EndObject();

  Scratch value;
  const size_t json_size = json.GetSize();
  const size_t value_size = Base64Size(json_size);
  if (password_ok && value_size <= kMaxSecretValueBytes) {
    Base64Encode(absl::string_view(json.GetString(), json_size), &value);
  }
  OPENSSL_cleanse(const_cast<char*>(json.GetString()), json_size);

  if (!password_ok) {
    return absl::InvalidArgumentError(
        "the PFX password is not valid UTF-8, which the JSON-wrapped "
        "certificate secret cannot carry");
  }
  if (value_size > kMaxSecretValueBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the certificate secret would be ", value_size, " bytes, over Key Vault's limit of ",
        kMaxSecretValueBytes, " bytes for a secret value (the PFX is ", pfx_der.size(),
        " bytes); export the PFX with only the leaf and its chain"));
  }
  return Secret(value.s);
}

absl::StatusOr<DecodedCertificate> DecodeCertificateSecret(const Secret& value,
                                                           absl::string_view content_type) {
  const absl::string_view type = absl::StripAsciiWhitespace(content_type);
  if (absl::EqualsIgnoreCase(type, kPkcs12ContentType)) {
    return DecodeRawPkcs12(value);
  }
  if (type.empty() || absl::EqualsIgnoreCase(type, kCertificateContentType)) {
    if (value.empty()) {
      return absl::InvalidArgumentError("the certificate secret is empty");
    }
    return DecodeJsonWrapped(value);
  }
  return absl::InvalidArgumentError(
      absl::StrCat("content type \"", type, "\" is not a certificate secret's (expected \"",
                   kCertificateContentType, "\", \"", kPkcs12ContentType, "\" or none)"));
}

}  // namespace rotor::certs
