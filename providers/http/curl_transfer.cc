#include "providers/http/curl_transfer.h"

#include <curl/curl.h>
#include <openssl/crypto.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/secret.h"

namespace rotor::http {
namespace {

// Frees a curl header list after wiping it: it holds Authorization values.
void FreeHeaderList(curl_slist* list) {
  for (curl_slist* item = list; item != nullptr; item = item->next) {
    if (item->data != nullptr) OPENSSL_cleanse(item->data, strlen(item->data));
  }
  curl_slist_free_all(list);
}

// CURLOPT_SSL_CTX_FUNCTION: the configured CAs join the system store of
// each connection's TLS context.
CURLcode AddExtraAnchors(CURL*, void* ssl_ctx, void* trust) {
  static_cast<const TrustStore*>(trust)->AddExtraAnchorsTo(ssl_ctx);
  return CURLE_OK;
}

}  // namespace

absl::Status InitCurlOnce() {
  static const absl::Status* status = [] {
    CURLcode code = curl_global_init(CURL_GLOBAL_DEFAULT);
    return code == CURLE_OK ? new absl::Status()
                            : new absl::Status(absl::InternalError(absl::StrCat(
                                  "libcurl initialisation failed: ", curl_easy_strerror(code))));
  }();
  return *status;
}

ProxySettings ProxySettings::FromEnvironment() {
  auto get = [](std::initializer_list<const char*> names) -> std::string {
    for (const char* name : names) {
      if (const char* value = std::getenv(name)) return value;
    }
    return "";
  };
  ProxySettings proxy;
  proxy.no_proxy = get({"no_proxy", "NO_PROXY"});
  proxy.https_proxy = get({"https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"});
  proxy.http_proxy = get({"http_proxy", "all_proxy", "ALL_PROXY"});
  return proxy;
}

struct CurlTransfer::State {
  ~State() { WipeString(response_body); }

  // CURLOPT_HEADERFUNCTION and CURLOPT_WRITEFUNCTION; `user` is the State.
  static size_t OnHeader(char* data, size_t size, size_t count, void* user);
  static size_t OnBody(char* data, size_t size, size_t count, void* user);

