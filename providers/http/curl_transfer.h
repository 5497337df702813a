// One attempt of an HTTP request as a libcurl easy handle: the options
// every rotor transfer is set up with (TLS verification, no redirects, the
// environment's proxy, the trust store, timeouts, how long a connection may
// sit idle, the request's method, headers and body), and the buffers
// libcurl writes the answer into. The client's scheduler (http_client.cc)
// owns the multi handle: it adds a prepared transfer to it, and when
// libcurl reports the transfer done, takes the answer from here.
//
// Internal to providers/http (scripts/check_layers.py keeps it there): it
// hands out the CURL easy handle; the header list and error buffer stay in
// curl_transfer.cc.
#ifndef ROTOR_PROVIDERS_HTTP_CURL_TRANSFER_H_
#define ROTOR_PROVIDERS_HTTP_CURL_TRANSFER_H_

#include <curl/curl.h>

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "providers/http/http_message.h"
#include "providers/http/trust_store.h"

namespace rotor::http {

// libcurl's process-wide initialisation, done on the first call; every call
// returns that first call's result.
absl::Status InitCurlOnce();

// The proxies of the environment, read once with libcurl's rules.
//
// libcurl reads the proxy variables itself on every transfer it is not
// given a proxy for (six getenv calls, each a scan of the whole
// environment: with thousands of variables, as a config with one
// { env = ... } password per user has, that is most of the I/O thread's
// time). So they are read once, when a client is created, and passed to
// each transfer.
struct ProxySettings {
  // no_proxy or NO_PROXY; for https, https_proxy then HTTPS_PROXY; for http,
  // http_proxy only (never HTTP_PROXY, which CGI programs can be fed); then
  // all_proxy, ALL_PROXY. "" means none.
  static ProxySettings FromEnvironment();

  std::string https_proxy;
  std::string http_proxy;
  std::string no_proxy;
};

// What every transfer of one client shares. It must outlive the transfers.
struct TransferSettings {
  std::string user_agent;
  absl::Duration connect_timeout;  // per attempt: TCP and TLS
  absl::Duration request_timeout;  // per attempt: the whole transfer
  size_t max_response_bytes = 0;   // a larger body aborts the transfer
  ProxySettings proxy;
  const TrustStore* trust = nullptr;
};

// The attempts of one request, one at a time. libcurl keeps pointers into
// this object while an attempt runs, so it neither moves nor copies.
class CurlTransfer {
 public:
  CurlTransfer();
  // Releases a handle still held; wipes the answer's body.
  ~CurlTransfer();
  CurlTransfer(const CurlTransfer&) = delete;
  CurlTransfer& operator=(const CurlTransfer&) = delete;

  // Makes the easy handle of a new attempt of `request`, after wiping the
  // previous attempt's answer. libcurl reads the request's body in place,
  // so `request` and `settings` must outlive the attempt. Errors:
  // ResourceExhausted when libcurl cannot make a handle; Internal, starting
  // with the method and `redacted_url`, when it refuses an option.
  absl::Status Prepare(const HttpRequest& request, absl::string_view redacted_url,
                       const TransferSettings& settings);

  // The prepared attempt's easy handle, for the multi handle; its
  // CURLINFO_PRIVATE is this object. Null when none is held.
  CURL* easy_handle() const;

  // After libcurl reported the attempt done, before Release: keeps the
  // server's certificates (CURLINFO_CERTINFO, which the request asked for)
  // as PEM, leaf first, for TakeResponse.
  void CapturePeerCertificates();

  // Frees the easy handle, which must not be in a multi handle any more,
  // and the header list (wiped first: it holds Authorization values).
  void Release();

  // The answer of the last attempt as a response with `status`; the
  // transfer's buffers are left empty.
  HttpResponse TakeResponse(int status);

  // Why the last attempt failed, in libcurl's words; empty when libcurl
  // wrote nothing there.
  absl::string_view error_buffer() const;
  // The last attempt was aborted because the body outgrew
  // TransferSettings::max_response_bytes.
  bool response_too_large() const;

 private:
  struct State;  // libcurl's handles and the answer's buffers
  std::unique_ptr<State> state_;
};

}  // namespace rotor::http

#endif  // ROTOR_PROVIDERS_HTTP_CURL_TRANSFER_H_
