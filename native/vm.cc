// KvmVm: one VM fd, its memory slots (api.rst §4.35 KVM_SET_USER_MEMORY_REGION, §4.8
// KVM_GET_DIRTY_LOG), vCPU creation (§4.7 KVM_CREATE_VCPU + mmap of kvm_run), the irq line
// (§4.24 KVM_IRQ_LINE) and in-kernel devices (§4.80 KVM_CREATE_DEVICE, §4.81 device attributes;
// on riscv only the AIA, kvm-riscv-abi.md §1.8).
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "objects.h"

namespace kvmriscv {

namespace {
uint64_t PageSize() {
  static const uint64_t size = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
  return size;
}

// Finalizer of a guest-memory ArrayBuffer: the buffer's reference to the mapping. The memory is
// unmapped only when the slot's reference is gone too (see objects.h, lifetime rules).
void UnrefGuestMemory(Napi::Env, void*, SharedMapping* memory) { memory->Unref(); }

constexpr uint32_t kValidSlotFlags = KVM_MEM_LOG_DIRTY_PAGES | KVM_MEM_READONLY;
}  // namespace

void SharedMapping::Unref() {
  if (refs.fetch_sub(1) == 1) {
    munmap(addr, size);
    delete this;
  }
}

// Random, fixed: identifies handles made by this class (see KVM_RISCV_GUARDED).
const napi_type_tag KvmVm::kTypeTag = {0x6b766d2d72697363ULL, 0x76766d0000000002ULL};

Napi::Function KvmVm::Define(Napi::Env env) {
  return DefineClass(env, "KvmVm",
                     {
                         InstanceMethod<&KvmVm::Guarded<&KvmVm::CheckExtension>>("checkExtension"),
                         InstanceMethod<&KvmVm::Guarded<&KvmVm::SetMemoryRegion>>("setMemoryRegion"),
                         InstanceMethod<&KvmVm::Guarded<&KvmVm::DeleteMemoryRegion>>("deleteMemoryRegion"),
                         InstanceMethod<&KvmVm::Guarded<&KvmVm::GetDirtyLog>>("getDirtyLog"),
                         InstanceMethod<&KvmVm::Guarded<&KvmVm::CreateVcpu>>("createVcpu"),
                         InstanceMethod<&KvmVm::Guarded<&KvmVm::IrqLine>>("irqLine"),
                         InstanceMethod<&KvmVm::Guarded<&KvmVm::CreateDevice>>("createDevice"),
                         InstanceMethod<&KvmVm::Guarded<&KvmVm::DeviceAttr>>("deviceAttr"),
                         InstanceMethod<&KvmVm::Guarded<&KvmVm::Close>>("close"),
                         InstanceAccessor<&KvmVm::Guarded<&KvmVm::Closed>>("closed"),
                     });
}

KvmVm::KvmVm(const Napi::CallbackInfo& info) : Napi::ObjectWrap<KvmVm>(info) {
  if (info.Length() < 3 || !info[0].IsExternal() ||
      info[0].As<Napi::External<int>>().Data() != &kConstructToken || !info[1].IsNumber() ||
      !info[2].IsNumber()) {
    throw Napi::TypeError::New(info.Env(), "KvmVm cannot be constructed directly; use createVm()");
  }
  TagReceiver(info, &kTypeTag);  // before taking anything over: the factory still owns the fd
  fd_.Reset(info[1].As<Napi::Number>().Int32Value());
  vcpu_mmap_size_ = static_cast<size_t>(info[2].As<Napi::Number>().Int64Value());
  registry_ = info.Env().GetInstanceData<AddonData>()->registry;
  registry_->vms.insert(this);
}

KvmVm::~KvmVm() {
  CloseNative();
  // At environment teardown finalizers run in no particular order; make sure no vCPU that outlives
  // us calls back into freed memory.
  for (KvmVcpu* v : vcpus_) v->DetachFromVm();
  vcpus_.clear();
  registry_->vms.erase(this);
}

int KvmVm::CheckedFd(Napi::Env env, const char* what) {
  if (closed_) throw StateError(env, "ERR_KVM_CLOSED", std::string(what) + ": the VM is closed");
  return fd_.get();
}

Napi::Value KvmVm::CheckExtension(const Napi::CallbackInfo& info) {
  uint32_t cap = ArgU32(info, 0, "cap");
  int fd = CheckedFd(info.Env(), "KVM_CHECK_EXTENSION");
  long r = RetryEintr([&] { return ioctl(fd, KVM_CHECK_EXTENSION, static_cast<unsigned long>(cap)); });
  if (r < 0) throw ErrnoError(info.Env(), errno, "ioctl", "KVM_CHECK_EXTENSION");
  return Napi::Number::New(info.Env(), static_cast<double>(r));
}

// setMemoryRegion(slot, flags, gpa, size) → ArrayBuffer over fresh zeroed anonymous memory.
Napi::Value KvmVm::SetMemoryRegion(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t slot = ArgU32(info, 0, "slot");
  uint32_t flags = ArgU32(info, 1, "flags");
  uint64_t gpa = ArgU64(info, 2, "guestPhysAddr");
  uint64_t size = ArgU64(info, 3, "size");
  int fd = CheckedFd(env, "KVM_SET_USER_MEMORY_REGION");
  // The TS layer validates all of this with better messages; these checks only keep the native
  // side safe on its own.
  if ((flags & ~kValidSlotFlags) != 0) throw Napi::RangeError::New(env, "flags has unknown bits");
  if (slot > 0xffff) throw Napi::RangeError::New(env, "slot must be below 65536");
  if (size == 0 || size % PageSize() != 0) throw Napi::RangeError::New(env, "size must be a non-zero multiple of the page size");
  if (gpa % PageSize() != 0) throw Napi::RangeError::New(env, "guestPhysAddr must be page aligned");
  if (gpa + size < gpa) throw Napi::RangeError::New(env, "region wraps around the address space");
  if (slots_.count(slot) != 0) throw Napi::RangeError::New(env, "slot is already in use");

  // MAP_NORESERVE: guest RAM is touched lazily; do not charge the whole size up front.
  void* host = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (host == MAP_FAILED) throw ErrnoError(env, errno, "mmap", "mmap");

  struct kvm_userspace_memory_region region {};
  region.slot = slot;
  region.flags = flags;
  region.guest_phys_addr = gpa;
  region.memory_size = size;
  region.userspace_addr = reinterpret_cast<uint64_t>(host);
  if (RetryEintr([&] { return ioctl(fd, KVM_SET_USER_MEMORY_REGION, &region); }) < 0) {
    int err = errno;
    munmap(host, size);
    throw ErrnoError(env, err, "ioctl", "KVM_SET_USER_MEMORY_REGION");
  }

  // Two references: the installed slot's and the buffer's.
  auto* memory = new SharedMapping{host, size, {2}};
  Napi::ArrayBuffer buffer;
  try {
    buffer = Napi::ArrayBuffer::New(env, host, size, UnrefGuestMemory, memory);
  } catch (...) {
    // Could not hand the memory to JS (e.g. a runtime without external buffers, or a worker being
    // terminated): no buffer, no finalizer. Undo the slot, then the mapping.
    struct kvm_userspace_memory_region del = region;
    del.memory_size = 0;
    if (RetryEintr([&] { return ioctl(fd, KVM_SET_USER_MEMORY_REGION, &del); }) == 0) {
      munmap(host, size);
      delete memory;
    }  // else KVM keeps the slot: leave the memory mapped (leaked) rather than unmapped under it
    throw;
  }
  slots_.emplace(slot, Slot{Napi::Persistent(buffer), gpa, size, flags, memory});
  return buffer;
}

bool KvmVm::DeleteSlot(uint32_t slot, int* err) {
  auto it = slots_.find(slot);
  if (it == slots_.end()) return true;
  struct kvm_userspace_memory_region region {};
  region.slot = slot;
  region.flags = 0;
  region.guest_phys_addr = it->second.gpa;
  region.memory_size = 0;  // api.rst §4.35: size 0 deletes the slot
  region.userspace_addr = 0;
  if (fd_.valid() && RetryEintr([&] { return ioctl(fd_.get(), KVM_SET_USER_MEMORY_REGION, &region); }) < 0) {
    *err = errno;
    return false;
  }
  // Only now may the memory go: the slot's reference is dropped, and the mapping goes once JS is
  // done with the buffer too (or at once, when the buffer was already finalized).
  it->second.memory->Unref();
  slots_.erase(it);
  return true;
}

Napi::Value KvmVm::DeleteMemoryRegion(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t slot = ArgU32(info, 0, "slot");
  CheckedFd(env, "KVM_SET_USER_MEMORY_REGION");
  if (slots_.count(slot) == 0) return Napi::Boolean::New(env, false);
  int err = 0;
  if (!DeleteSlot(slot, &err)) throw ErrnoError(env, err, "ioctl", "KVM_SET_USER_MEMORY_REGION");
  return Napi::Boolean::New(env, true);
}

// getDirtyLog(slot, bitmap): the kernel writes one bit per page, in units of unsigned long
// (virt/kvm/kvm_main.c kvm_get_dirty_log: ALIGN(npages, BITS_PER_LONG) / 8 bytes), so the buffer
// must hold that many bytes or the kernel would write past it.
Napi::Value KvmVm::GetDirtyLog(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t slot = ArgU32(info, 0, "slot");
  Napi::Uint8Array bitmap = ArgBytes(info, 1, "bitmap");
  int fd = CheckedFd(env, "KVM_GET_DIRTY_LOG");
  auto it = slots_.find(slot);
  if (it == slots_.end()) throw ErrnoError(env, ENOENT, "ioctl", "KVM_GET_DIRTY_LOG");
  uint64_t pages = it->second.size / PageSize();
  uint64_t need = (pages + 63) / 64 * 8;
  if (bitmap.ByteLength() < need) {
    throw Napi::RangeError::New(env, "bitmap must hold at least " + std::to_string(need) + " bytes");
  }
  struct kvm_dirty_log log {};
  log.slot = slot;
  log.dirty_bitmap = bitmap.Data();
  if (RetryEintr([&] { return ioctl(fd, KVM_GET_DIRTY_LOG, &log); }) < 0) {
    throw ErrnoError(env, errno, "ioctl", "KVM_GET_DIRTY_LOG");
  }
  return env.Undefined();
}

Napi::Value KvmVm::CreateVcpu(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t id = ArgU32(info, 0, "id");
  int fd = CheckedFd(env, "KVM_CREATE_VCPU");
  long vcpu_fd = RetryEintr([&] { return ioctl(fd, KVM_CREATE_VCPU, static_cast<unsigned long>(id)); });
  if (vcpu_fd < 0) throw ErrnoError(env, errno, "ioctl", "KVM_CREATE_VCPU");
  void* addr = mmap(nullptr, vcpu_mmap_size_, PROT_READ | PROT_WRITE, MAP_SHARED, static_cast<int>(vcpu_fd), 0);
  if (addr == MAP_FAILED) {
    int err = errno;
    close(static_cast<int>(vcpu_fd));
    throw ErrnoError(env, err, "mmap", "mmap kvm_run");
  }
  auto* mapping = new SharedMapping{addr, vcpu_mmap_size_, {1}};
  KvmVcpu::Init init{static_cast<int>(vcpu_fd), id, mapping, this, info.This().As<Napi::Object>(), registry_};
  AddonData* data = env.GetInstanceData<AddonData>();
  Napi::Object obj;
  try {
    obj = data->vcpu_ctor.New({Napi::External<int>::New(env, &kConstructToken),
                               Napi::External<KvmVcpu::Init>::New(env, &init)});
  } catch (...) {
    if (init.run != nullptr) {  // the constructor did not take ownership
      close(static_cast<int>(vcpu_fd));
      mapping->Unref();
    }
    throw;
  }
  vcpus_.insert(KvmVcpu::Unwrap(obj));
  return obj;
}

Napi::Value KvmVm::IrqLine(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t irq = ArgU32(info, 0, "irq");
  bool level = ArgBool(info, 1, "level");
  int fd = CheckedFd(env, "KVM_IRQ_LINE");
  struct kvm_irq_level arg {};
  arg.irq = irq;
  arg.level = level ? 1 : 0;
  if (RetryEintr([&] { return ioctl(fd, KVM_IRQ_LINE, &arg); }) < 0) throw ErrnoError(env, errno, "ioctl", "KVM_IRQ_LINE");
  return env.Undefined();
}

// createDevice(type, testOnly) → device fd (0 for a KVM_CREATE_DEVICE_TEST probe that succeeded).
Napi::Value KvmVm::CreateDevice(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t type = ArgU32(info, 0, "type");
  bool test_only = ArgBool(info, 1, "testOnly");
  int fd = CheckedFd(env, "KVM_CREATE_DEVICE");
  struct kvm_create_device dev {};
  dev.type = type;
  dev.flags = test_only ? KVM_CREATE_DEVICE_TEST : 0;
  if (RetryEintr([&] { return ioctl(fd, KVM_CREATE_DEVICE, &dev); }) < 0) throw ErrnoError(env, errno, "ioctl", "KVM_CREATE_DEVICE");
  if (test_only) return Napi::Number::New(env, 0);
  device_fds_.push_back(static_cast<int>(dev.fd));
  return Napi::Number::New(env, dev.fd);
}

// deviceAttr(op, deviceFd, group, attr, data?): op 0 = KVM_HAS_DEVICE_ATTR (→ boolean),
// 1 = KVM_GET_DEVICE_ATTR (fills data), 2 = KVM_SET_DEVICE_ATTR (reads data). data is exactly 8
// bytes: every riscv AIA attribute is a u32 or a u64 (kvm-riscv-abi.md §1.8), little-endian, so the
// kernel never touches more than the buffer holds.
Napi::Value KvmVm::DeviceAttr(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t op = ArgU32(info, 0, "op");
  uint32_t dev_fd = ArgU32(info, 1, "deviceFd");
  uint32_t group = ArgU32(info, 2, "group");
  uint64_t attr = ArgU64(info, 3, "attr");
  CheckedFd(env, "KVM_DEVICE_ATTR");
  if (op > 2) throw Napi::RangeError::New(env, "op must be 0, 1 or 2");
  if (std::find(device_fds_.begin(), device_fds_.end(), static_cast<int>(dev_fd)) == device_fds_.end()) {
    throw Napi::RangeError::New(env, "deviceFd is not a device of this VM");
  }
  static const unsigned long kRequests[] = {KVM_HAS_DEVICE_ATTR, KVM_GET_DEVICE_ATTR, KVM_SET_DEVICE_ATTR};
  static const char* const kNames[] = {"KVM_HAS_DEVICE_ATTR", "KVM_GET_DEVICE_ATTR", "KVM_SET_DEVICE_ATTR"};
  struct kvm_device_attr arg {};
  arg.group = group;
  arg.attr = attr;
  if (op != 0) {
    Napi::Uint8Array data = ArgBytes(info, 4, "data");
    if (data.ByteLength() != 8) throw Napi::RangeError::New(env, "data must be 8 bytes");
    arg.addr = reinterpret_cast<uint64_t>(data.Data());
  }
  long r = RetryEintr([&] { return ioctl(static_cast<int>(dev_fd), kRequests[op], &arg); });
  if (r < 0) {
    if (op == 0 && errno == ENXIO) return Napi::Boolean::New(env, false);
    throw ErrnoError(env, errno, "ioctl", kNames[op]);
  }
  return op == 0 ? Napi::Value(Napi::Boolean::New(env, true)) : env.Undefined();
}

void KvmVm::CloseNative() {
  if (closed_) return;
  closed_ = true;
  for (KvmVcpu* v : vcpus_) v->Shutdown();
  std::vector<uint32_t> ids;
  for (auto& kv : slots_) ids.push_back(kv.first);
  for (uint32_t id : ids) {
    int err = 0;
    if (!DeleteSlot(id, &err)) {
      // KVM refused to delete the slot: keep its memory mapped for as long as this process lives
      // rather than risk KVM touching unmapped memory. Leak the references deliberately (the
      // slot's reference to the mapping is never dropped).
      auto it = slots_.find(id);
      it->second.buffer.SuppressDestruct();
      slots_.erase(it);
    }
  }
  for (int dfd : device_fds_) close(dfd);
  device_fds_.clear();
  fd_.Close();
}

Napi::Value KvmVm::Close(const Napi::CallbackInfo& info) {
  CloseNative();
  return info.Env().Undefined();
}

Napi::Value KvmVm::Closed(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), closed_); }

}  // namespace kvmriscv
