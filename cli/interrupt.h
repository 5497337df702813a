// Ctrl-C while `rotor apply` waits for a deployment. Stopping rotor does
// not stop the deployment: ARM runs it to the end. So while an
// InterruptNotice is alive, SIGINT during such a wait prints (on the
// command's stderr) which deployment keeps running in which resource group,
// how to see it (rotor show, the Azure portal, az deployment group show)
// and that the next rotor apply waits for it, then exits kExitInterrupted.
// At any other moment SIGINT does what it does without the notice.
//
// The handler only writes a byte to a pipe; a thread turns it into the
// message (signal handlers may call almost nothing).
#ifndef ROTOR_CLI_INTERRUPT_H_
#define ROTOR_CLI_INTERRUPT_H_

#include <string>
#include <vector>

#include "cli/cli.h"

namespace rotor::cli {

inline constexpr int kExitInterrupted = 130;  // 128 + SIGINT, as shells report it

// A deployment an apply waits for (or is starting: it may not have reached
// ARM yet).
struct WaitedDeployment {
  std::string scope;  // the registry in a fleet, "" for one configuration
  std::string resource_group;
  std::string name;
  bool running = false;  // ARM reported it; false while it is being started
};

// What a Ctrl-C prints for `waiting` (one paragraph each).
std::string InterruptMessage(const std::vector<WaitedDeployment>& waiting);

class InterruptNotice {
 public:
  // Installs the SIGINT handler (not when SIGINT is ignored, as in a
  // background job of a script) and reports through `io`'s stderr and
  // console.
  explicit InterruptNotice(Io& io);
  ~InterruptNotice();  // the previous handler again
  InterruptNotice(const InterruptNotice&) = delete;
  InterruptNotice& operator=(const InterruptNotice&) = delete;

 private:
  bool installed_ = false;  // false when another notice, or none, handles SIGINT
};

// The deployment the apply of `owner` (its observer) waits for now; set
// when the deployment starts and on every progress report.
void NoteDeployment(const void* owner, WaitedDeployment deployment);
// The apply of `owner` no longer waits.
void ForgetDeployment(const void* owner);

}  // namespace rotor::cli

#endif  // ROTOR_CLI_INTERRUPT_H_
