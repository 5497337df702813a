#include "certs/checks.h"

#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <utility>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/types/optional.h"
#include "base/files.h"
#include "certs/openssl_util.h"
#include "certs/pfx_internal.h"

namespace rotor::certs {
namespace {

using internal::NameToString;
using internal::TakeOpenSslErrors;

CheckResult Ok(absl::string_view name, std::string detail = "") {
  return {std::string(name), CheckLevel::kOk, std::move(detail)};
}
CheckResult Warning(absl::string_view name, std::string detail) {
  return {std::string(name), CheckLevel::kWarning, std::move(detail)};
}
CheckResult Error(absl::string_view name, std::string detail) {
  return {std::string(name), CheckLevel::kError, std::move(detail)};
}

std::string Subject(X509* cert) { return NameToString(X509_get_subject_name(cert)); }

CheckResult CheckParse(const Pfx::Impl& pfx) {
  const size_t n = pfx.certificates.size();
  return Ok(kParsePfxCheck,
            absl::StrCat(pfx.source_name, ": ", n, n == 1 ? " certificate" : " certificates",
                         " and a private key"));
}

CheckResult CheckPrivateKey(const Pfx::Impl& pfx, const CertificateInfo& info) {
  return Ok(kPrivateKeyCheck,
            absl::StrCat(info.key_type, " ", info.key_bits, "-bit key matches ", info.subject));
}

CheckResult CheckExpiry(const CertificateInfo& info, const CheckOptions& options) {
  constexpr char kName[] = "Expiry Date";
  if (options.now < info.not_before) {
    return Error(kName, absl::StrCat("not valid before ", internal::FormatUtc(info.not_before)));
  }
  if (options.now > info.not_after) {
    return Error(kName, absl::StrCat("expired on ", internal::FormatUtc(info.not_after)));
  }
  if (info.days_left < options.min_valid_days) {
    return Error(kName, absl::StrCat("expires on ", internal::FormatUtc(info.not_after), ", ",
                                     info.days_left, " days from now: fewer than min_valid_days (",
                                     options.min_valid_days, ")"));
  }
  return Ok(kName, absl::StrCat("valid until ", internal::FormatUtc(info.not_after), " (",
                                info.days_left, " days left)"));
}

bool IsWeakDigest(int md_nid) {
  return md_nid == NID_sha1 || md_nid == NID_md5 || md_nid == NID_md4 || md_nid == NID_md2 ||
         md_nid == NID_mdc2 || md_nid == NID_ripemd160;
}

CheckResult CheckSignatureAlgorithm(const Pfx::Impl& pfx) {
  constexpr char kName[] = "Signature Algorithm";
  std::vector<size_t> judged = {pfx.leaf};
  for (size_t i : pfx.chain) {
    // A root's signature on itself is never verified by clients.
    if (!internal::IsSelfIssued(pfx.At(i))) judged.push_back(i);
  }
  std::vector<std::string> weak;
  for (size_t i : judged) {
    int md_nid = NID_undef;
    if (X509_get_signature_info(pfx.At(i), &md_nid, nullptr, nullptr, nullptr) != 1) {
      TakeOpenSslErrors();
      md_nid = NID_undef;
    }
    if (IsWeakDigest(md_nid)) {
      weak.push_back(absl::StrCat(Subject(pfx.At(i)), " is signed with ",
                                  OBJ_nid2ln(X509_get_signature_nid(pfx.At(i)))));
    }
  }
  if (!weak.empty()) {
    return Error(kName,
                 absl::StrCat(absl::StrJoin(weak, "; "), ": reissue with SHA-256 or stronger"));
  }
  return Ok(kName, OBJ_nid2ln(X509_get_signature_nid(pfx.Leaf())));
}

CheckResult CheckKeySize(const CertificateInfo& info) {
  constexpr char kName[] = "Key Size";
  if (info.key_type == "RSA") {
    std::string what = absl::StrCat("RSA ", info.key_bits, " bits");
    if (info.key_bits < 2048) {
      return Error(kName, absl::StrCat(what, ": at least 2048 bits needed"));
    }
    return Ok(kName, what);
  }
  if (info.key_type == "EC") {
    std::string what = absl::StrCat("EC ", info.ec_curve);
    if (info.ec_curve != "P-256" && info.ec_curve != "P-384" && info.ec_curve != "P-521") {
      return Error(kName, absl::StrCat(what, ": use P-256, P-384 or P-521"));
    }
    return Ok(kName, what);
  }
  return Error(kName, absl::StrCat(info.key_type,
                                   " key: use RSA (2048 bits or more) or EC "
                                   "(P-256 or larger)"));
}

CheckResult CheckKeyUsage(const Pfx::Impl& pfx, const CertificateInfo& info) {
  constexpr char kName[] = "Key Usage";
  X509* leaf = pfx.Leaf();
  const uint32_t ku = X509_get_key_usage(leaf);
  const uint32_t xku = X509_get_extended_key_usage(leaf);
  TakeOpenSslErrors();
  const bool rsa = info.key_type == "RSA";

  std::vector<std::string> errors;
  std::vector<std::string> warnings;
  std::vector<std::string> found;
  if (ku == UINT32_MAX) {
    warnings.push_back(
        absl::StrCat("no keyUsage extension (any use allowed); expected digitalSignature",
                     rsa ? ", keyEncipherment" : ""));
  } else {
    std::vector<std::string> missing;
    if (!(ku & KU_DIGITAL_SIGNATURE)) missing.push_back("digitalSignature");
    if (rsa && !(ku & KU_KEY_ENCIPHERMENT)) missing.push_back("keyEncipherment");
    if (!missing.empty()) {
      errors.push_back(absl::StrCat("keyUsage lacks ", absl::StrJoin(missing, ", ")));
    } else {
      found.push_back(rsa ? "digitalSignature, keyEncipherment" : "digitalSignature");
    }
  }
  if (xku == UINT32_MAX) {
    warnings.push_back("no extendedKeyUsage extension (any use allowed); expected serverAuth");
  } else if (!(xku & (XKU_SSL_SERVER | XKU_ANYEKU))) {
    errors.push_back("extendedKeyUsage lacks serverAuth");
  } else {
    found.push_back("serverAuth");
  }
  if (!errors.empty()) {
    for (std::string& w : warnings) errors.push_back(std::move(w));
    return Error(kName, absl::StrJoin(errors, "; "));
  }
  if (!warnings.empty()) return Warning(kName, absl::StrJoin(warnings, "; "));
  return Ok(kName, absl::StrJoin(found, "; "));
}

CheckResult CheckChain(const Pfx::Impl& pfx, const CertificateInfo& info) {
  constexpr char kName[] = "Cert Chain";
  if (info.self_signed) return Ok(kName, "self-signed leaf, no chain");
  std::vector<std::string> names = {Subject(pfx.Leaf())};
  for (size_t i : pfx.chain) names.push_back(Subject(pfx.At(i)));
  std::string path = absl::StrJoin(names, " -> ");
  if (pfx.chain_complete) return Ok(kName, path);
  X509* top = pfx.chain.empty() ? pfx.Leaf() : pfx.At(pfx.chain.back());
  return Warning(kName, absl::StrCat(path, ": the issuer ", NameToString(X509_get_issuer_name(top)),
                                     " is not in the PFX; clients must already "
                                     "have it (a root they trust)"));
}

CheckResult CheckChainOrder(const Pfx::Impl& pfx) {
  constexpr char kName[] = "Chain Order";
  std::vector<size_t> expected = {pfx.leaf};
  expected.insert(expected.end(), pfx.chain.begin(), pfx.chain.end());
  if (std::is_sorted(expected.begin(), expected.end())) {
    return Ok(kName, "leaf first, then each issuer");
  }
  // Where the chain certificates sit in the file, in chain order.
  std::vector<std::string> positions;
  for (size_t i : expected) positions.push_back(absl::StrCat(i + 1));
  return Warning(kName, absl::StrCat("the PFX lists the leaf and its issuers as "
                                     "certificates ",
                                     absl::StrJoin(positions, ", "),
                                     "; some tools expect leaf first, then each "
                                     "issuer"));
}

CheckResult CheckOthers(const Pfx::Impl& pfx) {
  constexpr char kName[] = "Other Certificates";
  if (pfx.unrelated.empty()) return Ok(kName, "none");
  std::vector<std::string> names;
  for (size_t i : pfx.unrelated) names.push_back(Subject(pfx.At(i)));
  return Error(kName, absl::StrCat("not in the leaf's chain: ", absl::StrJoin(names, "; "),
                                   "; export the PFX with only the leaf and its chain"));
}

CheckResult CheckDnsNames(const Pfx::Impl& pfx, const CertificateInfo& info,
                          const CheckOptions& options) {
  constexpr char kName[] = "DNS Names";
  const std::string listed = info.dns_names.empty() ? "none" : absl::StrJoin(info.dns_names, ", ");
  if (options.dns_name.empty()) {
    if (info.dns_names.empty()) {
      return Error(kName, "no subjectAltName DNS entry; TLS clients ignore the CN");
    }
    return Ok(kName, listed);
  }
  X509* leaf = pfx.Leaf();
  char* peer = nullptr;
  int matched;
  // An IP address is matched against the IP entries, as TLS clients do.
  ASN1_OCTET_STRING* ip = a2i_IPADDRESS(options.dns_name.c_str());
  if (ip != nullptr) {
    ASN1_OCTET_STRING_free(ip);
    matched = X509_check_ip_asc(leaf, options.dns_name.c_str(), 0);
  } else {
    matched = X509_check_host(
        leaf, options.dns_name.data(), options.dns_name.size(),
        X509_CHECK_FLAG_NEVER_CHECK_SUBJECT | X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS, &peer);
  }
  TakeOpenSslErrors();
  if (matched == 1) {
    std::string detail = options.dns_name;
    if (peer != nullptr && options.dns_name != peer) {
      absl::StrAppend(&detail, " matches ", peer);
    }
    OPENSSL_free(peer);
    return Ok(kName, detail);
  }
  OPENSSL_free(peer);
  return Error(kName, absl::StrCat(options.dns_name,
                                   " is not covered by the certificate's "
                                   "DNS names (",
                                   listed, ")"));
}

CheckResult CheckTrust(const Pfx::Impl& pfx, const CheckOptions& options) {
  constexpr char kName[] = "CA Trust";
  const std::string& path = options.ca_bundle_path;
  absl::StatusOr<std::string> pem =
      ReadFile(path, ReadLimit{.max_bytes = kMaxCaBundleBytes, .what = "a CA bundle"});
  if (!pem.ok()) {
    return Error(kName, absl::StrCat("cannot read the CA bundle: ", pem.status().message()));
  }
  internal::X509StorePtr store(X509_STORE_new());
  internal::BioPtr bio(BIO_new_mem_buf(pem->data(), static_cast<int>(pem->size())));
  int loaded = 0;
  while (true) {
    internal::X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    if (!cert) break;
    if (X509_STORE_add_cert(store.get(), cert.get()) == 1) ++loaded;
  }
  TakeOpenSslErrors();  // the end of the PEM data reads as an error
  if (loaded == 0) {
    return Error(kName, absl::StrCat("no PEM certificate in ", path));
  }

  STACK_OF(X509)* untrusted = sk_X509_new_null();
  for (size_t i = 0; i < pfx.certificates.size(); ++i) {
    if (i != pfx.leaf) sk_X509_push(untrusted, pfx.At(i));
  }
  internal::X509StoreCtxPtr ctx(X509_STORE_CTX_new());
  CheckResult result;
  if (!ctx || X509_STORE_CTX_init(ctx.get(), store.get(), pfx.Leaf(), untrusted) != 1) {
    result = Error(kName, absl::StrCat("cannot set up verification: ", TakeOpenSslErrors()));
  } else {
    X509_STORE_CTX_set_time(ctx.get(), 0, absl::ToTimeT(options.now));
    if (X509_verify_cert(ctx.get()) == 1) {
      STACK_OF(X509)* chain = X509_STORE_CTX_get0_chain(ctx.get());
      X509* root = sk_X509_value(chain, sk_X509_num(chain) - 1);
      result = Ok(kName, absl::StrCat("verifies to ", Subject(root), " in ", path));
    } else {
      const int error = X509_STORE_CTX_get_error(ctx.get());
      const int depth = X509_STORE_CTX_get_error_depth(ctx.get());
      X509* at = X509_STORE_CTX_get_current_cert(ctx.get());
      result =
          Error(kName, absl::StrCat("does not verify against ", path, ": ",
                                    X509_verify_cert_error_string(error), " (at ",
                                    at != nullptr ? Subject(at) : "?", ", depth ", depth, ")"));
    }
  }
  TakeOpenSslErrors();
  sk_X509_free(untrusted);  // the certificates belong to the Pfx
  return result;
}

CheckResult CheckIssuer(const CertificateInfo& info) {
  constexpr char kName[] = "Issuer";
  if (info.self_signed) {
    return Warning(kName,
                   "self-signed: clients must trust this certificate "
                   "explicitly");
  }
  return Ok(kName, absl::StrCat("issued by ", info.issuer));
}

}  // namespace

absl::string_view CheckLevelName(CheckLevel level) {
  switch (level) {
    case CheckLevel::kOk:
      return "OK";
    case CheckLevel::kWarning:
      return "WARNING";
    case CheckLevel::kError:
      return "ERROR";
  }
  return "ERROR";
}

std::vector<CheckResult> CheckCertificate(const Pfx& pfx, const CheckOptions& options) {
  const Pfx::Impl& impl = PfxAccess::Get(pfx);
  const CertificateInfo info = pfx.Info(options.now);
  std::vector<CheckResult> results;
  results.push_back(CheckParse(impl));
  results.push_back(CheckPrivateKey(impl, info));
  results.push_back(CheckExpiry(info, options));
  results.push_back(CheckSignatureAlgorithm(impl));
  results.push_back(CheckKeySize(info));
  results.push_back(CheckKeyUsage(impl, info));
  results.push_back(CheckChain(impl, info));
  results.push_back(CheckChainOrder(impl));
  results.push_back(CheckOthers(impl));
  results.push_back(CheckDnsNames(impl, info, options));
  if (!options.ca_bundle_path.empty()) {
    results.push_back(CheckTrust(impl, options));
  }
  results.push_back(CheckIssuer(info));
  return results;
}

std::vector<CheckResult> CheckOpenFailure(const absl::Status& open_error) {
  if (open_error.ok()) return {};
  std::string message(open_error.message());
  absl::optional<absl::Cord> check = open_error.GetPayload(kOpenFailureCheckPayload);
  if (check.has_value() && *check == kPrivateKeyCheck) {
    return {Ok(kParsePfxCheck), Error(kPrivateKeyCheck, std::move(message))};
  }
  return {Error(kParsePfxCheck, std::move(message))};
}

std::vector<CheckResult> CheckPfx(absl::string_view der_bytes, const Secret& password,
                                  const std::string& source_name, const CheckOptions& options) {
  absl::StatusOr<Pfx> pfx = Pfx::Open(der_bytes, password, source_name);
  if (!pfx.ok()) return CheckOpenFailure(pfx.status());
  return CheckCertificate(*pfx, options);
}

CheckLevel WorstLevel(const std::vector<CheckResult>& results) {
  CheckLevel worst = CheckLevel::kOk;
  for (const CheckResult& r : results) {
    if (static_cast<int>(r.level) > static_cast<int>(worst)) worst = r.level;
  }
  return worst;
}

std::string FormatCheck(const CheckResult& result) {
  std::string line = absl::StrCat(result.name, ": ", CheckLevelName(result.level));
  if (!result.detail.empty()) absl::StrAppend(&line, " (", result.detail, ")");
  return line;
}

std::string FormatChecks(const std::vector<CheckResult>& results) {
  std::string out;
  for (const CheckResult& r : results) absl::StrAppend(&out, FormatCheck(r), "\n");
  return out;
}

}  // namespace rotor::certs
