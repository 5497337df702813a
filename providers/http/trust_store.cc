#include "providers/http/trust_store.h"

#include <curl/curl.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/stat.h>

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/files.h"
#include "base/status_macros.h"

namespace rotor::http {

struct TrustStore::Certificates {
  Certificates() = default;
  Certificates(const Certificates&) = delete;
  Certificates& operator=(const Certificates&) = delete;
  ~Certificates() {
    for (X509* cert : certs) X509_free(cert);
  }
  std::vector<X509*> certs;
};

namespace {

bool IsDirectory(const char* path) {
  struct stat st;
  return ::stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

// Loads every certificate of a PEM text.
absl::StatusOr<std::vector<X509*>> ParseCertificates(absl::string_view pem,
                                                     absl::string_view origin) {
  std::vector<X509*> certs;
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  if (bio == nullptr) return absl::ResourceExhaustedError("BIO_new_mem_buf");
  while (X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr)) {
    certs.push_back(cert);
  }
  ERR_clear_error();  // the loop ends with "no start line"
  BIO_free(bio);
  if (certs.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(origin, ": no PEM certificate found"));
  }
  return certs;
}

}  // namespace

TrustStore::TrustStore() : extra_anchors_(std::make_unique<Certificates>()) {}
TrustStore::~TrustStore() = default;
TrustStore::TrustStore(TrustStore&&) noexcept = default;
TrustStore& TrustStore::operator=(TrustStore&&) noexcept = default;

absl::StatusOr<TrustStore> TrustStore::Load(const std::string& ca_bundle_path,
                                            const std::string& ca_bundle_pem,
                                            bool trust_system_store) {
  TrustStore store;
  std::vector<X509*>& extra = store.extra_anchors_->certs;
  std::string pem;
  if (!ca_bundle_path.empty()) {
    absl::StatusOr<std::string> file =
        ReadFile(ca_bundle_path, ReadLimit{.max_bytes = kMaxCaBundleBytes, .what = "a CA bundle"});
    if (!file.ok()) {
      return absl::Status(file.status().code(),
                          absl::StrCat("CA bundle: ", file.status().message()));
    }
    ASSIGN_OR_RETURN(std::vector<X509*> certs, ParseCertificates(*file, ca_bundle_path));
    extra.insert(extra.end(), certs.begin(), certs.end());
    absl::StrAppend(&pem, *file, "\n");
  }
  if (!ca_bundle_pem.empty()) {
    ASSIGN_OR_RETURN(std::vector<X509*> certs, ParseCertificates(ca_bundle_pem, "ca_bundle_pem"));
    extra.insert(extra.end(), certs.begin(), certs.end());
    absl::StrAppend(&pem, ca_bundle_pem, "\n");
  }
  if (!trust_system_store) {
    if (pem.empty()) {
      return absl::InvalidArgumentError(
          "trust_system_store is false but no CA bundle is configured: no "
          "server could be trusted");
    }
    store.exclusive_pem_ = std::move(pem);
  }
  const curl_version_info_data* info = curl_version_info(CURLVERSION_NOW);
  store.system_bundle_ = info != nullptr && info->cainfo != nullptr;
  store.system_directory_ = info != nullptr && info->capath != nullptr && IsDirectory(info->capath);
  return store;
}

// extra_anchors_ is null only in a moved-from store.
bool TrustStore::has_extra_anchors() const {
  return extra_anchors_ != nullptr && !extra_anchors_->certs.empty();
}

void TrustStore::AddExtraAnchorsTo(void* ssl_ctx) const {
  if (!has_extra_anchors()) return;
  X509_STORE* store = SSL_CTX_get_cert_store(static_cast<SSL_CTX*>(ssl_ctx));
  for (X509* cert : extra_anchors_->certs) {
    X509_STORE_add_cert(store, cert);  // a duplicate is not an error
  }
  ERR_clear_error();
}

}  // namespace rotor::http
