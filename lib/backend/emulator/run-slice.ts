/**
 * One slice of KVM_RUN's inner loop for one vCPU (arch/riscv/kvm/vcpu.c kvm_arch_vcpu_ioctl_run and
 * vcpu_exit.c): enter the guest, and handle in the "kernel" whatever the hart stops for — SBI calls
 * (sbi/dispatch.ts), wfi (block until an interrupt is pending in sip & sie, priv spec §3.3.3),
 * the timer — until something must go to user space or the slice's instruction budget is spent.
 *   - StopReason.Mmio → KVM_EXIT_MMIO (the completion writes rd and advances pc at the next run);
 *   - StopReason.CsrExit → KVM_EXIT_RISCV_CSR;
 *   - StopReason.FetchFault → KVM_RUN fails with EOPNOTSUPP; MisalignedMmio → EIO (§1.6).
 */
import type { VcpuExit } from '../types.js';
import { kvmErrno, type KvmError } from '../../errors.js';
import { ERRNO } from '../../abi/kvm.js';
import { StopReason } from './cpu/contract.js';
import type { KernelVcpu } from './kernel-vcpu.js';
import type { SbiDispatcher } from './sbi/dispatch.js';
import type { SbiMachine } from './sbi/types.js';

export type SliceResult =
  | { kind: 'exit'; exit: VcpuExit }
  | { kind: 'error'; error: KvmError }
  /** The budget is spent; the vCPU can go on. */
  | { kind: 'yield' }
  /** STOPPED, or waiting in wfi with nothing pending. */
  | { kind: 'blocked' };

export interface SliceMachine extends SbiMachine {
  readonly sbi: SbiDispatcher;
}

/** What remains of a slice after an in-kernel SBI call (scheduler.ts QUANTUM). */
const SHRINK_AFTER_SBI = 2_000;

const YIELD: SliceResult = { kind: 'yield' };
const BLOCKED: SliceResult = { kind: 'blocked' };

/** True when the vCPU could execute now (after firing a due timer). */
export function canExecute(v: KernelVcpu): boolean {
  if (v.mpState !== 'runnable') return false;
  v.timer.poll();
  return !v.inWfi || v.hart.interruptPending();
}

export function runSlice(m: SliceMachine, v: KernelVcpu, budget: number): SliceResult {
  const hart = v.hart;
  const clock = m.clock;
  let left = budget;
  while (left > 0) {
    if (!canExecute(v)) return BLOCKED;
    v.inWfi = false;
    let slice = left;
    if (clock.mode === 'deterministic') {
      // End the slice exactly at the timer deadline so the interrupt lands on the same
      // instruction every run.
      const deadline = v.timer.deadline();
      if (deadline !== null) slice = clock.insnsUntil(deadline, left);
    }
    clock.beginSlice(hart);
    const reason = hart.run(slice);
    const retired = clock.endSlice();
    // A budget stop spent the whole slice even when nothing retired: a guest whose trap handler
    // itself traps (stvec on an illegal instruction or an unmapped page) retires nothing, and
    // charging only retired instructions would keep the JS thread here for hours (fuzz finding 1).
    left -= reason === StopReason.Budget ? slice : Math.max(retired, 1);
    switch (reason) {
      case StopReason.Budget:
      case StopReason.Requested:
        break;
      case StopReason.Wfi:
        if (!hart.interruptPending()) v.inWfi = true;
        break;
      case StopReason.EcallS: {
        const exit = m.sbi.handleEcall(v, m);
        if (exit) return { kind: 'exit', exit };
        // The call may have started or woken another vCPU (HSM, IPI, rfence): give it a turn soon
        // even in a long single-vCPU slice (scheduler.ts SOLO_QUANTUM).
        if (left > SHRINK_AFTER_SBI) left = SHRINK_AFTER_SBI;
        break;
      }
      case StopReason.Mmio: {
        const a = hart.mmio;
        const data = new Uint8Array(a.length);
        if (a.isWrite) {
          for (let i = 0; i < a.length; i++) data[i] = Number((a.data >> BigInt(8 * i)) & 0xffn);
          v.completion = { kind: 'mmio-store' };
        } else {
          v.completion = { kind: 'mmio-load', value: 0n };
        }
        return { kind: 'exit', exit: { reason: 'mmio', address: a.address, length: a.length, isWrite: a.isWrite, data } };
      }
      case StopReason.CsrExit: {
        const c = hart.csrExit;
        v.completion = { kind: 'csr', value: 0n };
        return { kind: 'exit', exit: { reason: 'csr', csrNum: c.csrNum, newValue: c.newValue, writeMask: c.writeMask } };
      }
      case StopReason.FetchFault:
        return { kind: 'error', error: kvmErrno(ERRNO.EOPNOTSUPP, 'KVM_RUN', `vcpu ${v.id}: instruction fetch from 0x${hart.pc.toString(16)} outside guest RAM`) };
      case StopReason.MisalignedMmio:
        return { kind: 'error', error: kvmErrno(ERRNO.EIO, 'KVM_RUN', `vcpu ${v.id}: misaligned MMIO access at 0x${hart.mmio.address.toString(16)}`) };
    }
  }
  return YIELD;
}
