// Host test of the in-guest harness: the fixture suites (test/rig/fixtures, titles saying what each
// test must end as) go through scripts/rig/bundle-tests.mjs and run in one node process with the
// rig's reporter, exactly as in the guest. Every test must be reported with its intended outcome,
// and the machine-readable result line must agree with the per-test lines.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const REPO = resolve(import.meta.dirname, '..', '..');
const FIXTURES = ['shim-matchers', 'shim-only', 'shim-plain'].map((n) => `test/rig/fixtures/${n}.fixture.ts`);

type Outcome = 'pass' | 'fail' | 'skip' | 'todo';
const WORD: Record<string, Outcome> = { ok: 'pass', FAIL: 'fail', skip: 'skip', todo: 'todo' };

let out = '';
let exitCode: number | null = null;
let dir = '';

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kvm-rig-shim-'));
  const { bundleTests } = (await import(join(REPO, 'scripts/rig/bundle-tests.mjs'))) as {
    bundleTests(o: { inputs: string[]; outDir: string; cwd: string }): Promise<{ files: string[] }>;
  };
  const { files } = await bundleTests({ inputs: FIXTURES, outDir: dir, cwd: REPO });
  expect(files).toEqual(FIXTURES);
  try {
    const r = await promisify(execFile)(process.execPath, ['--test-reporter', join(dir, 'reporter.mjs'), '--test-reporter-destination=stdout', join(dir, 'kvm-tests.mjs')], { timeout: 60_000, env: { ...process.env, NO_COLOR: '1' } });
    out = r.stdout;
    exitCode = 0;
  } catch (err) {
    const e = err as { stdout?: string; code?: number };
    out = e.stdout ?? '';
    exitCode = typeof e.code === 'number' ? e.code : null;
  }
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** [outcome reported, outcome the title asks for, title] for every per-test line. */
function reported(): Array<{ got: Outcome; want: string; title: string }> {
  const rows = [];
  for (const line of out.split('\n')) {
    const m = /^ {2}(ok|FAIL|skip|todo) +(.*?)(?: \(\d+ ms\))?$/.exec(line);
    if (!m || m[2]!.endsWith(']')) continue; // "[suite: ...]" lines are suite-level failures
    const title = m[2]!.split(' > ').pop()!;
    rows.push({ got: WORD[m[1]!]!, want: /^(pass|fail|skip|todo):/.exec(title)?.[1] ?? title, title: m[2]! });
  }
  return rows;
}

describe('vitest shim + reporter (bundled, one node process)', () => {
  it('reports every fixture test with the outcome its title asks for', () => {
    const rows = reported();
    expect(rows.length).toBeGreaterThan(40);
    const wrong = rows.filter((r) => r.got !== r.want && !r.title.endsWith('(collection)'));
    expect(wrong).toEqual([]);
  });

  it('counts what it printed in the machine-readable result line', () => {
    const m = /^KVM-RIG-RESULT passed=(\d+) failed=(\d+) skipped=(\d+) todo=(\d+)$/m.exec(out);
    expect(m).not.toBeNull();
    const rows = reported();
    const suiteFailures = out.split('\n').filter((l) => /^ {2}FAIL .*\[suite: \w+\]$/.test(l)).length;
    const count = (o: Outcome) => rows.filter((r) => r.got === o).length;
    expect(Number(m![1])).toBe(count('pass'));
    expect(Number(m![2])).toBe(count('fail') + suiteFailures);
    expect(Number(m![3])).toBe(count('skip'));
    expect(Number(m![4])).toBe(count('todo'));
  });

  it('detects the deliberate failures, including a failing expect.not', () => {
    const failed = reported().filter((r) => r.got === 'fail').map((r) => r.title.split(' > ').pop());
    expect(failed).toContain('fail: toBe with a different value');
    expect(failed).toContain('fail: expect.not on a value that matches');
    expect(failed).toContain('fail: resolves.not');
    expect(failed).toContain('fail: each row, 5 is even');
    // A beforeAll that throws fails the suite too, and a describe that throws while collecting
    // shows up as a failed "(collection)" entry.
    expect(out).toMatch(/FAIL .*a failing beforeAll \[suite: hookFailed\]/);
    expect(out).toMatch(/FAIL .*a describe that throws while collecting > \(collection\)\n\s+Error: collection failed/);
    expect(exitCode).not.toBe(0);
  });

  it('honours .only per file and never runs skipped bodies', () => {
    expect(out).not.toContain('must not run');
    const onlyFile = reported().filter((r) => r.title.startsWith('test/rig/fixtures/shim-only'));
    expect(onlyFile.filter((r) => r.got === 'pass')).toHaveLength(4);
    expect(onlyFile.filter((r) => r.got === 'skip')).toHaveLength(3);
    expect(reported().find((r) => r.title.startsWith('test/rig/fixtures/shim-plain'))?.got).toBe('pass');
  });

  it('reports and exits even when a test leaks a handle that keeps node alive', async () => {
    const leakDir = mkdtempSync(join(tmpdir(), 'kvm-rig-shim-leak-'));
    try {
      const { bundleTests } = (await import(join(REPO, 'scripts/rig/bundle-tests.mjs'))) as {
        bundleTests(o: { inputs: string[]; outDir: string; cwd: string }): Promise<unknown>;
      };
      await bundleTests({ inputs: ['test/rig/fixtures/shim-leak.fixture.ts', 'test/rig/fixtures/shim-plain.fixture.ts'], outDir: leakDir, cwd: REPO });
      const started = Date.now();
      const r = await promisify(execFile)(process.execPath, ['--test-reporter', join(leakDir, 'reporter.mjs'), '--test-reporter-destination=stdout', join(leakDir, 'kvm-tests.mjs')], {
        timeout: 30_000, env: { ...process.env, KVM_RIG_EXIT_GRACE_MS: '300' },
      });
      expect(Date.now() - started).toBeLessThan(20_000);
      expect(r.stdout).toMatch(/leaked handle/);
      expect(r.stdout).toMatch(/^KVM-RIG-RESULT passed=2 failed=0 skipped=0 todo=0$/m);
    } finally {
      rmSync(leakDir, { recursive: true, force: true });
    }
  });

  it('a bundle whose tests all pass exits 0', async () => {
    const okDir = mkdtempSync(join(tmpdir(), 'kvm-rig-shim-ok-'));
    try {
      const { bundleTests } = (await import(join(REPO, 'scripts/rig/bundle-tests.mjs'))) as {
        bundleTests(o: { inputs: string[]; outDir: string; cwd: string }): Promise<unknown>;
      };
      await bundleTests({ inputs: ['test/rig/fixtures/shim-plain.fixture.ts'], outDir: okDir, cwd: REPO });
      const r = await promisify(execFile)(process.execPath, ['--test-reporter', join(okDir, 'reporter.mjs'), '--test-reporter-destination=stdout', join(okDir, 'kvm-tests.mjs')], { timeout: 60_000 });
      expect(r.stdout).toMatch(/^KVM-RIG-RESULT passed=1 failed=0 skipped=0 todo=0$/m);
      expect(readFileSync(join(okDir, 'files.txt'), 'utf8').trim()).toBe('test/rig/fixtures/shim-plain.fixture.ts');
    } finally {
      rmSync(okDir, { recursive: true, force: true });
    }
  });
});
