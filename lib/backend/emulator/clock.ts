/**
 * Guest time of one emulated VM: the `time` CSR every hart reads and the base of every SBI timer
 * deadline (SBI spec v2.0 §6; priv spec §3.2.1 "time"). The timebase is fixed at 10 MHz, which is
 * what ONE_REG timer.frequency reports and what the device tree's timebase-frequency must say.
 *
 * Two modes:
 *   - 'deterministic' (default): time is derived from the instructions the VM's harts retired,
 *     INSNS_PER_TICK instructions per tick (so the guest sees a 100 MIPS machine), plus the ticks
 *     skipped while every hart sat in wfi waiting for a timer. No wall clock is read, so the same
 *     guest with the same inputs sees the same time at the same instruction on every run.
 *   - 'realtime': time follows the host's monotonic clock (process.hrtime), like KVM.
 * In both modes a ONE_REG write of timer.time moves the VM-wide offset (KVM's gt->time_delta).
 */
import type { HartApi } from './cpu/contract.js';

/** timer.frequency: the emulator's fixed timebase. */
export const TIMEBASE_HZ = 10_000_000;
/** Deterministic mode: retired instructions per 100 ns tick. */
export const INSNS_PER_TICK = 10;
/** Deterministic mode never jumps further than this many ticks (about 30 guest hours) for a wfi:
 * a deadline beyond it (Linux parks the timer at ~0 - 1 when idle) counts as "no deadline". */
export const MAX_TIME_SKIP_TICKS = 1n << 40n;

export type TimeMode = 'deterministic' | 'realtime';

const NS_PER_TICK = BigInt(1_000_000_000 / TIMEBASE_HZ);
const CSR_INSTRET = 0xc02;

export class GuestClock {
  readonly mode: TimeMode;
  /** Instructions retired by every hart of the VM, committed at the end of each slice. */
  #retired = 0;
  /** Ticks added by wfi skips (deterministic mode). */
  #skipped = 0n;
  /** VM-wide offset set through ONE_REG timer.time. */
  #offset = 0n;
  #origin = process.hrtime.bigint();
  /** The hart inside a slice right now, whose not-yet-committed instructions count too. */
  #running: HartApi | null = null;
  #runningStart = 0;

  constructor(mode: TimeMode) {
    this.mode = mode;
  }

  /** Current guest time in ticks (u64 wrap, like the CSR). */
  now(): bigint {
    return BigInt.asUintN(64, this.#offset + this.#base());
  }

  /** ONE_REG timer.time write: from now on now() continues from `value`. */
  set(value: bigint): void {
    this.#offset = value - this.#base();
  }

  /** Marks the start of a slice on `hart` (its instret is the reference point). */
  beginSlice(hart: HartApi): void {
    this.#running = hart;
    this.#runningStart = hart.instret;
  }

  /** Commits the slice's retired instructions; returns how many there were. */
  endSlice(): number {
    const hart = this.#running;
    this.#running = null;
    if (!hart) return 0;
    const used = Math.max(0, hart.instret - this.#runningStart);
    this.#retired += used;
    return used;
  }

  /** Counts work done outside the hart (an SBI call handled in the "kernel") as one instruction. */
  retireOne(): void {
    this.#retired += 1;
  }

  /** Deterministic mode: jump forward to `ticks` (no-op if that is not in the future). */
  skipTo(ticks: bigint): void {
    if (this.mode !== 'deterministic') return;
    const delta = ticks - this.now();
    if (delta > 0n) this.#skipped += delta;
  }

  /** Realtime mode: milliseconds until `ticks` is reached (0 if already past). */
  msUntil(ticks: bigint): number {
    const delta = ticks - this.now();
    if (delta <= 0n) return 0;
    return Number((delta * NS_PER_TICK) / 1_000_000n) + 1;
  }

  /** Deterministic mode: instructions until `ticks` is reached, capped at `cap` (at least 1). */
  insnsUntil(ticks: bigint, cap: number): number {
    const delta = ticks - this.now();
    if (delta <= 0n) return 1;
    const insns = delta * BigInt(INSNS_PER_TICK);
    return insns >= BigInt(cap) ? cap : Math.max(1, Number(insns));
  }

  /** Instructions the running hart retired so far, including the current slice: Hart.instret is
   * only brought up to date when run() returns, but the instret CSR (Zicntr, unprivileged spec
   * §10.1) counts every retired instruction, so rdtime between two slice ends still moves. */
  #inFlight(hart: HartApi): number {
    try {
      return Number(hart.getCsr(CSR_INSTRET));
    } catch {
      return hart.instret;
    }
  }

  #base(): bigint {
    if (this.mode === 'realtime') return (process.hrtime.bigint() - this.#origin) / NS_PER_TICK;
    let insns = this.#retired;
    if (this.#running) insns += Math.max(0, this.#inFlight(this.#running) - this.#runningStart);
    return this.#skipped + BigInt(Math.floor(insns / INSNS_PER_TICK));
  }
}
