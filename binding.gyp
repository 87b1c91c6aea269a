{
  # The kvm_riscv addon: mechanism only (fds, mmap, ioctls, threads); policy lives in
  # lib/backend/kvm. Built natively with `npm run build:addon` and cross-compiled for linux-riscv64
  # with scripts/build-addon-riscv64.sh. N-API is ABI-stable, so one build serves every Node >= 20.
  "targets": [
    {
      "target_name": "kvm_riscv",
      "sources": [
        "native/addon.cc",
        "native/common.cc",
        "native/kick.cc",
        "native/system.cc",
        "native/vm.cc",
        "native/vcpu.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      # NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS: in an environment being torn down (worker
      # terminate()) napi_throw fails, and without it node-addon-api answers with a C++ throw out
      # of its callback wrapper, i.e. std::terminate() of the whole process (found by
      # scripts/asan/misuse.cjs, a worker terminated while creating VMs).
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc": ["-std=c++17", "-fexceptions", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "ldflags": ["-pthread"],
      "conditions": [
        ["OS!='linux'", { "type": "none" }]
      ]
    }
  ]
}
