// Entry point of the kvm_riscv addon: registers the handle classes, openSystem(), a few constants
// the TS side checks against lib/abi (so a mismatched build is caught at load time), and the
// environment cleanup hook that joins vCPU threads when the process or a worker exits.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "abi_checks.h"
#include "kick.h"
#include "objects.h"

namespace kvmriscv {

namespace {

Napi::Value OpenSystem(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) throw Napi::TypeError::New(env, "path must be a string");
  std::string path = info[0].As<Napi::String>().Utf8Value();
  // open() would stop at the first NUL and open another file than the one named (as node:fs does,
  // refuse it; found by scripts/asan/misuse.cjs).
  if (path.find('\0') != std::string::npos) throw Napi::TypeError::New(env, "path must not contain NUL bytes");
  int fd;
  do {
    fd = open(path.c_str(), O_RDWR | O_CLOEXEC);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) throw ErrnoError(env, errno, "open", "open " + path);
  AddonData* data = env.GetInstanceData<AddonData>();
  try {
    return data->system_ctor.New({Napi::External<int>::New(env, &kConstructToken),
                                  Napi::Number::New(env, fd)});
  } catch (...) {
    close(fd);
    throw;
  }
}

// Runs when this environment (main thread or worker) is torn down: no vCPU thread may outlive it,
// and no slot may stay installed over memory that is about to be unmapped.
void CleanupEnvironment(std::shared_ptr<Registry>* holder) {
  std::shared_ptr<Registry> registry = *holder;
  delete holder;
  registry->torn_down = true;
  std::vector<KvmVcpu*> vcpus(registry->vcpus.begin(), registry->vcpus.end());
  for (KvmVcpu* v : vcpus) v->Shutdown();
  std::vector<KvmVm*> vms(registry->vms.begin(), registry->vms.end());
  for (KvmVm* vm : vms) vm->CloseNative();
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  auto* data = new AddonData();
  env.SetInstanceData<AddonData>(data);
  data->system_ctor = Napi::Persistent(KvmSystem::Define(env));
  data->vm_ctor = Napi::Persistent(KvmVm::Define(env));
  data->vcpu_ctor = Napi::Persistent(KvmVcpu::Define(env));
  env.AddCleanupHook(CleanupEnvironment, new std::shared_ptr<Registry>(data->registry));

  exports.Set("openSystem", Napi::Function::New<OpenSystem>(env, "openSystem"));
  Napi::Object abi = Napi::Object::New(env);
  abi.Set("KVM_API_VERSION", Napi::Number::New(env, KVM_API_VERSION));
  abi.Set("KVM_RUN", Napi::Number::New(env, static_cast<double>(KVM_RUN)));
  abi.Set("KVM_SET_ONE_REG", Napi::Number::New(env, static_cast<double>(KVM_SET_ONE_REG)));
  abi.Set("KVM_GET_REG_LIST", Napi::Number::New(env, static_cast<double>(kKvmGetRegList)));
  abi.Set("sizeofKvmRun", Napi::Number::New(env, static_cast<double>(sizeof(struct kvm_run))));
  abi.Set("exitUnionOffset", Napi::Number::New(env, static_cast<double>(offsetof(struct kvm_run, mmio))));
  abi.Set("sbiRetOffset", Napi::Number::New(env, static_cast<double>(offsetof(struct kvm_run, riscv_sbi.ret))));
  abi.Set("csrRetOffset", Napi::Number::New(env, static_cast<double>(offsetof(struct kvm_run, riscv_csr.ret_value))));
  exports.Set("abi", abi);
  exports.Set("pageSize", Napi::Number::New(env, static_cast<double>(sysconf(_SC_PAGESIZE))));
#if defined(__riscv)
  exports.Set("arch", Napi::String::New(env, "riscv64"));
#else
  exports.Set("arch", Napi::String::New(env, "other"));
#endif
  exports.Set("stopVcpu", Napi::Function::New(
                              env,
                              [](const Napi::CallbackInfo& info) {
                                return Napi::Boolean::New(info.Env(), KvmVcpu::KickByToken(ArgU32(info, 0, "token")));
                              },
                              "stopVcpu"));
  exports.Set("kickSignal", Napi::Function::New(
                                env, [](const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), KickSignal()); },
                                "kickSignal"));
  return exports;
}

}  // namespace

}  // namespace kvmriscv

static Napi::Object InitKvmRiscv(Napi::Env env, Napi::Object exports) { return kvmriscv::Init(env, exports); }
NODE_API_MODULE(kvm_riscv, InitKvmRiscv)
