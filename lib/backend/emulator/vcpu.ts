/**
 * The public vCPU of the software KVM (lib/backend/types.ts Vcpu), a small state machine:
 *   idle --run()--> running --exit/stop()/error--> idle; any --close()--> closed.
 * run() applies the last exit's completion first, then honours a pending stop() (KVM's order:
 * kvm_riscv_vcpu_*_return before the immediate_exit check, kvm-riscv-abi.md §1.6), then waits for
 * the VM's scheduler (scheduler.ts) to produce the next exit.
 *
 * runSync() runs the same loop on the calling thread for this vCPU alone. Its limits with several
 * vCPUs: the other vCPUs do not advance while it runs, so a wait only they could end (an IPI, an HSM
 * start) cannot end; runSync() then returns { reason: 'interrupted' } instead of blocking forever,
 * as it does for a STOPPED vCPU. A guest that never exits keeps runSync() (and the thread) busy.
 *
 * User-space writes to guest RAM are not snooped for decoded code (like hardware, code changed under
 * a running guest needs the guest's fence.i); decoded code is dropped when pc is set through
 * ONE_REG, when the vCPU is made runnable and when the RAM map changes.
 */
import type { MpState, Vcpu, VcpuExit, VcpuState } from '../types.js';
import { KvmStateError } from '../../errors.js';
import { sbiU64 } from '../../abi/sbi.js';
import { IRQ_S_EXT } from './cpu/contract.js';
import type { KernelVcpu } from './kernel-vcpu.js';
import { checkRegId, checkRegValue, getOneReg, regList, setOneReg } from './one-reg.js';
import { MAX_TIME_SKIP_TICKS } from './clock.js';
import { SOLO_QUANTUM, type Runner } from './scheduler.js';
import { canExecute, runSlice } from './run-slice.js';
import type { EmulatorVm } from './vm.js';

const INTERRUPTED: VcpuExit = Object.freeze({ reason: 'interrupted' });

/** A number or bigint argument that must fit 64 bits (signed or unsigned), as a u64. */
function u64Arg(value: unknown, name: string): bigint {
  let v: bigint;
  if (typeof value === 'bigint') v = value;
  else if (typeof value === 'number' && Number.isSafeInteger(value)) v = BigInt(value);
  else if (typeof value === 'number') throw new RangeError(`${name} must be an integer, got ${value}`);
  else throw new TypeError(`${name} must be a number or bigint, got ${typeof value}`);
  if (v < -(1n << 63n) || v >= 1n << 64n) throw new RangeError(`${name} ${v} does not fit 64 bits`);
  return BigInt.asUintN(64, v);
}

export class EmulatorVcpu implements Vcpu, Runner {
  readonly id: number;
  readonly kernel: KernelVcpu;
  #vm: EmulatorVm;
  #closed = false;
  #pending: { resolve: (e: VcpuExit) => void; reject: (e: Error) => void } | null = null;
  /** stop() with no run pending: the next run returns 'interrupted' (immediate_exit). */
  #immediateExit = false;

  constructor(vm: EmulatorVm, kernel: KernelVcpu) {
    this.#vm = vm;
    this.kernel = kernel;
    this.id = kernel.id;
  }

  get state(): VcpuState {
    if (this.closed) return 'closed';
    return this.#pending ? 'running' : 'idle';
  }

  get closed(): boolean {
    return this.#closed || this.#vm.closed;
  }

  get runPending(): boolean {
    return this.#pending !== null;
  }

