#include "providers/acme/testing/test_csr.h"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace rotor::acme::testing {

absl::StatusOr<std::string> MakeTestCsr(const std::vector<std::string>& dns_names) {
  if (dns_names.empty()) return absl::InvalidArgumentError("no name");
  EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  X509_REQ* req = X509_REQ_new();
  X509_NAME* subject = X509_NAME_new();
  bool ok = key != nullptr && req != nullptr && subject != nullptr;
  ok = ok && X509_NAME_add_entry_by_txt(
                 subject, "CN", MBSTRING_ASC,
                 reinterpret_cast<const unsigned char*>(dns_names[0].c_str()), -1, -1, 0) == 1;
  ok = ok && X509_REQ_set_subject_name(req, subject) == 1 && X509_REQ_set_pubkey(req, key) == 1;
  std::vector<std::string> sans;
  for (const auto& name : dns_names) sans.push_back(absl::StrCat("DNS:", name));
  const std::string san = absl::StrJoin(sans, ",");
  X509_EXTENSION* ext =
      ok ? X509V3_EXT_conf_nid(nullptr, nullptr, NID_subject_alt_name, san.c_str()) : nullptr;
  STACK_OF(X509_EXTENSION)* exts = sk_X509_EXTENSION_new_null();
  ok = ok && ext != nullptr && exts != nullptr && sk_X509_EXTENSION_push(exts, ext) > 0;
  if (!ok) X509_EXTENSION_free(ext);
  ok = ok && X509_REQ_add_extensions(req, exts) == 1;
  ok = ok && X509_REQ_sign(req, key, EVP_sha256()) > 0;
  std::string pem;
  BIO* bio = BIO_new(BIO_s_mem());
  if (ok && bio != nullptr && PEM_write_bio_X509_REQ(bio, req) == 1) {
    char* data = nullptr;
    const long length = BIO_get_mem_data(bio, &data);
    pem.assign(data, static_cast<size_t>(length));
  }
  BIO_free(bio);
  sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
  X509_NAME_free(subject);
  X509_REQ_free(req);
  EVP_PKEY_free(key);
  if (pem.empty()) return absl::InternalError("cannot make a test CSR");
  return pem;
}

absl::StatusOr<std::vector<std::string>> LeafDnsNames(const std::string& chain_pem) {
  BIO* bio = BIO_new_mem_buf(chain_pem.data(), static_cast<int>(chain_pem.size()));
  X509* leaf = bio != nullptr ? PEM_read_bio_X509(bio, nullptr, nullptr, nullptr) : nullptr;
  BIO_free(bio);
  if (leaf == nullptr) return absl::InvalidArgumentError("no PEM certificate");
  std::vector<std::string> names;
  auto* sans =
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(leaf, NID_subject_alt_name, nullptr, nullptr));
  for (int i = 0; sans != nullptr && i < sk_GENERAL_NAME_num(sans); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(sans, i);
    if (name->type != GEN_DNS) continue;
    const ASN1_IA5STRING* dns = name->d.dNSName;
    names.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(dns)),
                       ASN1_STRING_length(dns));
  }
  GENERAL_NAMES_free(sans);
  X509_free(leaf);
  return names;
}

}  // namespace rotor::acme::testing
