#include "providers/http/testing/https_test_server.h"

#include <arpa/inet.h>
#include <httplib.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>

#include <atomic>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace rotor::http::testing {
namespace {

absl::Status OpenSslError(absl::string_view what) {
  unsigned long code = ERR_get_error();
  char buf[256] = "unknown error";
  if (code != 0) ERR_error_string_n(code, buf, sizeof buf);
  ERR_clear_error();
  return absl::InternalError(absl::StrCat(what, ": ", buf));
}

struct KeyDeleter {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct CertDeleter {
  void operator()(X509* c) const { X509_free(c); }
};
using KeyPtr = std::unique_ptr<EVP_PKEY, KeyDeleter>;
using CertPtr = std::unique_ptr<X509, CertDeleter>;

absl::StatusOr<KeyPtr> NewKey() {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  if (key == nullptr) return OpenSslError("EC key generation");
  return KeyPtr(key);
}

absl::StatusOr<std::string> KeyToPem(EVP_PKEY* key) {
  BIO* bio = BIO_new(BIO_s_mem());
  if (PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    BIO_free(bio);
    return OpenSslError("PEM_write_bio_PrivateKey");
  }
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  std::string pem(data, n);
  BIO_free(bio);
  return pem;
}

absl::StatusOr<std::string> CertToPem(X509* cert) {
  BIO* bio = BIO_new(BIO_s_mem());
  if (PEM_write_bio_X509(bio, cert) != 1) {
    BIO_free(bio);
    return OpenSslError("PEM_write_bio_X509");
  }
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  std::string pem(data, n);
  BIO_free(bio);
  return pem;
}

absl::StatusOr<KeyPtr> KeyFromPem(const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  EVP_PKEY* key = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (key == nullptr) return OpenSslError("PEM_read_bio_PrivateKey");
  return KeyPtr(key);
}

absl::StatusOr<CertPtr> CertFromPem(const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (cert == nullptr) return OpenSslError("PEM_read_bio_X509");
  return CertPtr(cert);
}

absl::Status AddExtension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (ext == nullptr) return OpenSslError(absl::StrCat("extension ", value));
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
  return absl::OkStatus();
}

// Makes a certificate for `key` signed by `issuer_key` (self-signed when
// `issuer` is null).
absl::StatusOr<CertPtr> MakeCert(EVP_PKEY* key, absl::string_view cn, X509* issuer,
                                 EVP_PKEY* issuer_key, absl::Time not_before, absl::Time not_after,
                                 const std::vector<std::pair<int, std::string>>& extensions) {
  CertPtr cert(X509_new());
  X509_set_version(cert.get(), 2);
  unsigned char serial[16];
  RAND_bytes(serial, sizeof serial);
  serial[0] &= 0x7F;
  BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get()));
  BN_free(bn);
  ASN1_TIME_set(X509_getm_notBefore(cert.get()), absl::ToTimeT(not_before));
  ASN1_TIME_set(X509_getm_notAfter(cert.get()), absl::ToTimeT(not_after));
  X509_NAME* name = X509_get_subject_name(cert.get());
  std::string cn_text(cn);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(cn_text.c_str()), -1, -1, 0);
  X509_set_issuer_name(cert.get(), issuer != nullptr ? X509_get_subject_name(issuer) : name);
  X509_set_pubkey(cert.get(), key);
  X509* issuer_cert = issuer != nullptr ? issuer : cert.get();
  for (const auto& [nid, value] : extensions) {
    absl::Status st = AddExtension(cert.get(), issuer_cert, nid, value);
    if (!st.ok()) return st;
  }
  if (X509_sign(cert.get(), issuer_key, EVP_sha256()) == 0) {
    return OpenSslError("X509_sign");
  }
  return cert;
}

bool IsIpAddress(const std::string& name) {
  unsigned char buf[16];
  return inet_pton(AF_INET, name.c_str(), buf) == 1 || inet_pton(AF_INET6, name.c_str(), buf) == 1;
}

}  // namespace

// --- TestCa ----------------------------------------------------------------

absl::StatusOr<TestCa> TestCa::Create(absl::string_view common_name) {
  auto key = NewKey();
  if (!key.ok()) return key.status();
  absl::Time now = absl::Now();
  auto cert = MakeCert(key->get(), common_name, nullptr, key->get(), now - absl::Hours(24),
                       now + absl::Hours(24 * 30),
                       {{NID_basic_constraints, "critical,CA:TRUE"},
                        {NID_key_usage, "critical,keyCertSign,cRLSign"},
                        {NID_subject_key_identifier, "hash"}});
  if (!cert.ok()) return cert.status();
  TestCa ca;
  auto cert_pem = CertToPem(cert->get());
  if (!cert_pem.ok()) return cert_pem.status();
  auto key_pem = KeyToPem(key->get());
  if (!key_pem.ok()) return key_pem.status();
  ca.ca_.cert_pem = *std::move(cert_pem);
  ca.ca_.key_pem = *std::move(key_pem);
  return ca;
}

