// The inside of a Pfx, shared by pfx.cc and checks.cc only.
//
// Internal to the certs module (it carries OpenSSL types); nothing outside
// certs/ includes it.
#ifndef ROTOR_CERTS_PFX_INTERNAL_H_
#define ROTOR_CERTS_PFX_INTERNAL_H_

#include <string>
#include <vector>

#include "certs/openssl_util.h"
#include "certs/pfx.h"

namespace rotor::certs {

struct Pfx::Impl {
  std::string source_name;
  // Every certificate in the file, in file order (the leaf included).
  std::vector<internal::X509Ptr> certificates;
  internal::EvpPkeyPtr key;
  // Index of the leaf (the certificate matching `key`) in `certificates`.
  size_t leaf = 0;
  // Indexes of the leaf's issuer, its issuer, ... as found in the file.
  std::vector<size_t> chain;
  // The last certificate of leaf + chain is self-issued (a root), so the
  // chain is complete.
  bool chain_complete = false;
  // Indexes of certificates that are neither the leaf nor in its chain.
  std::vector<size_t> unrelated;

  X509* Leaf() const { return certificates[leaf].get(); }
  X509* At(size_t i) const { return certificates[i].get(); }
};

struct PfxAccess {
  static const Pfx::Impl& Get(const Pfx& pfx) { return *pfx.impl_; }
};

// The names of the checks that Pfx::Open itself performs.
inline constexpr char kParsePfxCheck[] = "Parse PFX";
inline constexpr char kPrivateKeyCheck[] = "Private Key";

// A failed Pfx::Open carries this payload; its value is the name of the
// check that failed (kParsePfxCheck or kPrivateKeyCheck).
inline constexpr char kOpenFailureCheckPayload[] =
    "type.googleapis.com/rotor.certs.OpenFailureCheck";

}  // namespace rotor::certs

#endif  // ROTOR_CERTS_PFX_INTERNAL_H_
