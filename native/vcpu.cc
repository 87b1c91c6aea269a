// KvmVcpu: one vCPU fd, its kvm_run page and the thread that runs it.
//   api.rst §4.10 KVM_RUN, §4.16 KVM_INTERRUPT (riscv: kvm-riscv-abi.md §1.5), §4.38/§4.39
//   KVM_GET/SET_MP_STATE, §4.68/§4.69 KVM_SET/GET_ONE_REG, §4.84 KVM_GET_REG_LIST.
//
// Threads: run() hands a "run" command to the vCPU's own named std::thread (not the libuv pool:
// KVM_RUN blocks for as long as the guest runs). The thread does KVM_RUN and posts the errno (0 on
// success) through a ThreadSafeFunction, whose JS-thread callback resolves the run() promise. The
// thread never touches N-API. runSync() does KVM_RUN on the calling thread instead (worker threads).
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <unordered_map>

#include "abi_checks.h"
#include "kick.h"
#include "objects.h"

namespace kvmriscv {

namespace {
void UnrefSharedMapping(Napi::Env, void*, SharedMapping* mapping) { mapping->Unref(); }

// Process-wide token → vCPU map for KickByToken (any thread, any environment). A vCPU leaves it in
// its destructor under the same lock, so a kick never reaches a freed vCPU.
std::mutex g_token_mu;
std::unordered_map<uint32_t, KvmVcpu*> g_token_vcpus;
uint32_t g_next_token = 1;

// Once per thread: the handler is process-wide and nothing here blocks the signal again, so a
// pthread_sigmask syscall on every exit would only add to the exit's cost (bench/p1).
void EnsureKickUnblocked() {
  static thread_local bool unblocked = false;
  if (unblocked) return;
  KickSignal();
  UnblockKickSignal();
  unblocked = true;
}

// KVM_REG_SIZE(id) from linux/kvm.h: the register width is encoded in the id.
size_t RegSize(uint64_t id) { return size_t{1} << ((id & KVM_REG_SIZE_MASK) >> KVM_REG_SIZE_SHIFT); }
}  // namespace

// Random, fixed: identifies handles made by this class (see KVM_RISCV_GUARDED).
const napi_type_tag KvmVcpu::kTypeTag = {0x6b766d2d72697363ULL, 0x7676637075000003ULL};

Napi::Function KvmVcpu::Define(Napi::Env env) {
  return DefineClass(env, "KvmVcpu",
                     {
                         InstanceAccessor<&KvmVcpu::Guarded<&KvmVcpu::Id>>("id"),
                         InstanceAccessor<&KvmVcpu::Guarded<&KvmVcpu::StopToken>>("stopToken"),
                         InstanceMethod<&KvmVcpu::Guarded<&KvmVcpu::RunBuffer>>("runBuffer"),
                         InstanceMethod<&KvmVcpu::Guarded<&KvmVcpu::GetOneReg>>("getOneReg"),
                         InstanceMethod<&KvmVcpu::Guarded<&KvmVcpu::SetOneReg>>("setOneReg"),
                         InstanceMethod<&KvmVcpu::Guarded<&KvmVcpu::GetRegList>>("getRegList"),
                         InstanceMethod<&KvmVcpu::Guarded<&KvmVcpu::Run>>("run"),
                         InstanceMethod<&KvmVcpu::Guarded<&KvmVcpu::RunSync>>("runSync"),
                         InstanceMethod<&KvmVcpu::Guarded<&KvmVcpu::SetRunPoll>>("setRunPoll"),
                         InstanceMethod<&KvmVcpu::Guarded<&KvmVcpu::BenchSbiLoop>>("benchSbiLoop"),
                         InstanceMethod<&KvmVcpu::Guarded<&KvmVcpu::Stop>>("stop"),
                         InstanceMethod<&KvmVcpu::Guarded<&KvmVcpu::Interrupt>>("interrupt"),
                         InstanceMethod<&KvmVcpu::Guarded<&KvmVcpu::GetMpState>>("getMpState"),
                         InstanceMethod<&KvmVcpu::Guarded<&KvmVcpu::SetMpState>>("setMpState"),
                         InstanceMethod<&KvmVcpu::Guarded<&KvmVcpu::Close>>("close"),
                         InstanceAccessor<&KvmVcpu::Guarded<&KvmVcpu::Closed>>("closed"),
                     });
}

KvmVcpu::KvmVcpu(const Napi::CallbackInfo& info) : Napi::ObjectWrap<KvmVcpu>(info) {
  if (info.Length() < 2 || !info[0].IsExternal() ||
      info[0].As<Napi::External<int>>().Data() != &kConstructToken || !info[1].IsExternal()) {
    throw Napi::TypeError::New(info.Env(), "KvmVcpu cannot be constructed directly; use createVcpu()");
  }
  TagReceiver(info, &kTypeTag);  // before taking anything over: the factory still owns the fd
  Init* init = info[1].As<Napi::External<Init>>().Data();
  // Every N-API call that can fail comes first: when one throws (e.g. in a worker being
  // terminated), nothing has been taken over or registered yet, so createVcpu() still owns the fd
  // and the mapping and cleans them up, and the environment's registry holds no pointer to this
  // half-built object (its cleanup hook would call into freed memory).
  SharedMapping* mapping = init->run;
  // The ArrayBuffer JS decodes exits from shares the mapping: one more reference, dropped by its
  // finalizer.
  mapping->refs.fetch_add(1);
  Napi::ArrayBuffer buffer;
  try {
    buffer = Napi::ArrayBuffer::New(info.Env(), mapping->addr, mapping->size, UnrefSharedMapping, mapping);
  } catch (...) {
    mapping->refs.fetch_sub(1);  // no buffer, no finalizer
    throw;
  }
  run_buffer_ = Napi::Persistent(buffer);
  vm_ref_ = Napi::Persistent(init->vm_object);
  // Take ownership; nothing below calls N-API.
  fd_.Reset(init->fd);
  run_ = mapping;
  init->run = nullptr;
  id_ = init->id;
  vm_ = init->vm;
  registry_ = init->registry;
  registry_->vcpus.insert(this);
  std::lock_guard<std::mutex> lock(g_token_mu);
  stop_token_ = g_next_token++;
  if (g_next_token == 0) g_next_token = 1;
  g_token_vcpus[stop_token_] = this;
}

bool KvmVcpu::KickByToken(uint32_t token) {
  std::lock_guard<std::mutex> lock(g_token_mu);
  auto it = g_token_vcpus.find(token);
  if (it == g_token_vcpus.end()) return false;
  it->second->Kick();
  return true;
}

KvmVcpu::~KvmVcpu() {
  {
    std::lock_guard<std::mutex> lock(g_token_mu);
    g_token_vcpus.erase(stop_token_);
  }
  Shutdown();
  if (vm_ != nullptr) vm_->UnregisterVcpu(this);
  registry_->vcpus.erase(this);
  if (run_ != nullptr) run_->Unref();
}

void KvmVcpu::CheckOpen(Napi::Env env, const char* what) {
  if (shut_down_) throw StateError(env, "ERR_KVM_CLOSED", std::string(what) + ": the vCPU is closed");
}

void KvmVcpu::CheckIdle(Napi::Env env, const char* what) {
  CheckOpen(env, what);
  if (pending_) throw StateError(env, "ERR_KVM_BUSY", std::string(what) + ": the vCPU is running");
}

Napi::Value KvmVcpu::Id(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), id_); }

