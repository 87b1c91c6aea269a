/**
 * KVM user-space ABI numbers for riscv64, under their kernel spelling so that a grep against
 * `linux/kvm.h` / `asm/kvm.h` (Linux 6.12) finds them. Values were produced by compiling against the
 * trixie 6.12 uapi headers (see ../shared/docs/kvm-riscv-abi.md §1-§2) and are pinned by
 * test/unit/abi.test.ts. The C++ side static_asserts the same numbers against the real headers.
 */

export const KVM_API_VERSION = 12;

// asm-generic ioctl encoding (Documentation/userspace-api/ioctl/ioctl-number.rst)
const _IOC_WRITE = 1;
const _IOC_READ = 2;
export const KVMIO = 0xae;
function _IOC(dir: number, type: number, nr: number, size: number): number {
  return ((dir << 30) | (size << 16) | (type << 8) | nr) >>> 0;
}
export const _IO = (nr: number) => _IOC(0, KVMIO, nr, 0);
export const _IOW = (nr: number, size: number) => _IOC(_IOC_WRITE, KVMIO, nr, size);
export const _IOR = (nr: number, size: number) => _IOC(_IOC_READ, KVMIO, nr, size);
export const _IOWR = (nr: number, size: number) => _IOC(_IOC_READ | _IOC_WRITE, KVMIO, nr, size);

/** ioctl request codes (kvm-riscv-abi.md §1.2). */
export const KVM_GET_API_VERSION = _IO(0x00);
export const KVM_CREATE_VM = _IO(0x01);
export const KVM_CHECK_EXTENSION = _IO(0x03);
export const KVM_GET_VCPU_MMAP_SIZE = _IO(0x04);
export const KVM_CREATE_VCPU = _IO(0x41);
export const KVM_GET_DIRTY_LOG = _IOW(0x42, 16);
export const KVM_SET_USER_MEMORY_REGION = _IOW(0x46, 32);
export const KVM_IRQ_LINE = _IOW(0x61, 8);
export const KVM_CREATE_DEVICE = _IOWR(0xe0, 12);
export const KVM_SET_DEVICE_ATTR = _IOW(0xe1, 24);
export const KVM_GET_DEVICE_ATTR = _IOW(0xe2, 24);
export const KVM_HAS_DEVICE_ATTR = _IOW(0xe3, 24);
export const KVM_RUN = _IO(0x80);
export const KVM_INTERRUPT = _IOW(0x86, 4);
export const KVM_SET_SIGNAL_MASK = _IOW(0x8b, 4);
export const KVM_GET_MP_STATE = _IOR(0x98, 4);
export const KVM_SET_MP_STATE = _IOW(0x99, 4);
export const KVM_GET_ONE_REG = _IOW(0xab, 16);
export const KVM_SET_ONE_REG = _IOW(0xac, 16);
export const KVM_GET_REG_LIST = _IOWR(0xb0, 8);

/** Capabilities (§1.4). */
export const KVM_CAP_IRQCHIP = 0;
export const KVM_CAP_USER_MEMORY = 3;
export const KVM_CAP_MP_STATE = 14;
export const KVM_CAP_COALESCED_MMIO = 15;
export const KVM_CAP_SYNC_MMU = 16;
export const KVM_CAP_DESTROY_MEMORY_REGION_WORKS = 21;
export const KVM_CAP_NR_VCPUS = 9;
export const KVM_CAP_NR_MEMSLOTS = 10;
export const KVM_CAP_IOEVENTFD = 36;
export const KVM_CAP_MAX_VCPUS = 66;
export const KVM_CAP_ONE_REG = 70;
export const KVM_CAP_READONLY_MEM = 81;
export const KVM_CAP_DEVICE_CTRL = 89;
export const KVM_CAP_IMMEDIATE_EXIT = 136;
export const KVM_CAP_SYSTEM_EVENT_DATA = 215;

/** Memory-region flags (§1.2). */
export const KVM_MEM_LOG_DIRTY_PAGES = 1 << 0;
export const KVM_MEM_READONLY = 1 << 1;

/** Exit reasons (§2.2). */
export const KVM_EXIT_UNKNOWN = 0;
export const KVM_EXIT_DEBUG = 4;
export const KVM_EXIT_MMIO = 6;
export const KVM_EXIT_FAIL_ENTRY = 9;
export const KVM_EXIT_INTR = 10;
export const KVM_EXIT_INTERNAL_ERROR = 17;
export const KVM_EXIT_SYSTEM_EVENT = 24;
export const KVM_EXIT_RISCV_SBI = 35;
export const KVM_EXIT_RISCV_CSR = 36;

/** System-event types (§2.4). */
export const KVM_SYSTEM_EVENT_SHUTDOWN = 1;
export const KVM_SYSTEM_EVENT_RESET = 2;
export const KVM_SYSTEM_EVENT_CRASH = 3;
export const KVM_SYSTEM_EVENT_WAKEUP = 4;
export const KVM_SYSTEM_EVENT_SUSPEND = 5;

/** MP states valid on riscv (§1.7). */
export const KVM_MP_STATE_RUNNABLE = 0;
export const KVM_MP_STATE_STOPPED = 5;

/** KVM_INTERRUPT argument (§1.5). */
export const KVM_INTERRUPT_SET = 0xffffffff;
export const KVM_INTERRUPT_UNSET = 0xfffffffe;

/** In-kernel AIA device (§1.8). */
export const KVM_DEV_TYPE_RISCV_AIA = 11;

/** struct kvm_run layout on riscv64 (§2.1, §2.3): byte offsets. */
export const KVM_RUN_SIZE = 2352;
export const KVM_RUN_OFF = {
  request_interrupt_window: 0,
  immediate_exit: 1,
  exit_reason: 8,
  exit_union: 32,
  mmio_phys_addr: 32,
  mmio_data: 40,
  mmio_len: 48,
  mmio_is_write: 52,
  system_event_type: 32,
  system_event_ndata: 36,
  system_event_data: 40,
  riscv_sbi_extension_id: 32,
  riscv_sbi_function_id: 40,
  riscv_sbi_args: 48,
  riscv_sbi_ret: 96,
  riscv_csr_csr_num: 32,
  riscv_csr_new_value: 40,
  riscv_csr_write_mask: 48,
  riscv_csr_ret_value: 56,
  fail_entry_reason: 32,
  fail_entry_cpu: 40,
  internal_suberror: 32,
  internal_ndata: 36,
  internal_data: 40,
  hw_exit_reason: 32,
} as const;

/** Dirty-log granularity: one bit per 4 KiB page. */
export const KVM_DIRTY_LOG_PAGE_SIZE = 4096;

/** Sentinel errno names the native side reports (errno.h, Linux generic). */
export const ERRNO = {
  EPERM: 1,
  ENOENT: 2,
  EINTR: 4,
  EIO: 5,
  ENXIO: 6,
  E2BIG: 7,
  EBADF: 9,
  EAGAIN: 11,
  ENOMEM: 12,
  EACCES: 13,
  EFAULT: 14,
  EBUSY: 16,
  EEXIST: 17,
  ENODEV: 19,
  EINVAL: 22,
  ENOSPC: 28,
  EOPNOTSUPP: 95,
} as const;