absl::StatusOr<TestCertificate> TestCa::Issue(const std::vector<std::string>& names,
                                              absl::Time not_before, absl::Time not_after) const {
  auto ca_key = KeyFromPem(ca_.key_pem);
  if (!ca_key.ok()) return ca_key.status();
  auto ca_cert = CertFromPem(ca_.cert_pem);
  if (!ca_cert.ok()) return ca_cert.status();
  auto key = NewKey();
  if (!key.ok()) return key.status();
  std::vector<std::string> sans;
  for (const std::string& name : names) {
    sans.push_back(absl::StrCat(IsIpAddress(name) ? "IP:" : "DNS:", name));
  }
  std::vector<std::pair<int, std::string>> extensions = {
      {NID_basic_constraints, "critical,CA:FALSE"},
      {NID_key_usage, "critical,digitalSignature,keyEncipherment"},
      {NID_ext_key_usage, "serverAuth"},
      {NID_authority_key_identifier, "keyid:always"}};
  if (!sans.empty()) {
    extensions.push_back({NID_subject_alt_name, absl::StrJoin(sans, ",")});
  }
  auto cert = MakeCert(key->get(), names.empty() ? "server" : names[0], ca_cert->get(),
                       ca_key->get(), not_before, not_after, extensions);
  if (!cert.ok()) return cert.status();
  TestCertificate out;
  auto cert_pem = CertToPem(cert->get());
  if (!cert_pem.ok()) return cert_pem.status();
  auto key_pem = KeyToPem(key->get());
  if (!key_pem.ok()) return key_pem.status();
  out.cert_pem = *std::move(cert_pem);
  out.key_pem = *std::move(key_pem);
  return out;
}

// --- HttpsTestServer ---------------------------------------------------------

std::string HttpsTestServer::Request::Header(absl::string_view name) const {
  for (const auto& [n, v] : headers) {
    if (absl::EqualsIgnoreCase(n, name)) return v;
  }
  return "";
}

class HttpsTestServer::Impl {
 public:
  std::unique_ptr<httplib::Server> server;
  std::thread thread;

  mutable std::mutex mu;
  std::map<std::pair<std::string, std::string>, Handler> handlers;
  std::vector<Request> requests;
  std::set<int> ports;

  void Serve(const httplib::Request& req, httplib::Response& res) {
    Request r;
    r.method = req.method;
    r.path = req.path;
    r.target = req.target;
    for (const auto& [name, value] : req.headers) r.headers.push_back({name, value});
    r.body = req.body;
    r.remote_port = req.remote_port;
    Handler handler;
    {
      std::lock_guard<std::mutex> lock(mu);
      requests.push_back(r);
      ports.insert(req.remote_port);
      auto it = handlers.find({r.method == "HEAD" ? "GET" : r.method, r.path});
      if (it == handlers.end()) it = handlers.find({"*", r.path});
      if (it != handlers.end()) handler = it->second;
    }
    Response answer;
    if (handler) {
      answer = handler(r);
    } else {
      answer = ErrorJson(404, "NotFound", absl::StrCat("no handler for ", r.method, " ", r.path));
    }
    if (answer.delay > absl::ZeroDuration()) {
      std::this_thread::sleep_for(absl::ToChronoMilliseconds(answer.delay));
    }
    if (answer.drop) {
      // Close the TCP connection under the server's feet: the client sees
      // the connection end without any answer.
      int fd = req.ssl != nullptr ? SSL_get_fd(req.ssl) : -1;
      if (fd >= 0) shutdown(fd, SHUT_RDWR);
      res.status = 500;
      return;
    }
    res.status = answer.status;
    for (const auto& [name, value] : answer.headers) res.set_header(name, value);
    if (!answer.body.empty()) res.set_content(answer.body, answer.content_type);
  }
};

