// The three native handle types, mirroring KVM's object model (Documentation/virt/kvm/api.rst §2):
//   KvmSystem  the /dev/kvm fd          (KVM_GET_API_VERSION, KVM_CHECK_EXTENSION, KVM_CREATE_VM)
//   KvmVm      a VM fd + its memory slots and in-kernel devices
//   KvmVcpu    a vCPU fd + its mmapped kvm_run page + the thread that sits in KVM_RUN
//
// Lifetime rules (why nothing reachable from JS can crash the process):
//   - A vCPU holds a strong reference to its VM's JS object, so a VM is never collected before its
//     vCPUs; the VM keeps raw pointers to its vCPUs, which unregister themselves when destroyed.
//   - Guest memory is an anonymous mmap shared (SharedMapping) by its slot and the external
//     ArrayBuffer JS sees; it is unmapped when both are gone. The slot drops its reference only
//     after KVM deleted the slot (memory_size 0), so KVM never sees unmapped memory and JS never
//     sees a dangling view. A strong reference to the buffer is not enough: at environment
//     teardown (process exit, worker terminate()) Node frees external buffers in cleanup hooks
//     that run before the addon's own, references or not (found by scripts/rig/run-asan-kvm.sh:
//     the rig kernel logged "Failed to find VMA" from vCPUs of a terminated worker, whose guest
//     memory was unmapped, and its addresses free for reuse, while their slots were installed).
//   - The kvm_run mapping is shared between the vCPU and the ArrayBuffer given to JS and is unmapped
//     when both are gone.
//   - While a run() is pending the vCPU's JS object is referenced (ObjectWrap::Ref) so GC cannot
//     finalize it under a running thread.
//   - A per-environment registry lets the env cleanup hook (process or worker exit) stop and join
//     every vCPU thread before the environment goes away.
#pragma once

#include <linux/kvm.h>
#include <napi.h>
#include <pthread.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <vector>

#include "common.h"

namespace kvmriscv {

class KvmVm;
class KvmVcpu;

// Objects alive in one Node environment (main thread or a worker). Shared-owned by the addon
// instance and by every object, so whichever is destroyed last at teardown frees it.
struct Registry {
  std::set<KvmVm*> vms;
  std::set<KvmVcpu*> vcpus;
  bool torn_down = false;
};

struct AddonData {
  std::shared_ptr<Registry> registry = std::make_shared<Registry>();
  Napi::FunctionReference system_ctor;
  Napi::FunctionReference vm_ctor;
  Napi::FunctionReference vcpu_ctor;
};

// Constructors take this token as their first argument: `new` from JS with anything else is a
// TypeError, so a handle can only be made by the factory methods (openSystem, createVm, createVcpu).
extern int kConstructToken;

class KvmSystem : public Napi::ObjectWrap<KvmSystem> {
 public:
  KVM_RISCV_GUARDED(KvmSystem)
  static Napi::Function Define(Napi::Env env);
  explicit KvmSystem(const Napi::CallbackInfo& info);

 private:
  int CheckedFd(Napi::Env env, const char* what);
  Napi::Value ApiVersion(const Napi::CallbackInfo& info);
  Napi::Value CheckExtension(const Napi::CallbackInfo& info);
  Napi::Value VcpuMmapSize(const Napi::CallbackInfo& info);
  Napi::Value CreateVm(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);
  Napi::Value Closed(const Napi::CallbackInfo& info);

  Fd fd_;
};

// An mmap shared by a native owner and the ArrayBuffer JS sees, unmapped by the last Unref(): the
// kvm_run page(s) of one vCPU (the vCPU and the buffer JS decodes exits from), and the guest memory
// of one slot (the installed slot and the buffer JS reads and writes guest RAM through).
struct SharedMapping {
  void* addr;
  size_t size;
  std::atomic<int> refs;
  void Unref();
};

class KvmVm : public Napi::ObjectWrap<KvmVm> {
 public:
  KVM_RISCV_GUARDED(KvmVm)
  static Napi::Function Define(Napi::Env env);
  explicit KvmVm(const Napi::CallbackInfo& info);
  ~KvmVm() override;

  void UnregisterVcpu(KvmVcpu* vcpu) { vcpus_.erase(vcpu); }
  // Stops and joins every vCPU, deletes every slot, closes devices and the VM fd. No JS needed
  // beyond dropping references, so the env cleanup hook can call it. Idempotent.
  void CloseNative();

 private:
  struct Slot {
    Napi::Reference<Napi::ArrayBuffer> buffer;
    uint64_t gpa;
    uint64_t size;
    uint32_t flags;
    SharedMapping* memory;  // one reference, dropped once KVM no longer has the slot
  };

  int CheckedFd(Napi::Env env, const char* what);
  bool DeleteSlot(uint32_t slot, int* err);
  Napi::Value CheckExtension(const Napi::CallbackInfo& info);
  Napi::Value SetMemoryRegion(const Napi::CallbackInfo& info);
  Napi::Value DeleteMemoryRegion(const Napi::CallbackInfo& info);
  Napi::Value GetDirtyLog(const Napi::CallbackInfo& info);
  Napi::Value CreateVcpu(const Napi::CallbackInfo& info);
  Napi::Value IrqLine(const Napi::CallbackInfo& info);
  Napi::Value CreateDevice(const Napi::CallbackInfo& info);
  Napi::Value DeviceAttr(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);
  Napi::Value Closed(const Napi::CallbackInfo& info);

