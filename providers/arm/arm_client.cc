#include "providers/arm/arm_client.h"

#include <algorithm>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/status_macros.h"
#include "providers/arm/arm_codec.h"
#include "providers/auth/cloud.h"
#include "providers/http/checked_read.h"
#include "providers/http/checked_write.h"
#include "providers/http/retry.h"
#include "providers/http/url.h"

namespace rotor::arm {
namespace {

std::string Key(absl::string_view rg, absl::string_view name) {
  return absl::AsciiStrToLower(absl::StrCat(rg, "/", name));
}

absl::Status CheckName(absl::string_view what, absl::string_view name) {
  if (!IsValidArmName(name)) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " \"", name, "\" is not valid (1-90 letters, digits and - _ . ( ))"));
  }
  return absl::OkStatus();
}

bool Transient(const absl::Status& s) {
  return s.code() == absl::StatusCode::kUnavailable ||
         s.code() == absl::StatusCode::kDeadlineExceeded || s.code() == absl::StatusCode::kInternal;
}

std::string ShowElapsed(absl::Duration d) {
  int64_t s = absl::ToInt64Seconds(d);
  return s >= 60 ? absl::StrCat(s / 60, "m", s % 60, "s") : absl::StrCat(s, "s");
}

}  // namespace

bool IsValidArmName(absl::string_view name) {
  if (name.empty() || name.size() > 90) return false;
  for (char c : name) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.' &&
        c != '(' && c != ')') {
      return false;
    }
  }
  return true;
}

absl::StatusOr<std::unique_ptr<ArmDeploymentClient>> ArmDeploymentClient::Create(
    std::shared_ptr<http::HttpSender> sender, ArmOptions options) {
  while (absl::EndsWith(options.arm_endpoint, "/")) options.arm_endpoint.pop_back();
  auto parts = auth::SplitUrl(options.arm_endpoint);
  if (!parts.ok()) return parts.status();
  if (options.subscription_id.empty() ||
      options.subscription_id.find_first_of("/?#&") != std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", options.subscription_id, "\" is not a subscription id"));
  }
  if (options.api_version.empty()) {
    return absl::InvalidArgumentError("the deployments api-version is empty");
  }
  return std::unique_ptr<ArmDeploymentClient>(
      new ArmDeploymentClient(std::move(sender), std::move(options)));
}

ArmDeploymentClient::ArmDeploymentClient(std::shared_ptr<http::HttpSender> sender,
                                         ArmOptions options)
    : sender_(std::move(sender)), options_(std::move(options)) {}

const Clock& ArmDeploymentClient::clock() const {
  return options_.clock != nullptr ? *options_.clock : RealClock::Get();
}

void ArmDeploymentClient::Log(http::LogLevel level, const std::string& line) const {
  if (options_.log) options_.log(level, line);
}

void ArmDeploymentClient::Sleep(absl::Duration d) const {
  if (d > absl::ZeroDuration()) absl::SleepFor(d * options_.time_scale);
}

std::string ArmDeploymentClient::DeploymentsUrl(absl::string_view resource_group,
                                                absl::string_view suffix) const {
  return absl::StrCat(options_.arm_endpoint, "/subscriptions/", options_.subscription_id,
                      "/resourcegroups/", resource_group,
                      "/providers/Microsoft.Resources/deployments/", suffix,
                      "?api-version=", http::UrlEncode(options_.api_version));
}

std::string ArmDeploymentClient::OperationsUrl(absl::string_view resource_group,
                                               absl::string_view name) const {
  // No providers/Microsoft.Resources segment here (contracts §4.1).
  return absl::StrCat(options_.arm_endpoint, "/subscriptions/", options_.subscription_id,
                      "/resourcegroups/", resource_group, "/deployments/", name,
                      "/operations?api-version=", http::UrlEncode(options_.api_version));
}

absl::StatusOr<http::HttpResponse> ArmDeploymentClient::SendOk(http::HttpRequest request) {
  const std::string method = request.method;
  const std::string url = request.url;
  ASSIGN_OR_RETURN(http::HttpResponse response, sender_->Send(std::move(request)));
  if (!response.ok()) return ArmHttpError(method, url, response);
  return response;
}

absl::Status ArmDeploymentClient::Read(
    const std::function<http::HttpRequest()>& make,
    const std::function<absl::Status(const http::HttpResponse&)>& accept) {
  http::CheckedReadOptions options;
  options.max_attempts = options_.max_read_attempts;
  options.backoff.initial_backoff = options_.backoff;
  options.sleep = [this](absl::Duration d) { Sleep(d); };
  options.log = options_.log;
  auto bounded = [&] {
    http::HttpRequest request = make();
    request.max_response_bytes = kMaxArmAnswerBytes;
    return request;
  };
  ASSIGN_OR_RETURN(http::HttpResponse response,
                   http::SendCheckedRead(*sender_, bounded, accept, options));
  if (!response.ok()) {
    http::HttpRequest shape = make();
    return ArmHttpError(shape.method, shape.url, response);
  }
  return absl::OkStatus();
}

