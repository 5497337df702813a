// A [[user]] publish entry: where apply hands a user's new password after
// a successful redeploy (engine/apply/publish.h runs it).
#ifndef ROTOR_ENGINE_MODEL_PUBLISH_SINK_H_
#define ROTOR_ENGINE_MODEL_PUBLISH_SINK_H_

#include <string>
#include <vector>

namespace rotor {

struct PublishSink {
  // Exactly one is set: a Docker config.json (absolute path), or a program
  // and its arguments (a program path with "/" made absolute).
  std::string docker_config;
  std::vector<std::string> command;
};

}  // namespace rotor

#endif  // ROTOR_ENGINE_MODEL_PUBLISH_SINK_H_
