// Compile-time proof that the numbers lib/abi/kvm.ts hard-codes are the ones in the uapi headers
// this addon is built against (Linux 6.12 from Debian trixie for the riscv64 prebuild; the x86_64
// smoke build uses the host's headers, where the riscv-only parts are skipped). If a header ever
// disagrees, the build fails here instead of a guest misbehaving later. Source of the numbers:
// include/uapi/linux/kvm.h and ../shared/docs/kvm-riscv-abi.md §1.2, §2.1, §2.3.
#pragma once

#include <linux/kvm.h>

#include <cstddef>

namespace kvmriscv {

// ioctl request codes (lib/abi/kvm.ts, "ioctl request codes").
static_assert(KVM_GET_API_VERSION == 0xAE00, "KVM_GET_API_VERSION");
static_assert(KVM_CREATE_VM == 0xAE01, "KVM_CREATE_VM");
static_assert(KVM_CHECK_EXTENSION == 0xAE03, "KVM_CHECK_EXTENSION");
static_assert(KVM_GET_VCPU_MMAP_SIZE == 0xAE04, "KVM_GET_VCPU_MMAP_SIZE");
static_assert(KVM_CREATE_VCPU == 0xAE41, "KVM_CREATE_VCPU");
static_assert(KVM_GET_DIRTY_LOG == 0x4010AE42, "KVM_GET_DIRTY_LOG");
static_assert(KVM_SET_USER_MEMORY_REGION == 0x4020AE46, "KVM_SET_USER_MEMORY_REGION");
static_assert(KVM_IRQ_LINE == 0x4008AE61, "KVM_IRQ_LINE");
static_assert(KVM_CREATE_DEVICE == 0xC00CAEE0, "KVM_CREATE_DEVICE");
static_assert(KVM_SET_DEVICE_ATTR == 0x4018AEE1, "KVM_SET_DEVICE_ATTR");
static_assert(KVM_GET_DEVICE_ATTR == 0x4018AEE2, "KVM_GET_DEVICE_ATTR");
static_assert(KVM_HAS_DEVICE_ATTR == 0x4018AEE3, "KVM_HAS_DEVICE_ATTR");
static_assert(KVM_RUN == 0xAE80, "KVM_RUN");
static_assert(KVM_INTERRUPT == 0x4004AE86, "KVM_INTERRUPT");
static_assert(KVM_GET_MP_STATE == 0x8004AE98, "KVM_GET_MP_STATE");
static_assert(KVM_SET_MP_STATE == 0x4004AE99, "KVM_SET_MP_STATE");
static_assert(KVM_GET_ONE_REG == 0x4010AEAB, "KVM_GET_ONE_REG");
static_assert(KVM_SET_ONE_REG == 0x4010AEAC, "KVM_SET_ONE_REG");
// KVM_GET_REG_LIST is computed from sizeof(struct kvm_reg_list), which is 8 in C (the kernel's
// view) but 16 in C++ with uapi headers whose __DECLARE_FLEX_ARRAY adds an empty struct member
// (seen with Debian bookworm's 6.1 linux-libc-dev). The addon therefore uses its own constant,
// encoded as the kernel encodes it (_IOWR(KVMIO, 0xb0, 8)).
constexpr unsigned long kKvmGetRegList = _IOWR(KVMIO, 0xb0, __u64);
static_assert(kKvmGetRegList == 0xC008AEB0, "KVM_GET_REG_LIST");

// Argument struct sizes (kvm-riscv-abi.md §1.3).
static_assert(sizeof(struct kvm_userspace_memory_region) == 32, "kvm_userspace_memory_region");
static_assert(sizeof(struct kvm_one_reg) == 16, "kvm_one_reg");
static_assert(sizeof(struct kvm_dirty_log) == 16, "kvm_dirty_log");
static_assert(sizeof(struct kvm_irq_level) == 8, "kvm_irq_level");
static_assert(sizeof(struct kvm_create_device) == 12, "kvm_create_device");
static_assert(sizeof(struct kvm_device_attr) == 24, "kvm_device_attr");
static_assert(sizeof(struct kvm_mp_state) == 4, "kvm_mp_state");

// Constants the TS side uses by value.
static_assert(KVM_API_VERSION == 12, "KVM_API_VERSION");
static_assert(KVM_MEM_LOG_DIRTY_PAGES == 1 && KVM_MEM_READONLY == 2, "memory-region flags");
static_assert(KVM_EXIT_UNKNOWN == 0 && KVM_EXIT_DEBUG == 4 && KVM_EXIT_MMIO == 6, "exit reasons");
static_assert(KVM_EXIT_FAIL_ENTRY == 9 && KVM_EXIT_INTR == 10, "exit reasons");
static_assert(KVM_EXIT_INTERNAL_ERROR == 17 && KVM_EXIT_SYSTEM_EVENT == 24, "exit reasons");
static_assert(KVM_EXIT_RISCV_SBI == 35 && KVM_EXIT_RISCV_CSR == 36, "exit reasons");
static_assert(KVM_SYSTEM_EVENT_SHUTDOWN == 1 && KVM_SYSTEM_EVENT_RESET == 2 &&
                  KVM_SYSTEM_EVENT_CRASH == 3, "system event types");
static_assert(KVM_MP_STATE_RUNNABLE == 0 && KVM_MP_STATE_STOPPED == 5, "mp states");
#ifdef KVM_INTERRUPT_SET  // riscv asm/kvm.h only
static_assert(KVM_INTERRUPT_SET == -1U && KVM_INTERRUPT_UNSET == -2U, "KVM_INTERRUPT values");
#endif
#ifdef KVM_DEV_TYPE_RISCV_AIA
static_assert(KVM_DEV_TYPE_RISCV_AIA == 11, "KVM_DEV_TYPE_RISCV_AIA");
#endif

// struct kvm_run offsets lib/abi/kvm.ts KVM_RUN_OFF names (kvm-riscv-abi.md §2.1, §2.3). The
// struct is generic (linux/kvm.h), so these hold on the x86_64 smoke build too; only the size
// depends on the architecture's sync-regs union.
static_assert(offsetof(struct kvm_run, request_interrupt_window) == 0, "request_interrupt_window");
static_assert(offsetof(struct kvm_run, immediate_exit) == 1, "immediate_exit");
static_assert(offsetof(struct kvm_run, exit_reason) == 8, "exit_reason");
static_assert(offsetof(struct kvm_run, mmio.phys_addr) == 32, "mmio.phys_addr");
static_assert(offsetof(struct kvm_run, mmio.data) == 40, "mmio.data");
static_assert(offsetof(struct kvm_run, mmio.len) == 48, "mmio.len");
static_assert(offsetof(struct kvm_run, mmio.is_write) == 52, "mmio.is_write");
static_assert(offsetof(struct kvm_run, system_event.type) == 32, "system_event.type");
static_assert(offsetof(struct kvm_run, system_event.ndata) == 36, "system_event.ndata");
static_assert(offsetof(struct kvm_run, system_event.data) == 40, "system_event.data");
static_assert(offsetof(struct kvm_run, riscv_sbi.extension_id) == 32, "riscv_sbi.extension_id");
static_assert(offsetof(struct kvm_run, riscv_sbi.function_id) == 40, "riscv_sbi.function_id");
static_assert(offsetof(struct kvm_run, riscv_sbi.args) == 48, "riscv_sbi.args");
static_assert(offsetof(struct kvm_run, riscv_sbi.ret) == 96, "riscv_sbi.ret");
static_assert(offsetof(struct kvm_run, riscv_csr.csr_num) == 32, "riscv_csr.csr_num");
static_assert(offsetof(struct kvm_run, riscv_csr.new_value) == 40, "riscv_csr.new_value");
static_assert(offsetof(struct kvm_run, riscv_csr.write_mask) == 48, "riscv_csr.write_mask");
static_assert(offsetof(struct kvm_run, riscv_csr.ret_value) == 56, "riscv_csr.ret_value");
static_assert(offsetof(struct kvm_run, fail_entry.hardware_entry_failure_reason) == 32, "fail_entry.reason");
static_assert(offsetof(struct kvm_run, fail_entry.cpu) == 40, "fail_entry.cpu");
static_assert(offsetof(struct kvm_run, internal.suberror) == 32, "internal.suberror");
static_assert(offsetof(struct kvm_run, internal.ndata) == 36, "internal.ndata");
static_assert(offsetof(struct kvm_run, internal.data) == 40, "internal.data");
static_assert(offsetof(struct kvm_run, hw.hardware_exit_reason) == 32, "hw.hardware_exit_reason");
// The linux-riscv64 prebuild must see the 6.12 uapi (scripts/build-addon-riscv64.sh defines this):
// a silent fallback to the cross toolchain's 6.1 headers would drop the AIA and DBCN numbers.
#ifdef KVM_RISCV_REQUIRE_612_UAPI
#if !defined(KVM_DEV_TYPE_RISCV_AIA) || !defined(KVM_EXIT_MEMORY_FAULT) || !defined(KVM_REG_RISCV_SBI_STATE)
#error "riscv64 prebuild needs Linux 6.12 uapi headers (trixie linux-libc-dev) first on the include path"
#endif
#endif

#if defined(__riscv) && __riscv_xlen == 64
static_assert(sizeof(struct kvm_run) == 2352, "sizeof(kvm_run) on riscv64");
static_assert(sizeof(((struct kvm_run*)nullptr)->riscv_sbi.args[0]) == 8, "unsigned long is 8 bytes");
#endif

}  // namespace kvmriscv
