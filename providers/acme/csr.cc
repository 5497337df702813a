#include "providers/acme/csr.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

namespace rotor::acme {

absl::StatusOr<std::string> CsrDerFromPem(absl::string_view csr_pem) {
  BIO* bio = BIO_new_mem_buf(csr_pem.data(), static_cast<int>(csr_pem.size()));
  if (bio == nullptr) return absl::InternalError("out of memory reading the CSR");
  X509_REQ* req = PEM_read_bio_X509_REQ(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  ERR_clear_error();
  if (req == nullptr) return absl::InvalidArgumentError("the CSR is not a PEM certificate request");
  std::string der;
  EVP_PKEY* key = X509_REQ_get0_pubkey(req);
  const bool verified = key != nullptr && X509_REQ_verify(req, key) == 1;
  unsigned char* out = nullptr;
  const int length = verified ? i2d_X509_REQ(req, &out) : -1;
  if (length > 0) der.assign(reinterpret_cast<char*>(out), static_cast<size_t>(length));
  OPENSSL_free(out);
  X509_REQ_free(req);
  ERR_clear_error();
  if (!verified) return absl::InvalidArgumentError("the CSR's signature does not verify");
  if (der.empty()) return absl::InternalError("the CSR cannot be written as DER");
  return der;
}

}  // namespace rotor::acme
