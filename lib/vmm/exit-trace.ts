/**
 * Exits as data, for `--trace` (one JSON object per line) and for the per-reason statistics table
 * the CLI prints when the guest ends. Both are fed by the run loop's exit observer
 * (run-loop.ts RunOptions.onExit), so a machine that nobody traces pays nothing for them.
 *
 * JSON has no 64-bit integers: register-sized values (addresses, SBI arguments, data) are written
 * as "0x..." hex strings, which also reads better next to a disassembly.
 */
import type { VcpuExit } from '../backend/types.js';
import {
  SBI_EXT_0_1_CONSOLE_GETCHAR, SBI_EXT_0_1_CONSOLE_PUTCHAR, SBI_EXT_DBCN, SBI_EXT_EXPERIMENTAL_END,
  SBI_EXT_EXPERIMENTAL_START, SBI_EXT_VENDOR_END, SBI_EXT_VENDOR_START,
} from '../abi/sbi.js';
import type { ExitOutcome } from './dispatch.js';
import { checkInteger, describeValue, isObject } from '../option-checks.js';

const hex = (v: bigint | number): string => `0x${v.toString(16)}`;

export interface ExitTraceRecord {
  /** Milliseconds since the machine started (the host's monotonic clock, host/monotonic.ts). */
  t: number;
  hart: number;
  reason: VcpuExit['reason'];
  [field: string]: unknown;
}

/** One exit (and what the VMM answered) as a JSON-safe record. */
export function traceRecord(t: number, hartId: number, exit: VcpuExit, outcome: ExitOutcome): ExitTraceRecord {
  checkTraceArguments(t, hartId, exit, outcome);
  const r: ExitTraceRecord = { t: Math.round(t * 1000) / 1000, hart: hartId, reason: exit.reason };
  switch (exit.reason) {
    case 'sbi':
      r.eid = hex(exit.extensionId);
      r.fid = hex(exit.functionId);
      r.args = exit.args.map(hex);
      break;
    case 'mmio':
      r.address = hex(exit.address);
      r.length = exit.length;
      r.write = exit.isWrite;
      if (exit.isWrite) r.data = hex(leValue(exit.data, exit.length));
      break;
    case 'csr':
      r.csr = hex(exit.csrNum);
      r.newValue = hex(exit.newValue);
      r.writeMask = hex(exit.writeMask);
      break;
    case 'system_event':
      r.type = exit.type;
      r.data = exit.data.map(hex);
      break;
    case 'internal_error':
      r.suberror = exit.suberror;
      break;
    case 'fail_entry':
      r.hardwareEntryFailureReason = hex(exit.hardwareEntryFailureReason);
      break;
    case 'unsupported':
      r.exitReason = exit.exitReason;
      break;
    default:
      break;
  }
  if (outcome.action === 'resume') {
    const c = outcome.completion;
    if (c.kind === 'sbi') r.ret = [hex(c.error), hex(c.value)];
    else if (c.kind === 'mmio_load' || c.kind === 'csr') r.value = hex(c.value);
  } else {
    r.stop = outcome.stop.kind;
  }
  return r;
}

const EXIT_REASONS: ReadonlySet<string> = new Set<VcpuExit['reason']>([
  'sbi', 'system_event', 'mmio', 'csr', 'interrupted', 'internal_error', 'fail_entry', 'debug', 'unsupported',
]);

/** An exit object with one of the VcpuExit reasons (lib/backend/types.ts): TypeError for a
 * non-object or a non-string reason, RangeError for a reason that is no exit's. */
function checkExitReason(who: string, exit: unknown): asserts exit is { reason: VcpuExit['reason'] } & Record<string, unknown> {
  if (!isObject(exit)) throw new TypeError(`${who}: exit must be a VcpuExit object, got ${describeValue(exit)}`);
  if (typeof exit.reason !== 'string') throw new TypeError(`${who}: exit.reason must be a string, got ${describeValue(exit.reason)}`);
  if (!EXIT_REASONS.has(exit.reason)) throw new RangeError(`${who}: exit.reason ${describeValue(exit.reason)} is not a VcpuExit reason (${[...EXIT_REASONS].join(', ')})`);
}