Napi::Value KvmVcpu::StopToken(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), stop_token_); }

Napi::Value KvmVcpu::RunBuffer(const Napi::CallbackInfo& info) { return run_buffer_.Value(); }

// Register and MP-state ioctls take the vCPU mutex, which KVM_RUN holds for as long as the guest
// runs: calling them during a run would block the JS thread, so they are refused (ERR_KVM_BUSY).
// KVM_INTERRUPT is an "async" vCPU ioctl (no mutex) and stays legal while running.
//
// getOneReg(id, out): out must be exactly KVM_REG_SIZE(id) bytes, because the kernel writes that
// many bytes to kvm_one_reg.addr whatever the buffer is.
Napi::Value KvmVcpu::GetOneReg(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint64_t id = ArgU64(info, 0, "id");
  Napi::Uint8Array out = ArgBytes(info, 1, "out");
  CheckIdle(env, "KVM_GET_ONE_REG");
  if (out.ByteLength() != RegSize(id)) {
    throw Napi::RangeError::New(env, "out must be exactly " + std::to_string(RegSize(id)) + " bytes for this register id");
  }
  struct kvm_one_reg reg {};
  reg.id = id;
  reg.addr = reinterpret_cast<uint64_t>(out.Data());
  if (RetryEintr([&] { return ioctl(fd_.get(), KVM_GET_ONE_REG, &reg); }) < 0) {
    throw ErrnoError(env, errno, "ioctl", "KVM_GET_ONE_REG");
  }
  return env.Undefined();
}

