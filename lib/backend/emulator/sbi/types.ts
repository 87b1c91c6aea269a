/**
 * Types shared by the in-kernel SBI extensions of the software KVM (arch/riscv/kvm/vcpu_sbi*.c).
 * A handler gets the calling vCPU and the machine, and answers with what KVM's handler would leave
 * in struct kvm_vcpu_sbi_return (err_val/out_val, uexit, utrap).
 */
import type { KernelVcpu } from '../kernel-vcpu.js';
import type { GuestClock } from '../clock.js';
import type { RamRegion } from '../cpu/contract.js';

/** One ecall: a7 = EID, a6 = FID, a0..a5 = arguments (SBI spec v2.0 §3.1), all as u64. */
export interface SbiCall {
  /** a7 as u64. */
  eid: bigint;
  fid: bigint;
  args: readonly bigint[];
}

export type SbiOutcome =
  /** a0 = error, a1 = value (left alone for a legacy v0.1 call), pc += 4. */
  | { kind: 'return'; error: number; value: bigint }
  /** KVM_EXIT_RISCV_SBI to user space; pc stays on the ecall until the completion. */
  | { kind: 'forward' }
  /** KVM_EXIT_SYSTEM_EVENT (every vCPU already STOPPED); pc stays on the ecall. */
  | { kind: 'system-event'; type: number; reason: bigint }
  /** Redirect a trap into the guest (kvm_riscv_vcpu_trap_redirect); pc is not advanced. */
  | { kind: 'trap'; cause: bigint; tval: bigint };

/** What the SBI layer may use of the VM. */
export interface SbiMachine {
  /** vCPUs in creation order (kvm_for_each_vcpu). */
  readonly kernelVcpus: readonly KernelVcpu[];
  readonly clock: GuestClock;
  /** The emulated host kernel was built with CONFIG_RISCV_SBI_V01. */
  readonly sbiV01: boolean;
  vcpuById(id: bigint): KernelVcpu | undefined;
  /** Something that may end a wait changed for `vcpu` (interrupt, start, stop): reschedule. */
  wake(vcpu: KernelVcpu): void;
  ramRegions(): readonly RamRegion[];
}

export interface SbiExtension {
  readonly name: string;
  /** Index of the SBI_EXT ONE_REG register that enables it, or null for BASE (always on). */
  readonly extIdx: number | null;
  readonly eidStart: bigint;
  readonly eidEnd: bigint;
  /** True for the legacy v0.1 extension: a1 is never written back. */
  readonly legacy?: boolean;
  handle(vcpu: KernelVcpu, call: SbiCall, machine: SbiMachine): SbiOutcome;
  /** The probe_extension answer when enabled (default 1). */
  probe?(vcpu: KernelVcpu, machine: SbiMachine): bigint;
}

export const ok = (value: bigint = 0n): SbiOutcome => ({ kind: 'return', error: 0, value });
export const fail = (error: number): SbiOutcome => ({ kind: 'return', error, value: 0n });
