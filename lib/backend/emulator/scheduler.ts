/**
 * How the software KVM runs several vCPUs: all of them on the JS thread, one VM-wide scheduler.
 *
 *   - A vCPU takes part only while its run() is pending. The scheduler picks the next such vCPU
 *     round-robin (creation order, a cursor that survives between turns) that can execute —
 *     RUNNABLE and not waiting in wfi — and runs it for one slice of QUANTUM instructions (fewer
 *     when its timer deadline is nearer). STOPPED vCPUs keep their run() pending until HSM
 *     hart_start or setMpState('runnable'); a vCPU waiting in wfi resumes when an interrupt is
 *     pending (its timer, an IPI, setExternalInterrupt).
 *   - The loop gives the event loop back (setImmediate) after every exit it delivers and after
 *     YIELD_MS of host time, so timers, I/O and the exit handlers stay responsive while a guest
 *     spins. stop() resolves a pending run() with 'interrupted' at once.
 *   - When every vCPU with a pending run() waits in wfi: in deterministic time the clock jumps to the
 *     earliest armed timer deadline; in realtime a host timer is set for it. With no deadline, the
 *     vCPUs stay blocked until an interrupt, an HSM start, stop() or close() — as in KVM, and like
 *     KVM (whose vCPU thread holds the event loop while KVM_RUN is pending) the blocked run()s keep
 *     the Node process alive: a script awaiting run() is not ended by an empty event loop.
 *   - Deterministic mode adds a barrier: once a RUNNABLE vCPU has run, no vCPU executes while that
 *     one has no pending run() (its last exit not yet resumed). The guest-visible interleaving then
 *     depends only on the guest and on the inputs, never on when the event loop got to the exit
 *     handlers, so the same guest gives the same exit sequence on every run. A VMM must therefore
 *     keep calling run() on every vCPU it started (as every KVM VMM does); realtime mode has no
 *     barrier.
 * The host clock only decides *when* the event loop gets a turn, never what the guest sees: the
 * order of slices (the cursor) and guest time do not depend on it.
 */
import type { VcpuExit } from '../types.js';
import { MAX_TIME_SKIP_TICKS } from './clock.js';
import type { KernelVcpu } from './kernel-vcpu.js';
import { canExecute, runSlice, type SliceMachine } from './run-slice.js';
import { monotonicMs } from '../../host/monotonic.js';

/** Instructions per slice before the next vCPU gets its turn. */
export const QUANTUM = 2_000;
/** Instructions per slice when the vCPU is the only one that could run: nobody waits for a turn,
 * so the slice only ends for an exit, a timer deadline (run-slice.ts ends slices exactly there),
 * an SBI call that may have woken another vCPU (run-slice.ts shrinks the rest to QUANTUM), or the
 * YIELD_MS check. Per-slice costs (timer poll, clock bookkeeping, picking) then stop mattering. */
export const SOLO_QUANTUM = 200_000;
/** Host milliseconds of guest execution per event-loop turn before yielding to it. */
export const YIELD_MS = 4;

/** setTimeout's longest delay; a later deadline is simply looked at again then. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** What the scheduler needs of a public vCPU. */
export interface Runner {
  readonly kernel: KernelVcpu;
  readonly closed: boolean;
  /** A run() is pending. */
  readonly runPending: boolean;
  deliver(exit: VcpuExit): void;
  fail(error: Error): void;
}

export interface SchedulerHost extends SliceMachine {
  readonly closed: boolean;
  readonly runners: readonly Runner[];
}

export class Scheduler {
  #cursor = 0;
  #scheduled = false;
  #wakeTimer: NodeJS.Timeout | null = null;
  /** A ref'd do-nothing timer held while run()s are pending but nothing can execute and no host
   * timer is armed (see the header); dropped as soon as the loop runs again. */
  #keepAlive: NodeJS.Timeout | null = null;

  constructor(private readonly host: SchedulerHost) {}

