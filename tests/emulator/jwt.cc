#include "tests/emulator/jwt.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/files.h"
#include "base/status_macros.h"
#include "tests/emulator/json_internal.h"

namespace rotor::emulator {
namespace {

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;

struct MdCtxFree {
  void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); }
};

std::string Digest(const EVP_MD* md, absl::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_Digest(data.data(), data.size(), out, &n, md, nullptr);
  return std::string(reinterpret_cast<char*>(out), n);
}

std::string UpperHex(absl::string_view bytes) {
  return absl::AsciiStrToUpper(absl::BytesToHexString(bytes));
}

std::string BnBytes(const BIGNUM* bn) {
  std::string out(static_cast<size_t>(BN_num_bytes(bn)), '\0');
  BN_bn2bin(bn, reinterpret_cast<unsigned char*>(out.data()));
  return out;
}

absl::Status VerifyWith(EVP_PKEY* key, absl::string_view alg, absl::string_view input,
                        absl::string_view signature) {
  const bool pss = alg == "PS256";
  if (!pss && alg != "RS256") {
    return absl::InvalidArgumentError(
        absl::StrCat("unsupported JWT alg \"", alg, "\" (RS256 and PS256 are accepted)"));
  }
  if (EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA) {
    return absl::InvalidArgumentError("the certificate's key is not an RSA key");
  }
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;
  if (EVP_DigestVerifyInit(ctx.get(), &pctx, EVP_sha256(), nullptr, key) != 1) {
    ERR_clear_error();
    return absl::InternalError("EVP_DigestVerifyInit failed");
  }
  if (pss) {
    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING);
    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST);
  }
  int rc = EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                            signature.size(), reinterpret_cast<const unsigned char*>(input.data()),
                            input.size());
  ERR_clear_error();
  if (rc != 1) return absl::UnauthenticatedError("the JWT signature does not verify");
  return absl::OkStatus();
}

}  // namespace

std::string Base64UrlEncode(absl::string_view data) { return absl::WebSafeBase64Escape(data); }

absl::StatusOr<std::string> Base64UrlDecode(absl::string_view text) {
  std::string out;
  if (!absl::WebSafeBase64Unescape(text, &out)) {
    return absl::InvalidArgumentError("invalid base64url");
  }
  return out;
}

absl::StatusOr<JwtParts> SplitJwt(absl::string_view token) {
  std::vector<absl::string_view> parts = absl::StrSplit(token, '.');
  if (parts.size() != 3 || parts[0].empty() || parts[1].empty()) {
    return absl::InvalidArgumentError("not a compact JWS (header.payload.signature)");
  }
  JwtParts out;
  auto header = Base64UrlDecode(parts[0]);
  auto payload = Base64UrlDecode(parts[1]);
  auto signature = Base64UrlDecode(parts[2]);
  if (!header.ok() || !payload.ok() || !signature.ok()) {
    return absl::InvalidArgumentError("a JWT part is not base64url");
  }
  out.header_json = *std::move(header);
  out.payload_json = *std::move(payload);
  out.signature = *std::move(signature);
  out.signing_input = absl::StrCat(parts[0], ".", parts[1]);
  return out;
}

// --- JwtSigner -----------------------------------------------------------------

struct JwtSigner::Impl {
  PkeyPtr key;
};

JwtSigner::JwtSigner(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {
  unsigned char* der = nullptr;
  int n = i2d_PUBKEY(impl_->key.get(), &der);
  if (n > 0) {
    key_id_ =
        Base64UrlEncode(Digest(EVP_sha1(), absl::string_view(reinterpret_cast<char*>(der), n)));
  }
  OPENSSL_free(der);
}

JwtSigner::~JwtSigner() = default;

absl::StatusOr<std::unique_ptr<JwtSigner>> JwtSigner::FromPemFile(const std::string& path) {
  ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  BIO* bio = BIO_new_mem_buf(text.data(), static_cast<int>(text.size()));
  PkeyPtr key(PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr));
  BIO_free(bio);
  std::fill(text.begin(), text.end(), '\0');
  if (!key || EVP_PKEY_get_base_id(key.get()) != EVP_PKEY_RSA) {
    ERR_clear_error();
    return absl::InvalidArgumentError(absl::StrCat(path, " holds no RSA private key"));
  }
  auto impl = std::make_unique<Impl>();
  impl->key = std::move(key);
  return std::unique_ptr<JwtSigner>(new JwtSigner(std::move(impl)));
}

