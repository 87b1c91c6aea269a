// KvmSystem: the /dev/kvm handle (api.rst §4.1 KVM_GET_API_VERSION, §4.2 KVM_CREATE_VM,
// §4.4 KVM_CHECK_EXTENSION, §4.5 KVM_GET_VCPU_MMAP_SIZE).
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>

#include "objects.h"

namespace kvmriscv {

int kConstructToken = 0x6b766d;

// Random, fixed: identifies handles made by this class (see KVM_RISCV_GUARDED).
const napi_type_tag KvmSystem::kTypeTag = {0x6b766d2d72697363ULL, 0x7673797374656d01ULL};

Napi::Function KvmSystem::Define(Napi::Env env) {
  return DefineClass(env, "KvmSystem",
                     {
                         InstanceMethod<&KvmSystem::Guarded<&KvmSystem::ApiVersion>>("apiVersion"),
                         InstanceMethod<&KvmSystem::Guarded<&KvmSystem::CheckExtension>>("checkExtension"),
                         InstanceMethod<&KvmSystem::Guarded<&KvmSystem::VcpuMmapSize>>("vcpuMmapSize"),
                         InstanceMethod<&KvmSystem::Guarded<&KvmSystem::CreateVm>>("createVm"),
                         InstanceMethod<&KvmSystem::Guarded<&KvmSystem::Close>>("close"),
                         InstanceAccessor<&KvmSystem::Guarded<&KvmSystem::Closed>>("closed"),
                     });
}

KvmSystem::KvmSystem(const Napi::CallbackInfo& info) : Napi::ObjectWrap<KvmSystem>(info) {
  if (info.Length() < 2 || !info[0].IsExternal() ||
      info[0].As<Napi::External<int>>().Data() != &kConstructToken || !info[1].IsNumber()) {
    throw Napi::TypeError::New(info.Env(), "KvmSystem cannot be constructed directly; use openSystem()");
  }
  TagReceiver(info, &kTypeTag);  // before taking anything over: the factory still owns the fd
  fd_.Reset(info[1].As<Napi::Number>().Int32Value());
}

int KvmSystem::CheckedFd(Napi::Env env, const char* what) {
  if (!fd_.valid()) throw StateError(env, "ERR_KVM_CLOSED", std::string(what) + ": the KVM system handle is closed");
  return fd_.get();
}

Napi::Value KvmSystem::ApiVersion(const Napi::CallbackInfo& info) {
  int fd = CheckedFd(info.Env(), "KVM_GET_API_VERSION");
  long r = RetryEintr([&] { return ioctl(fd, KVM_GET_API_VERSION, 0); });
  if (r < 0) throw ErrnoError(info.Env(), errno, "ioctl", "KVM_GET_API_VERSION");
  return Napi::Number::New(info.Env(), static_cast<double>(r));
}

Napi::Value KvmSystem::CheckExtension(const Napi::CallbackInfo& info) {
  uint32_t cap = ArgU32(info, 0, "cap");
  int fd = CheckedFd(info.Env(), "KVM_CHECK_EXTENSION");
  long r = RetryEintr([&] { return ioctl(fd, KVM_CHECK_EXTENSION, static_cast<unsigned long>(cap)); });
  if (r < 0) throw ErrnoError(info.Env(), errno, "ioctl", "KVM_CHECK_EXTENSION");
  return Napi::Number::New(info.Env(), static_cast<double>(r));
}

Napi::Value KvmSystem::VcpuMmapSize(const Napi::CallbackInfo& info) {
  int fd = CheckedFd(info.Env(), "KVM_GET_VCPU_MMAP_SIZE");
  long r = RetryEintr([&] { return ioctl(fd, KVM_GET_VCPU_MMAP_SIZE, 0); });
  if (r < 0) throw ErrnoError(info.Env(), errno, "ioctl", "KVM_GET_VCPU_MMAP_SIZE");
  return Napi::Number::New(info.Env(), static_cast<double>(r));
}

Napi::Value KvmSystem::CreateVm(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t type = info.Length() > 0 && !info[0].IsUndefined() ? ArgU32(info, 0, "type") : 0;
  int fd = CheckedFd(env, "KVM_CREATE_VM");
  long mmap_size = RetryEintr([&] { return ioctl(fd, KVM_GET_VCPU_MMAP_SIZE, 0); });
  if (mmap_size < 0) throw ErrnoError(env, errno, "ioctl", "KVM_GET_VCPU_MMAP_SIZE");
  if (static_cast<size_t>(mmap_size) < sizeof(struct kvm_run)) {
    throw ErrnoError(env, EINVAL, "ioctl", "KVM_GET_VCPU_MMAP_SIZE");
  }
  // KVM_CREATE_VM can fail with EINTR while the kernel waits for something; retrying is what
  // kvmtool and QEMU do.
  long vm_fd = RetryEintr([&] { return ioctl(fd, KVM_CREATE_VM, static_cast<unsigned long>(type)); });
  if (vm_fd < 0) throw ErrnoError(env, errno, "ioctl", "KVM_CREATE_VM");
  AddonData* data = env.GetInstanceData<AddonData>();
  try {
    return data->vm_ctor.New({Napi::External<int>::New(env, &kConstructToken),
                              Napi::Number::New(env, static_cast<double>(vm_fd)),
                              Napi::Number::New(env, static_cast<double>(mmap_size))});
  } catch (...) {
    // The constructor failed before taking the fd over (e.g. in a worker being terminated).
    ::close(static_cast<int>(vm_fd));
    throw;
  }
}

Napi::Value KvmSystem::Close(const Napi::CallbackInfo& info) {
  fd_.Close();
  return info.Env().Undefined();
}

Napi::Value KvmSystem::Closed(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), !fd_.valid());
}

}  // namespace kvmriscv
