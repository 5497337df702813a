#include "tests/emulator/faults.h"

namespace rotor::emulator {

void SlidingWindow::Expire(absl::Time now) {
  while (!admitted_.empty() && admitted_.front() <= now - limit_.window) admitted_.pop_front();
}

std::optional<absl::Duration> SlidingWindow::Admit(absl::Time now) {
  if (!limit_.enabled()) return std::nullopt;
  std::lock_guard<std::mutex> lock(mu_);
  Expire(now);
  if (static_cast<int64_t>(admitted_.size()) >= limit_.count) {
    return admitted_.front() + limit_.window - now;
  }
  admitted_.push_back(now);
  return std::nullopt;
}

void SlidingWindow::Record(absl::Time now) {
  if (!limit_.enabled()) return;
  std::lock_guard<std::mutex> lock(mu_);
  Expire(now);
  admitted_.push_back(now);
}

void SlidingWindow::Undo() {
  if (!limit_.enabled()) return;
  std::lock_guard<std::mutex> lock(mu_);
  if (!admitted_.empty()) admitted_.pop_back();
}

Fault FaultInjector::Next() {
  if (fail_rate_ <= 0 && drop_rate_ <= 0) return Fault::kNone;
  std::lock_guard<std::mutex> lock(mu_);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  const double drop = unit(rng_);
  const double fail = unit(rng_);
  const double which = unit(rng_);
  if (drop < drop_rate_) return Fault::kDrop;
  if (fail < fail_rate_) return which < 0.5 ? Fault::kFail500 : Fault::kFail503;
  return Fault::kNone;
}

}  // namespace rotor::emulator
