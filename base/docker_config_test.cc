#include "base/docker_config.h"

#include <doctest/doctest.h>
#include <sys/stat.h>

#include "absl/strings/match.h"
#include "base/files.h"
#include "tests/support/testing.h"

namespace rotor {
namespace {

TEST_CASE("MergeDockerLogin adds the login and keeps every other entry, mode 0600") {
  testing::TempDir dir;
  const std::string path = dir.Path("config.json");
  dir.Write("config.json",
            "{\"auths\": {\"other.example\": {\"auth\": \"b3RoZXI6eA==\"},"
            " \"myreg:5000\": {\"auth\": \"b2xkOm9sZA==\"}}, \"credHelpers\": {\"gcr.io\": "
            "\"gcloud\"}}");
  REQUIRE(::chmod(path.c_str(), 0644) == 0);
  REQUIRE(MergeDockerLogin(path, "myreg:5000", "ci", Secret("p@ss:w0rd")).ok());
  const std::string text = *ReadFile(path);
  // base64("ci:p@ss:w0rd")
  CHECK(absl::StrContains(text, "\"myreg:5000\": {\n\t\t\t\"auth\": \"Y2k6cEBzczp3MHJk\""));
  CHECK(absl::StrContains(text, "\"other.example\""));
  CHECK(absl::StrContains(text, "\"gcr.io\": \"gcloud\""));
  CHECK_FALSE(absl::StrContains(text, "b2xkOm9sZA=="));
  struct stat st;
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
}

TEST_CASE("MergeDockerLogin creates a missing config and leaves a broken one alone") {
  testing::TempDir dir;
  REQUIRE(MergeDockerLogin(dir.Path("new.json"), "reg", "u", Secret("pw-1")).ok());
  CHECK(absl::StrContains(*ReadFile(dir.Path("new.json")),
                          "\"reg\": {\n\t\t\t\"auth\": \"dTpwdy0x\""));
  dir.Write("broken.json", "{\"auths\": [\"secret-looking-text\"]}");
  absl::Status status = MergeDockerLogin(dir.Path("broken.json"), "reg", "u", Secret("pw-1"));
  CHECK(absl::IsFailedPrecondition(status));
  CHECK(absl::StrContains(status.message(), "\"auths\" is not an object; it was left as it is"));
  CHECK_FALSE(absl::StrContains(status.message(), "secret-looking-text"));
  CHECK(*ReadFile(dir.Path("broken.json")) == "{\"auths\": [\"secret-looking-text\"]}");
  dir.Write("text.json", "not json at all");
  CHECK(absl::IsFailedPrecondition(
      MergeDockerLogin(dir.Path("text.json"), "reg", "u", Secret("pw-1"))));
}

}  // namespace
}  // namespace rotor
