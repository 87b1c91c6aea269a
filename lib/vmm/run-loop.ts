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
import { checkFunction, checkMethods, checkOptionalSignal, checkOptionsObject, checkTimeoutMs, describeValue, isObject } from '../option-checks.js';
import { dispatchExit, newExitCounters, type Completion, type ExitOutcome, type MachineState, type StopReason } from './dispatch.js';
import { monotonicMs } from '../host/monotonic.js';

export type RunResult = StopReason | { kind: 'timeout' };

export interface RunOptions {
  /** Wall-clock limit in milliseconds (none when undefined): a positive number up to 2^31 - 1, the
   * longest delay setTimeout keeps (it would fire a larger one, or Infinity, after 1 ms). */
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
  switch (c?.kind) {
    case 'sbi': vcpu.setSbiReturn(c.error, c.value); break;
    case 'mmio_load': vcpu.setMmioLoad(c.value); break;
    case 'mmio_store': break;
    case 'csr': vcpu.setCsrReturn(c.value); break;
    // A completion the vCPU would never get is the caller's bug: say so instead of dropping it.
    default: {
      const bad: unknown = c;
      if (!isObject(bad)) throw new TypeError(`applyCompletion: completion must be an object, got ${describeValue(bad)}`);
      throw new RangeError(`applyCompletion: completion kind ${describeValue(bad.kind)} is not sbi, mmio_load, mmio_store or csr`);
    }
  }
}

/** The RunOptions fields, checked before any vCPU runs. */
function checkRunOptions(who: string, options: unknown): void {
  checkOptionsObject(who, options);
  const opts = options as Record<string, unknown>;
  checkTimeoutMs(who, opts.timeoutMs);
  checkOptionalSignal(who, opts.signal);
  checkFunction(who, 'onExit', opts.onExit, true);
}

/** A vCPU as the loop drives it: run(), stop() and the completion setters. */
const VCPU_METHODS = ['run', 'stop', 'setSbiReturn', 'setMmioLoad', 'setCsrReturn'] as const;

/** A MachineState: the dispatcher reads every field at some exit, so a missing one would surface as
 * a TypeError at the guest's first SBI call or MMIO access instead of here. */
function checkMachineState(who: string, name: string, state: unknown): void {
  if (!isObject(state)) throw new TypeError(`${who}: ${name} must be a MachineState object, got ${describeValue(state)}`);
  if (typeof state.hartId !== 'number') throw new TypeError(`${who}: ${name}.hartId must be a number, got ${describeValue(state.hartId)}`);
  checkMethods(who, `${name}.sbi`, state.sbi, ['handle'], false);
  if (!isObject(state.sbiContext)) throw new TypeError(`${who}: ${name}.sbiContext must be an object, got ${describeValue(state.sbiContext)}`);
  checkMethods(who, `${name}.bus`, state.bus, ['read', 'write'], false);
  if (!isObject(state.counters)) throw new TypeError(`${who}: ${name}.counters must be an object (newExitCounters()), got ${describeValue(state.counters)}`);
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
  checkMethods('runVcpuUntilStop', 'vcpu', vcpu, VCPU_METHODS, false);
  checkMachineState('runVcpuUntilStop', 'state', state);
  checkFunction('runVcpuUntilStop', 'shouldStop', shouldStop, false);
  checkFunction('runVcpuUntilStop', 'onExit', onExit, true);
  let lastYield = monotonicMs();
  for (;;) {
    if (monotonicMs() - lastYield > MAX_MS_WITHOUT_YIELD) {
      await yieldToEventLoop();
      lastYield = monotonicMs();
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
  if (!Array.isArray(bindings)) throw new TypeError(`runVcpus: bindings must be an array of { vcpu, state }, got ${describeValue(bindings)}`);
  if (bindings.length === 0) throw new RangeError('runVcpus needs at least one vCPU');
  bindings.forEach((b: unknown, i) => {
    if (!isObject(b)) throw new TypeError(`runVcpus: bindings[${i}] must be an object { vcpu, state }, got ${describeValue(b)}`);
    checkMethods('runVcpus', `bindings[${i}].vcpu`, b.vcpu, VCPU_METHODS, false);
    checkMachineState('runVcpus', `bindings[${i}].state`, b.state);
  });
  checkRunOptions('runVcpus', opts);
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
  // Everything checked before the first vCPU runs, so a bad argument leaves the VM as it was.
  checkMethods('runVm', 'vm', vm, ['memoryRegions'], false);
  if (!Array.isArray(vm.vcpus)) throw new TypeError(`runVm: vm.vcpus must be an array, got ${describeValue(vm.vcpus)}`);
  if (vm.vcpus.length === 0) throw new RangeError('runVm: the VM has no vCPUs (createVcpu first)');
  if (!isObject(machine)) throw new TypeError(`runVm: machine must be an object { sbi, bus }, got ${describeValue(machine)}`);
  checkMethods('runVm', 'machine.sbi', machine.sbi, ['handle'], false);
  checkMethods('runVm', 'machine.bus', machine.bus, ['read', 'write'], false);
  checkRunOptions('runVm', opts);
  const memory = new GuestAddressSpace(() => vm.memoryRegions());
  const bindings = vm.vcpus.map((vcpu) => ({
    vcpu,
    state: { hartId: vcpu.id, sbi: machine.sbi, sbiContext: { memory }, bus: machine.bus, counters: newExitCounters() },
  }));
  const result = await runVcpus(bindings, opts);
  return { result, states: bindings.map((b) => b.state) };
}
