// libFuzzer target: the service error in a failed answer's body
// (providers/http/http_message.h ParseServiceError), and the status message
// HttpErrorToStatus builds from it.
#include <cstddef>
#include <cstdint>
#include <string>

#include "providers/http/http_message.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::string_view body(reinterpret_cast<const char*>(data), size);
  using namespace rotor::http;
  (void)ParseServiceError(body);
  HttpResponse response(size % 2 ? 403 : 503, HttpHeaders{}, std::string(body));
  absl::Status status =
      HttpErrorToStatus("GET", "https://kv.vault.localhost/secrets/a?api-version=7.4", response);
  (void)HttpStatusOf(status);
  (void)ServiceCodeOf(status);
  (void)ServiceInnerCodeOf(status);
  return 0;
}