function checkField(who: string, obj: Record<string, unknown>, path: string, field: string, kind: 'bigint' | 'number' | 'boolean' | 'string'): void {
  const v = obj[field];
  if (typeof v !== kind) throw new TypeError(`${who}: ${path}.${field} must be a ${kind}, got ${describeValue(v)}`);
}

function checkBigintArray(who: string, obj: Record<string, unknown>, path: string, field: string): void {
  const v = obj[field];
  if (!Array.isArray(v)) throw new TypeError(`${who}: ${path}.${field} must be an array of bigints, got ${describeValue(v)}`);
  v.forEach((x: unknown, i) => {
    if (typeof x !== 'bigint') throw new TypeError(`${who}: ${path}.${field}[${i}] must be a bigint, got ${describeValue(x)}`);
  });
}

/** Every field traceRecord writes out, so a malformed exit or outcome (a caller's own, not one a
 * backend decoded) is refused by name instead of becoming "0xx" or a crash in hex(). */
function checkTraceArguments(t: unknown, hartId: unknown, exit: unknown, outcome: unknown): void {
  const who = 'traceRecord';
  if (typeof t !== 'number') throw new TypeError(`${who}: t must be a number of milliseconds, got ${describeValue(t)}`);
  if (!Number.isFinite(t)) throw new RangeError(`${who}: t must be finite, got ${t}`);
  checkInteger(who, 'hartId', hartId, 0, 0xffff_ffff);
  checkExitReason(who, exit);
  switch (exit.reason) {
    case 'sbi':
      checkEid(who, 'exit.extensionId', exit.extensionId);
      if (typeof exit.functionId !== 'bigint' && typeof exit.functionId !== 'number') throw new TypeError(`${who}: exit.functionId must be a bigint, got ${describeValue(exit.functionId)}`);
      checkBigintArray(who, exit, 'exit', 'args');
      break;
    case 'mmio':
      checkField(who, exit, 'exit', 'address', 'bigint');
      checkField(who, exit, 'exit', 'length', 'number');
      checkField(who, exit, 'exit', 'isWrite', 'boolean');
      if (exit.isWrite && !(exit.data instanceof Uint8Array)) throw new TypeError(`${who}: exit.data must be a Uint8Array, got ${describeValue(exit.data)}`);
      break;
    case 'csr':
      checkField(who, exit, 'exit', 'csrNum', 'number');
      checkField(who, exit, 'exit', 'newValue', 'bigint');
      checkField(who, exit, 'exit', 'writeMask', 'bigint');
      break;
    case 'system_event':
      checkField(who, exit, 'exit', 'type', 'string');
      checkBigintArray(who, exit, 'exit', 'data');
      break;
    case 'fail_entry':
      checkField(who, exit, 'exit', 'hardwareEntryFailureReason', 'bigint');
      break;
    default:
      break;
  }
  if (!isObject(outcome)) throw new TypeError(`${who}: outcome must be an ExitOutcome object, got ${describeValue(outcome)}`);
  if (outcome.action === 'resume') {
    const c = outcome.completion;
    if (!isObject(c)) throw new TypeError(`${who}: outcome.completion must be an object, got ${describeValue(c)}`);
    if (c.kind === 'sbi') {
      checkField(who, c, 'outcome.completion', 'error', 'bigint');
      checkField(who, c, 'outcome.completion', 'value', 'bigint');
    } else if (c.kind === 'mmio_load' || c.kind === 'csr') {
      checkField(who, c, 'outcome.completion', 'value', 'bigint');
    } else if (c.kind !== 'mmio_store') {
      throw new RangeError(`${who}: outcome.completion.kind ${describeValue(c.kind)} is not sbi, mmio_load, mmio_store or csr`);
    }
  } else if (outcome.action === 'stop') {
    if (!isObject(outcome.stop)) throw new TypeError(`${who}: outcome.stop must be an object, got ${describeValue(outcome.stop)}`);
    checkField(who, outcome.stop, 'outcome.stop', 'kind', 'string');
  } else {
    throw new RangeError(`${who}: outcome.action must be 'resume' or 'stop', got ${describeValue(outcome.action)}`);
  }
}

