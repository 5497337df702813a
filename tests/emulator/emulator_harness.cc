#include "tests/emulator/emulator_harness.h"

#include <curl/curl.h>
#include <doctest/doctest.h>
#include <sys/stat.h>

#include <memory>
#include <stdexcept>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "base/files.h"
#include "certs/testing/make_certs.h"
#include "rapidjson/pointer.h"
#include "tests/emulator/tls.h"

namespace rotor::emulator::testing {

rapidjson::Document ParseJson(const std::string& text) {
  rapidjson::Document doc;
  doc.Parse(text.data(), text.size());
  if (doc.HasParseError()) {
    doc.SetObject();
    MESSAGE("not JSON: " << text.substr(0, 300));
  }
  return doc;
}

std::string JsonString(const rapidjson::Value& v, const std::string& path) {
  const rapidjson::Value* cur = &v;
  for (absl::string_view part : absl::StrSplit(path, '/')) {
    if (cur->IsArray()) {
      size_t i = 0;
      if (!absl::SimpleAtoi(part, &i) || i >= cur->Size()) return "";
      cur = &(*cur)[static_cast<rapidjson::SizeType>(i)];
      continue;
    }
    if (!cur->IsObject()) return "";
    auto it = cur->FindMember(std::string(part).c_str());
    if (it == cur->MemberEnd()) return "";
    cur = &it->value;
  }
  if (cur->IsString()) return cur->GetString();
  if (cur->IsBool()) return cur->GetBool() ? "true" : "false";
  if (cur->IsInt64()) return absl::StrCat(cur->GetInt64());
  if (cur->IsNull()) return "null";
  return "";
}

rapidjson::Document HttpResult::Json() const { return ParseJson(body); }

std::string HttpResult::Header(const std::string& name) const {
  auto it = headers.find(absl::AsciiStrToLower(name));
  return it == headers.end() ? "" : it->second;
}

Emulator::Emulator(std::vector<std::string> args, std::string state_dir) {
  if (state_dir.empty()) {
    temp_ = std::make_unique<rotor::testing::TempDir>();
    state_dir = temp_->Path("state");
  }
  state_dir_ = state_dir;
  log_path_ = state_dir_ + ".log";
  bool has_listen = false, quiet = false;
  for (const auto& a : args) {
    has_listen = has_listen || a == "--listen";
    quiet = quiet || a == "--quiet" || a == "--verbose-test";
  }
  std::vector<std::string> argv = {rotor::testing::BuildDir() + "/rotor-emulator", "--state",
                                   state_dir_};
  if (!has_listen) {
    argv.push_back("--listen");
    argv.push_back("127.0.0.1:0");
  }
  for (auto& a : args) {
    if (a != "--verbose-test") argv.push_back(a);
  }
  ::unlink((state_dir_ + "/port").c_str());
  // A token-signing key from the build's pool, so that a start makes no RSA
  // key (a state folder that has one keeps it).
  const std::string tls_dir = absl::StrCat(state_dir_, "/", kTlsDir);
  const std::string token_key = absl::StrCat(tls_dir, "/", kTokenSigningKeyFile);
  if (!PathExists(token_key)) {
    REQUIRE(MakeDirs(tls_dir).ok());
    ::chmod(tls_dir.c_str(), 0700);
    REQUIRE(WriteFileAtomic(token_key, certs::testing::NewRsa2048KeyPem(), 0600).ok());
  }
  auto proc = BackgroundProcess::Start(argv, {}, log_path_);
  if (!proc.ok()) throw std::runtime_error(std::string(proc.status().message()));
  process_.emplace(*std::move(proc));
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (absl::Now() < deadline) {
    auto text = ReadFile(state_dir_ + "/port");
    if (text.ok() && absl::SimpleAtoi(absl::StripAsciiWhitespace(*text), &port_) && port_ > 0) {
      break;
    }
    if (!process_->Running()) {
      throw std::runtime_error("rotor-emulator exited at start: " + Log());
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
  if (port_ <= 0) throw std::runtime_error("rotor-emulator wrote no port: " + Log());
  while (absl::Now() < deadline) {
    if (Get(Url("127.0.0.1", "/_emulator/health")).status == 200) return;
    absl::SleepFor(absl::Milliseconds(20));
  }
  throw std::runtime_error("rotor-emulator does not answer: " + Log());
}

Emulator::~Emulator() {
  if (process_) process_->Stop(15, absl::Seconds(10));
}

std::string Emulator::Log() const {
  auto text = ReadFile(log_path_);
  return text.ok() ? *text : std::string();
}

std::string Emulator::Url(const std::string& host, const std::string& path) const {
  return absl::StrCat("https://", host, ":", port_, path);
}

std::string Emulator::ArmAudience() const {
  return Url("management.localhost", "/e1b7a3c2-9d4f-4f60-8a2b-6c5d4e3f2a10");
}

std::string Emulator::VaultResource() const { return Url("vault.localhost", ""); }

namespace {

size_t AppendTo(char* data, size_t size, size_t count, void* out) {
  static_cast<std::string*>(out)->append(data, size * count);
  return size * count;
}

// What the curl command line did, in process: a test run makes some 2,900
// requests, and one curl process each cost 107 CPU seconds. The same
// library, so the same behaviour: *.localhost resolves to loopback,
// Accept: */*, the form content type and Expect: 100-continue for a body.
void InitCurlOnce() {
  static const bool initialised = [] {
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
      throw std::runtime_error("curl_global_init failed");
    }
    return true;
  }();
  (void)initialised;
}

}  // namespace

HttpResult Emulator::Request(const std::string& method, const std::string& url,
                             const std::optional<std::string>& body,
                             const std::vector<std::string>& headers) const {
  InitCurlOnce();
  std::unique_ptr<CURL, void (*)(CURL*)> curl(curl_easy_init(), curl_easy_cleanup);
  if (!curl) throw std::runtime_error("curl_easy_init failed");
  std::unique_ptr<curl_slist, void (*)(curl_slist*)> header_list(nullptr, curl_slist_free_all);
  for (const auto& h : headers) {
    curl_slist* appended = curl_slist_append(header_list.get(), h.c_str());
    if (appended == nullptr) throw std::runtime_error("curl_slist_append failed");
    header_list.release();
    header_list.reset(appended);
  }
  const std::string ca = ca_path();
  const std::string user_agent = absl::StrCat("curl/", curl_version_info(CURLVERSION_NOW)->version);
  std::string head, out;
  char error[CURL_ERROR_SIZE] = {0};
  CURL* c = curl.get();
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_CAINFO, ca.c_str());
  curl_easy_setopt(c, CURLOPT_USERAGENT, user_agent.c_str());
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, AppendTo);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &head);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, AppendTo);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &out);
  if (header_list) curl_easy_setopt(c, CURLOPT_HTTPHEADER, header_list.get());
  if (method == "HEAD") {
    curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
  } else {
    if (body) {
      curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body->size()));
      curl_easy_setopt(c, CURLOPT_POSTFIELDS, body->data());
    }
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method.c_str());
  }
  HttpResult result;
  const CURLcode code = curl_easy_perform(c);
  result.curl_exit = static_cast<int>(code);
  if (code != CURLE_OK) {
    result.curl_error =
        absl::StrCat("curl: (", code, ") ", error[0] != 0 ? error : curl_easy_strerror(code));
  }
  // What `curl -i` prints: every answer's head (interim ones included), then
  // the body.
  out = head + out;
  // Skip interim "100 Continue" answers.
  for (;;) {
    size_t end = out.find("\r\n\r\n");
    if (end == std::string::npos) break;
    std::string head = out.substr(0, end);
    std::string rest = out.substr(end + 4);
    std::vector<std::string> lines = absl::StrSplit(head, "\r\n");
    if (lines.empty()) break;
    std::vector<std::string> status_line = absl::StrSplit(lines[0], ' ');
    int status = 0;
    if (status_line.size() >= 2) (void)absl::SimpleAtoi(status_line[1], &status);
    if (status == 100) {
      out = rest;
      continue;
    }
    result.status = status;
    for (size_t i = 1; i < lines.size(); ++i) {
      size_t colon = lines[i].find(':');
      if (colon == std::string::npos) continue;
      result.headers[absl::AsciiStrToLower(lines[i].substr(0, colon))] =
          std::string(absl::StripAsciiWhitespace(lines[i].substr(colon + 1)));
    }
    result.body = rest;
    break;
  }
  return result;
}

