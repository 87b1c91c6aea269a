// The signal that kicks a vCPU thread out of KVM_RUN (api.rst §4.10 KVM_RUN and the
// `immediate_exit` field of struct kvm_run).
//
// Protocol: the kicker writes immediate_exit = 1 into the vCPU's kvm_run page, then sends this signal
// to the thread that is in (or about to enter) KVM_RUN. Either the signal interrupts the running
// guest (KVM_RUN returns EINTR because a signal is pending), or the thread had not entered yet and
// KVM_RUN sees immediate_exit and returns EINTR at once. No wake-up can be lost.
//
// The signal is SIGRTMIN + k, the first real-time signal at or above SIGRTMIN + 4 that nobody else
// has a handler for (SIGUSR1 belongs to Node's inspector; glibc reserves the ones below SIGRTMIN).
// Its handler does nothing and is installed without SA_RESTART so the ioctl is not restarted.
#pragma once

#include <pthread.h>

namespace kvmriscv {

// Installs the handler once per process (thread-safe) and returns the signal number.
int KickSignal();

// Makes sure the calling thread does not block the kick signal (threads inherit masks).
void UnblockKickSignal();

}  // namespace kvmriscv