absl::Duration ArmDeploymentClient::PollWait(const http::HttpResponse& response,
                                             absl::Duration interval) const {
  auto server = http::ParseRetryAfter(response.headers, clock().Now());
  if (!server.has_value()) return interval;
  return std::clamp(*server, absl::Milliseconds(500), options_.max_retry_after);
}

absl::StatusOr<std::vector<Deployment>> ArmDeploymentClient::ListDeployments(
    absl::string_view resource_group) {
  RETURN_IF_ERROR(CheckName("resource group", resource_group));
  std::vector<Deployment> out;
  std::string url = DeploymentsUrl(resource_group, "");
  std::set<std::string> seen;
  for (int page = 0;; ++page) {
    if (page >= options_.max_pages) {
      return absl::InternalError(absl::StrCat("listing the deployments of ", resource_group,
                                              ": more than ", options_.max_pages, " pages"));
    }
    DeploymentListPage parsed;
    RETURN_IF_ERROR(Read([&] { return http::Get(url); },
                         [&](const http::HttpResponse& response) -> absl::Status {
                           ASSIGN_OR_RETURN(parsed,
                                            ParseDeploymentList(response.body, resource_group));
                           return absl::OkStatus();
                         }));
    for (auto& d : parsed.items) out.push_back(std::move(d));
    if (parsed.next_link.empty()) break;
    if (!auth::SameOrigin(parsed.next_link, options_.arm_endpoint) ||
        !seen.insert(parsed.next_link).second) {
      return absl::InternalError(absl::StrCat("listing deployments: refusing nextLink ",
                                              http::RedactUrl(parsed.next_link),
                                              " (another host, or a loop)"));
    }
    url = parsed.next_link;
  }
  return out;
}

absl::StatusOr<Deployment> ArmDeploymentClient::GetDeployment(absl::string_view resource_group,
                                                              absl::string_view name) {
  RETURN_IF_ERROR(CheckName("resource group", resource_group));
  RETURN_IF_ERROR(CheckName("deployment", name));
  std::optional<Deployment> d;
  RETURN_IF_ERROR(Read([&] { return http::Get(DeploymentsUrl(resource_group, name)); },
                       [&](const http::HttpResponse& response) -> absl::Status {
                         ASSIGN_OR_RETURN(d, ParseDeployment(response.body, resource_group));
                         return absl::OkStatus();
                       }));
  return *std::move(d);
}

absl::StatusOr<std::string> ArmDeploymentClient::ExportTemplate(absl::string_view resource_group,
                                                                absl::string_view name) {
  RETURN_IF_ERROR(CheckName("resource group", resource_group));
  RETURN_IF_ERROR(CheckName("deployment", name));
  std::string url = DeploymentsUrl(resource_group, absl::StrCat(name, "/exportTemplate"));
  std::string exported;
  absl::Status read = Read(
      [&] {
        http::HttpRequest request = http::Post(url, Secret());
        request.idempotent = true;  // a read
        return request;
      },
      [&](const http::HttpResponse& response) -> absl::Status {
        ASSIGN_OR_RETURN(exported, ParseExportedTemplate(response.body));
        return absl::OkStatus();
      });
  if (!read.ok()) {
    return absl::Status(read.code(), absl::StrCat("exporting the template of deployment ", name,
                                                  ": ", read.message()));
  }
  return exported;
}

