#include "providers/local/deployments_store_codec.h"

#include <doctest/doctest.h>

#include <string>

#include "absl/strings/match.h"
#include "absl/time/time.h"

namespace rotor::local {
namespace {

constexpr char kPath[] = "/state/deployments/newregreg.json";

// A file as LocalDeployments wrote it before the codec had a file of its
// own: a file written then must still read, and be written again, byte for
// byte. A Running record keeps its pid (deciding that its process died is
// LocalDeployments' business, not the codec's).
constexpr char kStore[] = R"({
  "format_version": 1,
  "kind": "rotor-local-deployments",
  "resource_group": "NewRegReg",
  "deployments": [
    {
      "name": "first",
      "id": "/x/first",
      "timestamp": "2024-05-01T10:00:00.123456Z",
      "provisioning_state": "Succeeded",
      "mode": "Incremental",
      "parameters": {
        "a": {
          "type": "Object",
          "value": {"k":[1,{"d":null}],"e":1.5}
        },
        "b": {
          "type": "String",
          "value": "vé\n"
        },
        "n": {
          "type": "Int",
          "value": -7
        },
        "s": {
          "type": "SecureString"
        }
      },
      "template": {
        "parameters": {
          "a": {
            "type": "string"
          }
        },
        "resources": [],
        "z": 1250.0
      },
      "template_link_uri": "file:///t.json",
      "tags": {
        "t1": "v1",
        "t2": "v2"
      },
      "error": ""
    },
    {
      "name": "second",
      "id": "/x/second",
      "timestamp": "2024-05-01T11:00:00Z",
      "provisioning_state": "Failed",
      "mode": "",
      "parameters": {},
      "template_link_uri": "",
      "tags": {},
      "error": "DeploymentFailed: boom\nline"
    },
    {
      "name": "third",
      "id": "/x/third",
      "timestamp": "2024-05-01T12:00:00Z",
      "provisioning_state": "Running",
      "mode": "Complete",
      "parameters": {},
      "template_link_uri": "",
      "tags": {},
      "error": "",
      "pid": 2147483000
    }
  ]
})";

TEST_CASE("DeploymentsStoreCodec: a file decodes and encodes back byte for byte") {
  auto store = DecodeDeploymentsStore(kStore, kPath);
  REQUIRE(store.ok());
  CHECK(store->resource_group == "NewRegReg");
  REQUIRE(store->deployments.size() == 3);

  const StoredDeployment& first = store->deployments[0];
  const Deployment& d = first.deployment;
  CHECK(d.name == "first");
  CHECK(d.id == "/x/first");
  CHECK(d.resource_group == "NewRegReg");  // every record takes the file's group
  CHECK(d.timestamp == absl::FromUnixSeconds(1714557600) + absl::Microseconds(123456));
  CHECK(d.provisioning_state == kStateSucceeded);
  CHECK(d.mode == "Incremental");
  CHECK(d.template_link_uri == "file:///t.json");
  CHECK(d.error.empty());
  CHECK(d.parameters.at("a").type == "Object");
  CHECK(d.parameters.at("a").value_json == R"({"k":[1,{"d":null}],"e":1.5})");
  CHECK(d.parameters.at("b").value_json == "\"v\xc3\xa9\\n\"");
  CHECK(d.parameters.at("n").value_json == "-7");
  CHECK(d.parameters.at("s").type == "SecureString");
  CHECK(d.parameters.at("s").value_json.empty());
  CHECK(d.tags.at("t2") == "v2");
  CHECK(first.template_json ==
        R"({"parameters":{"a":{"type":"string"}},"resources":[],"z":1250.0})");
  CHECK(first.pid == 0);

  CHECK(store->deployments[1].deployment.error == "DeploymentFailed: boom\nline");
  CHECK(store->deployments[1].template_json.empty());
  CHECK(store->deployments[2].deployment.provisioning_state == kStateRunning);
  CHECK(store->deployments[2].pid == 2147483000);

  CHECK(EncodeDeploymentsStore(*store) == kStore);
}

