// Shared helpers for the kvm_riscv addon: errno errors in the shape lib/backend/kvm turns into
// KvmError, argument checks that throw TypeError/RangeError instead of crashing, and a small fd owner.
//
// Policy (defaults, messages naming registers, state machine) lives in TypeScript; this file only
// makes sure nothing reachable from JS can crash the process.
#pragma once

#include <napi.h>

#include <cstdint>
#include <string>

namespace kvmriscv {

// A JS Error carrying { code: "EBUSY", errno: 16, syscall: "ioctl", request: "KVM_SET_ONE_REG" }.
// The TS wrapper converts it to KvmError and adds the detail (which register, which slot).
Napi::Error ErrnoError(Napi::Env env, int err, const char* syscall, const std::string& request);

// A JS Error with a string code only (ERR_KVM_CLOSED, ERR_KVM_BUSY): a state problem, no errno.
Napi::Error StateError(Napi::Env env, const char* code, const std::string& message);

// Argument readers: TypeError when the JS type is wrong, RangeError when the value does not fit.
uint32_t ArgU32(const Napi::CallbackInfo& info, size_t i, const char* name);
uint64_t ArgU64(const Napi::CallbackInfo& info, size_t i, const char* name);  // BigInt or safe integer
bool ArgBool(const Napi::CallbackInfo& info, size_t i, const char* name);
Napi::Uint8Array ArgBytes(const Napi::CallbackInfo& info, size_t i, const char* name);

// Retries a syscall that failed with EINTR (for everything except KVM_RUN, where EINTR is news).
// The receiver check for ObjectWrap methods. node-addon-api's Unwrap() does not check which class
// wrapped an object, so KvmVm.prototype.close.call(aVcpu) would run KvmVm code on a KvmVcpu. Every
// handle is type-tagged at construction (napi_type_tag_object, N-API 8) and every method goes
// through KVM_RISCV_GUARDED's Guarded<>, which refuses a receiver without its class's tag.
void TagReceiver(const Napi::CallbackInfo& info, const napi_type_tag* tag);
void CheckReceiver(const Napi::CallbackInfo& info, const napi_type_tag* tag, const char* cls);

#define KVM_RISCV_GUARDED(Class)                                                  \
  template <Napi::Value (Class::*Method)(const Napi::CallbackInfo&)>               \
  Napi::Value Guarded(const Napi::CallbackInfo& info) {                          \
    CheckReceiver(info, &kTypeTag, #Class);                                      \
    return (this->*Method)(info);                                                \
  }                                                                              \
  static const napi_type_tag kTypeTag;

template <typename F>
long RetryEintr(F&& f) {
  long r;
  do {
    r = f();
  } while (r < 0 && errno == EINTR);
  return r;
}

// Owns one file descriptor; Close() is idempotent.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { Close(); }
  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  void Reset(int fd) { Close(); fd_ = fd; }
  void Close();

 private:
  int fd_ = -1;
};

}  // namespace kvmriscv