function leValue(data: Uint8Array, length: number): bigint {
  let v = 0n;
  for (let i = Math.min(length, data.length) - 1; i >= 0; i--) v = (v << 8n) | BigInt(data[i]!);
  return v;
}

/** An SBI extension id as a number: a7 (SBI v2.0 §3), so an integer in [0, 2^64] (a u64 read into
 * a number may round up to 2^64). Only the type and integrality are refused: the value is the
 * guest's, and a statistics table must never throw at a guest's odd a7. */
function checkEid(who: string, name: string, eid: unknown): void {
  checkInteger(who, name, eid, 0, 2 ** 64);
}

/** A row label for an SBI exit: the extension's name where the SBI spec gives one. */
export function sbiExtensionLabel(eid: number): string {
  checkEid('sbiExtensionLabel', 'eid', eid);
  return labelOf(eid);
}

/** sbiExtensionLabel for an EID already checked. */
function labelOf(eid: number): string {
  if (eid === SBI_EXT_DBCN) return 'DBCN';
  if (eid === SBI_EXT_0_1_CONSOLE_PUTCHAR) return 'legacy putchar';
  if (eid === SBI_EXT_0_1_CONSOLE_GETCHAR) return 'legacy getchar';
  if (eid === 0x10) return 'BASE';
  if (eid >= SBI_EXT_EXPERIMENTAL_START && eid <= SBI_EXT_EXPERIMENTAL_END) return `experimental ${hex(eid)}`;
  if (eid >= SBI_EXT_VENDOR_START && eid <= SBI_EXT_VENDOR_END) return `vendor ${hex(eid)}`;
  return hex(eid);
}

/** Exit counts by reason, with SBI exits also counted by extension. */
export class ExitStatistics {
  readonly byReason = new Map<string, number>();
  readonly sbiByExtension = new Map<string, number>();
  total = 0;

  record(exit: VcpuExit): void {
    // Checked before anything is counted, so a bad call leaves the table as it was. Called on every
    // exit of a Machine, so the good path costs one property read and the map lookup it makes
    // anyway: byReason only ever holds reasons that passed checkExitReason, and the error is built
    // only on the bad path.
    const reason: unknown = typeof exit === 'object' && exit !== null ? exit.reason : undefined;
    const count = this.byReason.get(reason as string);
    if (count === undefined) checkExitReason('ExitStatistics.record', exit);
    if (exit.reason === 'sbi' && !(exit.extensionId >= 0 && Number.isInteger(exit.extensionId))) checkEid('ExitStatistics.record', 'exit.extensionId', exit.extensionId);
    this.total++;
    this.byReason.set(exit.reason, (count ?? 0) + 1);
    if (exit.reason === 'sbi') {
      const label = labelOf(exit.extensionId);
      this.sbiByExtension.set(label, (this.sbiByExtension.get(label) ?? 0) + 1);
    }
  }

  /** A plain-text table, most frequent first, with a share column; `seconds` adds exits/s. */
  format(seconds?: number): string {
    if (seconds !== undefined && typeof seconds !== 'number') throw new TypeError(`ExitStatistics.format: seconds must be a number, got ${describeValue(seconds)}`);
    const rows: [string, number][] = [];
    const sorted = (m: Map<string, number>): [string, number][] => [...m].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
    for (const [reason, n] of sorted(this.byReason)) {
      rows.push([reason, n]);
      if (reason === 'sbi') for (const [ext, m] of sorted(this.sbiByExtension)) rows.push([`  sbi ${ext}`, m]);
    }
    rows.push(['total', this.total]);
    const w = Math.max(12, ...rows.map(([l]) => l.length));
    const nw = Math.max(5, ...rows.map(([, n]) => String(n).length));
    const lines = [`${'exit reason'.padEnd(w)}  ${'count'.padStart(nw)}  share`];
    for (const [label, n] of rows) {
      const share = this.total === 0 ? 0 : (100 * n) / this.total;
      lines.push(`${label.padEnd(w)}  ${String(n).padStart(nw)}  ${share.toFixed(1).padStart(5)}%`);
    }
    if (seconds !== undefined && seconds > 0) lines.push(`${(this.total / seconds).toFixed(0)} exits/s over ${seconds.toFixed(2)} s`);
    return lines.join('\n') + '\n';
  }
}