  /** Something changed (a run() started, an interrupt, HSM): make sure the loop looks again. */
  kick(): void {
    if (this.#scheduled || this.host.closed) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      this.#loop();
    });
  }

  /** VM close: no more turns. */
  dispose(): void {
    if (this.#wakeTimer) clearTimeout(this.#wakeTimer);
    this.#wakeTimer = null;
    this.#releaseKeepAlive();
  }

  /** Called when the loop finds nothing to execute: hold the process while any run() is pending. */
  #blocked(runners: readonly Runner[]): void {
    const pending = runners.some((r) => !r.closed && r.runPending);
    if (pending && this.#wakeTimer === null && this.#keepAlive === null) {
      this.#keepAlive = setInterval(() => {}, MAX_TIMER_MS);
    } else if (!pending) {
      this.#releaseKeepAlive();
    }
  }

  #releaseKeepAlive(): void {
    if (this.#keepAlive) clearInterval(this.#keepAlive);
    this.#keepAlive = null;
  }

  #barrierHeld(runners: readonly Runner[]): boolean {
    if (this.host.clock.mode !== 'deterministic') return false;
    return runners.some((r) => !r.closed && !r.runPending && r.kernel.ranOnce && r.kernel.mpState === 'runnable');
  }

  /** The budget for `r`'s slice: QUANTUM when another vCPU with a pending run() could execute;
   * else SOLO_QUANTUM, cut (in deterministic time) at the earliest timer deadline of the vCPUs
   * waiting in wfi, so they wake on time. Depends only on vCPU and guest-time state, never on host
   * timing. */
  #quantum(runners: readonly Runner[], r: Runner): number {
    let deadline: bigint | null = null;
    for (let k = 0; k < runners.length; k++) {
      const o = runners[k];
      if (o === r || o.closed || !o.runPending || o.kernel.mpState !== 'runnable') continue;
      if (!o.kernel.inWfi || o.kernel.hart.interruptPending()) return QUANTUM;
      const d = o.kernel.timer.deadline();
      if (d !== null && (deadline === null || d < deadline)) deadline = d;
    }
    if (deadline === null) return SOLO_QUANTUM;
    const clock = this.host.clock;
    if (clock.mode !== 'deterministic') return QUANTUM;
    return Math.max(QUANTUM, clock.insnsUntil(deadline, SOLO_QUANTUM));
  }

  #pick(runners: readonly Runner[]): Runner | null {
    const n = runners.length;
    for (let k = 0; k < n; k++) {
      const r = runners[(this.#cursor + k) % n];
      if (r.closed || !r.runPending) continue;
      if (!canExecute(r.kernel)) continue;
      this.#cursor = (this.#cursor + k + 1) % n;
      return r;
    }
    return null;
  }

  /** Nothing can execute. Returns true if time was advanced and the loop should look again. */
  #idle(runners: readonly Runner[]): boolean {
    let deadline: bigint | null = null;
    for (const r of runners) {
      if (r.closed || !r.runPending || r.kernel.mpState !== 'runnable') continue;
      const d = r.kernel.timer.deadline();
      if (d !== null && (deadline === null || d < deadline)) deadline = d;
    }
    if (deadline === null) return false;
    const clock = this.host.clock;
    if (clock.mode === 'deterministic') {
      if (deadline - clock.now() > MAX_TIME_SKIP_TICKS) return false;
      clock.skipTo(deadline);
      return true;
    }
    if (this.#wakeTimer) clearTimeout(this.#wakeTimer);
    this.#wakeTimer = setTimeout(() => {
      this.#wakeTimer = null;
      this.kick();
    }, Math.min(clock.msUntil(deadline), MAX_TIMER_MS));
    return false;
  }

  #loop(): void {
    const started = monotonicMs();
    this.#releaseKeepAlive();
    for (;;) {
      if (this.host.closed) return;
      const runners = this.host.runners;
      if (this.#barrierHeld(runners)) { this.#blocked(runners); return; }
      const r = this.#pick(runners);
      if (!r) {
        if (this.#idle(runners)) continue;
        this.#blocked(runners);
        return;
      }
      let result;
      try {
        result = runSlice(this.host, r.kernel, this.#quantum(runners, r));
      } catch (e) {
        // A defect in the emulator must not escape into the event loop (an uncaught exception in a
        // setImmediate callback ends the process): fail this vCPU's run() with it instead.
        r.fail(e instanceof Error ? e : new Error(String(e)));
        this.kick();
        return;
      }
      if (result.kind === 'exit') {
        r.deliver(result.exit);
        this.kick();
        return;
      }
      if (result.kind === 'error') {
        r.fail(result.error);
        this.kick();
        return;
      }
      if (monotonicMs() - started >= YIELD_MS) {
        this.kick();
        return;
      }
    }
  }
}
