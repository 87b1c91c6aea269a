#include "kick.h"

#include <signal.h>

#include <mutex>

namespace kvmriscv {

namespace {
int g_signal = 0;
std::once_flag g_once;

void NoopHandler(int) {}

void Install() {
  int chosen = 0;
  for (int s = SIGRTMIN + 4; s <= SIGRTMAX; s++) {
    struct sigaction old {};
    if (sigaction(s, nullptr, &old) != 0) continue;
    if (old.sa_handler == SIG_DFL && !(old.sa_flags & SA_SIGINFO)) {
      chosen = s;
      break;
    }
  }
  if (chosen == 0) chosen = SIGRTMIN + 4;  // all taken: share it; our handler is a no-op anyway
  struct sigaction sa {};
  sa.sa_handler = NoopHandler;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // deliberately no SA_RESTART: KVM_RUN must return EINTR
  sigaction(chosen, &sa, nullptr);
  g_signal = chosen;
}
}  // namespace

int KickSignal() {
  std::call_once(g_once, Install);
  return g_signal;
}

void UnblockKickSignal() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, KickSignal());
  pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
}

}  // namespace kvmriscv