Napi::Value KvmVcpu::SetOneReg(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint64_t id = ArgU64(info, 0, "id");
  Napi::Uint8Array in = ArgBytes(info, 1, "value");
  CheckIdle(env, "KVM_SET_ONE_REG");
  if (in.ByteLength() != RegSize(id)) {
    throw Napi::RangeError::New(env, "value must be exactly " + std::to_string(RegSize(id)) + " bytes for this register id");
  }
  struct kvm_one_reg reg {};
  reg.id = id;
  reg.addr = reinterpret_cast<uint64_t>(in.Data());
  if (RetryEintr([&] { return ioctl(fd_.get(), KVM_SET_ONE_REG, &reg); }) < 0) {
    throw ErrnoError(env, errno, "ioctl", "KVM_SET_ONE_REG");
  }
  return env.Undefined();
}

// KVM_GET_REG_LIST: the kernel writes the needed count back and fails with E2BIG when the buffer is
// too small (api.rst §4.84), so ask with n = 0 first, then retry with what it said (a few times, in
// case the list changes between calls).
Napi::Value KvmVcpu::GetRegList(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckIdle(env, "KVM_GET_REG_LIST");
  std::vector<uint64_t> buf(1, 0);
  for (int attempt = 0; attempt < 8; attempt++) {
    auto* list = reinterpret_cast<struct kvm_reg_list*>(buf.data());
    uint64_t capacity = buf.size() - 1;
    list->n = capacity;
    long r = RetryEintr([&] { return ioctl(fd_.get(), kKvmGetRegList, list); });
    if (r == 0) {
      uint64_t n = std::min<uint64_t>(list->n, capacity);
      Napi::Array result = Napi::Array::New(env, n);
      for (uint64_t i = 0; i < n; i++) result.Set(static_cast<uint32_t>(i), Napi::BigInt::New(env, buf[1 + i]));
      return result;
    }
    if (errno != E2BIG) throw ErrnoError(env, errno, "ioctl", "KVM_GET_REG_LIST");
    uint64_t needed = list->n;
    if (needed <= capacity || needed > (1u << 20)) throw ErrnoError(env, E2BIG, "ioctl", "KVM_GET_REG_LIST");
    buf.assign(1 + needed, 0);
  }
  throw ErrnoError(env, E2BIG, "ioctl", "KVM_GET_REG_LIST");
}

// One KVM_RUN on the calling thread; returns 0 or the errno. Records the thread so Kick() can
// signal it, and clears immediate_exit once it has done its job (EINTR).
int KvmVcpu::DoRun() {
  {
    std::lock_guard<std::mutex> lock(kick_mu_);
    if (!fd_.valid()) return EBADF;
    in_run_ = true;
    run_thread_ = pthread_self();
  }
  int r = ioctl(fd_.get(), KVM_RUN, 0);
  int err = r < 0 ? errno : 0;
  {
    std::lock_guard<std::mutex> lock(kick_mu_);
    in_run_ = false;
    if (err == EINTR) __atomic_store_n(&RunPage()->immediate_exit, 0, __ATOMIC_SEQ_CST);
  }
  return err;
}

void KvmVcpu::Kick() {
  std::lock_guard<std::mutex> lock(kick_mu_);
  if (run_ == nullptr) return;
  // immediate_exit first: if the thread is between "in_run_ = true" and the ioctl, KVM_RUN sees it
  // and returns EINTR at once; if it is already inside, the signal makes it leave.
  __atomic_store_n(&RunPage()->immediate_exit, 1, __ATOMIC_SEQ_CST);
  if (in_run_) pthread_kill(run_thread_, KickSignal());
}

// After an exit the JS handler usually asks for the next run within tens of microseconds. Sleeping
// on the condition variable in between costs a futex wait here, a futex wake on the JS thread and a
// scheduler wake-up of this thread (an IPI when the threads sit on different CPUs) on every exit;
// under nested virtualization that hand-off was most of run()'s cost per exit (bench/p1, README
// "P1"). So the thread first polls wake_ for a short while, like an adaptive mutex, and only then
// sleeps. A guest that exits rarely costs at most kRunSpinNs of CPU per exit.
constexpr int64_t kRunSpinNs = 300 * 1000;

namespace {
int64_t ElapsedNs(const struct timespec& start) {
  struct timespec now {};
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (now.tv_sec - start.tv_sec) * 1000000000LL + (now.tv_nsec - start.tv_nsec);
}

void CpuRelax() {
#if defined(__riscv)
  // Zihintpause "pause" (a FENCE hint, a no-op where unimplemented): tell the core we spin.
  __asm__ volatile(".4byte 0x0100000f");
#elif defined(__x86_64__)
  __builtin_ia32_pause();
#endif
}
}  // namespace

