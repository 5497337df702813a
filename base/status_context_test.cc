#include "base/status_context.h"

#include <doctest/doctest.h>

#include "absl/strings/cord.h"

namespace rotor {
namespace {

TEST_CASE("WithContext and WithMessage keep the code and the payloads") {
  absl::Status original = absl::FailedPreconditionError("conflict");
  original.SetPayload("rotor/code", absl::Cord("ObjectIsDeletedButRecoverable"));
  absl::Status with_context = WithContext(original, "writing secret admin");
  CHECK(with_context.code() == absl::StatusCode::kFailedPrecondition);
  CHECK(with_context.message() == "writing secret admin: conflict");
  CHECK(with_context.GetPayload("rotor/code") == absl::Cord("ObjectIsDeletedButRecoverable"));
  absl::Status replaced = WithMessage(original, "other");
  CHECK(replaced.message() == "other");
  CHECK(replaced.GetPayload("rotor/code").has_value());
}

}  // namespace
}  // namespace rotor
