// The account store, and the envelope's JSON (its one reader and writer).
#include "providers/acme/account_key_store.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "base/json_text.h"
#include "base/status_context.h"
#include "engine/model/registry_vm.h"
#include "engine/model/secret_kind.h"
#include "rapidjson/document.h"

namespace rotor::acme {
namespace {

constexpr char kEnvelopeHead[] = R"({"kind":")";
constexpr char kEnvelopeDirectory[] = R"(","directory":)";
constexpr char kEnvelopeKey[] = R"(,"key":)";
// The shortest PKCS#8 PEM of a P-256 key: 138 DER bytes, 184 base64
// characters in lines of 64, and the BEGIN/END lines.
constexpr size_t kShortestP256Pem = 241;
// The envelope of the shortest key, with an empty directory, is already
// longer than any login: the runtime check below never fires for a real
// key.
static_assert(sizeof kEnvelopeHead - 1 + sizeof kAcmeAccountEnvelopeKind - 1 +
                      sizeof kEnvelopeDirectory - 1 + 2 + sizeof kEnvelopeKey - 1 +
                      kShortestP256Pem + 2 + 1 >
                  kMaxLoginSecretLength,
              "an ACME account envelope must never be short enough to become a login");

}  // namespace

absl::StatusOr<Secret> AccountEnvelope(absl::string_view directory_url, const Secret& key_pem) {
  const Secret quoted_key = JsonQuoteSecret(key_pem);
  const std::string quoted_directory = JsonQuote(directory_url);
  std::string out;
  // Sized up front: a reallocation would free an unwiped copy of the key.
  out.reserve(sizeof kEnvelopeHead + sizeof kAcmeAccountEnvelopeKind + sizeof kEnvelopeDirectory +
              quoted_directory.size() + sizeof kEnvelopeKey + quoted_key.size() + 8);
  absl::StrAppend(&out, kEnvelopeHead, kAcmeAccountEnvelopeKind, kEnvelopeDirectory,
                  quoted_directory, kEnvelopeKey);
  out.append(quoted_key.Reveal().data(), quoted_key.size());
  out += "}";
  if (out.size() <= kMaxLoginSecretLength) {
    WipeString(out);
    return absl::FailedPreconditionError(
        absl::StrCat("the ACME account envelope would be at most ", kMaxLoginSecretLength,
                     " characters, which the registry VM turns into a login; refusing to store "
                     "it (the key is not a P-256 key)"));
  }
  return Secret(std::move(out));
}

absl::StatusOr<Secret> KeyOfAccountEnvelope(const Secret& envelope) {
  // Parsed in place in a private copy, wiped afterwards: the document's
  // strings point into it, so the key is never copied elsewhere.
  std::string buffer(envelope.Reveal());
  rapidjson::Document doc;
  doc.ParseInsitu<rapidjson::kParseIterativeFlag>(buffer.data());
  absl::Status error;
  std::string key;
  auto string_member = [&](const char* name) -> const rapidjson::Value* {
    if (!doc.IsObject()) return nullptr;
    auto it = doc.FindMember(name);
    return it == doc.MemberEnd() || !it->value.IsString() ? nullptr : &it->value;
  };
  if (doc.HasParseError() || !doc.IsObject()) {
    error = absl::InvalidArgumentError("not a JSON object");
  } else if (const rapidjson::Value* kind = string_member("kind");
             kind == nullptr || absl::string_view(kind->GetString(), kind->GetStringLength()) !=
                                    kAcmeAccountEnvelopeKind) {
    error = absl::InvalidArgumentError(
        absl::StrCat("its \"kind\" is not \"", kAcmeAccountEnvelopeKind, "\""));
  } else if (const rapidjson::Value* pem = string_member("key"); pem == nullptr) {
    error = absl::InvalidArgumentError("it has no \"key\" string");
  } else {
    key.reserve(pem->GetStringLength() + 32);  // past the small-string buffer
    key.assign(pem->GetString(), pem->GetStringLength());
  }
  WipeString(buffer);
  if (!error.ok()) {
    WipeString(key);
    return error;
  }
  return Secret(std::move(key));
}

absl::StatusOr<std::optional<Secret>> VaultAccountKeyStore::Load() {
  const std::string where = absl::StrCat("the ACME account key (secret ", kAcmeAccountSecretName,
                                         " in vault ", vault_.info().name, ")");
  absl::StatusOr<SecretBundle> bundle = vault_.GetSecret(kAcmeAccountSecretName);
  if (absl::IsNotFound(bundle.status())) return std::nullopt;
  if (!bundle.ok()) return WithContext(bundle.status(), absl::StrCat("reading ", where));
  if (!bundle->meta.enabled) {
    return absl::FailedPreconditionError(absl::StrCat(where, " is disabled"));
  }
  absl::StatusOr<Secret> key = KeyOfAccountEnvelope(bundle->value);
  if (!key.ok()) {
    return WithContext(key.status(), absl::StrCat(where, " is not rotor's account envelope"));
  }
  return std::optional<Secret>(*std::move(key));
}

absl::Status VaultAccountKeyStore::Save(const Secret& pem) {
  absl::StatusOr<Secret> envelope = AccountEnvelope(directory_url_, pem);
  if (!envelope.ok()) return envelope.status();
  SetSecretRequest request;
  request.value = *std::move(envelope);
  request.content_type = kAcmeAccountContentType;
  request.tags = RotorTags(kRoleAcmeAccount);
  absl::StatusOr<SecretVersion> written = vault_.SetSecret(kAcmeAccountSecretName, request);
  if (!written.ok()) {
    return WithContext(written.status(),
                       absl::StrCat("saving the ACME account key (secret ", kAcmeAccountSecretName,
                                    " in vault ", vault_.info().name, ")"));
  }
  return absl::OkStatus();
}

}  // namespace rotor::acme