  // The attempt in flight.
  CURL* easy = nullptr;
  curl_slist* header_list = nullptr;
  // Its answer.
  HttpHeaders response_headers;
  std::string response_body;
  std::vector<std::string> peer_certificates_pem;
  bool too_large = false;
  size_t max_body = 0;
  char error[CURL_ERROR_SIZE] = {};
};

size_t CurlTransfer::State::OnHeader(char* data, size_t size, size_t count, void* user) {
  State& state = *static_cast<State*>(user);
  size_t n = size * count;
  absl::string_view line(data, n);
  if (absl::StartsWith(line, "HTTP/")) {
    // A new response head (after 100 Continue or a proxy's CONNECT answer).
    state.response_headers.clear();
    return n;
  }
  size_t colon = line.find(':');
  if (colon == absl::string_view::npos) return n;
  state.response_headers.emplace_back(
      std::string(absl::StripAsciiWhitespace(line.substr(0, colon))),
      std::string(absl::StripAsciiWhitespace(line.substr(colon + 1))));
  return n;
}

size_t CurlTransfer::State::OnBody(char* data, size_t size, size_t count, void* user) {
  State& state = *static_cast<State*>(user);
  size_t n = size * count;
  std::string& body = state.response_body;
  if (body.size() + n > state.max_body) {
    state.too_large = true;
    return 0;  // aborts the transfer with CURLE_WRITE_ERROR
  }
  if (body.capacity() < body.size() + n) {
    // Grow by hand so the old buffer is wiped rather than just freed.
    std::string bigger;
    bigger.reserve(std::max({body.capacity() * 2, body.size() + n, static_cast<size_t>(4096)}));
    bigger.append(body);
    WipeString(body);
    body.swap(bigger);
  }
  body.append(data, n);
  return n;
}

CurlTransfer::CurlTransfer() : state_(std::make_unique<State>()) {}

CurlTransfer::~CurlTransfer() { Release(); }

absl::Status CurlTransfer::Prepare(const HttpRequest& req, absl::string_view redacted_url,
                                   const TransferSettings& settings) {
  CURL* easy = curl_easy_init();
  if (easy == nullptr) return absl::ResourceExhaustedError("curl_easy_init");
  State& state = *state_;
  state.response_headers.clear();
  WipeString(state.response_body);
  state.too_large = false;
  state.max_body =
      req.max_response_bytes > 0 ? req.max_response_bytes : settings.max_response_bytes;
  state.error[0] = '\0';

  CURLcode rc = CURLE_OK;
  auto set = [&](CURLoption option, auto value) {
    if (rc == CURLE_OK) rc = curl_easy_setopt(easy, option, value);
  };
  set(CURLOPT_URL, req.url.c_str());
  set(CURLOPT_PRIVATE, static_cast<void*>(this));
  set(CURLOPT_NOSIGNAL, 1L);
  set(CURLOPT_ERRORBUFFER, state.error);
  set(CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_1_1));
  set(CURLOPT_PROTOCOLS_STR, "http,https");
  // The environment's proxy (ProxySettings); "" means none.
  const bool https = absl::StartsWithIgnoreCase(req.url, "https:");
  set(CURLOPT_PROXY, (https ? settings.proxy.https_proxy : settings.proxy.http_proxy).c_str());
  set(CURLOPT_NOPROXY, settings.proxy.no_proxy.c_str());
  set(CURLOPT_FOLLOWLOCATION, 0L);
  set(CURLOPT_SSL_VERIFYPEER, 1L);
  set(CURLOPT_SSL_VERIFYHOST, 2L);
  set(CURLOPT_USERAGENT, settings.user_agent.c_str());
  set(CURLOPT_CONNECTTIMEOUT_MS,
      static_cast<long>(absl::ToInt64Milliseconds(settings.connect_timeout)));
  set(CURLOPT_TIMEOUT_MS, static_cast<long>(absl::ToInt64Milliseconds(settings.request_timeout)));
  set(CURLOPT_HEADERFUNCTION, &State::OnHeader);
  set(CURLOPT_HEADERDATA, static_cast<void*>(&state));
  set(CURLOPT_WRITEFUNCTION, &State::OnBody);
  set(CURLOPT_WRITEDATA, static_cast<void*>(&state));
  const TrustStore& trust = *settings.trust;
  if (!trust.exclusive_pem().empty()) {
    // Only the configured CAs: replace the default bundle and directory.
    curl_blob blob{const_cast<char*>(trust.exclusive_pem().data()), trust.exclusive_pem().size(),
                   CURL_BLOB_NOCOPY};
    set(CURLOPT_CAINFO_BLOB, &blob);
    set(CURLOPT_CAPATH, static_cast<char*>(nullptr));
  } else {
    // The system store. When libcurl has a CA directory (Debian's:
    // /etc/ssl/certs, hashed links to the same certificates as its bundle
    // file) it alone is used: OpenSSL then loads an issuer from it only when
    // a chain needs one, where the bundle file costs a parse of ~140
    // certificates (about 250 million instructions, tens of milliseconds on
    // the I/O thread) before the first handshake. Without a directory, the
    // bundle file, which libcurl parses once and caches in the multi handle.
    if (trust.system_directory()) {
      set(CURLOPT_CAINFO, static_cast<char*>(nullptr));
    } else if (trust.system_bundle()) {
      set(CURLOPT_CAPATH, static_cast<char*>(nullptr));
    }
    if (trust.has_extra_anchors()) {
      // Plus the configured CAs, added to the (cached) store of each
      // connection's TLS context.
      set(CURLOPT_SSL_CTX_FUNCTION, &AddExtraAnchors);
      set(CURLOPT_SSL_CTX_DATA, static_cast<void*>(const_cast<TrustStore*>(&trust)));
    }
  }
  // Servers close idle keep-alive connections, often after 5 s (Apache's and
  // cpp-httplib's default), and a request written into one that is closing
  // fails with a broken pipe that libcurl does not resend. Pauses of that
  // length are what throttling makes (Retry-After, the probe after a 429),
  // so a connection idle for 4 s is not reused: otherwise the probe that
  // ends a pause fails, the lane waits another probe interval, and every
  // slot's first request after it fails too.
  set(CURLOPT_MAXAGE_CONN, 4L);
  // libcurl resends a request on its own when a reused connection turns out
  // to be closed; a non-idempotent request must never be sent twice.
  if (!req.idempotent) set(CURLOPT_FRESH_CONNECT, 1L);
  if (req.capture_peer_certificates) {
    set(CURLOPT_CERTINFO, 1L);
    set(CURLOPT_FRESH_CONNECT, 1L);
  }