HttpResult Emulator::Get(const std::string& url, const std::string& token) const {
  std::vector<std::string> headers;
  if (!token.empty()) headers.push_back("Authorization: Bearer " + token);
  return Request("GET", url, std::nullopt, headers);
}

HttpResult Emulator::Send(const std::string& method, const std::string& url,
                          const std::string& json, const std::string& token) const {
  std::vector<std::string> headers = {"Content-Type: application/json"};
  if (!token.empty()) headers.push_back("Authorization: Bearer " + token);
  return Request(method, url, json, headers);
}

std::string Emulator::Token(const std::string& resource, const std::string& client_id,
                            const std::string& secret) const {
  std::string form = absl::StrCat("grant_type=client_credentials&client_id=", client_id,
                                  "&client_secret=", secret, "&resource=", resource);
  HttpResult r =
      Request("POST", Url("login.localhost", absl::StrCat("/", kTenant, "/oauth2/token")), form,
              {"Content-Type: application/x-www-form-urlencoded"});
  REQUIRE_MESSAGE(r.status == 200, r.body);
  return JsonString(r.Json(), "access_token");
}

rapidjson::Document Emulator::Stats() const {
  HttpResult r = Get(Url("127.0.0.1", "/_emulator/stats"));
  REQUIRE(r.status == 200);
  return r.Json();
}

int Emulator::Stop(int signal) {
  if (!process_) return -1;
  int code = process_->Stop(signal, absl::Seconds(10));
  process_.reset();
  return code;
}

std::string WaitForOperation(const Emulator& emu, const std::string& url, const std::string& token,
                             double timeout_seconds) {
  const absl::Time deadline = absl::Now() + absl::Seconds(timeout_seconds);
  std::string status;
  while (absl::Now() < deadline) {
    HttpResult r = emu.Get(url, token);
    REQUIRE_MESSAGE(r.status == 200, r.body);
    status = JsonString(r.Json(), "status");
    if (status == "Succeeded" || status == "Failed" || status == "Canceled") return status;
    absl::SleepFor(absl::Milliseconds(50));
  }
  return status;
}

}  // namespace rotor::emulator::testing
