/**
 * The exit dispatcher: a pure function of (exit, machine state) → outcome.
 *
 * It decides what one VcpuExit means and what the vCPU gets back, but touches no vCPU: the run loop
 * (run-loop.ts) applies the completion and re-enters. Tests feed it synthetic exits of either
 * backend. What each exit means (kvm-riscv-abi.md §2.5, §4):
 *   - sbi: answered by the SBI registry; the completion is the sbiret (KVM pre-fills NOT_SUPPORTED).
 *   - system_event: SRST. shutdown → stop with the SRST reason (data[0]); reset → stop asking for a
 *     reboot; crash → stop. Other types do not occur on riscv; they stop with an error.
 *   - mmio: through the checked bus; a load's completion is the value read.
 *   - csr: no user-space CSRs are modelled; the instruction reads 0 (and writes are dropped), counted.
 *   - interrupted: the loop asked the vCPU to stop (timeout or close).
 *   - internal_error / fail_entry / debug / unsupported: stop with an error naming the exit.
 */
import type { VcpuExit } from '../backend/types.js';
import { SBI_SRST_RESET_REASON_NONE } from '../abi/sbi.js';
import type { SbiContext, SbiRegistry, SbiResult } from '../sbi/registry.js';
import { leBytesToBigInt, type MmioBus } from './bus.js';
import { describeValue } from '../option-checks.js';

export interface MachineState {
  hartId: number;
  sbi: SbiRegistry;
  sbiContext: SbiContext;
  bus: MmioBus;
  counters: ExitCounters;
}

export interface ExitCounters {
  exits: number;
  sbi: number;
  mmio: number;
  csr: number;
}

export function newExitCounters(): ExitCounters {
  return { exits: 0, sbi: 0, mmio: 0, csr: 0 };
}

export type Completion =
  | { kind: 'sbi'; error: bigint; value: bigint }
  | { kind: 'mmio_load'; value: bigint }
  | { kind: 'mmio_store' }
  | { kind: 'csr'; value: bigint };

/** Why a vCPU stopped for good. */
export type StopReason =
  | { kind: 'shutdown'; reason: bigint }
  | { kind: 'reset'; reason: bigint }
  | { kind: 'crash'; data: readonly bigint[] }
  | { kind: 'interrupted' }
  | { kind: 'error'; message: string };

export type ExitOutcome =
  | { action: 'resume'; completion: Completion }
  | { action: 'stop'; stop: StopReason };

function sbiCompletion(r: SbiResult): ExitOutcome {
  return { action: 'resume', completion: { kind: 'sbi', error: BigInt.asUintN(64, BigInt(r.error)), value: BigInt.asUintN(64, BigInt(r.value)) } };
}

export function dispatchExit(exit: VcpuExit, m: MachineState): ExitOutcome | Promise<ExitOutcome> {
  if (typeof m !== 'object' || m === null || typeof m.counters !== 'object' || m.counters === null) {
    throw new TypeError(`dispatchExit: state must be a MachineState (with counters), got ${describeValue(m)}`);
  }
  m.counters.exits++;
  switch (exit?.reason) {
    case 'sbi': {
      m.counters.sbi++;
      const r = m.sbi.handle({ extensionId: exit.extensionId, functionId: exit.functionId, args: exit.args, hartId: m.hartId }, m.sbiContext);
      return r instanceof Promise ? r.then(sbiCompletion) : sbiCompletion(r);
    }
    case 'system_event': {
      const reason = exit.data[0] ?? BigInt(SBI_SRST_RESET_REASON_NONE);
      switch (exit.type) {
        case 'shutdown': return { action: 'stop', stop: { kind: 'shutdown', reason } };
        case 'reset': return { action: 'stop', stop: { kind: 'reset', reason } };
        case 'crash': return { action: 'stop', stop: { kind: 'crash', data: exit.data } };
        default: return { action: 'stop', stop: { kind: 'error', message: `unexpected system event '${exit.type}' (type ${exit.typeCode})` } };
      }
    }
    case 'mmio': {
      m.counters.mmio++;
      if (exit.isWrite) {
        m.bus.write(exit.address, exit.length, leBytesToBigInt(exit.data, exit.length));
        return { action: 'resume', completion: { kind: 'mmio_store' } };
      }
      return { action: 'resume', completion: { kind: 'mmio_load', value: m.bus.read(exit.address, exit.length) } };
    }
    case 'csr':
      m.counters.csr++;
      return { action: 'resume', completion: { kind: 'csr', value: 0n } };
    case 'interrupted':
      return { action: 'stop', stop: { kind: 'interrupted' } };
    case 'internal_error':
      return { action: 'stop', stop: { kind: 'error', message: `KVM internal error (suberror ${exit.suberror})` } };
    case 'fail_entry':
      return { action: 'stop', stop: { kind: 'error', message: `vCPU entry failed on cpu ${exit.cpu} (reason 0x${exit.hardwareEntryFailureReason.toString(16)})` } };
    case 'debug':
      return { action: 'stop', stop: { kind: 'error', message: 'debug exit with no debugger attached' } };
    case 'unsupported':
      return { action: 'stop', stop: { kind: 'error', message: `unsupported exit reason ${exit.exitReason}` } };
    default: {
      // Not a VcpuExit: a caller's bug (backends only produce the union above), refused rather than
      // returning undefined for the run loop to trip over. The count taken above is given back.
      m.counters.exits--;
      const bad: unknown = exit;
      if (typeof bad !== 'object' || bad === null) throw new TypeError(`dispatchExit: exit must be a VcpuExit object, got ${describeValue(bad)}`);
      throw new RangeError(`dispatchExit: exit reason ${describeValue((bad as { reason?: unknown }).reason)} is not a VcpuExit reason`);
    }
  }
}
