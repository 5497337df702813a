// Early-return helpers for absl::Status / absl::StatusOr.
//
// Debian's Abseil (20220623) predates Abseil's own status macros, so rotor
// carries the usual ten lines (as Verible does).
#ifndef ROTOR_BASE_STATUS_MACROS_H_
#define ROTOR_BASE_STATUS_MACROS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define ROTOR_STATUS_CONCAT_INNER_(a, b) a##b
#define ROTOR_STATUS_CONCAT_(a, b) ROTOR_STATUS_CONCAT_INNER_(a, b)

// Returns the status from the enclosing function when `expr` is not OK.
#define RETURN_IF_ERROR(expr)                      \
  do {                                             \
    const absl::Status rotor_status_ = (expr);     \
    if (!rotor_status_.ok()) return rotor_status_; \
  } while (0)

// `ASSIGN_OR_RETURN(auto x, F())` declares/assigns x from a StatusOr or
// returns its error.
#define ASSIGN_OR_RETURN(lhs, expr) \
  ASSIGN_OR_RETURN_IMPL_(ROTOR_STATUS_CONCAT_(rotor_statusor_, __LINE__), lhs, expr)
#define ASSIGN_OR_RETURN_IMPL_(statusor, lhs, expr) \
  auto statusor = (expr);                           \
  if (!statusor.ok()) return statusor.status();     \
  lhs = std::move(statusor).value()

#endif  // ROTOR_BASE_STATUS_MACROS_H_
