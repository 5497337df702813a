// The certificates an HttpClient trusts: the system store, the configured
// CAs (HttpClientOptions::ca_bundle_path and ca_bundle_pem) in addition to
// it, or only the configured CAs. Loaded once when the client is created
// and read, unchanged and without a lock, by every transfer after that
// (curl_transfer.cc turns it into libcurl's options).
//
// Internal to providers/http. It carries no OpenSSL type: the parsed
// certificates stay in trust_store.cc, and a TLS context comes in as the
// void* libcurl hands to its CURLOPT_SSL_CTX_FUNCTION.
#ifndef ROTOR_PROVIDERS_HTTP_TRUST_STORE_H_
#define ROTOR_PROVIDERS_HTTP_TRUST_STORE_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace rotor::http {

class TrustStore {
 public:
  // Trusts nothing yet; Load makes a usable store.
  TrustStore();
  ~TrustStore();
  TrustStore(TrustStore&&) noexcept;
  TrustStore& operator=(TrustStore&&) noexcept;
  TrustStore(const TrustStore&) = delete;
  TrustStore& operator=(const TrustStore&) = delete;

  // Reads the configured CAs (a file and/or PEM text, either may be empty)
  // and looks up libcurl's system store. Fails when the file cannot be read
  // (its error, prefixed "CA bundle: "), when a bundle holds no PEM
  // certificate (InvalidArgument), or when the system store is not trusted
  // and no CA is configured (InvalidArgument: no server could be trusted).
  static absl::StatusOr<TrustStore> Load(const std::string& ca_bundle_path,
                                         const std::string& ca_bundle_pem, bool trust_system_store);

  // When the system store is not trusted: the configured CAs as PEM, which
  // replace libcurl's default bundle and directory. Empty otherwise.
  const std::string& exclusive_pem() const { return exclusive_pem_; }

  // libcurl was built with a default CA bundle file.
  bool system_bundle() const { return system_bundle_; }
  // libcurl was built with a default CA directory, and it exists.
  bool system_directory() const { return system_directory_; }

  // There are configured CAs to add to the system store.
  bool has_extra_anchors() const;
  // Adds the configured CAs to the certificate store of `ssl_ctx` (an
  // SSL_CTX*, as libcurl passes it to CURLOPT_SSL_CTX_FUNCTION). A
  // certificate already there is not an error.
  void AddExtraAnchorsTo(void* ssl_ctx) const;

 private:
  struct Certificates;  // OpenSSL's X509 objects, freed with the store
  std::unique_ptr<Certificates> extra_anchors_;
  std::string exclusive_pem_;
  bool system_bundle_ = false;
  bool system_directory_ = false;
};

}  // namespace rotor::http

#endif  // ROTOR_PROVIDERS_HTTP_TRUST_STORE_H_
