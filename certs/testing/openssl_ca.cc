#include "certs/testing/openssl_ca.h"

#include <stdexcept>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/files.h"
#include "base/process.h"

namespace rotor::certs::testing {
namespace {

std::string Run(const std::vector<std::string>& argv, const std::string& input) {
  ProcessOptions options;
  options.stdin_data = input;
  options.timeout = absl::Seconds(60);
  auto run = RunProcess(argv, options);
  if (!run.ok() || run->exit_code != 0) {
    throw std::runtime_error(
        absl::StrCat("openssl_ca: ", argv[0], " ", argv[1], " failed: ",
                     run.ok() ? absl::StrCat("exit ", run->exit_code, ": ", run->stderr_data)
                              : std::string(run.status().message())));
  }
  return run->stdout_data;
}

// Single quotes for bash.
std::string Quoted(const std::string& path) { return absl::StrCat("'", path, "'"); }

}  // namespace

bool ShowsKeyMaterial(absl::string_view text, absl::string_view key_pem) {
  for (absl::string_view line : absl::StrSplit(key_pem, '\n')) {
    if (absl::StrContains(line, "-----")) continue;
    for (size_t i = 0; i + 16 <= line.size(); ++i) {
      if (absl::StrContains(text, line.substr(i, 16))) return true;
    }
  }
  return false;
}

OpenSslCa::OpenSslCa(const std::string& dir, const std::string& name)
    : cert_path_(dir + "/ca.crt"), key_path_(dir + "/ca.key") {
  Run({"openssl",
       "req",
       "-x509",
       "-newkey",
       "ec",
       "-pkeyopt",
       "ec_paramgen_curve:P-256",
       "-nodes",
       "-days",
       "365",
       "-subj",
       "/CN=" + name,
       "-addext",
       "basicConstraints=critical,CA:TRUE",
       "-addext",
       "keyUsage=critical,keyCertSign,cRLSign",
       "-keyout",
       key_path_,
       "-out",
       cert_path_},
      "");
}

std::string OpenSslCa::CertificatePem() const {
  auto pem = ReadFile(cert_path_);
  if (!pem.ok()) throw std::runtime_error(std::string(pem.status().message()));
  return *pem;
}

std::string OpenSslCa::SignCommand() const {
  return absl::StrCat(
      "openssl x509 -req -CA ", Quoted(cert_path_), " -CAkey ", Quoted(key_path_),
      " -set_serial 0x$(openssl rand -hex 8) -days 90 -copy_extensions copy && cat ",
      Quoted(cert_path_));
}

std::string OpenSslCa::Sign(const std::string& csr_pem) const {
  return Run({"bash", "-c", "set -o pipefail; " + SignCommand()}, csr_pem);
}

}  // namespace rotor::certs::testing