absl::StatusOr<Deployment> ArmDeploymentClient::StartDeployment(absl::string_view resource_group,
                                                                const DeploymentRequest& request) {
  RETURN_IF_ERROR(CheckName("resource group", resource_group));
  RETURN_IF_ERROR(CheckName("deployment", request.name));
  ASSIGN_OR_RETURN(Secret body, DeploymentBody(request));
  const std::string url = DeploymentsUrl(resource_group, request.name);
  std::optional<Deployment> started;
  http::CheckedWrite write;
  write.what = absl::StrCat("PUT deployment ", request.name);
  write.make = [&] { return http::Put(url, body.Clone()); };
  write.accept = [&](const http::HttpResponse& response) -> absl::Status {
    ASSIGN_OR_RETURN(Deployment d, ParseDeployment(response.body, resource_group));
    std::string async(response.Header("Azure-AsyncOperation"));
    if (absl::StartsWith(async, "/")) async = absl::StrCat(options_.arm_endpoint, async);
    if (!async.empty() && auth::SameOrigin(async, options_.arm_endpoint)) {
      std::lock_guard<std::mutex> lock(mu_);
      async_operations_[Key(resource_group, request.name)] = async;
    }
    Log(http::LogLevel::kInfo,
        absl::StrCat("deployment ", request.name, " accepted (", d.provisioning_state, ")"));
    started = std::move(d);
    return absl::OkStatus();
  };
  write.error_of = [&](const http::HttpResponse& response) -> absl::Status {
    absl::Status error = ArmHttpError("PUT", url, response);
    if (response.status == 409 && http::ServiceCodeOf(error) == kDeploymentActive) {
      return WithDeploymentErrorCode(
          absl::FailedPreconditionError(absl::StrCat(
              "resource group ", resource_group,
              " already has a deployment running; wait for it to finish, then run rotor apply "
              "again (",
              error.message(), ")")),
          kDeploymentActive);
    }
    return error;
  };
  write.transport_error = [](const absl::Status& status) {
    // ARM's transient failures include Internal (a connection reset mid-answer).
    return status.code() == absl::StatusCode::kInternal
               ? absl::Status(absl::StatusCode::kUnavailable, status.message())
               : status;
  };
  // Did the PUT land although its answer was lost? Then it is running:
  // never start it twice.
  write.landed = [&]() -> absl::StatusOr<bool> {
    absl::StatusOr<Deployment> existing = GetDeployment(resource_group, request.name);
    if (existing.ok()) {
      started = *std::move(existing);
      return true;
    }
    if (existing.status().code() == absl::StatusCode::kNotFound) return false;
    return existing.status();
  };
  http::CheckedWriteOptions options;
  options.max_attempts = options_.max_write_attempts;
  options.backoff.initial_backoff = options_.backoff;
  options.backoff.throttle_backoff = options_.backoff;
  options.now = [this] { return clock().Now(); };
  options.sleep = [this](absl::Duration d) { Sleep(d); };
  options.log = options_.log;
  RETURN_IF_ERROR(http::SendCheckedWrite(*sender_, write, options, nullptr));
  return *std::move(started);
}

absl::StatusOr<std::vector<std::string>> ArmDeploymentClient::FailedOperations(
    absl::string_view resource_group, absl::string_view name) {
  RETURN_IF_ERROR(CheckName("resource group", resource_group));
  RETURN_IF_ERROR(CheckName("deployment", name));
  std::vector<std::string> out;
  std::string url = OperationsUrl(resource_group, name);
  std::set<std::string> seen;
  for (int page = 0; page < options_.max_pages; ++page) {
    OperationsPage parsed;
    RETURN_IF_ERROR(Read([&] { return http::Get(url); },
                         [&](const http::HttpResponse& response) -> absl::Status {
                           ASSIGN_OR_RETURN(parsed, ParseDeploymentOperations(response.body));
                           return absl::OkStatus();
                         }));
    for (auto& f : parsed.failures) out.push_back(std::move(f));
    if (parsed.next_link.empty() || !auth::SameOrigin(parsed.next_link, options_.arm_endpoint) ||
        !seen.insert(parsed.next_link).second) {
      break;
    }
    url = parsed.next_link;
  }
  return out;
}

