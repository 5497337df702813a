#include "providers/registry/registry_client.h"

#include <openssl/crypto.h>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "base/status_macros.h"
#include "providers/http/http_client.h"

namespace rotor::registry {
namespace {

class RegistryClient : public RegistryProbe {
 public:
  RegistryClient(std::string url, std::unique_ptr<http::HttpClient> client)
      : url_(std::move(url)), client_(std::move(client)) {}

  const std::string& url() const override { return url_; }

  absl::StatusOr<std::string> ServedCertificatePem() override {
    http::HttpRequest request = http::Get(absl::StrCat(url_, "/v2/"));
    request.capture_peer_certificates = true;
    ASSIGN_OR_RETURN(http::HttpResponse response, client_->Send(std::move(request)));
    if (response.peer_certificates_pem.empty()) {
      return absl::UnavailableError(absl::StrCat("GET ", url_, "/v2/: no server certificate seen"));
    }
    return response.peer_certificates_pem.front();
  }

  absl::StatusOr<int> Login(absl::string_view user, const Secret& password) override {
    std::string credentials = absl::StrCat(user, ":", password.Reveal());
    std::string encoded = absl::Base64Escape(credentials);
    OPENSSL_cleanse(credentials.data(), credentials.size());
    http::HttpRequest request = http::Get(absl::StrCat(url_, "/v2/"));
    request.headers.emplace_back("Authorization", absl::StrCat("Basic ", encoded));
    OPENSSL_cleanse(encoded.data(), encoded.size());
    ASSIGN_OR_RETURN(http::HttpResponse response, client_->Send(std::move(request)));
    return response.status;
  }

 private:
  std::string url_;
  std::unique_ptr<http::HttpClient> client_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<RegistryProbe>> MakeRegistryClient(
    const RegistryClientOptions& options) {
  if (options.url.empty()) {
    return absl::InvalidArgumentError(
        "rotor verify needs the registry's address: set [registry] url");
  }
  http::HttpClientOptions http_options;
  http_options.ca_bundle_path = options.ca_bundle_path;
  http_options.request_timeout = options.timeout;
  http_options.parallelism = 4;
  http_options.allow_insecure_loopback = options.allow_insecure_loopback;
  ASSIGN_OR_RETURN(std::unique_ptr<http::HttpClient> client,
                   http::HttpClient::Create(std::move(http_options)));
  std::string url(absl::StripSuffix(options.url, "/"));
  if (size_t slash = url.find('/', url.find("://") + 3); slash != std::string::npos) {
    url.resize(slash);
  }
  return std::unique_ptr<RegistryProbe>(new RegistryClient(std::move(url), std::move(client)));
}

}  // namespace rotor::registry
