// PolicyConfig: what rotor may do to secrets nobody declares ([policy] in
// the config); part of the desired state the diff reads.
#ifndef ROTOR_ENGINE_MODEL_POLICY_H_
#define ROTOR_ENGINE_MODEL_POLICY_H_

namespace rotor {

struct PolicyConfig {
  bool delete_stale_users = true;
  bool delete_stale_certificates = false;
};

}  // namespace rotor

#endif  // ROTOR_ENGINE_MODEL_POLICY_H_