  bool has_body =
      !req.body.empty() || req.method == "POST" || req.method == "PUT" || req.method == "PATCH";
  if (req.method == "GET" && !has_body) {
    set(CURLOPT_HTTPGET, 1L);
  } else if (req.method == "HEAD") {
    set(CURLOPT_NOBODY, 1L);
  } else {
    set(CURLOPT_CUSTOMREQUEST, req.method.c_str());
  }
  if (has_body) {
    // No copy: the body stays in the request's Secret until the job ends.
    set(CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
    set(CURLOPT_POSTFIELDS, req.body.Reveal().data());
  }
  curl_slist* list = nullptr;
  bool has_content_type = false;
  for (const auto& [name, value] : req.headers) {
    if (absl::EqualsIgnoreCase(name, "Content-Type")) has_content_type = true;
    std::string line = value.empty() ? absl::StrCat(name, ";") : absl::StrCat(name, ": ", value);
    list = curl_slist_append(list, line.c_str());
    WipeString(line);
  }
  // No form content type unless asked for, and no 100-continue round trip.
  if (has_body && !has_content_type) list = curl_slist_append(list, "Content-Type:");
  list = curl_slist_append(list, "Expect:");
  set(CURLOPT_HTTPHEADER, list);

  if (rc != CURLE_OK) {
    FreeHeaderList(list);
    curl_easy_cleanup(easy);
    return absl::InternalError(absl::StrCat(
        req.method, " ", redacted_url, ": cannot set up the transfer: ", curl_easy_strerror(rc)));
  }
  state.easy = easy;
  state.header_list = list;
  return absl::OkStatus();
}

CURL* CurlTransfer::easy_handle() const { return state_->easy; }

void CurlTransfer::CapturePeerCertificates() {
  State& state = *state_;
  state.peer_certificates_pem.clear();
  curl_certinfo* info = nullptr;
  if (curl_easy_getinfo(state.easy, CURLINFO_CERTINFO, &info) == CURLE_OK && info != nullptr) {
    for (int i = 0; i < info->num_of_certs; ++i) {
      for (curl_slist* field = info->certinfo[i]; field != nullptr; field = field->next) {
        absl::string_view entry(field->data);
        if (absl::StartsWith(entry, "Cert:")) {
          state.peer_certificates_pem.emplace_back(entry.substr(5));
        }
      }
    }
  }
}

void CurlTransfer::Release() {
  State& state = *state_;
  if (state.easy != nullptr) curl_easy_cleanup(state.easy);
  state.easy = nullptr;
  FreeHeaderList(state.header_list);
  state.header_list = nullptr;
}

HttpResponse CurlTransfer::TakeResponse(int status) {
  State& state = *state_;
  // OnBody grows the body in steps of at least 4 KiB, and the headers'
  // vector doubles; a SendAll of 5000 secret reads (about 400 bytes and 17
  // headers each) holds every answer until the last one, so the slack would
  // be 23 MiB of a plan's peak memory. Keep both at their size (the old
  // body buffer wiped, as OnBody does).
  std::string& body = state.response_body;
  if (body.capacity() - body.size() > 256) {
    std::string fitted(body);
    WipeString(body);
    body.swap(fitted);
  }
  state.response_headers.shrink_to_fit();
  HttpResponse response(status, std::move(state.response_headers), std::move(state.response_body));
  response.peer_certificates_pem = std::move(state.peer_certificates_pem);
  state.response_headers = HttpHeaders();
  return response;
}

absl::string_view CurlTransfer::error_buffer() const { return state_->error; }

bool CurlTransfer::response_too_large() const { return state_->too_large; }

}  // namespace rotor::http