absl::StatusOr<std::string> JwtSigner::Sign(absl::string_view header_json,
                                            absl::string_view payload_json) const {
  std::string input =
      absl::StrCat(Base64UrlEncode(header_json), ".", Base64UrlEncode(payload_json));
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  size_t n = 0;
  if (EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, impl_->key.get()) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &n, reinterpret_cast<const unsigned char*>(input.data()),
                     input.size()) != 1) {
    ERR_clear_error();
    return absl::InternalError("signing a token failed");
  }
  std::string sig(n, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &n,
                     reinterpret_cast<const unsigned char*>(input.data()), input.size()) != 1) {
    ERR_clear_error();
    return absl::InternalError("signing a token failed");
  }
  sig.resize(n);
  return absl::StrCat(input, ".", Base64UrlEncode(sig));
}

bool JwtSigner::Verify(absl::string_view signing_input, absl::string_view signature) const {
  return VerifyWith(impl_->key.get(), "RS256", signing_input, signature).ok();
}

std::string JwtSigner::PublicJwkJson() const {
  BIGNUM* n = nullptr;
  BIGNUM* e = nullptr;
  EVP_PKEY_get_bn_param(impl_->key.get(), OSSL_PKEY_PARAM_RSA_N, &n);
  EVP_PKEY_get_bn_param(impl_->key.get(), OSSL_PKEY_PARAM_RSA_E, &e);
  rapidjson::StringBuffer b;
  json::Writer w(b);
  w.StartObject();
  json::KeyStr(w, "kty", "RSA");
  json::KeyStr(w, "use", "sig");
  json::KeyStr(w, "kid", key_id_);
  json::KeyStr(w, "x5t", key_id_);
  json::KeyStr(w, "n", n ? Base64UrlEncode(BnBytes(n)) : "");
  json::KeyStr(w, "e", e ? Base64UrlEncode(BnBytes(e)) : "");
  w.EndObject();
  BN_free(n);
  BN_free(e);
  return json::Text(b);
}

// --- ClientCertificate -------------------------------------------------------------

struct ClientCertificate::Impl {
  PkeyPtr key;
};

ClientCertificate::ClientCertificate(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ClientCertificate::~ClientCertificate() = default;

absl::StatusOr<std::unique_ptr<ClientCertificate>> ClientCertificate::FromPem(
    absl::string_view pem, absl::string_view source) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (cert == nullptr) {
    ERR_clear_error();
    return absl::InvalidArgumentError(absl::StrCat(source, " holds no PEM certificate"));
  }
  unsigned char* der = nullptr;
  int n = i2d_X509(cert, &der);
  std::string der_bytes(reinterpret_cast<char*>(der), n > 0 ? n : 0);
  OPENSSL_free(der);
  auto impl = std::make_unique<Impl>();
  impl->key.reset(X509_get_pubkey(cert));
  X509_free(cert);
  if (!impl->key) {
    ERR_clear_error();
    return absl::InvalidArgumentError(absl::StrCat(source, ": unreadable public key"));
  }
  std::unique_ptr<ClientCertificate> out(new ClientCertificate(std::move(impl)));
  const std::string sha1 = Digest(EVP_sha1(), der_bytes);
  out->sha1_hex_ = UpperHex(sha1);
  out->x5t_ = Base64UrlEncode(sha1);
  out->x5t_s256_ = Base64UrlEncode(Digest(EVP_sha256(), der_bytes));
  return out;
}

absl::Status ClientCertificate::Verify(absl::string_view alg, absl::string_view signing_input,
                                       absl::string_view signature) const {
  return VerifyWith(impl_->key.get(), alg, signing_input, signature);
}

}  // namespace rotor::emulator
