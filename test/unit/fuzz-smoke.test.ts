/**
 * The fuzzer in the normal test run: every target for a small fixed number of cases with a fixed
 * seed (so a regression in any guest-facing parser, SBI handler, device or the CPU shows here),
 * and checks that the harness really catches what it claims to: a planted broken device, a case
 * that never settles, and a synchronous hang (on a worker, under the watchdog).
 */
import { describe, expect, it } from 'vitest';
import { formatFailure, runCase, runTarget, type FuzzTarget, type TargetReport } from '../../fuzz/harness.js';
import { createDevicesTarget, EXTRA_DEVICE_BASE } from '../../fuzz/targets/devices.js';
import { TARGETS } from '../../fuzz/targets/index.js';
import { runTargetInWorker } from '../../fuzz/worker-runner.js';
import type { MmioDevice } from '../../lib/vmm/bus.js';

const SEED = 20261125;

/** Cases per target: sized so the whole file stays well under 20 s on a 2-core CI runner. */
const CASES: Record<string, number> = { 'sbi-user': 400, 'sbi-kernel': 25, devices: 300, cpu: 12, parsers: 3000 };

const failuresOf = (r: TargetReport): string => r.failures.map(formatFailure).join('\n');

/**
 * fuzz/FINDINGS.md #1 (fixed): a guest trap storm used to keep the emulator's JS thread busy for
 * hours. Its case seed, found by `npm run fuzz -- --target cpu --seed 1`, stays here as a
 * regression test: it must now finish without a hang.
 */
const TRAP_STORM_CASE = 3335351008;

it('regression: the trap-storm case (FINDINGS.md #1) finishes without a hang', async () => {
  const r = await runTargetInWorker('cpu', { seed: 0, caseSeeds: [TRAP_STORM_CASE], hangMs: 10_000 });
  expect(failuresOf(r)).toBe('');
});

describe('fuzz targets, fixed seed', () => {
  for (const factory of TARGETS) {
    it(`${factory.name}: ${CASES[factory.name] ?? 50} cases without a failure`, async () => {
      const target = await factory.create();
      try {
        const report = await runTarget(target, { seed: SEED, maxCases: CASES[factory.name] ?? 50 });
        expect(report.failures, failuresOf(report)).toEqual([]);
        expect(report.cases).toBe(CASES[factory.name] ?? 50);
      } finally {
        await target.dispose?.();
      }
    });
  }

});

describe('the harness catches planted bugs', () => {
  /** Throws on any write below 0x100, as an unchecked register index would. */
  const brokenDevice = (): MmioDevice => ({
    read: () => 0,
    write(offset) {
      if (offset < 0x100) throw new RangeError(`planted bug: write at 0x${offset.toString(16)}`);
    },
  });

  it('a device that throws on a guest write is reported, shrunk to the one access, and replays by seed', async () => {
    const target = createDevicesTarget({ extraDevice: brokenDevice });
    try {
      const report = await runTarget(target, { seed: SEED, maxCases: 500 });
      expect(report.failures).toHaveLength(1);
      const f = report.failures[0]!;
      expect(f.kind).toBe('exception');
      expect(f.message).toMatch(/RangeError: planted bug/);
      const ops = JSON.parse(f.reproducer) as { op: string; address?: string; write?: boolean }[];
      // Shrinking leaves only what the bug needs: one write into the planted device's first 256 bytes.
      expect(ops).toHaveLength(1);
      expect(ops[0]!.op).toBe('access');
      expect(ops[0]!.write).toBe(true);
      const address = BigInt(ops[0]!.address!.slice(0, -1));
      expect(address >= EXTRA_DEVICE_BASE && address < EXTRA_DEVICE_BASE + 0x100n).toBe(true);
      // The printed case seed replays the same failure.
      const again = await runCase(target, f.caseSeed);
      expect(again.failure?.message).toBe(f.message);
    } finally {
      await target.dispose?.();
    }
  });

  it('a device returning a value wider than the access is a violation (the bus alone would truncate it)', async () => {
    const target = createDevicesTarget({ extraDevice: () => ({ read: () => 0x1_0000_0000, write: () => {} }) });
    try {
      const report = await runTarget(target, { seed: SEED, maxCases: 300 });
      expect(report.failures).toHaveLength(1);
      expect(report.failures[0]!.kind).toBe('violation');
      expect(report.failures[0]!.message).toMatch(/extra: read\(0x[0-9a-f]+, [1248]\) returned 4294967296/);
    } finally {
      await target.dispose?.();
    }
  });

  it('a case whose promise never settles is reported as a hang', async () => {
    const stuck: FuzzTarget<number> = {
      name: 'stuck', description: 'never settles', caseTimeoutMs: 50,
      generate: (rng) => [rng.below(10)],
      execute: () => new Promise<void>(() => {}),
    };
    const report = await runTarget(stuck, { seed: 1, maxCases: 1 });
    expect(report.failures.map((f) => f.kind)).toEqual(['hang']);
  });

  it('documented errors pass, anything else fails', async () => {
    class Documented extends Error {}
    const target: FuzzTarget<number> = {
      name: 'errors', description: 'throws by op',
      generate: (rng) => [rng.below(2)],
      execute: (ops) => { throw ops[0] === 0 ? new Documented('fine') : new TypeError('bug'); },
      isExpected: (e) => e instanceof Documented,
    };
    const report = await runTarget(target, { seed: 3, maxCases: 50, stopOnFailure: false });
    expect(report.expectedErrors).toBeGreaterThan(0);
    expect(report.failures.length).toBe(50 - report.expectedErrors);
    expect(report.failures.every((f) => f.message.startsWith('TypeError: bug'))).toBe(true);
  });
});
