/**
 * The "kernel" half of one emulated vCPU: what arch/riscv/kvm keeps in struct kvm_vcpu_arch — the
 * hart, its feature set, its timer, its MP state (RUNNABLE/STOPPED, Documentation/virt/kvm/api.rst
 * §4.38), whether it is blocked in wfi, whether it ever ran (ran_atleast_once: ONE_REG changes after
 * that are EBUSY) and the completion of the last exit, applied at the next run exactly once
 * (kvm_riscv_vcpu_{mmio,sbi,csr}_return, kvm-riscv-abi.md §1.6).
 */
import type { MpState } from '../types.js';
import type { HartApi } from './cpu/contract.js';
import type { GuestClock } from './clock.js';
import { VcpuFeatures } from './vcpu-features.js';
import { VcpuTimer } from './timer.js';

/** sstatus bits used by the hypervisor (priv spec §4.1.1). */
export const SSTATUS_SIE = 1n << 1n;
export const SSTATUS_SPIE = 1n << 5n;
export const SSTATUS_SPP = 1n << 8n;
export const SSTATUS_FS = 3n << 13n;
export const SSTATUS_FS_INITIAL = 1n << 13n;

export const CSR_SSTATUS = 0x100;
export const CSR_STVEC = 0x105;
export const CSR_SEPC = 0x141;
export const CSR_SCAUSE = 0x142;
export const CSR_STVAL = 0x143;
export const CSR_SATP = 0x180;

/** What the next run must do before anything else for the exit user space just handled. */
export type Completion =
  | { kind: 'sbi'; ret: [bigint, bigint] }
  | { kind: 'mmio-load'; value: bigint }
  | { kind: 'mmio-store' }
  | { kind: 'csr'; value: bigint };

export class KernelVcpu {
  readonly features = new VcpuFeatures();
  readonly timer: VcpuTimer;
  mpState: MpState;
  /** Blocked in wfi (or a retentive HSM suspend) until an enabled interrupt is pending. */
  inWfi = false;
  ranOnce = false;
  completion: Completion | null = null;

  constructor(
    readonly id: number,
    /** Creation index (kvm_vcpu.vcpu_idx): index 0 starts RUNNABLE, the others STOPPED. */
    readonly index: number,
    readonly hart: HartApi,
    clock: GuestClock,
  ) {
    this.timer = new VcpuTimer(hart, clock);
    this.mpState = index === 0 ? 'runnable' : 'stopped';
    this.hart.reset();
    this.fpReset();
  }

  /** kvm_riscv_vcpu_fp_reset: sstatus.FS = Initial when F or D is enabled, else Off. */
  fpReset(): void {
    const sstatus = this.hart.getCsr(CSR_SSTATUS) & ~SSTATUS_FS;
    const fp = this.features.hasLetter('F') || this.features.hasLetter('D');
    this.hart.setCsr(CSR_SSTATUS, fp ? sstatus | SSTATUS_FS_INITIAL : sstatus);
  }

  /** kvm_riscv_reset_vcpu as an HSM hart_start does it: everything back to reset values, then the
   * start context (SBI spec v2.0 §9.1: pc = start_addr, a0 = hartid, a1 = opaque). */
  resetForStart(startAddr: bigint, opaque: bigint): void {
    this.hart.reset();
    this.fpReset();
    this.timer.reset();
    this.inWfi = false;
    this.completion = null;
    this.hart.pc = startAddr;
    this.hart.setX(10, BigInt(this.id));
    this.hart.setX(11, opaque);
    this.hart.flushCode();
    this.hart.flushTlb();
  }

  /** kvm_riscv_vcpu_trap_redirect: deliver an exception to the guest's own S-mode handler
   * (priv spec §4.1.1: SPP = previous mode, SPIE = SIE, SIE = 0; sepc, scause, stval; pc = stvec
   * base, since exceptions never use vectored mode, §4.1.2). */
  redirectTrap(cause: bigint, tval: bigint): void {
    const hart = this.hart;
    const old = hart.getCsr(CSR_SSTATUS);
    let sstatus = old & ~(SSTATUS_SPP | SSTATUS_SPIE | SSTATUS_SIE);
    if (hart.mode === 1) sstatus |= SSTATUS_SPP;
    if (old & SSTATUS_SIE) sstatus |= SSTATUS_SPIE;
    hart.setCsr(CSR_SCAUSE, cause);
    hart.setCsr(CSR_STVAL, tval);
    hart.setCsr(CSR_SEPC, hart.pc);
    hart.pc = hart.getCsr(CSR_STVEC) & ~3n;
    this.setMode(1, sstatus);
  }

  /** Changes the hart's privilege from outside (ONE_REG core.mode, trap redirect). The hart keeps
   * privilege-derived translation state that it refreshes on an sstatus write, so write sstatus
   * after the mode and drop cached translations. */
  setMode(mode: 0 | 1, sstatus = this.hart.getCsr(CSR_SSTATUS)): void {
    this.hart.mode = mode;
    this.hart.setCsr(CSR_SSTATUS, sstatus);
    this.hart.flushTlb();
  }

  /** Applies the pending completion (once). */
  applyCompletion(): void {
    const c = this.completion;
    if (!c) return;
    this.completion = null;
    switch (c.kind) {
      case 'sbi':
        this.hart.setX(10, c.ret[0]);
        this.hart.setX(11, c.ret[1]);
        this.hart.pc = BigInt.asUintN(64, this.hart.pc + 4n);
        break;
      case 'mmio-load':
        this.hart.completeMmio(c.value);
        break;
      case 'mmio-store':
        this.hart.completeMmio();
        break;
      case 'csr':
        this.hart.completeCsr(c.value);
        break;
    }
  }
}
