/**
 * The KVM vCPU: an explicit state machine (idle → running → idle, any → closed) over a native
 * vCPU handle. run() asks the addon's vCPU thread for one KVM_RUN and decodes the exit from the
 * shared kvm_run page; completions of the previous exit are written into that page before the next
 * run, where the kernel picks them up (api.rst §4.10; kvm-riscv-abi.md §1.6).
 */
import { ERRNO, KVM_INTERRUPT_SET, KVM_INTERRUPT_UNSET, KVM_MP_STATE_RUNNABLE, KVM_MP_STATE_STOPPED } from '../../abi/kvm.js';
import { regName, regSizeBytes } from '../../abi/regs.js';
import { KvmStateError, kvmErrno } from '../../errors.js';
import type { MpState, Vcpu, VcpuExit, VcpuState } from '../types.js';
import { decodeExit, writeCsrReturn, writeMmioLoad, writeSbiReturn } from './exit-decoder.js';
import type { NativeVcpu } from './native.js';
import { fromNativeError, nativeCall } from './native-errors.js';

const U64_MAX = (1n << 64n) - 1n;
/** native/objects.h kDefaultRunPollNs, in µs. */
const DEFAULT_RUN_POLL_MICROS = 0;

export function checkRegId(id: bigint): void {
  if (typeof id !== 'bigint') throw new TypeError(`register id must be a bigint, got ${typeof id}`);
  if (id < 0n || id > U64_MAX) throw new RangeError(`register id ${id} is not a u64`);
}

/** 2^bits for the register widths (regSizeBytes * 8), computed once: toWord runs on every exit's
 * completion, and each BigInt shift would allocate (bench/p1). */
const POW2: Readonly<Record<number, bigint>> = { 8: 1n << 8n, 16: 1n << 16n, 32: 1n << 32n, 64: 1n << 64n, 128: 1n << 128n };

/** number | bigint → bigint, accepting signed values that fit `bits` (two's complement). */
export function toWord(value: number | bigint, bits: number, name: string): bigint {
  // Fast paths for the common completions: a non-negative bigint or small integer in range.
  const limit = POW2[bits];
  if (limit !== undefined) {
    if (typeof value === 'bigint' && value >= 0n && value < limit) return value;
    if (typeof value === 'number' && value >= 0 && value <= 0xffffffff && bits >= 32 && Number.isInteger(value)) return BigInt(value);
  }
  let v: bigint;
  if (typeof value === 'bigint') v = value;
  else if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new RangeError(`${name} must be an integer, got ${value}`);
    v = BigInt(value);
  } else throw new TypeError(`${name} must be a number or bigint, got ${typeof value}`);
  const max = 1n << BigInt(bits);
  if (v < -(max >> 1n) || v >= max) throw new RangeError(`${name} ${v} does not fit ${bits} bits`);
  return BigInt.asUintN(bits, v);
}

export class KvmVcpu implements Vcpu {
  readonly id: number;
  #native: NativeVcpu;
  #run: DataView;
  #state: VcpuState = 'idle';
  /** The exit whose completion may still be written (cleared when the next KVM_RUN starts). */
  #lastExit: VcpuExit | null = null;
  #onClose: (vcpu: KvmVcpu) => void;
  #runPollMicros = DEFAULT_RUN_POLL_MICROS;

  constructor(native: NativeVcpu, id: number, onClose: (vcpu: KvmVcpu) => void = () => {}) {
    this.#native = native;
    this.id = id;
    this.#run = new DataView(native.runBuffer());
    this.#onClose = onClose;
  }

  /**
   * KVM-only: a number that stops this vCPU from any thread through stopVcpuByToken() (index.ts).
   * A worker blocked in runSync() cannot run its own stop(); it posts this token to a thread that
   * can.
   */
  get stopToken(): number {
    return this.#native.stopToken;
  }

  /**
   * KVM-only: how long run() may wait on the calling thread for a quick exit before it hands the
   * result to the event loop (µs, 0 to 1e6; default 0, never). A waited-for exit skips the
   * thread-to-event-loop wake-up, which dominates run()'s cost per exit (bench/p1: with a poll
   * longer than the exit latency, run() costs about what runSync() does); the price is that the
   * event loop may stall for up to this long per run().
   */
  get runPollMicros(): number {
    return this.#runPollMicros;
  }