absl::StatusOr<Deployment> ArmDeploymentClient::WaitForDeployment(
    absl::string_view resource_group, absl::string_view name, const DeploymentProgress& progress,
    absl::Duration timeout) {
  RETURN_IF_ERROR(CheckName("resource group", resource_group));
  RETURN_IF_ERROR(CheckName("deployment", name));
  const absl::Time start = clock().Now();
  std::string async_url;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = async_operations_.find(Key(resource_group, name));
    if (it != async_operations_.end()) async_url = it->second;
  }
  absl::Duration interval = options_.min_poll_interval;
  int failures = 0;
  for (;;) {
    Deployment current;
    current.resource_group = std::string(resource_group);
    current.name = std::string(name);
    absl::Duration wait = interval;
    absl::Status failed;
    bool terminal = false;
    if (!async_url.empty()) {
      auto response = sender_->Send(http::Get(async_url));
      if (response.ok() && response->ok()) {
        auto status = ParseOperationStatus(response->body);
        if (status.ok()) {
          current.provisioning_state = status->status;
          terminal = IsTerminalProvisioningState(status->status);
          wait = PollWait(*response, interval);
        } else {
          // An unreadable answer is polled again, like a lost one.
          failed = absl::UnavailableError(
              absl::StrCat("GET ", http::RedactUrl(async_url), ": ", status.status().message()));
        }
      } else if (response.ok() && response->status == 404) {
        async_url.clear();  // gone: poll the deployment instead
        continue;
      } else {
        failed = response.ok() ? ArmHttpError("GET", async_url, *response) : response.status();
      }
    } else {
      auto response = SendOk(http::Get(DeploymentsUrl(resource_group, name)));
      if (response.ok()) {
        auto d = ParseDeployment(response->body, resource_group);
        if (d.ok()) {
          current = *std::move(d);
          terminal = IsTerminalProvisioningState(current.provisioning_state);
          wait = PollWait(*response, interval);
        } else {
          failed = absl::UnavailableError(
              absl::StrCat("GET ", http::RedactUrl(DeploymentsUrl(resource_group, name)), ": ",
                           d.status().message()));
        }
      } else {
        failed = response.status();
      }
    }
    const absl::Duration elapsed = clock().Now() - start;
    if (!failed.ok()) {
      if (!Transient(failed) || ++failures > options_.max_poll_failures) {
        return absl::Status(failed.code(),
                            absl::StrCat("waiting for deployment ", name, ": ", failed.message()));
      }
      Log(http::LogLevel::kWarning, absl::StrCat("polling deployment ", name, " failed (",
                                                 failed.message(), "); polling again"));
    } else {
      failures = 0;
      if (terminal) {
        // The deployment as ARM records it (parameters, error).
        ASSIGN_OR_RETURN(Deployment final_state, GetDeployment(resource_group, name));
        if (!IsTerminalProvisioningState(final_state.provisioning_state)) {
          // The operation status ran ahead of the deployment: poll that.
          async_url.clear();
          Sleep(options_.min_poll_interval);
          continue;
        }
        if (final_state.provisioning_state != kStateSucceeded) {
          auto operations = FailedOperations(resource_group, name);
          if (operations.ok() && !operations->empty()) {
            absl::StrAppend(&final_state.error, final_state.error.empty() ? "" : "\n",
                            "Failed operations:\n  ", absl::StrJoin(*operations, "\n  "));
          }
          if (final_state.error.empty()) final_state.error = final_state.provisioning_state;
        }
        Log(http::LogLevel::kInfo,
            absl::StrCat("deployment ", name, " ", final_state.provisioning_state, " after ",
                         ShowElapsed(elapsed)));
        return final_state;
      }
      Log(http::LogLevel::kDebug,
          absl::StrCat("deployment ", name, " is ", current.provisioning_state, " [",
                       ShowElapsed(elapsed), " elapsed]"));
      if (progress) progress(current, elapsed);
    }
    if (elapsed >= timeout) {
      return absl::DeadlineExceededError(absl::StrCat(
          "deployment ", name, " is still ",
          current.provisioning_state.empty() ? "running" : current.provisioning_state, " after ",
          ShowElapsed(elapsed), "; rotor stopped waiting (it keeps running in ARM)"));
    }
    Sleep(std::min(wait, timeout - elapsed));
    interval = std::min(interval * 1.5, options_.max_poll_interval);
  }
}

absl::Status ArmDeploymentClient::ValidateDeployment(absl::string_view resource_group,
                                                     const DeploymentRequest& request) {
  RETURN_IF_ERROR(CheckName("resource group", resource_group));
  RETURN_IF_ERROR(CheckName("deployment", request.name));
  ASSIGN_OR_RETURN(Secret body, DeploymentBody(request));
  const std::string url = DeploymentsUrl(resource_group, absl::StrCat(request.name, "/validate"));
  http::HttpRequest post = http::Post(url, std::move(body));
  post.idempotent = true;  // validate changes nothing
  ASSIGN_OR_RETURN(http::HttpResponse response, sender_->Send(std::move(post)));
  auto judge = [&](const http::HttpResponse& r, const std::string& from) -> absl::Status {
    if (r.status == 204) return absl::OkStatus();
    if (r.status == 200 || r.status == 400) {
      ASSIGN_OR_RETURN(std::string error, ParseValidateResult(r.body));
      if (error.empty()) {
        if (r.status == 200) return absl::OkStatus();
        return ArmHttpError("POST", from, r);
      }
      return absl::InvalidArgumentError(
          absl::StrCat("ARM refuses deployment ", request.name, ":\n", error));
    }
    return ArmHttpError("POST", from, r);
  };
  if (response.status != 202) return judge(response, url);
  // 2019-10-01 and later: a long-running operation behind Location.
  std::string location(response.Header("Location"));
  if (absl::StartsWith(location, "/")) location = absl::StrCat(options_.arm_endpoint, location);
  if (location.empty() || !auth::SameOrigin(location, options_.arm_endpoint)) {
    return absl::InternalError("validate answered 202 without a usable Location");
  }
  absl::Duration wait = PollWait(response, options_.min_poll_interval);
  for (int polls = 0; polls < 600; ++polls) {
    Sleep(wait);
    ASSIGN_OR_RETURN(http::HttpResponse poll, sender_->Send(http::Get(location)));
    if (poll.status != 202) return judge(poll, location);
    wait = PollWait(poll, std::min(wait * 1.5, options_.max_poll_interval));
  }
  return absl::DeadlineExceededError("validate did not finish");
}

}  // namespace rotor::arm
