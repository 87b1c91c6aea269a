/**
 * The self-checking ISA programs (guest/isa/*.S, built as guest/build/isa-<name>.bin): each one
 * computes results with the instructions under test, compares them with values written in its
 * source (hand-derived from the RISC-V specs) and reports every mismatch as
 * (case, got, expected, pc), then (passed, failed) and SRST shutdown (guest/isa/isa.inc).
 *
 * Per backend, per program: the run must end in the shutdown, report zero failures, and have run
 * every check (passed + failed + not-taken alternatives == the program's isa_cases_total symbol). A failure message lists
 * each failing case with the label it belongs to, so it can be looked up in the source.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Hypervisor } from '../../lib/backend/types.js';
import { describeBackends } from '../support/backends.js';
import { type LoadedProgram, type Report, runUntil, withProgram } from '../support/guest.js';
import { guestArtifact, repoRoot } from '../support/paths.js';

const TAG_FAIL = 1;
const TAG_DONE = 2;
const TAG_NOTE = 3;

/** Program names: guest/isa/<name>.S; fixed here so a missing build is a failure, not a skip. */
const PROGRAMS = ['int', 'rvc', 'amo', 'fp', 'trap', 'sbi', 'vm'] as const;

/** Rebuilds guest/isa when a source is newer than its binary (the rig ships only guest/build). */
function ensureIsaBuilt(): void {
  const dir = join(repoRoot(), 'guest', 'isa');
  const script = join(dir, 'build.sh');
  if (!existsSync(script)) return;
  const inputs = readdirSync(dir).map((f) => join(dir, f)).concat(join(repoRoot(), 'guest', 'include', 'common.S'));
  const newest = Math.max(...inputs.filter(existsSync).map((f) => statSync(f).mtimeMs));
  const stale = PROGRAMS.some((n) => {
    const bin = guestArtifact(`isa-${n}`, 'bin');
    return !existsSync(bin) || statSync(bin).mtimeMs < newest;
  });
  if (stale) execFileSync('bash', [script], { stdio: ['ignore', 'ignore', 'inherit'], timeout: 60_000 });
}

const hex = (v: bigint) => `0x${BigInt.asUintN(64, v).toString(16)}`;

/** "label+0xoff" for a pc: the nearest program symbol at or below it (labels name test groups). */
function where(p: LoadedProgram, pc: bigint): string {
  let best: [string, bigint] | undefined;
  for (const [name, at] of p.symbols) {
    if (at <= pc && at >= 0x80200000n && (!best || at > best[1] || (at === best[1] && name < best[0]))) best = [name, at];
  }
  return best ? `${best[0]}+0x${(pc - best[1]).toString(16)}` : hex(pc);
}

function describeFailure(p: LoadedProgram, r: Report): string {
  const [kase = 0n, got = 0n, want = 0n, pc = 0n] = r.args;
  return `case ${kase} at ${where(p, pc)} (${hex(pc)}): got ${hex(got)}, expected ${hex(want)}`;
}

describeBackends((backend) => {
  let hv: Hypervisor;
  beforeAll(() => { ensureIsaBuilt(); hv = backend.open(); });
  afterAll(() => hv?.close());

  it.each(PROGRAMS)('isa-%s: every check passes', async (name) => {
    await withProgram(hv, `isa-${name}`, {}, async (p) => {
      const run = await runUntil(p.vcpu, {}, { maxExits: 20_000, timeoutMs: 60_000 });
      const failures = run.reports.filter((r) => r.tag === TAG_FAIL).map((r) => describeFailure(p, r));
      const notes = run.reports.filter((r) => r.tag === TAG_NOTE).map((r) => `note ${r.args[0]} = ${hex(r.args[1] ?? 0n)}`);
      const done = run.reports.find((r) => r.tag === TAG_DONE);
      const context = `isa-${name} on ${backend.kind}\n  ${failures.join('\n  ')}\n  ${notes.join('\n  ')}\n  last exits:\n  ${run.log.slice(-5).join('\n  ')}`;
      expect(failures, context).toEqual([]);
      expect(done, `no final report: ${context}`).toBeDefined();
      const total = p.symbol('isa_cases_total');
      expect(done!.args[1], context).toBe(0n);
      // a2 = checks of a spec-allowed alternative behaviour that did not happen (ALTERNATIVE).
      expect(done!.args[0] + done!.args[1] + (done!.args[2] ?? 0n), `checks run vs isa_cases_total: ${context}`).toBe(total);
      expect(run.last, context).toMatchObject({ reason: 'system_event', type: 'shutdown' });
    });
  });
});
