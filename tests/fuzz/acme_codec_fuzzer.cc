// libFuzzer target: an ACME CA's JSON answers (providers/acme/acme_codec.h):
// directory, account, order, authorization, challenge and problem
// documents, and the account envelope read back from the vault
// (providers/acme/account_key_store.h).
#include <cstddef>
#include <cstdint>

#include "providers/acme/account_key_store.h"
#include "providers/acme/acme_codec.h"
#include "tests/fuzz/inert.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::string_view body(reinterpret_cast<const char*>(data), size);
  using namespace rotor::acme;
  using rotor::fuzz::ExpectInertError;
  constexpr char kUrl[] = "https://ca.test/acme/x";
  // Refusals name fields and quote server text: bounded and inert.
  ExpectInertError(ParseDirectory(kUrl, body));
  ExpectInertError(ParseAccount(kUrl, body));
  ExpectInertError(ParseOrder(kUrl, body));
  ExpectInertError(ParseChallenge(kUrl, body));
  auto problem = ParseProblem(kUrl, body);
  ExpectInertError(problem);
  if (problem.ok()) rotor::fuzz::ExpectInert(problem->Describe(), 16 * 1024);
  auto order = ParseOrder(kUrl, body);
  if (order.ok() && order->error.has_value()) {
    rotor::fuzz::ExpectInert(order->error->Describe(), 16 * 1024);
  }
  auto authz = ParseAuthorization(kUrl, body);
  ExpectInertError(authz);
  if (authz.ok()) {
    for (const auto& c : authz->challenges) {
      if (c.error.has_value()) rotor::fuzz::ExpectInert(c.error->Describe(), 16 * 1024);
    }
  }
  ExpectInertError(KeyOfAccountEnvelope(rotor::Secret(std::string(body))));
  return 0;
}
