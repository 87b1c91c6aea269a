/**
 * struct kvm_run → VcpuExit, decoded once at the boundary (style.md §"Examples to follow" 1), and
 * the completions user space writes back before the next KVM_RUN (api.rst §5 "The kvm_run
 * structure"; kvm-riscv-abi.md §2.3, §2.5). Offsets come from lib/abi/kvm.ts KVM_RUN_OFF, which the
 * addon static_asserts against the real header.
 *
 * Every value read here was written by the kernel, but several carry guest-chosen values (SBI
 * arguments, MMIO addresses), so counts and lengths are clamped to what the struct can hold and an
 * impossible combination becomes `unsupported` rather than an exception.
 */
import {
  KVM_EXIT_DEBUG,
  KVM_EXIT_FAIL_ENTRY,
  KVM_EXIT_INTERNAL_ERROR,
  KVM_EXIT_INTR,
  KVM_EXIT_MMIO,
  KVM_EXIT_RISCV_CSR,
  KVM_EXIT_RISCV_SBI,
  KVM_EXIT_SYSTEM_EVENT,
  KVM_RUN_OFF as OFF,
  KVM_SYSTEM_EVENT_CRASH,
  KVM_SYSTEM_EVENT_RESET,
  KVM_SYSTEM_EVENT_SHUTDOWN,
  KVM_SYSTEM_EVENT_SUSPEND,
  KVM_SYSTEM_EVENT_WAKEUP,
} from '../../abi/kvm.js';
import type { SystemEventType, VcpuExit } from '../types.js';

/** system_event.data and internal.data are __u64 data[16] (linux/kvm.h). */
const MAX_EVENT_DATA = 16;

const SYSTEM_EVENT_NAMES: Readonly<Record<number, SystemEventType>> = {
  [KVM_SYSTEM_EVENT_SHUTDOWN]: 'shutdown',
  [KVM_SYSTEM_EVENT_RESET]: 'reset',
  [KVM_SYSTEM_EVENT_CRASH]: 'crash',
  [KVM_SYSTEM_EVENT_WAKEUP]: 'wakeup',
  [KVM_SYSTEM_EVENT_SUSPEND]: 'suspend',
};

export function systemEventName(type: number): SystemEventType {
  return SYSTEM_EVENT_NAMES[type] ?? 'unknown';
}

function u64s(view: DataView, offset: number, count: number): bigint[] {
  const out: bigint[] = [];
  for (let i = 0; i < count; i++) out.push(view.getBigUint64(offset + 8 * i, true));
  return out;
}

/** A u64 field as a number without a BigInt: exact below 2^53 (two u32 halves, little-endian). */
function u64Number(view: DataView, offset: number): number {
  return view.getUint32(offset + 4, true) * 0x1_0000_0000 + view.getUint32(offset, true);
}

/** Decodes the exit KVM_RUN left in kvm_run (call only after KVM_RUN returned 0). */
export function decodeExit(view: DataView): VcpuExit {
  const reason = view.getUint32(OFF.exit_reason, true);
  switch (reason) {
    case KVM_EXIT_MMIO: {
      const length = view.getUint32(OFF.mmio_len, true);
      if (length !== 1 && length !== 2 && length !== 4 && length !== 8) return { reason: 'unsupported', exitReason: reason };
      const isWrite = view.getUint8(OFF.mmio_is_write) !== 0;
      const data = new Uint8Array(length);
      if (isWrite) data.set(new Uint8Array(view.buffer, view.byteOffset + OFF.mmio_data, length));
      return { reason: 'mmio', address: view.getBigUint64(OFF.mmio_phys_addr, true), length, isWrite, data };
    }
    case KVM_EXIT_RISCV_SBI: {
      // The most frequent exit to user space; read field by field, no intermediate arrays.
      const a = OFF.riscv_sbi_args;
      return {
        reason: 'sbi',
        // a7 is an unsigned long; KVM forwards only ids below 2^32 (legacy, experimental, vendor,
        // DBCN), but keep the number exact in any case for ids below 2^53.
        extensionId: u64Number(view, OFF.riscv_sbi_extension_id),
        functionId: view.getBigUint64(OFF.riscv_sbi_function_id, true),
        args: [
          view.getBigUint64(a, true),
          view.getBigUint64(a + 8, true),
          view.getBigUint64(a + 16, true),
          view.getBigUint64(a + 24, true),
          view.getBigUint64(a + 32, true),
          view.getBigUint64(a + 40, true),
        ],
        ret: [view.getBigUint64(OFF.riscv_sbi_ret, true), view.getBigUint64(OFF.riscv_sbi_ret + 8, true)],
      };
    }
    case KVM_EXIT_SYSTEM_EVENT: {
      const typeCode = view.getUint32(OFF.system_event_type, true);
      const ndata = Math.min(view.getUint32(OFF.system_event_ndata, true), MAX_EVENT_DATA);
      return { reason: 'system_event', type: systemEventName(typeCode), typeCode, data: u64s(view, OFF.system_event_data, ndata) };
    }
    case KVM_EXIT_RISCV_CSR:
      return {
        reason: 'csr',
        csrNum: Number(view.getBigUint64(OFF.riscv_csr_csr_num, true) & 0xfffn),
        newValue: view.getBigUint64(OFF.riscv_csr_new_value, true),
        writeMask: view.getBigUint64(OFF.riscv_csr_write_mask, true),
      };
    case KVM_EXIT_INTR:
      return { reason: 'interrupted' };
    case KVM_EXIT_INTERNAL_ERROR: {
      const ndata = Math.min(view.getUint32(OFF.internal_ndata, true), MAX_EVENT_DATA);
      return {
        reason: 'internal_error',
        suberror: view.getUint32(OFF.internal_suberror, true),
        data: u64s(view, OFF.internal_data, ndata),
      };
    }
    case KVM_EXIT_FAIL_ENTRY:
      return {
        reason: 'fail_entry',
        hardwareEntryFailureReason: view.getBigUint64(OFF.fail_entry_reason, true),
        cpu: view.getUint32(OFF.fail_entry_cpu, true),
      };
    case KVM_EXIT_DEBUG:
      return { reason: 'debug' };
    default:
      return { reason: 'unsupported', exitReason: reason };
  }
}

/** riscv_sbi.ret[0..1] → a0/a1 on the next KVM_RUN. */
export function writeSbiReturn(view: DataView, error: bigint, value: bigint): void {
  // setBigUint64 stores the value modulo 2^64 itself (ECMA-262 SetValueInBuffer → ToBigUint64),
  // so no BigInt.asUintN (an allocation per call) is needed.
  view.setBigUint64(OFF.riscv_sbi_ret, error, true);
  view.setBigUint64(OFF.riscv_sbi_ret + 8, value, true);
}

/** mmio.data[0..length): the loaded value, little-endian; KVM sign- or zero-extends it into rd as
 * the load instruction says (kvm-riscv-abi.md §2.5), so only the low `length` bytes matter. */
export function writeMmioLoad(view: DataView, length: 1 | 2 | 4 | 8, value: bigint): void {
  let v = BigInt.asUintN(64, value);
  for (let i = 0; i < 8; i++) {
    view.setUint8(OFF.mmio_data + i, i < length ? Number(v & 0xffn) : 0);
    v >>= 8n;
  }
}

/** riscv_csr.ret_value: the CSR's old value, written to rd on the next KVM_RUN. */
export function writeCsrReturn(view: DataView, value: bigint): void {
  view.setBigUint64(OFF.riscv_csr_ret_value, BigInt.asUintN(64, value), true);
}
