/**
 * The vCPU run loop: run → dispatch (dispatch.ts) → apply the completion → run again, until an exit
 * means "stop". Several vCPUs run concurrently (each backend runs KVM_RUN off the JS thread); the
 * first one to stop for good ends the run, the others are kicked out with stop() and awaited, so
 * nothing is left running when the promise settles.
 *
 * A timeout kicks every vCPU too; the 'interrupted' exits it causes are reported as { kind:
 * 'timeout' }. An abort signal does the same, reported as 'interrupted'.
 */
import type { Vcpu, VcpuExit, Vm } from '../backend/types.js';
import { GuestAddressSpace } from '../sbi/guest-memory.js';
import type { SbiRegistry } from '../sbi/registry.js';
import type { MmioBus } from './bus.js';
import { dispatchExit, newExitCounters, type Completion, type ExitOutcome, type MachineState, type StopReason } from './dispatch.js';

export type RunResult = StopReason | { kind: 'timeout' };

export interface RunOptions {
  /** Wall-clock limit in milliseconds (none when undefined). */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Called after every exit is dispatched (tracing, statistics); must not throw. Costs nothing when
   * absent. */
  onExit?: ExitObserver;
}

/** Sees each exit with the hart it came from and what the dispatcher decided. */
export type ExitObserver = (hartId: number, exit: VcpuExit, outcome: ExitOutcome) => void;

export interface VcpuBinding {
  vcpu: Vcpu;
  state: MachineState;
}

/** Hands the completion to the vCPU; the backend applies it on the next run(), as KVM does. */
export function applyCompletion(vcpu: Vcpu, c: Completion): void {
  switch (c.kind) {
    case 'sbi': vcpu.setSbiReturn(c.error, c.value); break;
    case 'mmio_load': vcpu.setMmioLoad(c.value); break;
    case 'mmio_store': break;
    case 'csr': vcpu.setCsrReturn(c.value); break;
  }
}

/**
 * Longest stretch the loop keeps the JS thread without letting timers and I/O run. A backend whose
 * run() settles through microtasks only would otherwise starve the timeout, the abort signal and
 * stdin for a guest that makes exit after exit.
 */
const MAX_MS_WITHOUT_YIELD = 10;
const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Runs one vCPU until it stops for good. Backend failures become { kind: 'error' }. */
export async function runVcpuUntilStop(vcpu: Vcpu, state: MachineState, shouldStop: () => boolean = () => false, onExit?: ExitObserver): Promise<StopReason> {
  let lastYield = performance.now();
  for (;;) {
    if (performance.now() - lastYield > MAX_MS_WITHOUT_YIELD) {
      await yieldToEventLoop();
      lastYield = performance.now();
    }
    if (shouldStop()) return { kind: 'interrupted' };
    let outcome;
    try {
      const exit = await vcpu.run();
      const o = dispatchExit(exit, state);
      outcome = o instanceof Promise ? await o : o;
      onExit?.(state.hartId, exit, outcome);
      if (outcome.action === 'resume') applyCompletion(vcpu, outcome.completion);
    } catch (e) {
      return { kind: 'error', message: `vCPU ${vcpu.id}: ${e instanceof Error ? e.message : String(e)}` };
    }
    if (outcome.action === 'stop') return outcome.stop;
  }
}

/** Runs every bound vCPU until one stops for good (or the timeout / signal fires). */
export async function runVcpus(bindings: readonly VcpuBinding[], opts: RunOptions = {}): Promise<RunResult> {
  if (bindings.length === 0) throw new RangeError('runVcpus needs at least one vCPU');
  let timedOut = false;
  let finished = false;
  const kickAll = (): void => {
    for (const b of bindings) {
      try { b.vcpu.stop(); } catch { /* already closed */ }
    }
  };
  let timer: NodeJS.Timeout | undefined;
  if (opts.timeoutMs !== undefined) {
    timer = setTimeout(() => { timedOut = true; kickAll(); }, opts.timeoutMs);
  }
  const onAbort = (): void => kickAll();
  if (opts.signal?.aborted) kickAll();
  opts.signal?.addEventListener('abort', onAbort, { once: true });

  const shouldStop = (): boolean => finished || timedOut || (opts.signal?.aborted ?? false);
  let first: StopReason | undefined;
  try {
    await Promise.all(bindings.map(async (b) => {
      const r = await runVcpuUntilStop(b.vcpu, b.state, shouldStop, opts.onExit);
      // The first vCPU to stop for a reason of its own decides the result; the others were kicked.
      if (!finished && !(r.kind === 'interrupted' && (timedOut || opts.signal?.aborted))) {
        first = r;
        finished = true;
        kickAll();
      }
    }));
  } finally {
    if (timer) clearTimeout(timer);
    opts.signal?.removeEventListener('abort', onAbort);
  }
  if (first && first.kind !== 'interrupted') return first;
  if (timedOut) return { kind: 'timeout' };
  return first ?? { kind: 'interrupted' };
}

/**
 * Runs every vCPU of `vm` (vm.vcpus) against one SBI registry and one MMIO bus until one stops for
 * good. Each vCPU gets its own MachineState (its hart id, its own exit counters), returned with the
 * result so callers can report them.
 */
export async function runVm(vm: Vm, machine: { sbi: SbiRegistry; bus: MmioBus }, opts: RunOptions = {}): Promise<{ result: RunResult; states: MachineState[] }> {
  const memory = new GuestAddressSpace(() => vm.memoryRegions());
  const bindings = vm.vcpus.map((vcpu) => ({
    vcpu,
    state: { hartId: vcpu.id, sbi: machine.sbi, sbiContext: { memory }, bus: machine.bus, counters: newExitCounters() },
  }));
  const result = await runVcpus(bindings, opts);
  return { result, states: bindings.map((b) => b.state) };
}