  set runPollMicros(micros: number) {
    if (typeof micros !== 'number') throw new TypeError(`runPollMicros must be a number of microseconds, got ${typeof micros}`);
    if (!Number.isInteger(micros) || micros < 0 || micros > 1_000_000) {
      throw new RangeError(`runPollMicros must be an integer from 0 to 1000000, got ${micros}`);
    }
    if (this.#state === 'closed') throw new KvmStateError('ERR_KVM_CLOSED', `runPollMicros: vCPU ${this.id} is closed`);
    this.#native.setRunPoll(micros);
    this.#runPollMicros = micros;
  }

  get state(): VcpuState {
    return this.#state;
  }

  #checkIdle(what: string): void {
    if (this.#state === 'closed') throw new KvmStateError('ERR_KVM_CLOSED', `${what}: vCPU ${this.id} is closed`);
    if (this.#state === 'running') throw new KvmStateError('ERR_KVM_BUSY', `${what}: vCPU ${this.id} is running`);
  }

  getReg(id: bigint): bigint {
    checkRegId(id);
    this.#checkIdle('getReg');
    const bytes = new Uint8Array(regSizeBytes(id));
    nativeCall(() => this.#native.getOneReg(id, bytes), regName(id));
    let v = 0n;
    for (let i = bytes.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[i]!);
    return v;
  }

  setReg(id: bigint, value: bigint): void {
    checkRegId(id);
    if (typeof value !== 'bigint') throw new TypeError(`value for ${regName(id)} must be a bigint, got ${typeof value}`);
    const size = regSizeBytes(id);
    const v = toWord(value, size * 8, `value for ${regName(id)}`);
    this.#checkIdle('setReg');
    const bytes = new Uint8Array(size);
    let rest = v;
    for (let i = 0; i < size; i++) {
      bytes[i] = Number(rest & 0xffn);
      rest >>= 8n;
    }
    nativeCall(() => this.#native.setOneReg(id, bytes), regName(id));
  }

  getRegList(): bigint[] {
    this.#checkIdle('getRegList');
    return nativeCall(() => this.#native.getRegList());
  }

  #beginRun(what: string): void {
    this.#checkIdle(what);
    this.#state = 'running';
    // KVM consumes the completion on entry (kvm-riscv-abi.md §1.6); afterwards it is gone.
    this.#lastExit = null;
  }

  #finishRun(errno: number): VcpuExit {
    if (this.#state === 'running') this.#state = 'idle';
    if (errno === 0) {
      const exit = decodeExit(this.#run);
      this.#lastExit = exit;
      return exit;
    }
    // EINTR: stop() (immediate_exit + signal) or another signal; exit_reason may still hold the
    // previous exit, so it is not decoded.
    if (errno === ERRNO.EINTR) return { reason: 'interrupted' };
    // EFAULT (unhandled guest trap), EOPNOTSUPP (fetch outside RAM / undecodable MMIO), EIO
    // (misaligned MMIO) and anything else: the run failed.
    throw kvmErrno(errno, 'KVM_RUN', `vcpu ${this.id}`);
  }

  run(): Promise<VcpuExit> {
    try {
      this.#beginRun('run');
    } catch (e) {
      return Promise.reject(e);
    }
    let pending: Promise<number>;
    try {
      pending = this.#native.run();
    } catch (e) {
      if (this.#state === 'running') this.#state = 'idle';
      return Promise.reject(fromNativeError(e, `vcpu ${this.id}`));
    }
    return pending.then((errno) => this.#finishRun(errno));
  }

  runSync(): VcpuExit {
    this.#beginRun('runSync');
    let errno: number;
    try {
      errno = this.#native.runSync();
    } catch (e) {
      if (this.#state === 'running') this.#state = 'idle';
      throw fromNativeError(e, `vcpu ${this.id}`);
    }
    return this.#finishRun(errno);
  }

  stop(): void {
    if (this.#state === 'closed') return;
    this.#native.stop();
  }

  #pending<R extends VcpuExit['reason']>(reason: R, what: string): Extract<VcpuExit, { reason: R }> {
    if (this.#state === 'closed') throw new KvmStateError('ERR_KVM_CLOSED', `${what}: vCPU ${this.id} is closed`);
    if (this.#state === 'running') throw new KvmStateError('ERR_KVM_BUSY', `${what}: vCPU ${this.id} is running`);
    const exit = this.#lastExit;
    if (exit === null || exit.reason !== reason) {
      throw new KvmStateError(
        'ERR_KVM_NO_PENDING_EXIT',
        `${what}: the last exit of vCPU ${this.id} was ${exit ? `'${exit.reason}'` : 'none'}, not '${reason}'`,
      );
    }
    return exit as Extract<VcpuExit, { reason: R }>;
  }

  setSbiReturn(error: number | bigint, value: number | bigint = 0): void {
    const e = toWord(error, 64, 'error');
    const v = toWord(value, 64, 'value');
    this.#pending('sbi', 'setSbiReturn');
    writeSbiReturn(this.#run, e, v);
  }

  setMmioLoad(value: number | bigint): void {
    const v = toWord(value, 64, 'value');
    const exit = this.#pending('mmio', 'setMmioLoad');
    if (exit.isWrite) throw new KvmStateError('ERR_KVM_NO_PENDING_EXIT', `setMmioLoad: the last MMIO exit of vCPU ${this.id} was a store`);
    writeMmioLoad(this.#run, exit.length, v);
  }

  setCsrReturn(value: number | bigint): void {
    const v = toWord(value, 64, 'value');
    this.#pending('csr', 'setCsrReturn');
    writeCsrReturn(this.#run, v);
  }

  /** KVM_INTERRUPT is legal while the vCPU runs (an async ioctl, kvm-riscv-abi.md §1.5). */
  setExternalInterrupt(level: boolean): void {
    if (typeof level !== 'boolean') throw new TypeError(`level must be a boolean, got ${typeof level}`);
    if (this.#state === 'closed') throw new KvmStateError('ERR_KVM_CLOSED', `setExternalInterrupt: vCPU ${this.id} is closed`);
    nativeCall(() => this.#native.interrupt(level ? KVM_INTERRUPT_SET : KVM_INTERRUPT_UNSET), level ? 'set' : 'unset');
  }

  getMpState(): MpState {
    this.#checkIdle('getMpState');
    const s = nativeCall(() => this.#native.getMpState());
    return s === KVM_MP_STATE_STOPPED ? 'stopped' : 'runnable';
  }

  setMpState(state: MpState): void {
    if (state !== 'runnable' && state !== 'stopped') throw new RangeError(`state must be 'runnable' or 'stopped', got ${String(state)}`);
    this.#checkIdle('setMpState');
    nativeCall(() => this.#native.setMpState(state === 'stopped' ? KVM_MP_STATE_STOPPED : KVM_MP_STATE_RUNNABLE), state);
  }

  close(): void {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    this.#lastExit = null;
    // Kicks a pending KVM_RUN, joins the thread and closes the fd; a pending run() still resolves.
    this.#native.close();
    this.#onClose(this);
  }
}
