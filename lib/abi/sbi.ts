/**
 * SBI ids and error codes (RISC-V SBI specification v2.0; Linux arch/riscv/include/asm/sbi.h),
 * see ../shared/docs/kvm-riscv-abi.md §4.1. Extension ids are the ASCII bytes of their short names.
 */

export const SBI_SPEC_VERSION_2_0 = 0x02000000;
/** sbi_get_impl_id: KVM is implementation id 3 (SBI spec §4.9). */
export const SBI_IMPL_ID_KVM = 3;

// Extension ids
export const SBI_EXT_0_1_SET_TIMER = 0x0;
export const SBI_EXT_0_1_CONSOLE_PUTCHAR = 0x1;
export const SBI_EXT_0_1_CONSOLE_GETCHAR = 0x2;
export const SBI_EXT_0_1_CLEAR_IPI = 0x3;
export const SBI_EXT_0_1_SEND_IPI = 0x4;
export const SBI_EXT_0_1_REMOTE_FENCE_I = 0x5;
export const SBI_EXT_0_1_REMOTE_SFENCE_VMA = 0x6;
export const SBI_EXT_0_1_REMOTE_SFENCE_VMA_ASID = 0x7;
export const SBI_EXT_0_1_SHUTDOWN = 0x8;
export const SBI_EXT_BASE = 0x10;
export const SBI_EXT_TIME = 0x54494d45;
export const SBI_EXT_IPI = 0x735049;
export const SBI_EXT_RFENCE = 0x52464e43;
export const SBI_EXT_HSM = 0x48534d;
export const SBI_EXT_SRST = 0x53525354;
export const SBI_EXT_PMU = 0x504d55;
export const SBI_EXT_DBCN = 0x4442434e;
export const SBI_EXT_STA = 0x535441;
export const SBI_EXT_SUSP = 0x53555350;
export const SBI_EXT_EXPERIMENTAL_START = 0x08000000;
export const SBI_EXT_EXPERIMENTAL_END = 0x08ffffff;
export const SBI_EXT_VENDOR_START = 0x09000000;
export const SBI_EXT_VENDOR_END = 0x09ffffff;
export const SBI_EXT_FIRMWARE_START = 0x0a000000;
export const SBI_EXT_FIRMWARE_END = 0x0affffff;

// BASE function ids (SBI §4)
export const SBI_EXT_BASE_GET_SPEC_VERSION = 0;
export const SBI_EXT_BASE_GET_IMP_ID = 1;
export const SBI_EXT_BASE_GET_IMP_VERSION = 2;
export const SBI_EXT_BASE_PROBE_EXT = 3;
export const SBI_EXT_BASE_GET_MVENDORID = 4;
export const SBI_EXT_BASE_GET_MARCHID = 5;
export const SBI_EXT_BASE_GET_MIMPID = 6;

// TIME (§6), IPI (§7), RFENCE (§8)
export const SBI_EXT_TIME_SET_TIMER = 0;
export const SBI_EXT_IPI_SEND_IPI = 0;
export const SBI_EXT_RFENCE_REMOTE_FENCE_I = 0;
export const SBI_EXT_RFENCE_REMOTE_SFENCE_VMA = 1;
export const SBI_EXT_RFENCE_REMOTE_SFENCE_VMA_ASID = 2;

// HSM (§9)
export const SBI_EXT_HSM_HART_START = 0;
export const SBI_EXT_HSM_HART_STOP = 1;
export const SBI_EXT_HSM_HART_STATUS = 2;
export const SBI_EXT_HSM_HART_SUSPEND = 3;
export const SBI_HSM_STATE_STARTED = 0;
export const SBI_HSM_STATE_STOPPED = 1;
export const SBI_HSM_STATE_START_PENDING = 2;
export const SBI_HSM_STATE_STOP_PENDING = 3;
export const SBI_HSM_STATE_SUSPENDED = 4;
export const SBI_HSM_STATE_SUSPEND_PENDING = 5;
export const SBI_HSM_STATE_RESUME_PENDING = 6;
export const SBI_HSM_SUSPEND_RET_DEFAULT = 0x00000000;
export const SBI_HSM_SUSPEND_NON_RET_DEFAULT = 0x80000000;

// SRST (§10)
export const SBI_EXT_SRST_RESET = 0;
export const SBI_SRST_RESET_TYPE_SHUTDOWN = 0;
export const SBI_SRST_RESET_TYPE_COLD_REBOOT = 1;
export const SBI_SRST_RESET_TYPE_WARM_REBOOT = 2;
export const SBI_SRST_RESET_REASON_NONE = 0;
export const SBI_SRST_RESET_REASON_SYS_FAILURE = 1;

// DBCN (§12)
export const SBI_EXT_DBCN_CONSOLE_WRITE = 0;
export const SBI_EXT_DBCN_CONSOLE_READ = 1;
export const SBI_EXT_DBCN_CONSOLE_WRITE_BYTE = 2;

// SUSP (§13)
export const SBI_EXT_SUSP_SYSTEM_SUSPEND = 0;

/** SBI error codes (SBI §3.2), as signed numbers. In kvm_run they travel as u64 (BigInt). */
export const SBI_SUCCESS = 0;
export const SBI_ERR_FAILED = -1;
export const SBI_ERR_NOT_SUPPORTED = -2;
export const SBI_ERR_INVALID_PARAM = -3;
export const SBI_ERR_DENIED = -4;
export const SBI_ERR_INVALID_ADDRESS = -5;
export const SBI_ERR_ALREADY_AVAILABLE = -6;
export const SBI_ERR_ALREADY_STARTED = -7;
export const SBI_ERR_ALREADY_STOPPED = -8;
export const SBI_ERR_NO_SHMEM = -9;

/** True when `eid` is in the range KVM forwards to user space unconditionally (§4.3). */
export function isForwardedRange(eid: number): boolean {
  return (eid >= SBI_EXT_EXPERIMENTAL_START && eid <= SBI_EXT_EXPERIMENTAL_END) ||
    (eid >= SBI_EXT_VENDOR_START && eid <= SBI_EXT_VENDOR_END);
}

/** Two's-complement u64 form of a signed SBI value, as it appears in kvm_run.riscv_sbi.ret[]. */
export function sbiU64(v: number | bigint): bigint {
  return BigInt.asUintN(64, BigInt(v));
}
