// Test harness: runs the real rotor-emulator binary on port 0 in a
// temporary state folder and talks to it with libcurl, in process (trusting
// DIR/ca.pem; curl resolves *.localhost to loopback).
#ifndef ROTOR_TESTS_EMULATOR_EMULATOR_HARNESS_H_
#define ROTOR_TESTS_EMULATOR_EMULATOR_HARNESS_H_

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/process.h"
#include "rapidjson/document.h"
#include "tests/support/testing.h"

namespace rotor::emulator::testing {

inline constexpr char kTenant[] = "72c1f4d0-5e0b-4b5e-9d3a-7a6f0e1c2b3d";
inline constexpr char kClientId[] = "rotor-ci";
inline constexpr char kClientSecret[] = "ci-client-secret-value";

struct HttpResult {
  int curl_exit = 0;  // 0 when an answer came back
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-cased names
  std::string body;
  std::string curl_error;

  rapidjson::Document Json() const;
  std::string Header(const std::string& name) const;
};

rapidjson::Document ParseJson(const std::string& text);
// The string at a "/"-separated path of member names ("error/code"), or "".
std::string JsonString(const rapidjson::Value& v, const std::string& path);

class Emulator {
 public:
  // Starts rotor-emulator with `args` (plus --listen 127.0.0.1:0, --state,
  // --quiet unless given) and waits until it answers. `state_dir` empty: a
  // fresh temporary folder owned by this object.
  explicit Emulator(std::vector<std::string> args, std::string state_dir = "");
  ~Emulator();

  int port() const { return port_; }
  const std::string& state_dir() const { return state_dir_; }
  std::string ca_path() const { return state_dir_ + "/ca.pem"; }
  const std::string& log_path() const { return log_path_; }
  std::string Log() const;

  // https://{host}:{port}{path}
  std::string Url(const std::string& host, const std::string& path) const;
  std::string VaultUrl(const std::string& vault, const std::string& path) const {
    return Url(vault + ".vault.localhost", path);
  }
  std::string ArmUrl(const std::string& path) const { return Url("management.localhost", path); }
  std::string ArmAudience() const;
  std::string VaultResource() const;

  // One request, as `curl -i` would send it. `body` nullopt sends none.
  HttpResult Request(const std::string& method, const std::string& url,
                     const std::optional<std::string>& body = std::nullopt,
                     const std::vector<std::string>& headers = {}) const;
  HttpResult Get(const std::string& url, const std::string& token = "") const;
  HttpResult Send(const std::string& method, const std::string& url, const std::string& json,
                  const std::string& token) const;

  // A v1 client-secret token for `resource` (fails the test otherwise).
  std::string Token(const std::string& resource, const std::string& client_id = kClientId,
                    const std::string& secret = kClientSecret) const;
  std::string VaultToken() const { return Token(VaultResource()); }
  std::string ArmToken() const { return Token(ArmAudience()); }

  rapidjson::Document Stats() const;

  // Sends `signal` and returns the exit code.
  int Stop(int signal = 15);

 private:
  std::unique_ptr<rotor::testing::TempDir> temp_;
  std::string state_dir_;
  std::string log_path_;
  std::optional<BackgroundProcess> process_;
  int port_ = 0;
};

// Polls a deployment's Azure-AsyncOperation URL until a terminal status;
// returns it.
std::string WaitForOperation(const Emulator& emu, const std::string& url, const std::string& token,
                             double timeout_seconds = 20);

}  // namespace rotor::emulator::testing

#endif  // ROTOR_TESTS_EMULATOR_EMULATOR_HARNESS_H_