  #checkOpen(what: string): void {
    if (this.closed) throw new KvmStateError('ERR_KVM_CLOSED', `${what}: vcpu ${this.id} is closed`);
  }

  #checkIdle(what: string): void {
    this.#checkOpen(what);
    if (this.#pending) throw new KvmStateError('ERR_KVM_BUSY', `${what}: vcpu ${this.id} is running`);
  }

  getReg(id: bigint): bigint {
    this.#checkIdle('getReg');
    return getOneReg({ vcpu: this.kernel, clock: this.#vm.clock }, checkRegId(id));
  }

  setReg(id: bigint, value: bigint): void {
    this.#checkIdle('setReg');
    const rid = checkRegId(id);
    setOneReg({ vcpu: this.kernel, clock: this.#vm.clock }, rid, checkRegValue(rid, value));
    this.#vm.scheduler.kick();
  }

  getRegList(): bigint[] {
    this.#checkIdle('getRegList');
    return regList(this.kernel);
  }

  /** The part of KVM_RUN before entering the guest; returns an exit if it ends the call at once. */
  #enter(): VcpuExit | null {
    this.kernel.ranOnce = true;
    this.kernel.applyCompletion();
    if (this.#immediateExit) {
      this.#immediateExit = false;
      return INTERRUPTED;
    }
    return null;
  }

  run(): Promise<VcpuExit> {
    try {
      this.#checkIdle('run');
    } catch (e) {
      return Promise.reject(e);
    }
    const early = this.#enter();
    if (early) return Promise.resolve(early);
    return new Promise<VcpuExit>((resolve, reject) => {
      this.#pending = { resolve, reject };
      this.#vm.scheduler.kick();
    });
  }

  runSync(): VcpuExit {
    this.#checkIdle('runSync');
    const early = this.#enter();
    if (early) return early;
    const vm = this.#vm;
    for (;;) {
      if (!canExecute(this.kernel)) {
        // Nothing on this thread can wake it except its own timer.
        const deadline = this.kernel.mpState === 'runnable' ? this.kernel.timer.deadline() : null;
        if (deadline === null) return INTERRUPTED;
        if (vm.clock.mode === 'deterministic') {
          if (deadline - vm.clock.now() > MAX_TIME_SKIP_TICKS) return INTERRUPTED;
          vm.clock.skipTo(deadline);
        } else {
          Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, Math.min(vm.clock.msUntil(deadline), 2 ** 31 - 1));
        }
        continue;
      }
      // Only this vCPU advances here, so it gets whole solo slices.
      const r = runSlice(vm, this.kernel, SOLO_QUANTUM);
      if (r.kind === 'exit') return r.exit;
      if (r.kind === 'error') throw r.error;
    }
  }

  /** Harmless on a closed vCPU (as in the KVM backend). */
  stop(): void {
    if (this.closed) return;
    if (this.#pending) {
      this.deliver(INTERRUPTED);
      this.#vm.scheduler.kick(); // lets the scheduler drop its keep-alive if no run() is left
    } else this.#immediateExit = true;
  }

  /** Scheduler: the pending run() ends with `exit`. */
  deliver(exit: VcpuExit): void {
    const p = this.#pending;
    this.#pending = null;
    p?.resolve(exit);
  }

  /** Scheduler: the pending run() fails (KVM_RUN returned an error, or the emulator broke). */
  fail(error: Error): void {
    const p = this.#pending;
    this.#pending = null;
    p?.reject(error);
  }

  setSbiReturn(error: number | bigint, value: number | bigint = 0n): void {
    const e = sbiU64(u64Arg(error, 'error'));
    const v = u64Arg(value, 'value');
    this.#checkIdle('setSbiReturn');
    const c = this.kernel.completion;
    if (c?.kind !== 'sbi') throw new KvmStateError('ERR_KVM_NO_PENDING_EXIT', `setSbiReturn: vcpu ${this.id} has no SBI exit to complete`);
    c.ret = [e, v];
  }

  setMmioLoad(value: number | bigint): void {
    const v = u64Arg(value, 'value');
    this.#checkIdle('setMmioLoad');
    const c = this.kernel.completion;
    if (c?.kind !== 'mmio-load') throw new KvmStateError('ERR_KVM_NO_PENDING_EXIT', `setMmioLoad: vcpu ${this.id} has no MMIO load to complete`);
    c.value = BigInt.asUintN(this.kernel.hart.mmio.length * 8, v);
  }

  setCsrReturn(value: number | bigint): void {
    const v = u64Arg(value, 'value');
    this.#checkIdle('setCsrReturn');
    const c = this.kernel.completion;
    if (c?.kind !== 'csr') throw new KvmStateError('ERR_KVM_NO_PENDING_EXIT', `setCsrReturn: vcpu ${this.id} has no CSR exit to complete`);
    c.value = v;
  }

  /** KVM_INTERRUPT: legal while the vCPU runs (an async ioctl, kvm-riscv-abi.md §1.5). */
  setExternalInterrupt(level: boolean): void {
    if (typeof level !== 'boolean') throw new TypeError(`level must be a boolean, got ${typeof level}`);
    this.#checkOpen('setExternalInterrupt');
    this.kernel.hart.setPending(IRQ_S_EXT, level);
    this.#vm.scheduler.kick();
  }

  /** KVM_GET_MP_STATE / KVM_SET_MP_STATE take the vCPU mutex: ERR_KVM_BUSY while running, as in
   * the KVM backend. */
  getMpState(): MpState {
    this.#checkIdle('getMpState');
    return this.kernel.mpState;
  }

  setMpState(state: MpState): void {
    if (state !== 'runnable' && state !== 'stopped') {
      throw new RangeError(`state must be 'runnable' or 'stopped', got ${String(state)}`);
    }
    this.#checkIdle('setMpState');
    // KVM_SET_MP_STATE RUNNABLE powers the vCPU on without resetting its registers (§1.7).
    if (state === 'runnable' && this.kernel.mpState !== 'runnable') this.kernel.hart.flushCode();
    this.kernel.mpState = state;
    this.#vm.scheduler.kick();
  }

  close(): void {
    if (this.#closed) return;
    if (this.#pending) this.deliver(INTERRUPTED);
    this.#closed = true;
    this.#vm.scheduler.kick();
  }
}
