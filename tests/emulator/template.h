// ARM template evaluation as far as the emulator knows the values: what a
// deployment's answers show that depends on the template (outputs,
// providers, dependencies, output and validated resources, the resources of
// what-if and of the deployment operations).
//
// Expressions ("[...]", "[[" escapes a literal "[") support string and
// integer literals, property access (`.name`, `['name']`, `[0]`) and the
// functions parameters, variables, concat, format, resourceGroup,
// subscription, deployment, resourceId, reference, toLower, toUpper,
// string, int, bool, json, if, equals, not, and, or, true, false, empty,
// length, contains, replace, split, substring, trim, startsWith, endsWith,
// createArray, uniqueString, guid. Anything else (another function, a
// secure parameter, which is never kept, a resource the template does not
// declare) cannot be evaluated: an output that needs it is left out, a
// member of a resource's properties that needs it is left out of what
// reference() returns.
//
// reference(x) knows the resources the template declares (x is a resource
// id, "type/name" or a name): their declared properties (evaluated), plus
// what the resource provider adds for two types:
//  - Microsoft.Network/publicIPAddresses: provisioningState, resourceGuid,
//    ipAddress 127.0.0.1, publicIPAddressVersion IPv4,
//    publicIPAllocationMethod (Dynamic unless given), idleTimeoutInMinutes 4,
//    and with dnsSettings.domainNameLabel L the fqdn
//    `L.<location>.cloudapp.localhost`: `L.local.cloudapp.localhost` in the
//    emulator's single region `local` (an Azure Stack Hub stamp names it
//    `L.<region>.cloudapp.<external domain>`; `*.localhost` resolves to
//    loopback, where --registry-cmd's registry listens);
//  - Microsoft.Compute/availabilitySets: platformUpdateDomainCount 5 and
//    platformFaultDomainCount 3 unless given (what ARM answered in the
//    recorded exchange of tests/data/azure-reference).
// reference(x, apiVersion, 'Full') adds id, name, type, apiVersion and
// location around the properties.
#ifndef ROTOR_TESTS_EMULATOR_TEMPLATE_H_
#define ROTOR_TESTS_EMULATOR_TEMPLATE_H_

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace rotor::emulator {

// The region the emulator's resource groups are in.
inline constexpr char kEmulatorLocation[] = "local";

struct TemplateScope {
  std::string subscription;    // the subscription id of the request
  std::string resource_group;  // display case
  std::string tenant;
  std::string deployment;  // the deployment's name
  std::string location = kEmulatorLocation;
  // Parameter values (JSON text) by lower-cased name. A parameter absent
  // here evaluates to its template default, if it has one; a securestring
  // or secureobject parameter without a value here is unknown.
  std::map<std::string, std::string> parameters;
};

struct TemplateResource {
  std::string type;                     // "Microsoft.Network/publicIPAddresses"
  std::string name;                     // "registry-pip", "vm/cse"; "" when unknown
  std::string id;                       // "" when the name is unknown
  std::string api_version;              // as declared
  std::string location;                 // evaluated; "" when unknown
  std::vector<std::string> depends_on;  // ids of template resources
};

struct TemplateOutput {
  std::string name;
  std::string type;        // ARM's casing: "String", "Object", ...
  std::string value_json;  // evaluated
};

// /subscriptions/S/resourceGroups/G/providers/NS/T1/N1[/T2/N2...] from a
// type "NS/T1[/T2]" and a name "N1[/N2]"; "" when they do not pair up.
std::string ResourceIdOf(absl::string_view subscription, absl::string_view resource_group,
                         absl::string_view type, absl::string_view name);

// ARM's casing of a declared parameter or output type ("securestring" ->
// "SecureString"); unknown types are returned as given.
std::string ArmTypeName(absl::string_view declared);

class Template {
 public:
  // nullptr when `template_json` is not a JSON object.
  static std::unique_ptr<Template> Parse(absl::string_view template_json, TemplateScope scope);
  ~Template();

  // The resources the template declares (copy loops and resources whose
  // condition evaluates to false left out), in template order, children
  // after their parent.
  const std::vector<TemplateResource>& Resources() const;
  // Outputs that evaluate (secure ones are never returned), in template
  // order.
  std::vector<TemplateOutput> Outputs() const;
  // reference(`id_or_name`) as JSON text; nullopt when the template does not
  // declare that resource.
  std::optional<std::string> Reference(absl::string_view id_or_name, bool full = false) const;
  // One template string value: "[expression]" evaluated, "[[..." and other
  // strings literal. JSON text; nullopt when it cannot be evaluated.
  std::optional<std::string> Evaluate(absl::string_view text) const;
  // A resource declaration as deployed (JSON text of the resource with its
  // expressions evaluated; members that cannot be evaluated left out), for
  // what-if.
  std::optional<std::string> EvaluatedResource(size_t index) const;

 private:
  struct Impl;
  explicit Template(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace rotor::emulator

#endif  // ROTOR_TESTS_EMULATOR_TEMPLATE_H_