void KvmVcpu::SpinForWake() {
  struct timespec start {};
  clock_gettime(CLOCK_MONOTONIC, &start);
  for (uint32_t i = 0; !wake_.load(std::memory_order_acquire); i++) {
    if ((i & 63) == 63 && ElapsedNs(start) >= kRunSpinNs) return;
    CpuRelax();
  }
}

void KvmVcpu::ThreadMain() {
  char name[16];
  snprintf(name, sizeof name, "kvm-vcpu-%u", id_ % 100000);
  pthread_setname_np(pthread_self(), name);
  UnblockKickSignal();
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    if (!run_requested_ && !exit_requested_) {
      lock.unlock();
      SpinForWake();
      lock.lock();
    }
    cv_.wait(lock, [this] { return run_requested_ || exit_requested_; });
    wake_.store(false, std::memory_order_relaxed);
    if (run_requested_) {
      run_requested_ = false;
      int err = EINTR;  // closing before the run started still answers the promise
      if (!exit_requested_) {
        lock.unlock();
        err = DoRun();
        lock.lock();
      }
      // Hand the result over: to run() itself while it still polls (kRunning → kRunDone), else
      // through the thread-safe function. The queue is unbounded, so NonBlockingCall only fails
      // once the function is closing (env teardown), when nobody is left to resolve anyway.
      run_result_ = err;
      int expected = kRunRunning;
      if (!run_state_.compare_exchange_strong(expected, kRunDone, std::memory_order_acq_rel)) {
        tsfn_.NonBlockingCall(new int(err));
      }
    }
    if (exit_requested_) break;
  }
}

void KvmVcpu::DeliverRunResult(Napi::Env env, Napi::Function, KvmVcpu* self, int* err) {
  int value = *err;
  delete err;
  if (env == nullptr || self == nullptr) return;  // environment is going away
  self->OnRunDone(env, value);
}

void KvmVcpu::OnRunDone(Napi::Env env, int err) {
  pending_ = false;
  run_state_.store(kRunIdle, std::memory_order_relaxed);
  if (tsfn_live_) tsfn_.Unref(env);
  if (deferred_) {
    Napi::Promise::Deferred d = *deferred_;
    deferred_.reset();
    d.Resolve(Napi::Number::New(env, err));
  }
  Unref();  // matches the Ref() in Run(): GC may collect us again
}

// run() → Promise<number>: 0 when KVM_RUN returned to user space with an exit in kvm_run, else the
// errno (EINTR after stop()). Decoding is the TS side's job.
Napi::Value KvmVcpu::Run(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckIdle(env, "KVM_RUN");
  if (!thread_.joinable()) {
    tsfn_ = DeliverTsfn::New(env, "kvm-vcpu-run", 0, 1, this);
    tsfn_live_ = true;
    tsfn_.Unref(env);
    KickSignal();  // install the handler before the thread can be signalled
    thread_ = std::thread([this] { ThreadMain(); });
  }
  Napi::Promise::Deferred deferred = Napi::Promise::Deferred::New(env);
  run_state_.store(kRunRunning, std::memory_order_relaxed);
  {
    std::lock_guard<std::mutex> lock(mu_);
    run_requested_ = true;
    wake_.store(true, std::memory_order_release);
  }
  cv_.notify_one();
  // Poll briefly for a quick exit (setRunPoll): if the thread finishes within the budget, the
  // promise is resolved here and the event-loop round trip (uv_async wake-up of this thread) is
  // skipped. Otherwise the result is left to the thread-safe function, as if no poll happened.
  if (run_poll_ns_ > 0) {
    struct timespec start {};
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (uint32_t i = 0; run_state_.load(std::memory_order_acquire) != kRunDone; i++) {
      if ((i & 63) == 63 && ElapsedNs(start) >= run_poll_ns_) break;
      CpuRelax();
    }
  }
  int expected = kRunRunning;
  if (!run_state_.compare_exchange_strong(expected, kRunDetached, std::memory_order_acq_rel)) {
    // kRunDone: the thread finished and posted nothing; the result is ours.
    run_state_.store(kRunIdle, std::memory_order_relaxed);
    deferred.Resolve(Napi::Number::New(env, run_result_));
    return deferred.Promise();
  }
  // The thread will post the result; nothing of it runs on this thread before we return.
  deferred_ = deferred;
  pending_ = true;
  Ref();              // keep the JS object (and through it the VM) alive while the thread works
  tsfn_.Ref(env);     // and keep the event loop alive until the answer arrives
  return deferred.Promise();
}

