// PolicyConfig: what rotor may do to secrets nobody declares ([policy] in
// the config); part of the desired state the diff reads.
#ifndef ROTOR_ENGINE_MODEL_POLICY_H_
#define ROTOR_ENGINE_MODEL_POLICY_H_

namespace rotor {

struct PolicyConfig {
  bool delete_stale_users = true;
  bool delete_stale_certificates = false;
  // A short secret of another kind, which the registry VM would turn into a
  // login, when a redeploy is planned: refuse the plan, delete it, or keep
  // it (a login).
  enum class OtherShortSecrets { kRefuse, kDelete, kKeep };
  OtherShortSecrets other_short_secrets = OtherShortSecrets::kRefuse;
};

}  // namespace rotor

#endif  // ROTOR_ENGINE_MODEL_POLICY_H_
