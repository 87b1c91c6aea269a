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

const hex = (v: bigint | number): string => `0x${v.toString(16)}`;

export interface ExitTraceRecord {
  /** Milliseconds since the machine started (performance.now() based). */
  t: number;
  hart: number;
  reason: VcpuExit['reason'];
  [field: string]: unknown;
}

/** One exit (and what the VMM answered) as a JSON-safe record. */
export function traceRecord(t: number, hartId: number, exit: VcpuExit, outcome: ExitOutcome): ExitTraceRecord {
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

function leValue(data: Uint8Array, length: number): bigint {
  let v = 0n;
  for (let i = Math.min(length, data.length) - 1; i >= 0; i--) v = (v << 8n) | BigInt(data[i]!);
  return v;
}

/** A row label for an SBI exit: the extension's name where the SBI spec gives one. */
export function sbiExtensionLabel(eid: number): string {
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
    this.total++;
    this.byReason.set(exit.reason, (this.byReason.get(exit.reason) ?? 0) + 1);
    if (exit.reason === 'sbi') {
      const label = sbiExtensionLabel(exit.extensionId);
      this.sbiByExtension.set(label, (this.sbiByExtension.get(label) ?? 0) + 1);
    }
  }

  /** A plain-text table, most frequent first, with a share column; `seconds` adds exits/s. */
  format(seconds?: number): string {
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