TEST_CASE("DeploymentsStoreCodec: optional members, pid only while Running") {
  auto store = DecodeDeploymentsStore(R"({"format_version": 1, "kind": "anything",
      "resource_group": "rg", "deployments": [
        {"name": "n", "id": "i", "timestamp": "2024-05-01T12:00:00+02:00",
         "provisioning_state": "Succeeded", "pid": 77, "unknown": true},
        {"name": "r", "id": "j", "timestamp": "2024-05-01T10:00:00Z",
         "provisioning_state": "Running", "pid": "not a number"}]})",
                                      kPath);
  REQUIRE(store.ok());
  const Deployment& d = store->deployments[0].deployment;
  CHECK(d.timestamp == absl::FromUnixSeconds(1714557600));
  CHECK(d.mode.empty());
  CHECK(d.template_link_uri.empty());
  CHECK(d.error.empty());
  CHECK(d.parameters.empty());
  CHECK(d.tags.empty());
  CHECK(store->deployments[0].pid == 77);
  CHECK(store->deployments[1].pid == 0);  // not an integer: ignored

  const std::string text = EncodeDeploymentsStore(*store);
  CHECK(absl::StrContains(text, "\"kind\": \"rotor-local-deployments\""));
  CHECK(absl::StrContains(text, "\"timestamp\": \"2024-05-01T10:00:00Z\""));
  CHECK_FALSE(absl::StrContains(text, "\"pid\": 77"));  // not Running: not written
  CHECK(absl::StrContains(text, "\"pid\": 0"));
  CHECK_FALSE(absl::StrContains(text, "\"template\""));
  CHECK_FALSE(absl::StrContains(text, "unknown"));

  auto again = DecodeDeploymentsStore(text, kPath);
  REQUIRE(again.ok());
  CHECK(EncodeDeploymentsStore(*again) == text);
}

TEST_CASE("DeploymentsStoreCodec: bad files are refused and named") {
  const std::string item = R"("name": "n", "id": "i", "timestamp": "2024-05-01T10:00:00Z", )"
                           R"("provisioning_state": "Succeeded")";
  auto file = [](const std::string& deployments) {
    return R"({"format_version": 1, "resource_group": "rg", "deployments": [)" + deployments + "]}";
  };
  const struct {
    std::string text;
    absl::StatusCode code;
    const char* message;
  } cases[] = {
      {"{not json", absl::StatusCode::kDataLoss, "not valid JSON"},
      {"[]", absl::StatusCode::kDataLoss, "the top level must be an object"},
      {R"({"resource_group": "rg", "deployments": []})", absl::StatusCode::kDataLoss,
       "\"format_version\" is missing"},
      {R"({"format_version": 2, "resource_group": "rg", "deployments": []})",
       absl::StatusCode::kFailedPrecondition,
       "deployment store /state/deployments/newregreg.json has format_version 2; this rotor "
       "reads format_version 1"},
      {R"({"format_version": 1, "deployments": []})", absl::StatusCode::kDataLoss,
       "\"resource_group\" is missing"},
      {R"({"format_version": 1, "resource_group": "rg"})", absl::StatusCode::kDataLoss,
       "\"deployments\" must be an array"},
      {file("1"), absl::StatusCode::kDataLoss, "each deployment must be an object"},
      {file(R"({"id": "i", "timestamp": "2024-05-01T10:00:00Z", "provisioning_state": "S"})"),
       absl::StatusCode::kDataLoss, "\"name\" is missing"},
      {file(R"({"name": "n", "id": "i", "timestamp": "yesterday", "provisioning_state": "S"})"),
       absl::StatusCode::kDataLoss, "bad timestamp \"yesterday\""},
      {file("{" + item + R"(, "mode": 1})"), absl::StatusCode::kDataLoss,
       "\"mode\" must be a string"},
      {file("{" + item + R"(, "parameters": {"p": 1}})"), absl::StatusCode::kDataLoss,
       "each parameter must be an object"},
      {file("{" + item + R"(, "tags": {"t": 1}})"), absl::StatusCode::kDataLoss,
       "tag values must be strings"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.text);
    auto store = DecodeDeploymentsStore(c.text, kPath);
    REQUIRE_FALSE(store.ok());
    CHECK(store.status().code() == c.code);
    CHECK(absl::StrContains(store.status().message(), c.message));
    CHECK(absl::StrContains(store.status().message(), kPath));
  }
}

}  // namespace
}  // namespace rotor::local
