// Secret: a string that holds a credential (password, client secret, token,
// PFX bytes).
//
// It has no stream operator and no implicit conversion to std::string, so a
// secret cannot reach a log or an error message by accident; the buffer is
// wiped with OPENSSL_cleanse when the Secret is destroyed or overwritten.
// Copies are explicit (Clone) so each copy is a deliberate decision.
#ifndef ROTOR_BASE_SECRET_H_
#define ROTOR_BASE_SECRET_H_

#include <string>

#include "absl/strings/string_view.h"

namespace rotor {

class Secret {
 public:
  Secret() = default;
  explicit Secret(std::string value) : value_(std::move(value)) {}
  ~Secret() { Wipe(); }

  Secret(Secret&& other) noexcept : value_(std::move(other.value_)) { other.Wipe(); }
  Secret& operator=(Secret&& other) noexcept {
    if (this != &other) {
      Wipe();
      value_ = std::move(other.value_);
      other.Wipe();
    }
    return *this;
  }
  Secret(const Secret&) = delete;
  Secret& operator=(const Secret&) = delete;

  Secret Clone() const { return Secret(value_); }

  // The plain value, for the few places that must send or compare it.
  absl::string_view Reveal() const { return value_; }
  size_t size() const { return value_.size(); }
  bool empty() const { return value_.empty(); }

  // Constant-time comparison: the time taken does not depend on where the
  // values first differ (only on their lengths).
  bool Equals(const Secret& other) const;
  bool Equals(absl::string_view other) const;

 private:
  void Wipe();
  std::string value_;
};

// Overwrites the whole buffer of `s` (its capacity: a shorter value may sit
// where a longer one was) and empties it: for the std::strings that hold a
// credential for a moment outside a Secret (wire buffers, headers, output).
void WipeString(std::string& s);

// Appends `more` to `s`; when `s` must grow, it moves to a buffer twice as
// large by hand and wipes the old one, so a credential read in pieces (a
// file, a program's output) leaves no copy in freed memory.
void AppendWiped(std::string& s, absl::string_view more);

}  // namespace rotor

#endif  // ROTOR_BASE_SECRET_H_
