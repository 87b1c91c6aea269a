#include "common.h"

#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>

namespace kvmriscv {

namespace {
// errno → its symbolic name. glibc has strerrorname_np only from 2.32; this list covers what KVM
// and mmap return, and anything else is reported as "E<number>" (the TS side maps names too).
const char* ErrnoName(int err) {
  switch (err) {
    case EPERM: return "EPERM";
    case ENOENT: return "ENOENT";
    case EINTR: return "EINTR";
    case EIO: return "EIO";
    case ENXIO: return "ENXIO";
    case E2BIG: return "E2BIG";
    case EBADF: return "EBADF";
    case EAGAIN: return "EAGAIN";
    case ENOMEM: return "ENOMEM";
    case EACCES: return "EACCES";
    case EFAULT: return "EFAULT";
    case EBUSY: return "EBUSY";
    case EEXIST: return "EEXIST";
    case ENODEV: return "ENODEV";
    case EINVAL: return "EINVAL";
    case ENOSPC: return "ENOSPC";
    case ENOTTY: return "ENOTTY";
    case EOPNOTSUPP: return "EOPNOTSUPP";
    default: return nullptr;
  }
}
}  // namespace

Napi::Error ErrnoError(Napi::Env env, int err, const char* syscall, const std::string& request) {
  char buf[128];
  // XSI strerror_r returns int, GNU returns char*; strerror is fine here: we are on a JS thread and
  // copy the text at once.
  std::string text = std::strerror(err);
  Napi::Error e = Napi::Error::New(env, request + ": " + text);
  const char* name = ErrnoName(err);
  if (name == nullptr) {
    snprintf(buf, sizeof buf, "E%d", err);
    name = buf;
  }
  e.Set("code", Napi::String::New(env, name));
  e.Set("errno", Napi::Number::New(env, err));
  e.Set("syscall", Napi::String::New(env, syscall));
  e.Set("request", Napi::String::New(env, request));
  return e;
}

Napi::Error StateError(Napi::Env env, const char* code, const std::string& message) {
  Napi::Error e = Napi::Error::New(env, message);
  e.Set("code", Napi::String::New(env, code));
  return e;
}

uint32_t ArgU32(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (info.Length() <= i || !info[i].IsNumber()) {
    throw Napi::TypeError::New(info.Env(), std::string(name) + " must be a number");
  }
  double v = info[i].As<Napi::Number>().DoubleValue();
  if (!(v >= 0 && v <= 4294967295.0) || std::floor(v) != v) {
    throw Napi::RangeError::New(info.Env(), std::string(name) + " must be an integer in [0, 2^32)");
  }
  return static_cast<uint32_t>(v);
}

uint64_t ArgU64(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (info.Length() > i && info[i].IsBigInt()) {
    bool lossless = false;
    uint64_t v = info[i].As<Napi::BigInt>().Uint64Value(&lossless);
    if (!lossless) {
      throw Napi::RangeError::New(info.Env(), std::string(name) + " must fit in 64 unsigned bits");
    }
    return v;
  }
  if (info.Length() > i && info[i].IsNumber()) {
    double v = info[i].As<Napi::Number>().DoubleValue();
    if (!(v >= 0 && v <= 9007199254740991.0) || std::floor(v) != v) {
      throw Napi::RangeError::New(info.Env(), std::string(name) + " must be a non-negative safe integer");
    }
    return static_cast<uint64_t>(v);
  }
  throw Napi::TypeError::New(info.Env(), std::string(name) + " must be a bigint or a number");
}

bool ArgBool(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (info.Length() <= i || !info[i].IsBoolean()) {
    throw Napi::TypeError::New(info.Env(), std::string(name) + " must be a boolean");
  }
  return info[i].As<Napi::Boolean>().Value();
}

Napi::Uint8Array ArgBytes(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (info.Length() <= i || !info[i].IsTypedArray() ||
      info[i].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
    throw Napi::TypeError::New(info.Env(), std::string(name) + " must be a Uint8Array");
  }
  return info[i].As<Napi::Uint8Array>();
}

void TagReceiver(const Napi::CallbackInfo& info, const napi_type_tag* tag) {
  napi_status status = napi_type_tag_object(info.Env(), info.This(), tag);
  if (status != napi_ok) throw Napi::Error::New(info.Env(), "could not type-tag a new handle");
}

void CheckReceiver(const Napi::CallbackInfo& info, const napi_type_tag* tag, const char* cls) {
  bool ok = false;
  if (napi_check_object_type_tag(info.Env(), info.This(), tag, &ok) != napi_ok || !ok) {
    throw Napi::TypeError::New(info.Env(), std::string("this is not a ") + cls + " handle");
  }
}

void Fd::Close() {
  if (fd_ >= 0) {
    // close() must not be retried on EINTR on Linux: the descriptor is gone either way.
    ::close(fd_);
    fd_ = -1;
  }
}

}  // namespace kvmriscv