  Fd fd_;
  size_t vcpu_mmap_size_ = 0;
  std::map<uint32_t, Slot> slots_;
  std::set<KvmVcpu*> vcpus_;
  std::vector<int> device_fds_;
  std::shared_ptr<Registry> registry_;
  bool closed_ = false;
};

class KvmVcpu : public Napi::ObjectWrap<KvmVcpu> {
 public:
  KVM_RISCV_GUARDED(KvmVcpu)
  // What KvmVm::CreateVcpu hands the constructor through an External.
  struct Init {
    int fd;
    uint32_t id;
    SharedMapping* run;
    KvmVm* vm;
    Napi::Object vm_object;
    std::shared_ptr<Registry> registry;
  };

  static Napi::Function Define(Napi::Env env);
  explicit KvmVcpu(const Napi::CallbackInfo& info);
  ~KvmVcpu() override;

  // Kicks the thread out of KVM_RUN, joins it, closes the fd. Safe from the env cleanup hook.
  void Shutdown();
  // stop() from any thread of the process, by the vCPU's token (a worker blocked in runSync()
  // cannot be reached through its own JS object). False when no such vCPU is alive.
  static bool KickByToken(uint32_t token);
  void DetachFromVm() { vm_ = nullptr; }

 private:
  // run()'s default poll for a quick exit on the JS thread (setRunPoll), in ns: none, so run()
  // never holds up the event loop unless the application asks for it.
  static constexpr int64_t kDefaultRunPollNs = 0;
  static void DeliverRunResult(Napi::Env env, Napi::Function, KvmVcpu* self, int* err);
  using DeliverTsfn = Napi::TypedThreadSafeFunction<KvmVcpu, int, DeliverRunResult>;

  struct kvm_run* RunPage() const { return static_cast<struct kvm_run*>(run_->addr); }
  void CheckOpen(Napi::Env env, const char* what);
  void CheckIdle(Napi::Env env, const char* what);
  void ThreadMain();
  void SpinForWake();
  int DoRun();
  void Kick();
  void OnRunDone(Napi::Env env, int err);

  Napi::Value Id(const Napi::CallbackInfo& info);
  Napi::Value StopToken(const Napi::CallbackInfo& info);
  Napi::Value RunBuffer(const Napi::CallbackInfo& info);
  Napi::Value GetOneReg(const Napi::CallbackInfo& info);
  Napi::Value SetOneReg(const Napi::CallbackInfo& info);
  Napi::Value GetRegList(const Napi::CallbackInfo& info);
  Napi::Value Run(const Napi::CallbackInfo& info);
  Napi::Value RunSync(const Napi::CallbackInfo& info);
  Napi::Value SetRunPoll(const Napi::CallbackInfo& info);
  Napi::Value BenchSbiLoop(const Napi::CallbackInfo& info);
  Napi::Value Stop(const Napi::CallbackInfo& info);
  Napi::Value Interrupt(const Napi::CallbackInfo& info);
  Napi::Value GetMpState(const Napi::CallbackInfo& info);
  Napi::Value SetMpState(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);
  Napi::Value Closed(const Napi::CallbackInfo& info);

  uint32_t id_ = 0;
  uint32_t stop_token_ = 0;
  SharedMapping* run_ = nullptr;
  KvmVm* vm_ = nullptr;
  Napi::ObjectReference vm_ref_;
  Napi::Reference<Napi::ArrayBuffer> run_buffer_;
  std::shared_ptr<Registry> registry_;
  bool shut_down_ = false;

  // JS-thread state.
  bool pending_ = false;                            // a run() promise is outstanding
  std::optional<Napi::Promise::Deferred> deferred_;
  DeliverTsfn tsfn_;
  bool tsfn_live_ = false;

  // The run thread and its mailbox (guarded by mu_).
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool run_requested_ = false;
  bool exit_requested_ = false;
  // Who delivers the current run()'s result (see Run): kRunRunning while run() may still take it
  // itself, kRunDone when the thread left it in run_result_ for run(), kRunDetached when run()
  // stopped polling and the thread posts it through tsfn_.
  static constexpr int kRunIdle = 0, kRunRunning = 1, kRunDone = 2, kRunDetached = 3;
  std::atomic<int> run_state_{kRunIdle};
  int run_result_ = 0;
  int64_t run_poll_ns_ = kDefaultRunPollNs;  // JS thread only
  // Set (under mu_) together with either flag above and cleared when the thread takes them, so
  // the thread can poll it without the lock while it spins for the next run (see ThreadMain).
  std::atomic<bool> wake_{false};

  // Who is in KVM_RUN right now (guarded by kick_mu_), so stop() knows whom to signal; the fd is
  // closed under the same lock so no KVM_RUN can start on a closed fd.
  std::mutex kick_mu_;
  Fd fd_;
  bool in_run_ = false;
  pthread_t run_thread_{};
};

}  // namespace kvmriscv
