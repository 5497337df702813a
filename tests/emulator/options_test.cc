#include "tests/emulator/options.h"

#include <doctest/doctest.h>

namespace rotor::emulator {
namespace {

TEST_CASE("durations and rates parse as the flags document them") {
  CHECK(*ParseDurationFlag("20ms") == absl::Milliseconds(20));
  CHECK(*ParseDurationFlag("30s") == absl::Seconds(30));
  CHECK(*ParseDurationFlag("1h") == absl::Hours(1));
  CHECK(*ParseDurationFlag("1.5s") == absl::Milliseconds(1500));
  CHECK(*ParseDurationFlag("2d") == absl::Hours(48));
  CHECK(*ParseDurationFlag("0") == absl::ZeroDuration());
  CHECK_FALSE(ParseDurationFlag("fast").ok());
  CHECK_FALSE(ParseDurationFlag("-1s").ok());
  CHECK_FALSE(ParseDurationFlag("10").ok());

  auto rate = ParseRateLimit("4000/10s");
  REQUIRE(rate.ok());
  CHECK(rate->count == 4000);
  CHECK(rate->window == absl::Seconds(10));
  rate = ParseRateLimit("300/s");
  REQUIRE(rate.ok());
  CHECK(rate->window == absl::Seconds(1));
  CHECK_FALSE(ParseRateLimit("300").ok());
  CHECK_FALSE(ParseRateLimit("0/10s").ok());
  CHECK_FALSE(ParseRateLimit("x/10s").ok());
}

TEST_CASE("command lines split like a shell's words, without a shell") {
  auto argv = SplitCommandLine(R"(docker-registry serve "/a b/config.yml" 'x y' z\ w)");
  REQUIRE(argv.ok());
  CHECK(*argv ==
        std::vector<std::string>{"docker-registry", "serve", "/a b/config.yml", "x y", "z w"});
  argv = SplitCommandLine(R"(sh -c 'echo $HOME; ls | wc -l')");
  REQUIRE(argv.ok());
  CHECK(argv->size() == 3);
  CHECK((*argv)[2] == "echo $HOME; ls | wc -l");
  CHECK_FALSE(SplitCommandLine("'unterminated").ok());
  CHECK_FALSE(SplitCommandLine("   ").ok());
}

TEST_CASE("the command line fills the options") {
  const char* argv[] = {"rotor-emulator",
                        "--listen",
                        "127.0.0.1:8443",
                        "--state",
                        "/tmp/s",
                        "--vault",
                        "a",
                        "--vault",
                        "b",
                        "--resource-group",
                        "rg",
                        "--client",
                        "id:sec:ret",
                        "--identity",
                        "adfs",
                        "--throttle",
                        "4000/10s",
                        "--write-throttle",
                        "300/10s",
                        "--throttle-no-retry-after",
                        "--fail-rate",
                        "0.1",
                        "--drop-rate",
                        "0.05",
                        "--latency",
                        "20ms",
                        "--deploy-duration",
                        "30s",
                        "--deploy-fail",
                        "rg",
                        "--seed",
                        "42",
                        "--registry-dir",
                        "/tmp/r",
                        "--registry-cmd",
                        "docker-registry serve c.yml"};
  ParsedCommandLine parsed = ParseCommandLine(static_cast<int>(std::size(argv)), argv);
  REQUIRE_MESSAGE(parsed.options.has_value(), parsed.message);
  const EmulatorOptions& o = *parsed.options;
  CHECK(o.listen_host == "127.0.0.1");
  CHECK(o.listen_port == 8443);
  CHECK(o.vaults == std::vector<std::string>{"a", "b"});
  REQUIRE(o.clients.size() == 1);
  CHECK(o.clients[0].client_id == "id");
  CHECK(o.clients[0].secret.Reveal() == "sec:ret");
  CHECK(o.identity == "adfs");
  CHECK(o.throttle.count == 4000);
  CHECK(o.write_throttle.count == 300);
  CHECK(o.throttle_no_retry_after);
  CHECK(o.fail_rate == doctest::Approx(0.1));
  CHECK(o.drop_rate == doctest::Approx(0.05));
  CHECK(o.latency == absl::Milliseconds(20));
  CHECK(o.deploy_duration == absl::Seconds(30));
  CHECK(o.deploy_fail == std::vector<std::string>{"rg"});
  REQUIRE(o.seed.has_value());
  CHECK(*o.seed == 42);
  CHECK(o.registry_cmd == std::vector<std::string>{"docker-registry", "serve", "c.yml"});

  const char* bad[] = {"rotor-emulator", "--state", "/tmp/s", "--registry-cmd", "x"};
  parsed = ParseCommandLine(5, bad);
  CHECK_FALSE(parsed.options.has_value());
  CHECK(parsed.exit_code == 2);
}

TEST_CASE("--tls-cert-profile takes valid, untrusted, wrong-host or expired") {
  const char* plain[] = {"rotor-emulator", "--state", "/tmp/s"};
  ParsedCommandLine parsed = ParseCommandLine(3, plain);
  REQUIRE(parsed.options.has_value());
  CHECK(parsed.options->tls_cert_profile == "valid");
  for (const char* profile : {"valid", "untrusted", "wrong-host", "expired"}) {
    const char* argv[] = {"rotor-emulator", "--state", "/tmp/s", "--tls-cert-profile", profile};
    parsed = ParseCommandLine(5, argv);
    REQUIRE_MESSAGE(parsed.options.has_value(), parsed.message);
    CHECK(parsed.options->tls_cert_profile == profile);
  }
  const char* bad[] = {"rotor-emulator", "--state", "/tmp/s", "--tls-cert-profile", "revoked"};
  parsed = ParseCommandLine(5, bad);
  CHECK_FALSE(parsed.options.has_value());
  CHECK(parsed.exit_code == 2);
}

TEST_CASE("--challtestsrv takes a loopback http URL - --dns-zone is repeatable") {
  auto parse = [](std::vector<const char*> args) {
    args.insert(args.begin(), {"rotor-emulator", "--state", "/tmp/s"});
    return ParseCommandLine(static_cast<int>(args.size()), args.data());
  };
  ParsedCommandLine p = parse({"--challtestsrv", "http://127.0.0.1:8055/", "--dns-zone",
                               "example.com", "--dns-zone", "example.org"});
  REQUIRE_MESSAGE(p.options.has_value(), p.message);
  CHECK(p.options->challtestsrv == "http://127.0.0.1:8055");
  CHECK(p.options->dns_zones == std::vector<std::string>{"example.com", "example.org"});
  p = parse({"--challtestsrv", "http://localhost:8055"});
  REQUIRE_MESSAGE(p.options.has_value(), p.message);
  CHECK(p.options->challtestsrv == "http://localhost:8055");
  p = parse({"--challtestsrv", "http://[::1]:8055"});
  CHECK(p.options.has_value());
  for (const char* bad : {"http://10.0.0.1:8055", "https://127.0.0.1:8055", "http://127.0.0.1",
                          "http://127.0.0.1:0", "http://127.0.0.1:8055/api"}) {
    CAPTURE(bad);
    p = parse({"--challtestsrv", bad});
    CHECK_FALSE(p.options.has_value());
    CHECK(p.exit_code == 2);
  }
}

}  // namespace
}  // namespace rotor::emulator
