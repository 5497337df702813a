#include "tests/emulator/faults.h"

#include <algorithm>

#include "absl/strings/match.h"

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

AnswerFault FaultInjector::NextAnswer() {
  AnswerFault out;
  if (corrupt_rate_ <= 0 && slow_rate_ <= 0) return out;
  std::lock_guard<std::mutex> lock(mu_);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  const double corrupt = unit(answer_rng_);
  const double how = unit(answer_rng_);
  const double position = unit(answer_rng_);
  const double slow = unit(answer_rng_);
  out.corrupt = corrupt < corrupt_rate_;
  out.truncate = how < 0.5;
  out.position = position;
  out.slow = slow < slow_rate_;
  return out;
}

std::string CorruptBody(const std::string& body, const AnswerFault& fault) {
  if (body.empty()) return body;
  const size_t at = std::min(body.size() - 1, static_cast<size_t>(fault.position * body.size()));
  if (fault.truncate) return body.substr(0, at);
  // A character no JSON text may hold outside a string, and an unbalanced
  // bracket: whatever it lands in, the document no longer parses as it was.
  std::string out = body;
  out.insert(at, "\x01}");
  return out;
}

void ScriptedAnswers::Add(ScriptedAnswer answer) {
  std::lock_guard<std::mutex> lock(mu_);
  answers_.push_back(std::move(answer));
}

void ScriptedAnswers::Clear() {
  std::lock_guard<std::mutex> lock(mu_);
  answers_.clear();
}

std::optional<HttpResponse> ScriptedAnswers::Take(const HttpRequest& request) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = answers_.begin(); it != answers_.end(); ++it) {
    if (it->method != "*" && it->method != request.method) continue;
    const bool prefix = absl::EndsWith(it->path, "*");
    if (prefix ? !absl::StartsWith(request.path,
                                   absl::string_view(it->path).substr(0, it->path.size() - 1))
               : request.path != it->path) {
      continue;
    }
    HttpResponse response = it->response;
    if (it->remaining > 0 && --it->remaining == 0) answers_.erase(it);
    return response;
  }
  return std::nullopt;
}

}  // namespace rotor::emulator
