#include "providers/arm/dns_zone_client.h"

#include <set>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "base/inert_text.h"
#include "base/status_macros.h"
#include "providers/arm/arm_client.h"
#include "providers/arm/arm_codec.h"
#include "providers/arm/dns_zone_codec.h"
#include "providers/auth/cloud.h"
#include "providers/http/url.h"

namespace rotor::arm {
namespace {

// Long enough for a resolver's cache not to matter to a challenge that
// lives a minute or two, short enough that a stale record fades quickly.
constexpr int kChallengeTtlSeconds = 60;
// The most a DNS zone answer may hold: 5000 record sets of small TXT values.
constexpr size_t kMaxDnsAnswerBytes = 8 << 20;

bool ValidZoneName(absl::string_view zone) {
  if (zone.empty() || zone.size() > 253) return false;
  for (char c : zone) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '.' && c != '_') {
      return false;
    }
  }
  return zone.front() != '.' && zone.back() != '.';
}

}  // namespace

absl::StatusOr<std::unique_ptr<ArmDnsZoneClient>> ArmDnsZoneClient::Create(
    std::shared_ptr<http::HttpSender> sender, DnsZoneOptions options) {
  if (!ValidZoneName(options.zone)) {
    return absl::InvalidArgumentError(
        absl::StrCat("DNS zone name ", ShowInert(options.zone), " is not a domain name"));
  }
  if (!IsValidArmName(options.resource_group)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "resource group name ", ShowInert(options.resource_group), " is not a valid ARM name"));
  }
  options.zone = absl::AsciiStrToLower(options.zone);
  return std::unique_ptr<ArmDnsZoneClient>(
      new ArmDnsZoneClient(std::move(sender), std::move(options)));
}

ArmDnsZoneClient::ArmDnsZoneClient(std::shared_ptr<http::HttpSender> sender, DnsZoneOptions options)
    : sender_(std::move(sender)), options_(std::move(options)) {}

std::string ArmDnsZoneClient::ZoneUrl(absl::string_view suffix) const {
  return absl::StrCat(absl::StripSuffix(options_.arm_endpoint, "/"), "/subscriptions/",
                      options_.subscription_id, "/resourceGroups/", options_.resource_group,
                      "/providers/Microsoft.Network/dnsZones/", options_.zone, suffix,
                      "?api-version=", options_.api_version);
}

absl::StatusOr<http::HttpResponse> ArmDnsZoneClient::Send(http::HttpRequest request) {
  request.max_response_bytes = kMaxDnsAnswerBytes;
  const std::string method = request.method;
  const std::string url = request.url;
  ASSIGN_OR_RETURN(http::HttpResponse response, sender_->Send(std::move(request)));
  if (!response.ok()) return ArmHttpError(method, url, response);
  return response;
}

absl::Status ArmDnsZoneClient::CheckZone() {
  auto response = Send(http::Get(ZoneUrl("")));
  if (response.ok()) return absl::OkStatus();
  if (response.status().code() == absl::StatusCode::kNotFound) {
    return absl::NotFoundError(
        absl::StrCat("DNS zone ", options_.zone, " does not exist in resource group ",
                     options_.resource_group, " (", response.status().message(), ")"));
  }
  return response.status();
}

absl::StatusOr<std::string> ArmDnsZoneClient::RelativeName(absl::string_view fqdn) const {
  const std::string lower = absl::AsciiStrToLower(absl::StripSuffix(fqdn, "."));
  if (lower == options_.zone) return std::string("@");
  absl::string_view name = lower;
  if (absl::ConsumeSuffix(&name, absl::StrCat(".", options_.zone)) && !name.empty()) {
    return std::string(name);
  }
  return absl::InvalidArgumentError(
      absl::StrCat(ShowInert(fqdn), " is not in the DNS zone ", options_.zone));
}

absl::Status ArmDnsZoneClient::SetTxt(absl::string_view relative_name,
                                      const std::vector<std::string>& values) {
  return Send(http::Put(ZoneUrl(absl::StrCat("/TXT/", relative_name)),
                        TxtRecordSetBody(values, kChallengeTtlSeconds)))
      .status();
}

absl::Status ArmDnsZoneClient::DeleteTxt(absl::string_view relative_name) {
  auto response = Send(http::Delete(ZoneUrl(absl::StrCat("/TXT/", relative_name))));
  if (!response.ok() && response.status().code() == absl::StatusCode::kNotFound) {
    return absl::OkStatus();
  }
  return response.status();
}

absl::StatusOr<std::vector<TxtRecordSet>> ArmDnsZoneClient::ListTxt() {
  std::vector<TxtRecordSet> out;
  std::string url = ZoneUrl("/TXT");
  std::set<std::string> seen;
  for (int page = 0;; ++page) {
    if (page >= options_.max_pages) {
      return absl::InternalError(absl::StrCat("listing the TXT record sets of DNS zone ",
                                              options_.zone, ": more than ", options_.max_pages,
                                              " pages"));
    }
    ASSIGN_OR_RETURN(http::HttpResponse response, Send(http::Get(url)));
    ASSIGN_OR_RETURN(TxtRecordSetPage parsed,
                     ParseTxtRecordSetList(response.body, http::RedactUrl(url)));
    for (auto& s : parsed.items) out.push_back(std::move(s));
    if (parsed.next_link.empty()) break;
    if (!auth::SameOrigin(parsed.next_link, options_.arm_endpoint) ||
        !seen.insert(parsed.next_link).second) {
      return absl::InternalError(absl::StrCat("listing TXT record sets: refusing nextLink ",
                                              http::RedactUrl(parsed.next_link),
                                              " (another host, or a loop)"));
    }
    url = parsed.next_link;
  }
  return out;
}

}  // namespace rotor::arm