std::string HttpsTestServer::Request::Param(absl::string_view name) const {
  size_t q = target.find('?');
  if (q == std::string::npos) return "";
  absl::string_view query(target);
  query.remove_prefix(q + 1);
  while (!query.empty()) {
    size_t amp = query.find('&');
    absl::string_view pair = query.substr(0, amp);
    size_t eq = pair.find('=');
    if (pair.substr(0, eq) == name) {
      return eq == absl::string_view::npos ? "" : std::string(pair.substr(eq + 1));
    }
    if (amp == absl::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return "";
}

absl::StatusOr<std::unique_ptr<HttpsTestServer>> HttpsTestServer::Start(Options options) {
  auto impl = std::make_unique<Impl>();
  std::string ca_pem;
  std::string served_pem;
  if (options.plain_http) {
    impl->server = std::make_unique<httplib::Server>();
  } else {
    std::optional<TestCa> own_ca;
    const TestCa* ca = options.ca;
    if (ca == nullptr) {
      auto made = TestCa::Create();
      if (!made.ok()) return made.status();
      own_ca = *std::move(made);
      ca = &*own_ca;
    }
    absl::Time now = absl::Now();
    auto cert = ca->Issue(options.names, now + options.valid_from, now + options.valid_until);
    if (!cert.ok()) return cert.status();
    auto x509 = CertFromPem(cert->cert_pem);
    if (!x509.ok()) return x509.status();
    auto key = KeyFromPem(cert->key_pem);
    if (!key.ok()) return key.status();
    // SSLServer takes its own references to the certificate and key.
    impl->server = std::make_unique<httplib::SSLServer>(x509->get(), key->get());
    ca_pem = ca->cert_pem();
    served_pem = cert->cert_pem;
  }
  httplib::Server& server = *impl->server;
  if (!server.is_valid()) {
    return absl::InternalError("test server: invalid TLS setup");
  }
  int threads = options.threads;
  server.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  server.set_tcp_nodelay(true);
  server.set_keep_alive_max_count(100000);
  server.set_keep_alive_timeout(2);
  Impl* raw = impl.get();
  auto serve = [raw](const httplib::Request& req, httplib::Response& res) { raw->Serve(req, res); };
  server.Get(".*", serve);
  server.Post(".*", serve);
  server.Put(".*", serve);
  server.Patch(".*", serve);
  server.Delete(".*", serve);
  server.Options(".*", serve);
  // httplib listens with a backlog of 5: a burst of connections beyond that
  // waits for a SYN retransmission (1 s). Listen again with a real backlog.
  auto listen_fd = std::make_shared<std::atomic<int>>(-1);
  server.set_socket_options([listen_fd](int sock) {
    httplib::default_socket_options(sock);
    int none = -1;
    listen_fd->compare_exchange_strong(none, static_cast<int>(sock));
  });
  int port = server.bind_to_any_port("127.0.0.1");
  if (port <= 0) return absl::UnavailableError("test server: cannot bind");
  if (*listen_fd >= 0) ::listen(*listen_fd, 1024);
  impl->thread = std::thread([raw] { raw->server->listen_after_bind(); });
  // stop() does nothing until the server runs: wait for it.
  for (int i = 0; i < 5000 && !server.is_running(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  auto started = std::unique_ptr<HttpsTestServer>(
      new HttpsTestServer(std::move(impl), port, std::move(ca_pem), options.plain_http));
  started->cert_pem_ = std::move(served_pem);
  return started;
}

HttpsTestServer::HttpsTestServer(std::unique_ptr<Impl> impl, int port, std::string ca_pem,
                                 bool plain_http)
    : impl_(std::move(impl)), port_(port), ca_pem_(std::move(ca_pem)), plain_http_(plain_http) {}

HttpsTestServer::~HttpsTestServer() {
  impl_->server->stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

std::string HttpsTestServer::base_url() const { return Url(""); }

std::string HttpsTestServer::Url(absl::string_view path_and_query, absl::string_view host) const {
  return absl::StrCat(plain_http_ ? "http://" : "https://", host, ":", port_, path_and_query);
}

void HttpsTestServer::Handle(absl::string_view method, absl::string_view path, Handler handler) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->handlers[{std::string(method), std::string(path)}] = std::move(handler);
}

void HttpsTestServer::Script(absl::string_view method, absl::string_view path,
                             std::vector<Response> first, Response then) {
  struct State {
    std::mutex mu;
    std::vector<Response> first;
    size_t next = 0;
    Response then;
  };
  auto state = std::make_shared<State>();
  state->first = std::move(first);
  state->then = std::move(then);
  Handle(method, path, [state](const Request&) {
    std::lock_guard<std::mutex> lock(state->mu);
    if (state->next < state->first.size()) return state->first[state->next++];
    return state->then;
  });
}

int HttpsTestServer::RequestCount() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return static_cast<int>(impl_->requests.size());
}

int HttpsTestServer::RequestCount(absl::string_view method, absl::string_view path) const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  int n = 0;
  for (const Request& r : impl_->requests) {
    if ((method == "*" || r.method == method) && r.path == path) ++n;
  }
  return n;
}

std::vector<HttpsTestServer::Request> HttpsTestServer::requests() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->requests;
}

int HttpsTestServer::ConnectionCount() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return static_cast<int>(impl_->ports.size());
}

HttpsTestServer::Response Status(int status) {
  HttpsTestServer::Response r;
  r.status = status;
  return r;
}

HttpsTestServer::Response Json(int status, std::string body) {
  HttpsTestServer::Response r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

HttpsTestServer::Response ErrorJson(int status, absl::string_view code, absl::string_view message) {
  std::string body =
      absl::StrCat(R"({"error":{"code":")", code, R"(","message":")", message, R"("}})");
  return Json(status, std::move(body));
}

}  // namespace rotor::http::testing