Napi::Value KvmVcpu::RunSync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckIdle(env, "KVM_RUN");
  EnsureKickUnblocked();
  return Napi::Number::New(env, DoRun());
}

// benchSbiLoop(eid): a measuring stick for bench/p1, not an API. KVM_RUN on the calling thread in
// a loop, answering every KVM_EXIT_RISCV_SBI with extension `eid` in C (ret = {0, args[0] + 1}, what
// bench/p1/c-reference.c does), until any other exit or error; returns the number of calls
// answered, or -errno. It tells a cost of the Node process itself (same loop as the C reference,
// inside Node) apart from the cost of running JS between two exits.
Napi::Value KvmVcpu::BenchSbiLoop(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t eid = ArgU32(info, 0, "eid");
  CheckIdle(env, "KVM_RUN");
  EnsureKickUnblocked();
  struct kvm_run* run = RunPage();
  double answered = 0;
  for (;;) {
    int err = DoRun();
    if (err != 0) return Napi::Number::New(env, -err);
    if (run->exit_reason != KVM_EXIT_RISCV_SBI || run->riscv_sbi.extension_id != eid) break;
    run->riscv_sbi.ret[0] = 0;
    run->riscv_sbi.ret[1] = run->riscv_sbi.args[0] + 1;
    answered++;
  }
  return Napi::Number::New(env, answered);
}

// setRunPoll(micros): how long run() may wait on the calling thread for a quick exit before it
// leaves the result to the event loop (0: never wait). At most 1 s, so a caller cannot stall the
// event loop by accident.
Napi::Value KvmVcpu::SetRunPoll(const Napi::CallbackInfo& info) {
  uint32_t micros = ArgU32(info, 0, "micros");
  if (micros > 1000000) throw Napi::RangeError::New(info.Env(), "micros must be at most 1000000");
  run_poll_ns_ = int64_t{micros} * 1000;
  return info.Env().Undefined();
}

Napi::Value KvmVcpu::Stop(const Napi::CallbackInfo& info) {
  if (!shut_down_) Kick();
  return info.Env().Undefined();
}

// KVM_INTERRUPT: the riscv argument is KVM_INTERRUPT_SET or anything else to clear (abi §1.5).
Napi::Value KvmVcpu::Interrupt(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t irq = ArgU32(info, 0, "irq");
  CheckOpen(env, "KVM_INTERRUPT");
  struct kvm_interrupt arg {};
  arg.irq = irq;
  if (RetryEintr([&] { return ioctl(fd_.get(), KVM_INTERRUPT, &arg); }) < 0) throw ErrnoError(env, errno, "ioctl", "KVM_INTERRUPT");
  return env.Undefined();
}

Napi::Value KvmVcpu::GetMpState(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckIdle(env, "KVM_GET_MP_STATE");
  struct kvm_mp_state state {};
  if (RetryEintr([&] { return ioctl(fd_.get(), KVM_GET_MP_STATE, &state); }) < 0) {
    throw ErrnoError(env, errno, "ioctl", "KVM_GET_MP_STATE");
  }
  return Napi::Number::New(env, state.mp_state);
}

Napi::Value KvmVcpu::SetMpState(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t value = ArgU32(info, 0, "mpState");
  CheckIdle(env, "KVM_SET_MP_STATE");
  struct kvm_mp_state state {};
  state.mp_state = value;
  if (RetryEintr([&] { return ioctl(fd_.get(), KVM_SET_MP_STATE, &state); }) < 0) {
    throw ErrnoError(env, errno, "ioctl", "KVM_SET_MP_STATE");
  }
  return env.Undefined();
}

void KvmVcpu::Shutdown() {
  if (shut_down_) return;
  shut_down_ = true;
  {
    // A closed vCPU is no longer alive for stopVcpu(token) (it answers false), as documented.
    std::lock_guard<std::mutex> lock(g_token_mu);
    g_token_vcpus.erase(stop_token_);
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    exit_requested_ = true;
    wake_.store(true, std::memory_order_release);
  }
  cv_.notify_all();
  Kick();
  if (thread_.joinable()) thread_.join();
  if (tsfn_live_) {
    // Calls already queued are still delivered before the function is finalized, so a pending
    // run() promise still resolves (with EINTR).
    tsfn_.Release();
    tsfn_live_ = false;
  }
  std::lock_guard<std::mutex> lock(kick_mu_);
  fd_.Close();
}

Napi::Value KvmVcpu::Close(const Napi::CallbackInfo& info) {
  Shutdown();
  return info.Env().Undefined();
}

Napi::Value KvmVcpu::Closed(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), shut_down_); }

}  // namespace kvmriscv
